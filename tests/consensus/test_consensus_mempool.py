"""Mempool: checked once, deduplicated, bounded, fair, re-checked after each commit."""

from __future__ import annotations

import hashlib

import pytest

from consensus import TxInfo, TxRejected
from consensus.mempool import Eviction, Mempool


class FakeApp:
    """``sender:payload`` transactions; records how each check was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, bool]] = []
        self.refused: set[bytes] = set()

    def check_tx(self, tx: bytes, signature_verified: bool) -> TxInfo:
        self.calls.append((tx, signature_verified))
        if tx in self.refused:
            raise TxRejected("replay", "already applied")
        return TxInfo(hashlib.sha256(tx).digest(), tx.split(b":")[0])


def make(max_txs: int = 100, max_bytes: int = 10_000) -> tuple[Mempool, FakeApp]:
    app = FakeApp()
    return Mempool(app.check_tx, max_txs=max_txs, max_bytes=max_bytes, max_tx_bytes=64), app


def test_duplicates_are_refused_before_any_check() -> None:
    pool, app = make()
    pool.add(b"a:1")
    with pytest.raises(TxRejected) as info:
        pool.add(b"a:1")
    assert info.value.code == "duplicate"
    assert len(app.calls) == 1


def test_full_mempool_refuses_clearly() -> None:
    pool, _ = make(max_txs=2)
    pool.add(b"a:1")
    pool.add(b"a:2")
    with pytest.raises(TxRejected) as info:
        pool.add(b"a:3")
    assert info.value.code == "mempool_full" and "2 transactions" in info.value.detail
    by_bytes, _ = make(max_bytes=8)
    by_bytes.add(b"a:123")
    with pytest.raises(TxRejected, match="limit is 8"):
        by_bytes.add(b"b:123")
    with pytest.raises(TxRejected) as info:
        by_bytes.add(b"x" * 65)
    assert info.value.code == "oversize"


def test_application_rejection_is_passed_through_and_changes_nothing() -> None:
    pool, app = make()
    app.refused.add(b"a:1")
    with pytest.raises(TxRejected) as info:
        pool.add(b"a:1")
    assert info.value.code == "replay" and len(pool) == 0 and pool.size_bytes == 0


def test_selection_is_round_robin_across_senders_and_fifo_per_sender() -> None:
    pool, _ = make()
    for tx in [b"a:1", b"a:2", b"a:3", b"a:4", b"b:1", b"c:1", b"c:2"]:
        pool.add(tx)
    assert pool.select(5, 10_000) == [b"a:1", b"b:1", b"c:1", b"a:2", b"c:2"]
    assert pool.select(100, 9) == [b"a:1", b"b:1", b"c:1"]  # byte limit


def test_commit_removes_included_rechecks_the_rest_without_signature_work() -> None:
    pool, app = make()
    for tx in [b"a:1", b"a:2", b"b:1"]:
        pool.add(tx)
    assert all(verified is False for _, verified in app.calls)
    app.calls.clear()
    app.refused.add(b"b:1")  # no longer applies after the commit
    passes: list[tuple[Eviction, ...]] = []
    pool.on_update = passes.append
    evicted = pool.update([hashlib.sha256(b"a:1").digest()])
    assert evicted == 1
    [[eviction]] = passes  # one pass, told what it evicted (the committed a:1 is not an eviction)
    assert eviction.txid == hashlib.sha256(b"b:1").digest() and eviction.why.code == "replay"
    assert pool.select(10, 10_000) == [b"a:2"]
    assert app.calls == [(b"a:2", True), (b"b:1", True)]
    assert pool.signature_verified(b"b:1")  # remembered: re-submission skips the signature check
    app.refused.clear()
    app.calls.clear()
    pool.add(b"b:1")
    assert app.calls == [(b"b:1", True)]
