"""Arbitrary bytes from peers: a refusal and a peer penalty, never an exception escaping (issue 10, item 2).

Hypothesis feeds the consensus decoder, the two gossip validators and both
sides of block sync with random bytes and with random well-formed msgpack
(arrays, maps, integers, byte strings: what a hostile peer would craft to get
past the first check). A real ledger application on a temporary store stands
behind the transaction gossip and block sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
import trio
from hypothesis import HealthCheck, given, settings, strategies as st

from config import load_genesis
from consensus import decode_message
from consensus.errors import Rejected
from consensus.mempool import Mempool
from fedow_node.devnet import free_ports, prepare_devnet
from fedow_node.engine.application import LedgerApplication
from fedow_node.engine.gossip import ConsensusGossip, TxGossip
from fedow_node.engine.sync import BAD_REQUEST_PENALTY, BAD_SYNC_PENALTY, BlockSyncer, SyncServer
from fedow_node.node import NodeFiles, open_store
from p2p import Outcome, P2PError
from wallet.codec import pack

CHAIN = "fedow-devnet"
SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1), st.binary(max_size=80),
                    st.text(max_size=20))
msgpack_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=8), st.dictionaries(st.text(max_size=8), inner, max_size=5)), max_leaves=30)
hostile_bytes = st.one_of(st.binary(max_size=2048), msgpack_values.map(pack),
                          st.lists(st.binary(max_size=300), min_size=1, max_size=5).map(pack))


class PenaltyBook:
    """The part of p2p the engine calls on a misbehaving peer, recording each penalty."""

    def __init__(self, answer: bytes = b"") -> None:
        self.penalties: list[tuple[str, int, str]] = []
        self.answer = answer

    def penalize(self, peer_id: str, points: int, reason: str) -> None:
        self.penalties.append((peer_id, points, reason))

    def connected_peers(self) -> list[str]:
        return ["peer"]

    async def request(self, peer_id: str, protocol_id: str, data: bytes, *, max_response_bytes: int) -> bytes:
        return self.answer


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerApplication]:
    root: Path = tmp_path_factory.mktemp("decoders")
    prepare_devnet(root, 1, free_ports(1))
    store = open_store(NodeFiles(root / "data"), load_genesis(root / "genesis.json"))
    yield LedgerApplication(store, CHAIN, 0)
    store.close()


@given(data=hostile_bytes)
@SETTINGS
def test_the_consensus_decoder_only_ever_rejects(data: bytes) -> None:
    try:
        decode_message(data, CHAIN, 1_000_000)
    except Rejected as exc:
        assert exc.code and exc.detail


@given(data=hostile_bytes)
@SETTINGS
def test_consensus_gossip_rejects_garbage_so_p2p_penalises_its_sender(data: bytes) -> None:
    gossip = ConsensusGossip(PenaltyBook(), CHAIN, lambda: 1_000_000)  # type: ignore[arg-type]
    verdict = gossip.validate(data, "peer")
    assert verdict.outcome is Outcome.REJECT and verdict.reason  # REJECT costs the forwarder points in p2p


@given(data=hostile_bytes)
@SETTINGS
def test_tx_gossip_never_raises_and_rejects_what_only_a_faulty_peer_sends(app: LedgerApplication,
                                                                         data: bytes) -> None:
    mempool = Mempool(app.check_tx, 1000, 10_000_000, app.params.max_tx_bytes)
    gossip = TxGossip(PenaltyBook(), CHAIN, mempool, max_tx_bytes=app.params.max_tx_bytes)  # type: ignore[arg-type]
    verdict = gossip.validate(data, "peer")
    assert verdict.outcome in (Outcome.REJECT, Outcome.IGNORE)  # no random bytes make a signed transaction
    assert len(mempool) == 0


@given(data=hostile_bytes)
@SETTINGS
def test_the_sync_server_refuses_garbage_and_penalises_its_sender(app: LedgerApplication, data: bytes) -> None:
    book = PenaltyBook()
    server = SyncServer(app, book)

    async def ask() -> Any:
        return await server.handle("peer", data)

    try:
        answer = trio.run(ask)
    except P2PError as exc:
        assert exc.code == "bad_request"
        assert [(peer, points) for peer, points, _ in book.penalties] == [("peer", BAD_REQUEST_PENALTY)]
    else:  # a well-formed request, by chance: answered, no penalty
        assert isinstance(answer, bytes) and book.penalties == []


@given(data=hostile_bytes)
@SETTINGS
def test_block_sync_penalises_a_peer_that_answers_garbage(app: LedgerApplication, data: bytes) -> None:
    book = PenaltyBook(answer=data)
    syncer = BlockSyncer(app, book)  # type: ignore[arg-type]
    height = app.store.height

    async def sync_blocks() -> None:
        send, receive = trio.open_memory_channel[Any](100)
        await syncer._fetch("peer", height + 1, send)
        async with receive:
            async for _batch in receive:
                pass

    trio.run(sync_blocks)
    trio.run(syncer.best_peer)
    assert app.store.height == height
    assert all(points in (BAD_REQUEST_PENALTY, BAD_SYNC_PENALTY) for _, points, _ in book.penalties)
    if data != pack([]):  # an empty batch is a valid answer ("no blocks"); anything else here is garbage
        assert book.penalties, "garbage from a sync peer must cost it points"
