"""``fedow-node bench ledger``: decode + verify + apply + commit of sale blocks, on one core.

Set-up (not timed): a chain whose genesis gives ``cards`` card wallets a FED
balance, the cards registered by transactions, then ``blocks`` blocks of
``block_txs`` sales (card -> bar, signed by the bar's key) built and certified by
a one-validator chain. Timed: a second store, copied from the first right after
the set-up, replays those blocks exactly as block sync does (certificate check,
decoding, every Ed25519 signature, the ledger rules, the state hash, one synced
LevelDB write batch per block). Bytes on disk per transaction are measured on
the replaying store, before and after a compaction.

The machine may be shared: besides wall time the replay is measured in CPU time
of the replaying thread (LevelDB's background compaction runs on another thread:
``background_cpu_seconds``), and a libsodium ``crypto_sign_open`` loop run in the
same thread right before each block calibrates that block (the load changes from
second to second). The calibrated rate scales each block's CPU time to a core
that verifies ``REFERENCE_VERIFY_PER_S`` signatures per second (an idle core of
the reference box).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import nacl.bindings
import nacl.signing

from config import AssetSpec, BalanceSpec, ChainParams, FederationSpec, GenesisDoc, PlaceSpec, ValidatorSpec
from fedow_node.engine.application import LedgerApplication
from fedow_node.bench.solo import SoloChain
from fedow_node.node import NodeFiles, open_store
from fedow_node.engine.sync import apply_decided
from wallet.bodies import RegisterCards, Sale
from wallet.fields import MAX_CARDS_PER_TX
from wallet.keys import SigningKey
from wallet.layout import card_wallet_id
from wallet.tx import sign_tx

CHAIN_ID = "fedow-bench"
CARD_BALANCE = 1_000_000
"""10,000.00 FED on each card: no sale of the run can overdraw."""
REFERENCE_VERIFY_PER_S = 21_000
"""Raw Ed25519 verifications per second of one idle core of the reference machine."""
CALIBRATION_VERIFIES = 300
"""Per block: about a third of the block's own verification work."""


@dataclass(frozen=True)
class LedgerBenchResult:
    cards: int
    blocks: int
    block_txs: int
    txs: int
    seconds: float
    tx_per_s: float
    cpu_seconds: float
    """CPU time of the replaying thread."""
    background_cpu_seconds: float
    """CPU time of the process's other threads meanwhile (LevelDB compaction)."""
    tx_per_cpu_s: float
    verify_per_s: float
    """Raw ``crypto_sign_open`` per CPU second of the replaying thread (median of the per-block loops)."""
    calibrated_tx_per_s: float
    """``tx_per_cpu_s`` scaled to a core doing ``REFERENCE_VERIFY_PER_S`` verifications per second."""
    bytes_per_tx: float
    bytes_per_tx_compacted: float
    setup_seconds: float


def _uid(index: int) -> bytes:
    return b"\x04" + index.to_bytes(6, "big")


def _genesis(cards: int, bar: SigningKey, validator: SigningKey, authority: SigningKey, block_txs: int) -> GenesisDoc:
    params = replace(ChainParams.devnet(), max_block_txs=max(block_txs, MAX_CARDS_PER_TX * 20),
                     max_block_bytes=64 * 1024 * 1024, tx_ttl_blocks=100_000)
    return GenesisDoc(
        chain_id=CHAIN_ID, genesis_time_ms=1_767_225_600_000, authorities=(authority.public_key,), authority_threshold=1,
        treasury=(authority.public_key,), treasury_threshold=1,  # a test chain: one key is its 1-of-1 treasury
        params=params,
        assets=(AssetSpec("FED", "Euro fédéré", "FED", None, False),),
        places=(PlaceSpec("bar", "Bar", bar.public_key),),
        federations=(FederationSpec("bench", "Bench", ("bar",), ("FED",)),),
        validators=(ValidatorSpec(validator.public_key, "bar", 100_000),),
        balances=tuple(BalanceSpec(card_wallet_id(_uid(i)), "FED", CARD_BALANCE) for i in range(cards)),
    )


