"""The node's durable store: blocks, certificates, state and indexes in one LevelDB.

Every block is committed in ONE synced write batch whose last entry is the new
head, so after a crash at any instant the store is at the previous or the next
height, never a mix. Storage never decodes blocks or state values: callers hand
it bytes and index entries. One process owns a data folder (LevelDB's lock).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

import plyvel
import structlog

from . import layout
from .batch import CommitBatch, counter_writes, plan_writes
from .errors import (
    AlreadyInitialised,
    GenesisMismatch,
    InvalidInput,
    NotInitialised,
    StoreCorrupted,
)
from .leveldb import open_leveldb, translate, translated_errors
from .state_hash import ZERO_HASH, genesis_state_hash, state_digest

__all__ = ["Store", "CommittedState", "TxLocation", "HistoryEntry", "StoredBlock", "MAX_HISTORY_PAGE"]

log = structlog.get_logger(__name__)

MAX_HISTORY_PAGE = 500
_IMPORT_BATCH_ENTRIES = 10_000


class TxLocation(NamedTuple):
    height: int
    position: int


class HistoryEntry(NamedTuple):
    height: int
    position: int
    txid: bytes


@dataclass(frozen=True)
class StoredBlock:
    """A committed block with what a syncing peer or an auditor needs next to it."""

    height: int
    block_hash: bytes
    block: bytes
    certificate: bytes


class CommittedState:
    """The state as one commit left it: a LevelDB snapshot taken at that commit, with its head.

    A StateReader for threads other than the committing one (the HTTP API, the mempool's
    checks): every read of one object sees the same height, however many blocks are
    committed meanwhile. Immutable; the snapshot is released with the last reference.
    """

    def __init__(self, snapshot: plyvel.Snapshot, head: layout.Head | None, path: Path) -> None:
        self._snapshot = snapshot
        self._head = head
        self._path = path

    @property
    def height(self) -> int:
        return 0 if self._head is None else self._head.height

    @property
    def state_hash(self) -> bytes:
        if self._head is None:
            raise NotInitialised(f"the store at {self._path} has no genesis yet")
        return self._head.state_hash

    @property
    def block_hash(self) -> bytes:
        return ZERO_HASH if self._head is None else self._head.block_hash

    def get(self, key: bytes) -> bytes | None:
        try:
            return self._snapshot.get(layout.STATE + key)
        except (plyvel.Error, RuntimeError) as error:
            raise translate(error, self._path) from error

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        return _state_entries(self._snapshot, prefix, self._path)


class Store:
    """A LevelDB data folder; use :meth:`open`, and close it (or use ``with``).

    One thread commits (the node's execution worker); any thread may read. Single-key
    reads of what a commit writes once (blocks, certificates, the txid index) and range
    reads (each plyvel iterator reads from an implicit snapshot) are consistent as they are;
    reads of several state keys that must agree go through :attr:`committed`.
    """

    def __init__(self, db: plyvel.DB, path: Path, head: layout.Head | None) -> None:
        self._db = db
        self._state = db.prefixed_db(layout.STATE)
        self._path = path
        self._head = head
        self._commit_lock = threading.Lock()
        self._committed = CommittedState(db.snapshot(), head, path)

    # --- life cycle ---------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open the data folder at ``path`` (created if missing) and check its head."""
        db = open_leveldb(path)
        try:
            with translated_errors(path):
                head = _read_head(db, path)
        except BaseException:
            db.close()
            raise
        log.info("store.opened", path=str(path), height=None if head is None else head.height)
        return cls(db, path, head)

    @classmethod
    def create_from_entries(cls, path: Path, entries: Iterable[tuple[bytes, bytes]]) -> Store:
        """A new store at ``path`` holding ``entries`` (those of :meth:`export_entries`), its head checked.

        Written in unsynced batches and synced once at the end: a crash midway leaves a folder
        that is not a store (no head, or a head whose blocks are missing), never a plausible one,
        because the head is written last. Refuses a folder that already holds anything.
        """
        if path.exists() and any(path.iterdir()):
            raise InvalidInput(f"{path} is not empty: a store is only created from entries in a new folder")
        db = open_leveldb(path)
        try:
            with translated_errors(path):
                head_value = None
                batch = db.write_batch()
                for count, (key, value) in enumerate(entries, 1):
                    if key == layout.HEAD:
                        head_value = value
                        continue
                    batch.put(key, value)
                    if count % _IMPORT_BATCH_ENTRIES == 0:
                        batch.write()
                        batch = db.write_batch()
                batch.write()
                if head_value is None:
                    raise InvalidInput("the entries hold no head record: they are not a store's")
                db.put(layout.HEAD, head_value, sync=True)
        finally:
            db.close()
        return cls.open(path)  # checks the head against the blocks, as every start does

    def close(self) -> None:
        """Release the folder (idempotent); later calls raise StoreClosed."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self._path

    # --- committed state (the ledger's StateReader) ----------------------------------

    def get(self, key: bytes) -> bytes | None:
        # The hot path of every transaction: no context manager, a plain try.
        try:
            return self._state.get(key)
        except (plyvel.Error, RuntimeError) as error:
            raise translate(error, self._path) from error

    def iter_prefix(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        """State entries whose key starts with ``prefix``, in key order."""
        return _state_entries(self._db, prefix, self._path)

    def state_digest(self) -> bytes:
        """sha256 over every state entry in key order: equal for equal states."""
        return state_digest(self.iter_prefix(b""))

    # --- genesis and head -------------------------------------------------------------

    def init_genesis(
        self, genesis_doc: bytes, state: Mapping[bytes, bytes], state_hash: bytes
    ) -> None:
        """Write height 0 once: the genesis document, its state and its state hash."""
        doc_hash = hashlib.sha256(genesis_doc).digest()
        with translated_errors(self._path):
            stored_hash = self._db.get(layout.GENESIS_HASH)
        if stored_hash == doc_hash:
            raise AlreadyInitialised(f"the store at {self._path} already holds this genesis")
        if stored_hash is not None:
            raise GenesisMismatch(
                f"the store at {self._path} holds genesis {stored_hash.hex()}, "
                f"not the given genesis {doc_hash.hex()}: it belongs to another chain"
            )
        if any(value is None for value in state.values()):
            raise InvalidInput("the genesis state cannot delete keys (a value is None)")
        expected = genesis_state_hash(state)
        if state_hash != expected:
            raise InvalidInput(
                f"genesis state_hash is {state_hash.hex()} but the genesis state gives "
                f"{expected.hex()}"
            )
        head = layout.Head(0, ZERO_HASH, state_hash)
        with translated_errors(self._path), self._db.write_batch(sync=True) as batch:
            batch.put(layout.GENESIS_DOC, genesis_doc)
            for key, value in state.items():
                batch.put(layout.STATE + key, value)
            batch.put(layout.GENESIS_HASH, doc_hash)
            batch.put(layout.HEAD, head.encode())
        self._head = head
        self._committed = CommittedState(self._db.snapshot(), head, self._path)
        log.info("store.genesis_stored", genesis=doc_hash.hex(), entries=len(state))

    def genesis_doc(self) -> bytes | None:
        with translated_errors(self._path):
            return self._db.get(layout.GENESIS_DOC)

    @property
    def initialised(self) -> bool:
        return self._head is not None

    @property
    def height(self) -> int:
        """Last committed height (0 = genesis, also before init_genesis)."""
        return 0 if self._head is None else self._head.height

    @property
    def state_hash(self) -> bytes:
        """State hash at :attr:`height`; raises NotInitialised before genesis."""
        return self._initialised_head().state_hash

    @property
    def committed(self) -> CommittedState:
        """The state and head as the last commit left them (one snapshot, swapped in by each commit)."""
        return self._committed

    def _initialised_head(self) -> layout.Head:
        if self._head is None:
            raise NotInitialised(f"the store at {self._path} has no genesis yet")
        return self._head

    # --- commit -----------------------------------------------------------------------

    def commit(self, batch: CommitBatch) -> None:
        """Write height ``head + 1`` entirely, in one synced write batch, or nothing."""
        with self._commit_lock:
            writes = plan_writes(batch, self._initialised_head())
            if batch.counters:
                with translated_errors(self._path):
                    writes[-1:-1] = counter_writes(batch.counters, self._db.get)  # before the head, still one batch
            with translated_errors(self._path), self._db.write_batch(sync=True) as write_batch:
                for key, value in writes:
                    if value is None:
                        write_batch.delete(key)
                    else:
                        write_batch.put(key, value)
            self._head = head = layout.Head(batch.height, batch.block_hash, batch.state_hash)
            with translated_errors(self._path):
                self._committed = CommittedState(self._db.snapshot(), head, self._path)
        log.debug("store.committed", height=batch.height, txs=len(batch.txids))

    def store_certificate(self, height: int, certificate: bytes) -> None:
        """Replace the certificate of a committed height (e.g. the canonical one of block H+1)."""
        if not 1 <= height <= self.height:
            raise InvalidInput(f"height {height} is not committed (head is {self.height})")
        with translated_errors(self._path):
            self._db.put(layout.CERTIFICATE + layout.encode_height(height), certificate, sync=True)

    # --- blocks and indexes -------------------------------------------------------------

    def block_hash(self, height: int) -> bytes | None:
        with translated_errors(self._path):
            return self._db.get(layout.BLOCK_HASH + layout.encode_height(height))

    def block(self, height: int) -> bytes | None:
        with translated_errors(self._path):
            return self._db.get(layout.BLOCK + layout.encode_height(height))

    def block_by_hash(self, block_hash: bytes) -> bytes | None:
        with translated_errors(self._path):
            raw_height = self._db.get(layout.HEIGHT_BY_HASH + block_hash)
            return None if raw_height is None else self._db.get(layout.BLOCK + raw_height)

    def certificate(self, height: int) -> bytes | None:
        with translated_errors(self._path):
            return self._db.get(layout.CERTIFICATE + layout.encode_height(height))

    def blocks(self, from_height: int, to_height: int) -> Iterator[StoredBlock]:
        """Committed blocks ``from_height..to_height`` (inclusive, clipped to the head)."""
        if not 1 <= from_height <= to_height:
            raise InvalidInput(f"block range {from_height}..{to_height} must satisfy 1 <= from <= to")
        return self._iter_blocks(from_height, min(to_height, self.height))

    def _iter_blocks(self, from_height: int, to_height: int) -> Iterator[StoredBlock]:
        with translated_errors(self._path), self._db.snapshot() as snapshot:
            for height in range(from_height, to_height + 1):
                height_key = layout.encode_height(height)
                yield StoredBlock(
                    height=height,
                    block_hash=snapshot.get(layout.BLOCK_HASH + height_key),
                    block=snapshot.get(layout.BLOCK + height_key),
                    certificate=snapshot.get(layout.CERTIFICATE + height_key),
                )

    def tx_location(self, txid: bytes) -> TxLocation | None:
        with translated_errors(self._path):
            raw = self._db.get(layout.TX + txid)
        return None if raw is None else TxLocation(*layout.decode_location(raw))

    def wallet_history(
        self, wallet_id: bytes, cursor: bytes | None = None, limit: int = 100
    ) -> tuple[list[HistoryEntry], bytes | None]:
        """A page of the wallet's transactions, newest first, at most 500.

        ``cursor`` is the opaque ``next_cursor`` of the previous page (None for the
        first); the returned ``next_cursor`` is None when there is nothing older.
        """
        if limit < 1:
            raise InvalidInput(f"limit must be at least 1, not {limit}")
        if cursor is not None and len(cursor) != layout.LOCATION_BYTES:
            raise InvalidInput(f"cursor must be the {layout.LOCATION_BYTES}-byte next_cursor")
        limit = min(limit, MAX_HISTORY_PAGE)
        prefix = layout.history_prefix(wallet_id)
        stop = prefix + (cursor if cursor is not None else b"\xff" * (layout.LOCATION_BYTES + 1))
        entries: list[HistoryEntry] = []
        with translated_errors(self._path):
            for key, txid in self._db.iterator(start=prefix, stop=stop, reverse=True):
                if len(entries) == limit:
                    return entries, _cursor_of(entries[-1])
                entries.append(HistoryEntry(*layout.decode_location(key[len(prefix) :]), txid))
        return entries, None

    def counters(self, start: bytes, stop: bytes) -> Iterator[tuple[bytes, int, int]]:
        """(key, count, amount) of the counters with ``start <= key < stop``, in key order."""
        with translated_errors(self._path):
            for key, raw in self._db.iterator(start=layout.COUNTER + start, stop=layout.COUNTER + stop):
                yield (key[len(layout.COUNTER):], *layout.decode_counter(raw))

    # --- node-local metadata (not state, not hashed) ------------------------------------------

    def meta_get(self, key: bytes) -> bytes | None:
        with translated_errors(self._path):
            return self._db.get(layout.META + key)

    def meta_put(self, key: bytes, value: bytes | None) -> None:
        """Durably set (or, with None, delete) a node-local value such as the peer book."""
        with translated_errors(self._path):
            if value is None:
                self._db.delete(layout.META + key, sync=True)
            else:
                self._db.put(layout.META + key, value, sync=True)

    # --- maintenance ----------------------------------------------------------------------

    def size_on_disk(self) -> int:
        """Bytes of the LevelDB files in the data folder."""
        return sum(entry.stat().st_size for entry in os.scandir(self._path) if entry.is_file())

    def export_entries(self) -> Iterator[tuple[bytes, bytes]]:
        """Every entry of the folder in key order, read from one LevelDB snapshot.

        Blocks, certificates, state, indexes and node-local data as of one committed height,
        even while blocks keep being committed (each commit is one batch, and a snapshot sees
        a batch entirely or not at all): a consistent copy of a running store, for backups.
        """
        with translated_errors(self._path), self._db.snapshot() as snapshot:
            yield from snapshot.iterator()

    def compact(self) -> None:
        with translated_errors(self._path):
            self._db.compact_range()


def _state_entries(source: plyvel.DB | plyvel.Snapshot, prefix: bytes, path: Path) -> Iterator[tuple[bytes, bytes]]:
    start = len(layout.STATE)
    with translated_errors(path):
        for key, value in source.iterator(prefix=layout.STATE + prefix):
            yield key[start:], value


def _cursor_of(entry: HistoryEntry) -> bytes:
    return layout.encode_location(entry.height, entry.position)


def _read_head(db: plyvel.DB, path: Path) -> layout.Head | None:
    """The head record, checked against the blocks it claims (None before genesis)."""
    raw = db.get(layout.HEAD)
    if raw is None:
        if db.get(layout.GENESIS_HASH) is not None:
            raise StoreCorrupted(f"{path} has a genesis but no head record")
        return None
    try:
        head = layout.Head.decode(raw)
    except ValueError as error:
        raise StoreCorrupted(f"the head record of {path} is malformed: {error}") from error
    if head.height > 0 and db.get(layout.BLOCK_HASH + layout.encode_height(head.height)) != head.block_hash:
        raise StoreCorrupted(f"{path}: the head says height {head.height} but that block is missing")
    if db.get(layout.BLOCK + layout.encode_height(head.height + 1)) is not None:
        raise StoreCorrupted(f"{path} holds block {head.height + 1} beyond its head {head.height}")
    return head
