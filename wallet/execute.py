"""Applying transactions and blocks: the one entry point that changes ledger state.

Order inside a block: begin-block (a scheduled protocol upgrade takes effect, forget expired txids,
release unbonded stake and offline bonds whose notice is over, charge due demurrage, slash committed
evidence), the transactions in
order (each in its own child overlay), end-block (reward distribution, the
validator set for height + 2, the money invariants). Everything is a function
of the previous state and the block: no clock, no randomness, sorted scans.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Container, Iterable, Sequence

import structlog

from wallet import demurrage, invariants, layout, protocol, validators
from wallet.book import EMPTY, Book
from wallet.errors import BlockTxRejected, Rejected
from wallet.params import LedgerParams
from wallet.codec import pack
from wallet.rules import RULES
from wallet.rules.common import fed_asset, params as read_params, require_threshold
from wallet.rules.offline import release_bonds
from wallet.rules.staking import release_unbonded
from wallet.state import Overlay, RecordCache, StateReader
from wallet.tx import Tx

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class BlockContext:
    """What a block tells the ledger besides its transactions."""

    chain_id: str
    height: int
    time_ms: int
    proposer: bytes
    slash: Sequence[bytes] = ()
    """Validator keys with evidence committed in this block, one entry per piece of evidence."""


def current_params(reader: StateReader) -> LedgerParams:
    """The chain parameters in force (governance may have changed the genesis ones)."""
    return read_params(Overlay(reader))


@dataclass(frozen=True, slots=True)
class TxResult:
    txid: bytes
    kind: str
    touched: tuple[bytes, ...]
    """Wallets whose balances, membership or passages changed: the history index."""
    moves: tuple[tuple[bytes, str, int], ...] = ()
    """(wallet, asset id, signed delta) of the transaction's balance changes (demurrage charges aside):
    for receipts and the node's daily totals; decides nothing."""


@dataclass(frozen=True)
class BlockOutcome:
    changes: dict[bytes, bytes | None]
    results: tuple[TxResult, ...]
    validator_updates: tuple[tuple[bytes, int], ...]
    """(key, new power) for every change, effective at height + 2; power 0 removes."""


@dataclass(frozen=True)
class BuiltBlock:
    txs: tuple[Tx, ...]
    dropped: tuple[tuple[bytes, Rejected], ...]
    """(txid, why) of every candidate left out because it did not apply."""
    outcome: BlockOutcome


def apply_tx(overlay: Overlay, ctx: BlockContext, tx: Tx) -> TxResult:
    """Check and apply one transaction whose signature the caller has verified.

    Raises Rejected (and changes nothing) when it does not apply at ``ctx``.
    """
    params = read_params(overlay)
    if tx.size > params.max_tx_bytes:
        raise Rejected("oversize", f"transaction of {tx.size} bytes exceeds max_tx_bytes {params.max_tx_bytes}")
    sequenced = tx.body.SEQUENCED  # its own record on chain guards it, for ever: no expiry window
    seen_key = layout.txid(tx.txid)
    if not sequenced:
        _check_window(tx, ctx.height, params)
        if overlay.has(seen_key):
            raise Rejected("replay", f"transaction {tx.txid.hex()} was already applied")
    child = overlay.child()
    key_set = tx.body.KEY_SET
    if key_set is not None:
        require_threshold(child, key_set, tx)
    book = Book(child, ctx.time_ms, params, ctx.height)
    RULES[tx.kind](book, tx)
    book.flush()
    if not sequenced:
        child.put_raw(seen_key, pack([tx.expires_at]))  # Pointer(expires_at), encoded once here
        child.put_raw(layout.tx_expiry(tx.expires_at, tx.txid), EMPTY)
    child.commit()
    return TxResult(tx.txid, tx.kind, book.touched_wallets(), tuple(book.moves))


def _check_window(tx: Tx, height: int, params: LedgerParams) -> None:
    """``height <= expires_at <= height + ttl`` (co-signed transactions have their own, longer ttl)."""
    if tx.expires_at < height:
        raise Rejected("expired", f"field expires_at {tx.expires_at} is below the block height {height}")
    ttl_name, ttl = ("cosigned_tx_ttl_blocks", params.cosigned_tx_ttl_blocks) if tx.cosigned \
        else ("tx_ttl_blocks", params.tx_ttl_blocks)
    if tx.expires_at > height + ttl:
        raise Rejected("expiry_too_far", f"field expires_at {tx.expires_at} is more than {ttl_name} "
                       f"({ttl}) above the block height {height}")


