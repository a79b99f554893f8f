"""Reading state and recording changes to it.

The state is a flat map ``bytes key -> canonical bytes value`` (docs/contracts.md).
Rules never write to storage: they work on an :class:`Overlay` that records
changes over a :class:`StateReader`. A transaction runs in a child overlay that
is merged into its parent only when the whole transaction applied, so a
rejection changes nothing. Overlays keep decoded records, not bytes: a record
read or written once in a block is never decoded or encoded again until
:meth:`Overlay.changes` encodes the final values once.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from typing import Iterator, Mapping, Protocol, TypeVar

from wallet.codec import batch_packer, pack, unpack_trusted
from wallet.records import Record

R = TypeVar("R", bound=Record)

_DELETED = None


class StateReader(Protocol):
    """Committed state as the ledger reads it (storage implements it, so do overlays)."""

    def get(self, key: bytes) -> bytes | None: ...

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) whose key starts with ``prefix``, sorted by key."""
        ...


class DictReader:
    """An in-memory state, for genesis, tests and benchmarks (prefix scans by bisection)."""

    def __init__(self, items: Mapping[bytes, bytes] | None = None) -> None:
        self._items: dict[bytes, bytes] = dict(items or {})
        self._sorted: list[bytes] | None = None

    def get(self, key: bytes) -> bytes | None:
        return self._items.get(key)

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        if self._sorted is None:
            self._sorted = sorted(self._items)
        keys = self._sorted
        for index in range(bisect.bisect_left(keys, prefix), len(keys)):
            key = keys[index]
            if not key.startswith(prefix):
                break
            yield key, self._items[key]

    def apply(self, changes: Mapping[bytes, bytes | None]) -> None:
        """Commit an overlay's changes (None deletes), as storage would."""
        for key, value in changes.items():
            if value is None:
                self._items.pop(key, None)
            else:
                self._items[key] = value
        self._sorted = None

    def snapshot(self) -> dict[bytes, bytes]:
        return dict(sorted(self._items.items()))


def _encode(value: Record | bytes) -> bytes:
    return value if isinstance(value, bytes) else pack(value.to_list())


