"""Idempotency keys: a POS that retries a request after a lost answer must not sell twice.

A POS request carrying ``Idempotency-Key: <key>`` is remembered under (token id,
key) with a fingerprint of the request, the txid the node signed and the signed
transaction itself. A retry with the same key and the same request gets the
status of that same transaction instead of a second one (and if the node
restarted before the transaction was committed, the same bytes are submitted
again: the ledger's replay protection makes one sale of them at most); the same
key with another request is a conflict.

The keys are durable: :meth:`IdempotencyKeys.open` keeps them in an SQLite file
beside the chain (``<data_dir>/idempotency.sqlite``, synchronous=FULL), written
before the transaction is submitted, so a node killed between accepting a sale and
answering it still knows the key when the till retries. Kept ``RETAIN_MS`` (a
week: far past any transaction's expiry), and at most ``capacity`` keys, oldest
forgotten first. Not in the ledger state: a node's own tills' retries are local.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from fedow_node.api.errors import ApiError

__all__ = ["HEADER", "IdempotencyKeys", "Remembered", "fingerprint", "key_of"]

HEADER = "Idempotency-Key"
DEFAULT_CAPACITY = 50_000
RETAIN_MS = 7 * 86_400_000
PRUNE_EVERY = 1_000
"""Old and surplus keys are deleted once per this many new ones (and at start), not at each sale."""
_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_SCHEMA = """CREATE TABLE IF NOT EXISTS keys (
    token_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint BLOB NOT NULL, txid BLOB NOT NULL, tx BLOB NOT NULL,
    created_ms INTEGER NOT NULL, PRIMARY KEY (token_id, key))"""


@dataclass(frozen=True)
class Remembered:
    fingerprint: bytes
    txid: bytes
    tx: bytes
    """The signed transaction, to submit again if a restart lost it before it was committed."""


def key_of(headers: Any) -> str | None:
    """The request's idempotency key, checked; None when there is none."""
    key = headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise ApiError("bad_request", f"header {HEADER} must be 1 to 128 of A-Z a-z 0-9 _ . : -")
    return key


def fingerprint(action: str, payload: dict[str, Any]) -> bytes:
    """What makes two requests the same request: the action and the body's JSON, keys sorted."""
    return hashlib.sha256(json.dumps([action, payload], sort_keys=True).encode()).digest()


class IdempotencyKeys:
    """(token id, key) -> the request's fingerprint, txid and signed transaction, in SQLite.

    ``IdempotencyKeys()`` keeps them in memory (tests, tools); :meth:`open` on disk.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, *, database: str = ":memory:",
                 clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000) -> None:
        self.capacity = capacity
        self._clock_ms = clock_ms
        self._db = sqlite3.connect(database, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # remembered means on disk before the sale is submitted
        self._db.execute(_SCHEMA)
        self._since_prune = 0
        self._prune()

    @classmethod
    def open(cls, path: Path, capacity: int = DEFAULT_CAPACITY) -> "IdempotencyKeys":
        """The node's durable keys in ``path`` (created with mode 0600 on first use)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        return cls(capacity, database=str(path))

    def close(self) -> None:
        self._db.close()

    def recall(self, token_id: str, key: str, request_fingerprint: bytes) -> Remembered | None:
        """What was signed for this key, None if unknown; 409 if the key named another request."""
        row = self._db.execute("SELECT fingerprint, txid, tx FROM keys WHERE token_id = ? AND key = ?",
                               (token_id, key)).fetchone()
        if row is None:
            return None
        known = Remembered(bytes(row[0]), bytes(row[1]), bytes(row[2]))
        if known.fingerprint != request_fingerprint:
            raise ApiError("idempotency_conflict", f"{HEADER} {key!r} was already used by this token for "
                           "another request; use a new key for a new request")
        return known

    def remember(self, token_id: str, key: str, request_fingerprint: bytes, txid: bytes, tx: bytes) -> None:
        """Keep the key with what it produced; on disk (synced) when this returns."""
        self._db.execute("INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?, ?, ?)",
                         (token_id, key, request_fingerprint, txid, tx, self._clock_ms()))
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY or self.capacity < PRUNE_EVERY:
            self._prune()

    def forget(self, token_id: str, key: str) -> None:
        """The node refused the transaction: a retry may be judged afresh."""
        self._db.execute("DELETE FROM keys WHERE token_id = ? AND key = ?", (token_id, key))

    def _prune(self) -> None:
        self._since_prune = 0
        self._db.execute("DELETE FROM keys WHERE created_ms < ?", (self._clock_ms() - RETAIN_MS,))
        self._db.execute("DELETE FROM keys WHERE rowid NOT IN (SELECT rowid FROM keys ORDER BY created_ms DESC, "
                         "rowid DESC LIMIT ?)", (self.capacity,))
