"""Fetch a whole chain from a running peer over the block-sync protocol, for an audit.

The auditor joins the network as a throw-away libp2p identity, asks the peer
its tip, then the blocks with their certificates in batches, and hangs up.
Nothing fetched is trusted: :func:`audit_chain` checks it all afterwards.
"""

from __future__ import annotations

import os

import trio

from fedow_node.engine.sync import BATCH_BLOCKS, MAX_RESPONSE_BYTES, protocol_id
from p2p import P2PConfig, P2PError, P2PNode
from wallet.codec import pack, unpack
from wallet.errors import Rejected as CodecRejected

from ._errors import AuditFailed
from ._sources import FetchedChain

__all__ = ["fetch_from_peer"]

CONNECT_SECONDS = 15.0
REQUEST_SECONDS = 60.0


def _peer_id(multiaddr: str) -> str:
    parts = multiaddr.strip("/").split("/")
    if len(parts) < 2 or parts[-2] != "p2p":
        raise AuditFailed("bad_peer_address", f"peer address {multiaddr!r} must end with /p2p/<peer id>")
    return parts[-1]


async def _ask(network: P2PNode, peer: str, chain_id: str, request: list[object]) -> object:
    try:
        with trio.fail_after(REQUEST_SECONDS):
            answer = await network.request(peer, protocol_id(chain_id), pack(request),
                                           max_response_bytes=MAX_RESPONSE_BYTES)
        return unpack(answer, MAX_RESPONSE_BYTES)
    except (P2PError, CodecRejected, trio.TooSlowError) as exc:
        raise AuditFailed("peer_unavailable", f"the peer did not answer {request[0]!r}: {exc}") from None


def _blocks_of(answer: object, height: int) -> list[tuple[bytes, bytes]]:
    if not (isinstance(answer, list) and all(isinstance(item, list) and len(item) == 2
                                             and all(isinstance(part, bytes) for part in item) for item in answer)):
        raise AuditFailed("peer_malformed", f"the peer's answer for blocks from {height} is not a list of "
                                            "[block, certificate]", height)
    if not answer:
        raise AuditFailed("missing_block", f"the peer served no block at height {height} below its tip", height)
    return [(item[0], item[1]) for item in answer]


async def _fetch(network: P2PNode, peer: str, chain_id: str) -> list[tuple[bytes, bytes]]:
    tip = await _ask(network, peer, chain_id, ["tip"])
    if not (isinstance(tip, list) and len(tip) == 1 and isinstance(tip[0], int)):
        raise AuditFailed("peer_malformed", "the peer's tip answer is not [height]")
    fetched: list[tuple[bytes, bytes]] = []
    while len(fetched) < tip[0]:
        answer = await _ask(network, peer, chain_id, ["blocks", len(fetched) + 1, BATCH_BLOCKS])
        fetched.extend(_blocks_of(answer, len(fetched) + 1))
    return fetched[:tip[0]]


async def fetch_from_peer(multiaddr: str, chain_id: str, genesis_doc: bytes) -> FetchedChain:
    """Every block and certificate the peer at ``multiaddr`` holds, up to the tip it reports first."""
    peer = _peer_id(multiaddr)
    network = P2PNode(P2PConfig(seed=os.urandom(32), listen_host="127.0.0.1", static_peers=(multiaddr,)))
    outcome: list[tuple[bytes, bytes]] | AuditFailed
    async with trio.open_nursery() as nursery:
        await nursery.start(network.run)
        try:
            outcome = await _connect_and_fetch(network, peer, chain_id)
        except AuditFailed as exc:
            outcome = exc  # raised once the network is down, not wrapped in the nursery's exception group
        nursery.cancel_scope.cancel()
    if isinstance(outcome, AuditFailed):
        raise outcome
    return FetchedChain(genesis_doc, tuple(outcome))


async def _connect_and_fetch(network: P2PNode, peer: str, chain_id: str) -> list[tuple[bytes, bytes]]:
    with trio.move_on_after(CONNECT_SECONDS):
        while peer not in network.connected_peers():
            await trio.sleep(0.05)
    if peer not in network.connected_peers():
        raise AuditFailed("peer_unavailable", f"no connection to peer {peer} within {CONNECT_SECONDS:.0f} s")
    return await _fetch(network, peer, chain_id)