class RecordCache:
    """Records decoded from committed state, kept across blocks by the state's owner.

    Valid only for one committed state: after committing a block's changes,
    call :meth:`forget` with them (the changed keys are dropped, the rest stays true).
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self.entries: dict[bytes, Record | None] = {}
        self.max_entries = max_entries

    def forget(self, changes: Mapping[bytes, bytes | None]) -> None:
        entries = self.entries
        if len(entries) > self.max_entries:
            entries.clear()
            return
        for key in changes:
            entries.pop(key, None)


class Overlay:
    """Changes over a reader (or over a parent overlay), with decoded-record caching."""

    def __init__(self, base: StateReader | Overlay, cache: RecordCache | None = None) -> None:
        self._base = base
        self._parent = base if isinstance(base, Overlay) else None
        self._writes: dict[bytes, Record | bytes | None] = {}
        self._decoded: dict[bytes, Record | None] = {} if cache is None else cache.entries
        """Root only: records decoded from the reader (shared with a RecordCache if given)."""
        self._sorted_keys: list[bytes] = []
        """The written keys, sorted, as of the last scan (keys are never removed from writes)."""

    # -- reading ---------------------------------------------------------------
    def get(self, key: bytes) -> bytes | None:
        if key in self._writes:
            value = self._writes[key]
            return None if value is None else _encode(value)
        return self._base.get(key)

    def record(self, key: bytes, cls: type[R]) -> R | None:
        """The record at ``key`` decoded as ``cls``, or None when absent.

        A loop down the parents, not a recursion: every rule reads a dozen records per transaction.
        """
        overlay = self
        while True:
            writes = overlay._writes
            if key in writes:
                value = writes[key]
                if value is None or isinstance(value, Record):
                    return value  # type: ignore[return-value]
                return cls.from_list(unpack_trusted(value))
            if overlay._parent is None:
                break
            overlay = overlay._parent
        cache = overlay._decoded
        if key in cache:
            return cache[key]  # type: ignore[return-value]
        raw = overlay._base.get(key)
        decoded = None if raw is None else cls.from_list(unpack_trusted(raw))
        cache[key] = decoded
        return decoded

    def has(self, key: bytes) -> bool:
        overlay = self
        while True:
            if key in overlay._writes:
                return overlay._writes[key] is not None
            if overlay._parent is None:
                return overlay._base.get(key) is not None
            overlay = overlay._parent

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """Sorted (key, value) merged from the base and this overlay's changes."""
        for key, value in self._iter(prefix):
            yield key, _encode(value)

    def records(self, prefix: bytes, cls: type[R]) -> Iterator[tuple[bytes, R]]:
        """Sorted (key, decoded record) under ``prefix``."""
        for key, value in self._iter(prefix):
            yield key, value if isinstance(value, Record) else cls.from_list(unpack_trusted(value))

    def _written_keys(self) -> list[bytes]:
        """Sorted written keys; only keys added since the last call are sorted anew.

        A dict keeps insertion order and a key once written stays (a delete
        writes None), so the new keys are the tail of the dict.
        """
        keys = self._sorted_keys
        if len(keys) != len(self._writes):
            added = sorted(itertools.islice(self._writes, len(keys), None))
            keys = self._sorted_keys = sorted(keys + added)  # two sorted runs: a linear merge
        return keys

    def _iter(self, prefix: bytes) -> Iterator[tuple[bytes, Record | bytes]]:
        keys = self._written_keys()
        writes = self._writes
        mine = []
        for index in range(bisect.bisect_left(keys, prefix), len(keys)):
            key = keys[index]
            if not key.startswith(prefix):
                break
            mine.append((key, writes[key]))
        below = self._parent._iter(prefix) if self._parent is not None else self._base.iter_prefix(prefix)
        merged = heapq.merge(((k, 0, v) for k, v in mine), ((k, 1, v) for k, v in below),
                             key=lambda item: (item[0], item[1]))
        last: bytes | None = None
        for key, _rank, value in merged:
            if key == last:
                continue  # this overlay's change shadows the base value
            last = key
            if value is not None:
                yield key, value

    # -- writing ---------------------------------------------------------------
    def put(self, key: bytes, record: Record) -> None:
        self._writes[key] = record

    def put_raw(self, key: bytes, value: bytes) -> None:
        self._writes[key] = value

    def delete(self, key: bytes) -> None:
        self._writes[key] = _DELETED

    def child(self) -> Overlay:
        """A nested overlay: merge it with :meth:`commit`, or drop it to undo."""
        return Overlay(self)

    def commit(self) -> None:
        """Merge this child's changes into its parent."""
        if self._parent is None:
            raise ValueError("only a child overlay can be committed into its parent")
        self._parent._writes.update(self._writes)
        self._writes = {}
        self._sorted_keys = []

    def changes(self) -> dict[bytes, bytes | None]:
        """Every change, encoded, sorted by key (None = delete): what storage commits.

        One packer for the whole batch: this runs once per key changed in a block.
        """
        pack_value = batch_packer()
        writes = self._writes
        encoded: dict[bytes, bytes | None] = {}
        for key in self._written_keys():
            value = writes[key]
            if value is None or type(value) is bytes:
                encoded[key] = value
            else:
                encoded[key] = pack_value(value.to_list())
        return encoded

    def __len__(self) -> int:
        return len(self._writes)


def read_all(reader: StateReader, prefix: bytes, cls: type[R]) -> Iterator[tuple[bytes, R]]:
    """Decoded records under ``prefix`` of any reader (an overlay or committed state)."""
    if isinstance(reader, Overlay):
        yield from reader.records(prefix, cls)
        return
    for key, raw in reader.iter_prefix(prefix):
        yield key, cls.from_list(unpack_trusted(raw))


def read_one(reader: StateReader, key: bytes, cls: type[R]) -> R | None:
    if isinstance(reader, Overlay):
        return reader.record(key, cls)
    raw = reader.get(key)
    return None if raw is None else cls.from_list(unpack_trusted(raw))

