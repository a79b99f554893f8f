"""The offline journal: every operation a till did while its node was cut off, on disk before the till hears back.

An entry is the signed ``offline`` transaction itself (signed with the place key, numbered
``(journal, seq)``) with what the till needs to judge the next sale: the wallet it touched, the
asset and the amount. Each time the journal is opened (each start of the node) it draws a new
16-byte journal id and numbers from 1: a number is never given twice, not even by a journal
restored from an old backup. It lives in SQLite beside the chain (``<data_dir>/offline.sqlite``,
WAL, ``synchronous=FULL``): :meth:`OfflineJournal.append` returns once the entry is fsynced, so a
crash or a power cut loses no sale the till was told about. Entries are forwarded in the order
they were written.

States: ``pending`` (not yet seen on chain), ``committed`` (its record is on chain, at
``height``), ``refused`` (the ledger refused it when it was forwarded: its code and sentence,
for the operator; only a refill or a badge can be, e.g. on a card voided meanwhile). The
totals of pending entries the till's limits read are kept in memory, rebuilt at open.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

__all__ = ["COMMITTED", "Entry", "JOURNAL_ID_BYTES", "OfflineJournal", "Origin", "PENDING", "REFUSED"]

PENDING = "pending"
COMMITTED = "committed"
REFUSED = "refused"
JOURNAL_ID_BYTES = 16

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS entries (
        position INTEGER PRIMARY KEY, journal BLOB NOT NULL, seq INTEGER NOT NULL,
        txid BLOB NOT NULL UNIQUE, tx BLOB NOT NULL, op TEXT NOT NULL,
        wallet BLOB NOT NULL, asset TEXT NOT NULL, amount INTEGER NOT NULL, created_ms INTEGER NOT NULL,
        token_id TEXT NOT NULL, retry_key TEXT, fingerprint BLOB,
        state TEXT NOT NULL, code TEXT, detail TEXT, height INTEGER, UNIQUE (journal, seq))""",
    "CREATE INDEX IF NOT EXISTS entries_state ON entries (state, position)",
    "CREATE UNIQUE INDEX IF NOT EXISTS entries_retry ON entries (token_id, retry_key) WHERE retry_key IS NOT NULL",
)
_COLUMNS = ("journal, seq, txid, tx, op, wallet, asset, amount, created_ms, token_id, retry_key, fingerprint, state, "
            "code, detail, height")


@dataclass(frozen=True)
class Origin:
    """Who asked: the API token (the till) and, when it sent one, its idempotency key and the request's
    fingerprint, kept with the entry in the same synced write, so a retry finds its first answer."""

    token_id: str = ""
    retry_key: str | None = None
    fingerprint: bytes | None = None


@dataclass(frozen=True)
class Entry:
    """One journalled operation."""

    journal: bytes
    """The journal id of the node's run that wrote it."""
    seq: int
    txid: bytes
    tx: bytes
    """The signed ``offline`` transaction, forwarded as is."""
    op: str
    """``sale``, ``cash_refill`` or ``badge``."""
    wallet: bytes
    """The wallet it touches: the card's paying wallet (sale, badge), the wallet refilled."""
    asset: str
    amount: int
    created_ms: int
    origin: Origin = Origin()
    state: str = PENDING
    code: str | None = None
    detail: str | None = None
    height: int | None = None


def _entry(row: tuple) -> Entry:  # type: ignore[type-arg]
    journal, seq, txid, tx, op, wallet, asset, amount, created_ms, token_id, retry_key, fingerprint, state, code, \
        detail, height = row
    origin = Origin(token_id, retry_key, None if fingerprint is None else bytes(fingerprint))
    return Entry(bytes(journal), seq, bytes(txid), bytes(tx), op, bytes(wallet), asset, amount, created_ms, origin, state, code,
                 detail, height)