def _register_cards(chain: SoloChain, bar: SigningKey, cards: int) -> None:
    txs = []
    for start in range(0, cards, MAX_CARDS_PER_TX):
        batch = tuple((_uid(i), f"{i:08d}", i.to_bytes(16, "big"))
                      for i in range(start, min(cards, start + MAX_CARDS_PER_TX)))
        txs.append(sign_tx(bar, CHAIN_ID, "register_cards", RegisterCards(batch), os.urandom(16), 50_000))
    per_block = chain.app.params.max_block_txs
    for start in range(0, len(txs), per_block):
        chain.produce(txs[start:start + per_block])


def verify_rate(count: int = CALIBRATION_VERIFIES) -> float:
    """Signature verifications per CPU second, the unit the ledger's cost is compared with."""
    key = nacl.signing.SigningKey(bytes(32))
    signed, public_key = bytes(key.sign(bytes(200))), bytes(key.verify_key)
    return count / _cpu_seconds(lambda: [nacl.bindings.crypto_sign_open(signed, public_key) for _ in range(count)])


def _cpu_seconds(work: Callable[[], object]) -> float:
    started = time.thread_time()
    work()
    return time.thread_time() - started


class _Replay:
    """Times blocks one by one, each next to its own calibration loop (not timed itself)."""

    def __init__(self) -> None:
        self.txs = 0
        self.seconds = self.cpu_seconds = self.process_seconds = self.reference_seconds = 0.0
        self.verify_rates: list[float] = []

    def run(self, apply_block: Callable[[], int]) -> None:
        verify_per_s = verify_rate()
        started, process_started, cpu_started = time.perf_counter(), time.process_time(), time.thread_time()
        self.txs += apply_block()
        cpu_seconds = time.thread_time() - cpu_started
        self.seconds += time.perf_counter() - started
        self.process_seconds += time.process_time() - process_started
        self.cpu_seconds += cpu_seconds
        self.reference_seconds += cpu_seconds * verify_per_s / REFERENCE_VERIFY_PER_S
        self.verify_rates.append(verify_per_s)


def run_ledger_bench(*, cards: int = 1_000_000, blocks: int = 20, block_txs: int = 1000, seed: int = 7,
                     workdir: Path | None = None) -> LedgerBenchResult:
    rng = random.Random(seed)
    bar, validator, authority = (SigningKey(rng.randbytes(32)) for _ in range(3))
    genesis = _genesis(cards, bar, validator, authority, block_txs)
    root = Path(tempfile.mkdtemp(prefix="fedow-bench-", dir=workdir))
    try:
        started = time.perf_counter()
        builder_files, replay_files = NodeFiles(root / "builder"), NodeFiles(root / "replay")
        builder = LedgerApplication(open_store(builder_files, genesis), CHAIN_ID, genesis.genesis_time_ms)
        chain = SoloChain(builder, validator)
        _register_cards(chain, bar, cards)
        builder.store.close()
        shutil.copytree(builder_files.store, replay_files.store)
        builder = LedgerApplication(open_store(builder_files, genesis), CHAIN_ID, genesis.genesis_time_ms)
        chain = SoloChain(builder, validator)
        decided = []
        for _ in range(blocks):
            expiry = builder.store.height + 1000
            sales = [sign_tx(bar, CHAIN_ID, "sale", Sale(_uid(rng.randrange(cards)), "FED", rng.randint(1, 500)),
                             rng.randbytes(16), expiry) for _ in range(block_txs)]
            decided.append(chain.produce(sales))
        builder.store.close()
        setup_seconds = time.perf_counter() - started

        replayer = LedgerApplication(open_store(replay_files, genesis), CHAIN_ID, genesis.genesis_time_ms)
        replayer.store.compact()
        size_before = replayer.store.size_on_disk()
        replay = _Replay()
        for block, certificate in decided:
            replay.run(lambda: len(apply_decided(replayer, block, certificate)))
        grown = replayer.store.size_on_disk() - size_before
        replayer.store.compact()
        compacted = replayer.store.size_on_disk() - size_before
        replayer.store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    txs = replay.txs
    return LedgerBenchResult(cards, blocks, block_txs, txs, round(replay.seconds, 3), round(txs / replay.seconds, 1),
                             round(replay.cpu_seconds, 3), round(replay.process_seconds - replay.cpu_seconds, 3),
                             round(txs / replay.cpu_seconds, 1), round(statistics.median(replay.verify_rates), 1),
                             round(txs / replay.reference_seconds, 1),
                             round(grown / txs, 1), round(compacted / txs, 1), round(setup_seconds, 1))
