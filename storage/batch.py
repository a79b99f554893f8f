"""What one block commit writes, checked and laid out as LevelDB puts and deletes.

The checks run before anything is written, so a refused batch changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import layout
from .errors import InvalidInput, WrongHeight
from .state_hash import next_state_hash

__all__ = ["CommitBatch", "counter_writes", "plan_writes"]


@dataclass(frozen=True)
class CommitBatch:
    """Everything height ``height`` adds to the store, as bytes and index entries.

    ``wallet_touches`` are (wallet id, txid) pairs in block order; each txid must be
    one of ``txids``, whose order gives the transaction positions.
    """

    height: int
    block_hash: bytes
    block: bytes
    certificate: bytes
    changes: Mapping[bytes, bytes | None]
    state_hash: bytes
    txids: Sequence[bytes]
    wallet_touches: Sequence[tuple[bytes, bytes]]
    counters: Mapping[bytes, tuple[int, int]] = field(default_factory=dict)
    """Node-local counters to add to, key -> (count, amount) deltas: the daily totals index. Not state,
    not in the state hash; written in the same batch, so they always match the committed blocks."""


def plan_writes(batch: CommitBatch, head: layout.Head) -> list[tuple[bytes, bytes | None]]:
    """Check ``batch`` against ``head`` and return all its writes (value None = delete).

    The new head is the last write; the caller puts the whole list in one write batch.
    """
    _check_header(batch, head)
    _check_changes(batch.changes)
    positions = _tx_positions(batch.txids)
    _check_touches(batch.wallet_touches, positions)
    expected = next_state_hash(head.state_hash, batch.height, batch.changes)
    if batch.state_hash != expected:
        raise InvalidInput(
            f"state_hash of height {batch.height} is {batch.state_hash.hex()} but the changes on "
            f"top of {head.state_hash.hex()} give {expected.hex()}"
        )
    height_key = layout.encode_height(batch.height)
    writes: list[tuple[bytes, bytes | None]] = [
        (layout.BLOCK + height_key, batch.block),
        (layout.BLOCK_HASH + height_key, batch.block_hash),
        (layout.HEIGHT_BY_HASH + batch.block_hash, height_key),
        (layout.CERTIFICATE + height_key, batch.certificate),
    ]
    changes = batch.changes
    writes.extend(zip(map(layout.STATE.__add__, changes.keys()), changes.values()))  # C loops: ~4 per transaction
    locations = {txid: layout.encode_location(batch.height, position) for txid, position in positions.items()}
    writes.extend((layout.TX + txid, location) for txid, location in locations.items())
    history_prefixes: dict[bytes, bytes] = {}
    for wallet_id, txid in batch.wallet_touches:
        prefix = history_prefixes.get(wallet_id)
        if prefix is None:
            prefix = history_prefixes[wallet_id] = layout.history_prefix(wallet_id)
        writes.append((prefix + locations[txid], txid))
    new_head = layout.Head(batch.height, batch.block_hash, batch.state_hash)
    writes.append((layout.HEAD, new_head.encode()))
    return writes


def counter_writes(counters: Mapping[bytes, tuple[int, int]],
                   current: Callable[[bytes], bytes | None]) -> list[tuple[bytes, bytes]]:
    """The new values of ``counters`` (key order) on top of the stored ones (``current`` reads a full key)."""
    writes = []
    for key in sorted(counters):
        count, amount = counters[key]
        if not isinstance(key, bytes) or not key:
            raise InvalidInput(f"counter key {key!r} must be non-empty bytes")
        full = layout.COUNTER + key
        raw = current(full)
        old_count, old_amount = (0, 0) if raw is None else layout.decode_counter(raw)
        writes.append((full, layout.encode_counter(old_count + count, old_amount + amount)))
    return writes


def _check_header(batch: CommitBatch, head: layout.Head) -> None:
    if batch.height != head.height + 1:
        raise WrongHeight(
            f"commit of height {batch.height} refused: the store is at height {head.height}, "
            f"so the next commit must be height {head.height + 1}"
        )
    for name in ("block_hash", "state_hash"):
        value = getattr(batch, name)
        if not isinstance(value, bytes) or len(value) != layout.HASH_BYTES:
            raise InvalidInput(f"{name} of height {batch.height} must be 32 bytes")
    for name in ("block", "certificate"):
        if not isinstance(getattr(batch, name), bytes):
            raise InvalidInput(f"{name} of height {batch.height} must be bytes")


def _check_changes(changes: Mapping[bytes, bytes | None]) -> None:
    for key, value in changes.items():
        if not isinstance(key, bytes) or not key:
            raise InvalidInput(f"state key {key!r} must be non-empty bytes")
        if value is not None and not isinstance(value, bytes):
            raise InvalidInput(f"state value of key {key!r} must be bytes or None")


def _tx_positions(txids: Sequence[bytes]) -> dict[bytes, int]:
    positions: dict[bytes, int] = {}
    for position, txid in enumerate(txids):
        if not isinstance(txid, bytes) or len(txid) != layout.HASH_BYTES:
            raise InvalidInput(f"txid at position {position} must be 32 bytes")
        if txid in positions:
            raise InvalidInput(
                f"txid {txid.hex()} appears at positions {positions[txid]} and {position}"
            )
        positions[txid] = position
    return positions


def _check_touches(touches: Sequence[tuple[bytes, bytes]], positions: Mapping[bytes, int]) -> None:
    for index, (wallet_id, txid) in enumerate(touches):
        if not isinstance(wallet_id, bytes) or not 0 < len(wallet_id) <= layout.MAX_WALLET_ID_BYTES:
            raise InvalidInput(f"wallet id of touch {index} must be 1 to 255 bytes")
        if txid not in positions:
            raise InvalidInput(f"touch {index} names txid {txid!r}, which is not in txids")