class OfflineJournal:
    """The journal of one node; ``OfflineJournal()`` keeps it in memory (tests), :meth:`open` on disk."""

    def __init__(self, database: str = ":memory:", fed_asset: str = "FED") -> None:
        self.fed_asset = fed_asset
        self._db = sqlite3.connect(database, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # appended means on disk before the till's answer
        for statement in _SCHEMA:
            self._db.execute(statement)
        self.journal_id = os.urandom(JOURNAL_ID_BYTES)
        """This run's journal id: the new entries' numbers are this id's."""
        self.next_seq = 1
        self.exposure = 0
        """FED of pending sales: what the venue risks until they are on chain."""
        self.float_used = 0
        """FED of pending cash refills: taken from the venue's float once they are on chain."""
        self._sold: Counter[bytes] = Counter()
        self._refilled: Counter[bytes] = Counter()
        self.counts: Counter[str] = Counter(dict(self._db.execute(
            "SELECT state, COUNT(*) FROM entries GROUP BY state").fetchall()))
        for entry in self.pending():
            self._count(entry, +1)

    @classmethod
    def open(cls, path: Path, fed_asset: str) -> OfflineJournal:
        """The node's durable journal in ``path`` (created with mode 0600 on first use)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        return cls(str(path), fed_asset)

    def close(self) -> None:
        self._db.close()

    # -- appending -------------------------------------------------------------------------
    def append(self, entry: Entry) -> Entry:
        """Keep ``entry`` (numbered :attr:`next_seq` of this run's journal); on disk, synced, when this returns."""
        if (entry.journal, entry.seq, entry.state) != (self.journal_id, self.next_seq, PENDING):
            raise ValueError(f"the next entry is number {self.next_seq} of journal {self.journal_id.hex()}, pending; "
                             f"got {entry.seq} of {entry.journal.hex()}, {entry.state}")
        origin = entry.origin
        self._db.execute(f"INSERT INTO entries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (entry.journal, entry.seq, entry.txid, entry.tx, entry.op, entry.wallet, entry.asset, entry.amount,
                          entry.created_ms, origin.token_id, origin.retry_key, origin.fingerprint, entry.state,
                          None, None, None))
        self.next_seq += 1
        self.counts[PENDING] += 1
        self._count(entry, +1)
        return entry

    # -- what happened to them ---------------------------------------------------------------
    def mark_committed(self, entry: Entry, height: int) -> None:
        self._settle(entry, COMMITTED, None, None, height)

    def mark_refused(self, entry: Entry, code: str, detail: str) -> None:
        self._settle(entry, REFUSED, code, detail, None)

    def _settle(self, entry: Entry, state: str, code: str | None, detail: str | None, height: int | None) -> None:
        changed = self._db.execute("UPDATE entries SET state = ?, code = ?, detail = ?, height = ? "
                                   "WHERE txid = ? AND state = ?", (state, code, detail, height, entry.txid, PENDING))
        if changed.rowcount:
            self.counts[PENDING] -= 1
            self.counts[state] += 1
            self._count(entry, -1)

    # -- reading -------------------------------------------------------------------------------
    def pending(self, limit: int = -1) -> list[Entry]:
        """Pending entries in the order they were written: the order they are forwarded in."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM entries WHERE state = ? ORDER BY position LIMIT ?",
                                (PENDING, limit)).fetchall()
        return [_entry(row) for row in rows]

    def by_txid(self, txid: bytes) -> Entry | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM entries WHERE txid = ?", (txid,)).fetchone()
        return None if row is None else _entry(row)

    def by_retry(self, token_id: str, retry_key: str) -> Entry | None:
        """The entry a till's request with this idempotency key produced, if any."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM entries WHERE token_id = ? AND retry_key = ?",
                               (token_id, retry_key)).fetchone()
        return None if row is None else _entry(row)

    def refused(self, limit: int = 100) -> list[Entry]:
        """The latest entries the ledger refused, newest first (what the operator must look at)."""
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM entries WHERE state = ? ORDER BY position DESC LIMIT ?",
                                (REFUSED, limit)).fetchall()
        return [_entry(row) for row in rows]

    def entries(self) -> Iterator[Entry]:
        """Every entry, in the order they were written."""
        for row in self._db.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY position"):
            yield _entry(row)

    def sold_to(self, wallet: bytes) -> int:
        """FED of pending sales paid by ``wallet``."""
        return self._sold[wallet]

    def refilled(self, wallet: bytes) -> int:
        """FED of pending cash refills into ``wallet``."""
        return self._refilled[wallet]

    def _count(self, entry: Entry, sign: int) -> None:
        if entry.asset != self.fed_asset:
            return
        if entry.op == "sale":
            self.exposure += sign * entry.amount
            self._sold[entry.wallet] += sign * entry.amount
            if not self._sold[entry.wallet]:
                del self._sold[entry.wallet]
        elif entry.op == "cash_refill":
            self.float_used += sign * entry.amount
            self._refilled[entry.wallet] += sign * entry.amount
            if not self._refilled[entry.wallet]:
                del self._refilled[entry.wallet]