def _check_signature(tx: Tx, chain_id: str, verified: Container[bytes]) -> None:
    if tx.txid not in verified and not tx.verify_signature(chain_id):
        raise Rejected("bad_signature", f"a signature of transaction {tx.txid.hex()} does not verify "
                       f"(signers {', '.join(key.hex() for key in tx.signers)}) on chain {chain_id!r}")


def begin_block(overlay: Overlay, ctx: BlockContext) -> None:
    protocol.switch_if_due(overlay, ctx.height)
    params = read_params(overlay)
    _forget_expired(overlay, ctx.height)
    book = Book(overlay, ctx.time_ms, params)
    release_unbonded(book)
    release_bonds(book)
    charged = demurrage.charge_due(book)
    if ctx.slash:
        validators.slash(book, ctx.slash, fed_asset(overlay))
    book.flush()
    if charged:
        log.debug("demurrage_charged", height=ctx.height, balances=charged)


def _forget_expired(overlay: Overlay, height: int) -> None:
    """Drop txids whose expires_at is below ``height``: they can no longer be valid anyway."""
    expired = []
    for key, _value in overlay.iter_prefix(layout.TX_EXPIRY):
        expires_at, tx_id = layout.split_ordered(layout.TX_EXPIRY, key)
        if expires_at >= height:
            break
        expired.append((key, tx_id))
    for key, tx_id in expired:
        overlay.delete(key)
        overlay.delete(layout.txid(tx_id))


def end_block(overlay: Overlay, ctx: BlockContext) -> tuple[tuple[bytes, int], ...]:
    params: LedgerParams = read_params(overlay)
    book = Book(overlay, ctx.time_ms, params)
    validators.distribute_rewards(book)
    book.flush()
    updates = validators.schedule_changes(overlay, ctx.height, params)
    invariants.check_block(overlay)
    return updates


def execute_block(reader: StateReader, ctx: BlockContext, txs: Sequence[Tx],
                  verified: Container[bytes] = frozenset(), cache: RecordCache | None = None) -> BlockOutcome:
    """Apply a whole block; BlockTxRejected (with the index) if any transaction does not apply.

    Signatures are verified here except for the txids in ``verified`` (the
    mempool's cache of transactions it already verified). ``cache`` keeps
    records decoded from ``reader`` across calls (see :class:`RecordCache`).
    """
    overlay = Overlay(reader, cache)
    limit = read_params(overlay).max_block_txs
    if len(txs) > limit:
        raise Rejected("too_many_txs", f"block holds {len(txs)} transactions, max_block_txs is {limit}")
    begin_block(overlay, ctx)
    results = []
    for index, tx in enumerate(txs):
        try:
            _check_signature(tx, ctx.chain_id, verified)
            results.append(apply_tx(overlay, ctx, tx))
        except Rejected as exc:
            raise BlockTxRejected(index, tx.txid, exc) from None
    updates = end_block(overlay, ctx)
    return BlockOutcome(overlay.changes(), tuple(results), updates)


def build_block(reader: StateReader, ctx: BlockContext, candidates: Iterable[Tx], max_txs: int,
                max_bytes: int, verified: Container[bytes] = frozenset(),
                cache: RecordCache | None = None) -> BuiltBlock:
    """The proposer's helper: apply candidates in order, skip those that fail, stop at the limits.

    ``max_bytes`` bounds the sum of the transactions' encoded sizes. The
    outcome is the same as :func:`execute_block` would give for the chosen txs.
    """
    overlay = Overlay(reader, cache)
    begin_block(overlay, ctx)
    chosen: list[Tx] = []
    results: list[TxResult] = []
    dropped: list[tuple[bytes, Rejected]] = []
    size = 0
    for tx in candidates:
        if len(chosen) == max_txs:
            break
        if size + tx.size > max_bytes:
            continue
        try:
            _check_signature(tx, ctx.chain_id, verified)
            results.append(apply_tx(overlay, ctx, tx))
        except Rejected as exc:
            dropped.append((tx.txid, exc))
            continue
        chosen.append(tx)
        size += tx.size
    updates = end_block(overlay, ctx)
    return BuiltBlock(tuple(chosen), tuple(dropped), BlockOutcome(overlay.changes(), tuple(results), updates))
