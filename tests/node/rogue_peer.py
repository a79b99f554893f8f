"""A misbehaving libp2p peer for the node tests, run as its own process.

``python rogue_peer.py <peer multiaddr> <chain id> <seconds> [kind,...]`` dials one
node (for up to CONNECT_S), then for ``seconds`` publishes on the chain's consensus and transaction topics
the kinds asked (all by default): random garbage, non-canonical msgpack, a vote
whose signature is wrong, a transaction batch holding a badly signed transaction,
and messages larger than a node accepts. It prints one JSON line per kind sent and
exits by itself.

An oversize message makes the node drop the pubsub stream it came on, and whether
the library opens it again depends on timing: the node tests send it from a peer of
its own, so that the other kinds keep reaching the node until it bans their sender.
"""

from __future__ import annotations

import json
import os
import sys

import msgpack
import trio

from consensus import VoteType, encode_message, sign_vote
from fedow_node.engine.gossip import consensus_topic, txs_topic
from p2p import ACCEPT, P2PConfig, P2PError, P2PNode
from wallet.codec import pack
from wallet.keys import SigningKey

CONNECT_S = 120.0


def payloads(chain_id: str) -> dict[str, tuple[str, bytes]]:
    key = SigningKey.generate()
    vote = sign_vote(key, chain_id, VoteType.PREVOTE, 1, 0, os.urandom(32), 1)
    forged = encode_message(vote)[:-10] + b"\x00" * 10
    bad_tx = pack([1, "sale", key.public_key, os.urandom(16), 5, [os.urandom(7), "FED", 100], b"\x01" * 64])
    return {
        "garbage": (consensus_topic(chain_id), os.urandom(300)),
        "non_canonical": (consensus_topic(chain_id), msgpack.packb({"tag": 2, "height": 1})),
        "forged_vote": (consensus_topic(chain_id), forged),
        "bad_tx_batch": (txs_topic(chain_id), pack([bad_tx])),
        "garbage_tx_batch": (txs_topic(chain_id), os.urandom(500)),
        "oversize": (consensus_topic(chain_id), os.urandom(6 * 1024 * 1024)),
    }


async def main(peer: str, chain_id: str, seconds: float, kinds: frozenset[str] | None) -> None:
    node = P2PNode(P2PConfig(seed=os.urandom(32), listen_host="127.0.0.1", static_peers=(peer,),
                             max_message_bytes=32 * 1024 * 1024))
    async with trio.open_nursery() as nursery:
        await nursery.start(node.run)
        for topic in (consensus_topic(chain_id), txs_topic(chain_id)):
            channel = node.subscribe(topic, lambda data, peer_id: ACCEPT)
            nursery.start_soon(_drain, channel)
        with trio.move_on_after(CONNECT_S):  # a loaded box may take long; the sending time starts after
            while not node.connected_peers():
                await trio.sleep(0.05)
            await trio.sleep(1.5)  # let the gossip mesh form
        with trio.move_on_after(seconds):
            while True:
                for kind, (topic, data) in payloads(chain_id).items():
                    if kinds is not None and kind not in kinds:
                        continue
                    try:
                        await node.publish(topic, data)
                        outcome = "sent"
                    except P2PError as exc:
                        outcome = f"refused locally: {exc}"
                    print(json.dumps({"kind": kind, "outcome": outcome}), flush=True)
                await trio.sleep(0.5)
        nursery.cancel_scope.cancel()


async def _drain(channel: trio.MemoryReceiveChannel) -> None:
    async for _message in channel:
        pass


if __name__ == "__main__":
    trio.run(main, sys.argv[1], sys.argv[2], float(sys.argv[3]),
             frozenset(sys.argv[4].split(",")) if len(sys.argv) > 4 else None)
