"""The node host: crash in the middle of a height and resume it from the WAL; unsafe starts; catch-up."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs
from consensus_testkit import CHAIN, PARAMS, make_keys, precommit, prevote, proposal

from consensus import BlockContext, Certificate, DecidedBlock, Step, UnsafeStart, VoteType, block_id_of
from consensus.evidence import EvidencePool
from consensus.mempool import Mempool
from consensus.node import Broadcast, Node, NodeConfig
from consensus.signer import LastSign, MemoryLastSignStore, Signer
from consensus.simulation import SimApplication
from consensus.wal import MemoryWal

KEYS = make_keys(4)
POWERS = {key.public_key: 10 for key in KEYS}
GENESIS_MS = 1_000_000


class FixedClock:
    def now_ms(self) -> int:
        return GENESIS_MS + 5


def new_app() -> SimApplication:
    return SimApplication(CHAIN, POWERS, GENESIS_MS, evidence_max_age_blocks=100)


def boot(app: SimApplication, wal: MemoryWal, store: MemoryLastSignStore, key_index: int) -> tuple[Node, list]:  # type: ignore[type-arg]
    node = Node(NodeConfig(CHAIN, PARAMS), app, FixedClock(), wal, Mempool(app.check_tx, 100, 10_000, 1024),
                EvidencePool(100), Signer(KEYS[key_index], CHAIN, store))
    return node, node.start()


def proposer_and_me() -> tuple[int, int]:
    node, _ = boot(new_app(), MemoryWal(), MemoryLastSignStore(), 0)
    proposer = next(i for i, k in enumerate(KEYS) if k.public_key == node.state.proposer(0))  # type: ignore[union-attr]
    return proposer, (proposer + 1) % 4


def block_of(proposer: int) -> bytes:
    return new_app().build_block(BlockContext(1, 0, KEYS[proposer].public_key), None, [], []).block


def test_crash_mid_height_resumes_the_same_state_from_the_wal() -> None:
    proposer, me = proposer_and_me()
    others = [i for i in range(4) if i != me]
    block = block_of(proposer)
    bid = block_id_of(block)
    app, wal, store = new_app(), MemoryWal(), MemoryLastSignStore()
    node, _ = boot(app, wal, store, me)
    out = node.handle(proposal(KEYS[proposer], 1, 0, block))
    assert [a.message.block_id for a in out if isinstance(a, Broadcast)] == [bid]  # our prevote
    node.handle(prevote(KEYS[others[0]], 1, 0, bid))
    out = node.handle(prevote(KEYS[others[1]], 1, 0, bid))
    assert any(isinstance(a, Broadcast) and a.message.type is VoteType.PRECOMMIT for a in out)
    before = node.state
    assert before is not None and before.locked_block_id == bid and before.step is Step.PRECOMMIT

    restarted, _ = boot(app, wal, store, me)  # crash: memory gone, WAL and signer state kept
    assert restarted.state == before

    restarted.handle(precommit(KEYS[others[0]], 1, 0, bid))
    restarted.handle(precommit(KEYS[others[1]], 1, 0, bid))
    assert app.height == 1 and block_id_of(app.blocks[1][0]) == bid


def test_torn_wal_tail_resumes_from_the_last_whole_record() -> None:
    proposer, me = proposer_and_me()
    block = block_of(proposer)
    app, wal, store = new_app(), MemoryWal(), MemoryLastSignStore()
    node, _ = boot(app, wal, store, me)
    node.handle(proposal(KEYS[proposer], 1, 0, block))
    after_proposal = node.state
    other = next(i for i in range(4) if i not in (me, proposer))
    node.handle(prevote(KEYS[other], 1, 0, block_id_of(block)))
    del wal.data[-5:]  # the last append (the other's prevote) was torn by the crash
    restarted, _ = boot(app, wal, store, me)
    assert restarted.state == after_proposal


def test_validator_ahead_of_its_chain_refuses_to_start() -> None:
    store = MemoryLastSignStore()
    store.save(LastSign(7, 0, 2, b"", b""))
    with pytest.raises(UnsafeStart, match="already signed at height 7 but its chain is at height 0"):
        boot(new_app(), MemoryWal(), store, 0)


def test_a_node_behind_catches_up_from_a_decided_block() -> None:
    proposer, me = proposer_and_me()
    block = block_of(proposer)
    bid = block_id_of(block)
    certificate = Certificate.from_precommits(1, 0, bid, [precommit(KEYS[i], 1, 0, bid) for i in range(3)])
    app = new_app()
    node, _ = boot(app, MemoryWal(), MemoryLastSignStore(), me)
    short = Certificate(1, 0, bid, certificate.signatures[:2])
    node.handle(DecidedBlock(block, short))
    assert app.height == 0  # 20 of 40 is not a certificate
    node.handle(DecidedBlock(block, certificate))
    assert app.height == 1 and app.blocks[1][1] == certificate


def test_a_certified_block_this_node_finds_invalid_is_never_committed() -> None:
    """Catch-up verifies the block too, not only its certificate: >2/3 of the stake cannot make money out of
    thin air on an honest node (it stays at its height and logs the fault)."""
    _, me = proposer_and_me()
    outsider = make_keys(9)[8].public_key
    block = new_app().build_block(BlockContext(1, 0, outsider), None, [], []).block
    bid = block_id_of(block)
    certificate = Certificate.from_precommits(1, 0, bid, [precommit(KEYS[i], 1, 0, bid) for i in range(3)])
    app = new_app()
    node, _ = boot(app, MemoryWal(), MemoryLastSignStore(), me)
    with capture_logs() as logs:
        node.handle(DecidedBlock(block, certificate))
    assert app.height == 0 and node.state is not None and not node.state.decided
    assert [entry["code"] for entry in logs if entry["event"] == "certified_block_invalid"] == ["wrong_proposer"]


def test_proposer_that_crashes_after_proposing_resumes_with_its_proposal() -> None:
    """Regression (found by the simulator): the first proposal of a run must reach the WAL too."""
    proposer, _ = proposer_and_me()
    app, wal, store = new_app(), MemoryWal(), MemoryLastSignStore()
    node, out = boot(app, wal, store, proposer)
    proposals = [a.message for a in out if isinstance(a, Broadcast) and hasattr(a.message, "block")]
    assert len(proposals) == 1
    before = node.state
    restarted, out = boot(app, wal, store, proposer)
    assert restarted.state == before
    assert proposals[0] in [a.message for a in out if isinstance(a, Broadcast)]  # the same proposal, not a new one
