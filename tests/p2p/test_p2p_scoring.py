"""Peer scoring through the gossip path, in-process with exact scores (issue 10, item 7).

What the multi-process rogue-peer test observes from outside, checked here
exactly: each message a topic validator REJECTs costs its forwarder
``reject_penalty`` points, an IGNORE costs nothing, the ban starts on the
penalty that takes the score below ``ban_threshold``, and time heals at
``score_recovery_per_second`` (trio's MockClock: no real time passes).
"""

from __future__ import annotations

import os

import trio
import trio.testing
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2

from fedow_node.engine.gossip import ConsensusGossip
from p2p import IGNORE, P2PConfig, P2PNode

CHAIN = "fedow-test"


def _message(author: P2PNode, data: bytes) -> rpc_pb2.Message:
    return rpc_pb2.Message(from_id=ID.from_base58(author.peer_id).to_bytes(), data=data, seqno=os.urandom(8))


def test_rejected_gossip_costs_its_forwarder_exact_points_until_a_ban() -> None:
    async def scenario() -> None:
        node = P2PNode(P2PConfig(seed=os.urandom(32)))  # reject_penalty 10, ban_threshold -100, heals 1/s
        rogue = P2PNode(P2PConfig(seed=os.urandom(32)))
        forwarder = ID.from_base58(rogue.peer_id)
        validator = ConsensusGossip(node, CHAIN, lambda: 1_000_000).validate  # type: ignore[arg-type]
        check = node._gossip._checker("consensus", validator)
        for sent in range(1, 11):
            assert check(forwarder, _message(rogue, os.urandom(300))) is False
            assert node.score(rogue.peer_id) == -10 * sent
        assert node.metrics().bans == 0  # -100 is not below the threshold yet
        assert check(forwarder, _message(rogue, b"\x81\xa3tag\x02")) is False  # non-canonical
        assert node.score(rogue.peer_id) == -110 and node.metrics().bans == 1 and node.metrics().penalties == 11
        await trio.sleep(30)
        assert node.score(rogue.peer_id) == -80  # healed 30 points, still banned until ban_seconds pass
        assert node._scores.is_banned(rogue.peer_id, trio.current_time())
        ignoring = node._gossip._checker("txs", lambda data, peer: IGNORE)
        assert ignoring(forwarder, _message(rogue, b"stale")) is False
        assert node.score(rogue.peer_id) == -80 and node.metrics().penalties == 11  # IGNORE costs nothing
        await trio.sleep(31)
        assert not node._scores.is_banned(rogue.peer_id, trio.current_time())

    trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))
