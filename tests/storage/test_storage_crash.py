"""SIGKILL a committing child process at random moments: the store must never hold a mix.

After each kill the parent reopens the folder and checks every structure against
the chain recomputed from scratch up to the head height; the next child then
continues from that head.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from storage_crash_writer import (
    GENESIS_DOC,
    GENESIS_STATE,
    WALLETS,
    batch_at,
    certificate_at,
    changes_at,
)

from storage import HistoryEntry, Store, genesis_state_hash, state_digest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KILLS = 40
STARTUP_LIMIT_S = 30.0


class ExpectedChain:
    """The writer's chain recomputed in the parent, advanced height by height."""

    def __init__(self) -> None:
        self.height = 0
        self.state: dict[bytes, bytes] = dict(GENESIS_STATE)
        self.state_hash = genesis_state_hash(GENESIS_STATE)
        self.batches = {}
        self.history: dict[bytes, dict[tuple[int, int], bytes]] = defaultdict(dict)

    def advance_to(self, height: int) -> None:
        assert height >= self.height, f"the store went back from {self.height} to {height}"
        while self.height < height:
            batch = batch_at(self.height + 1, self.state_hash)
            for key, value in batch.changes.items():
                if value is None:
                    self.state.pop(key, None)
                else:
                    self.state[key] = value
            for wallet, txid in batch.wallet_touches:
                self.history[wallet][(batch.height, batch.txids.index(txid))] = txid
            self.batches[batch.height] = batch
            self.height, self.state_hash = batch.height, batch.state_hash

    def wallet_history(self, wallet: bytes) -> list[HistoryEntry]:
        entries = self.history[wallet]
        return [HistoryEntry(*location, entries[location]) for location in sorted(entries, reverse=True)]


def _all_history(store: Store, wallet: bytes) -> list[HistoryEntry]:
    entries, cursor = store.wallet_history(wallet, None, 50)
    while cursor is not None:
        page, cursor = store.wallet_history(wallet, cursor, 50)
        entries.extend(page)
    return entries


def assert_consistent(store: Store, chain: ExpectedChain, checked_up_to: int) -> None:
    """Check the head, the whole state, and blocks and indexes from ``checked_up_to + 1``.

    Heights up to ``checked_up_to`` passed this check after an earlier kill; the
    final call passes 0 to re-check everything once.
    """
    if not store.initialised:  # killed before its genesis batch: nothing at all
        assert (store.height, store.genesis_doc(), list(store.iter_prefix(b""))) == (0, None, [])
        return
    chain.advance_to(store.height)
    height = store.height
    assert store.genesis_doc() == GENESIS_DOC
    assert store.state_hash == chain.state_hash
    assert dict(store.iter_prefix(b"")) == chain.state
    assert store.state_digest() == state_digest(sorted(chain.state.items()))
    assert [stored.height for stored in store.blocks(1, height + 5)] == list(range(1, height + 1))
    for stored in store.blocks(max(1, checked_up_to + 1), height + 5):
        batch = chain.batches[stored.height]
        assert (stored.block, stored.block_hash) == (batch.block, batch.block_hash)
        assert store.block_by_hash(batch.block_hash) == batch.block
        assert stored.certificate == certificate_at(stored.height)
        for position, txid in enumerate(batch.txids):
            assert store.tx_location(txid) == (stored.height, position)
    beyond = batch_at(height + 1, chain.state_hash)
    assert store.block(height + 1) is None and store.block_hash(height + 1) is None
    assert store.certificate(height + 1) is None and store.block_by_hash(beyond.block_hash) is None
    assert all(store.tx_location(txid) is None for txid in beyond.txids)
    for wallet in WALLETS:
        expected = chain.wallet_history(wallet)
        if checked_up_to == 0:
            assert _all_history(store, wallet) == expected
        else:
            assert store.wallet_history(wallet, None, 50)[0] == expected[:50]


def _start_writer(path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-m", "storage_crash_writer", str(path)],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_open(child: subprocess.Popen[bytes]) -> None:
    """Block until the child printed its "open" line (bounded)."""
    assert child.stdout is not None
    readable, _, _ = select.select([child.stdout], [], [], STARTUP_LIMIT_S)
    assert readable, "the writer did not open the store in time"
    line = child.stdout.readline()
    assert line.startswith(b"open "), f"writer failed: {line!r} {child.stderr.read()!r}"


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=STARTUP_LIMIT_S)
    stderr = child.stderr.read() if child.stderr else b""
    assert child.returncode == -signal.SIGKILL, f"the writer died by itself: {stderr!r}"


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_previous_or_next_height(tmp_path: Path) -> None:
    path = tmp_path / "data"
    rng = random.Random(20261120)
    chain = ExpectedChain()
    heights = []
    for kill in range(KILLS):
        child = _start_writer(path)
        try:
            # Every 5th kill lands during start-up (open, genesis); the others mid-commit.
            if kill % 5 != 0:
                _wait_open(child)
            time.sleep(rng.uniform(0.0, 0.4))
        finally:
            _kill(child)
        with Store.open(path) as store:
            assert_consistent(store, chain, checked_up_to=heights[-1] if heights else 0)
            heights.append(store.height)
    with Store.open(path) as store:
        assert_consistent(store, chain, checked_up_to=0)
    assert heights == sorted(heights), "a synced commit was lost"
    assert heights[-1] > 4 * KILLS, f"the writer made too little progress: {heights}"
