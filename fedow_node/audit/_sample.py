"""A small certified chain of card sales in a data folder: the audit's test and benchmark subject.

Deterministic for a seed (keys, nonces, amounts), so tests can expect exact
rows. Two validators: the one that certifies every block holds 80 % of the
stake, so its signature alone is a quorum and the minority's alone is not
(what a forged "short of 2/3" certificate needs).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path

from config import AssetSpec, BalanceSpec, ChainParams, FederationSpec, GenesisDoc, PlaceSpec, ValidatorSpec
from fedow_node.engine.application import LedgerApplication
from fedow_node.bench.solo import SoloChain
from fedow_node.node import NodeFiles, open_store
from wallet.block import decode_block
from wallet.bodies import RegisterCards, Sale
from wallet.fields import MAX_CARDS_PER_TX
from wallet.keys import SigningKey
from wallet.layout import card_wallet_id
from wallet.tx import sign_tx

__all__ = ["SampleChain", "build_sample_chain", "card_uid"]

CHAIN_ID = "fedow-audit"
GENESIS_TIME_MS = 1_767_225_600_000
CARD_BALANCE = 1_000_000
MAJORITY_STAKE = 100_000
MINORITY_STAKE = 25_000


@dataclass(frozen=True)
class SampleChain:
    genesis: GenesisDoc
    files: NodeFiles
    bar: SigningKey
    validator: SigningKey
    """Certifies every block (80 % of the stake)."""
    minority: SigningKey
    """The other validator (20 %): its signature alone is no quorum."""
    height: int
    txs: int


def card_uid(index: int) -> bytes:
    return b"\x04" + index.to_bytes(6, "big")


def _genesis(cards: int, bar: SigningKey, validator: SigningKey, minority: SigningKey, authority: SigningKey,
             block_txs: int) -> GenesisDoc:
    params = replace(ChainParams.devnet(), max_block_txs=max(block_txs, 1000), max_block_bytes=64 * 1024 * 1024,
                     tx_ttl_blocks=100_000)
    return GenesisDoc(
        chain_id=CHAIN_ID, genesis_time_ms=GENESIS_TIME_MS, authorities=(authority.public_key,), authority_threshold=1,
        treasury=(authority.public_key,), treasury_threshold=1,  # a test chain: one key is its 1-of-1 treasury
        params=params,
        assets=(AssetSpec("FED", "Euro fédéré", "FED", None, False),),
        places=(PlaceSpec("bar", "Bar", bar.public_key),),
        federations=(FederationSpec("audit", "Audit", ("bar",), ("FED",)),),
        validators=(ValidatorSpec(validator.public_key, "bar", MAJORITY_STAKE),
                    ValidatorSpec(minority.public_key, "bar", MINORITY_STAKE)),
        balances=tuple(BalanceSpec(card_wallet_id(card_uid(i)), "FED", CARD_BALANCE) for i in range(cards)),
    )


def _tx_count(block: bytes) -> int:
    return len(decode_block(block, chain_id=CHAIN_ID, max_bytes=len(block)).txs)


def build_sample_chain(data_dir: Path, *, blocks: int, block_txs: int, cards: int = 100,
                       seed: int = 7) -> SampleChain:
    """Write a chain into ``data_dir/chain``: one block registering the cards, then ``blocks`` blocks of sales."""
    rng = random.Random(seed)
    bar, validator, minority, authority = (SigningKey(rng.randbytes(32)) for _ in range(4))
    genesis = _genesis(cards, bar, validator, minority, authority, block_txs)
    files = NodeFiles(data_dir)
    app = LedgerApplication(open_store(files, genesis), CHAIN_ID, genesis.genesis_time_ms)
    try:
        chain = SoloChain(app, validator)
        registrations = [
            sign_tx(bar, CHAIN_ID, "register_cards",
                    RegisterCards(tuple((card_uid(i), f"{i:08d}", i.to_bytes(16, "big"))
                                        for i in range(start, min(cards, start + MAX_CARDS_PER_TX)))),
                    rng.randbytes(16), 1000)
            for start in range(0, cards, MAX_CARDS_PER_TX)]
        committed = _tx_count(chain.produce(registrations)[0])
        for _ in range(blocks):
            expiry = app.store.height + 100
            sales = [sign_tx(bar, CHAIN_ID, "sale", Sale(card_uid(rng.randrange(cards)), "FED", rng.randint(1, 500)),
                             rng.randbytes(16), expiry) for _ in range(block_txs)]
            committed += _tx_count(chain.produce(sales)[0])
        height = app.store.height
    finally:
        app.store.close()
    return SampleChain(genesis, files, bar, validator, minority, height, committed)
