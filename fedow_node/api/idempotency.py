"""Idempotency keys: a POS that retries a request after a lost answer must not sell twice.

A POS request carrying ``Idempotency-Key: <key>`` is remembered under (token id,
key) with a fingerprint of the request and the txid the node signed. A retry
with the same key and the same request gets the status of that same
transaction instead of a second one; the same key with another request is a
conflict. Kept in memory, bounded (oldest forgotten first): a node restart
forgets the keys, so retries should stay within minutes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fedow_node.api.errors import ApiError

__all__ = ["HEADER", "IdempotencyKeys", "Remembered", "fingerprint", "key_of"]

HEADER = "Idempotency-Key"
DEFAULT_CAPACITY = 50_000
_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,128}")


@dataclass(frozen=True)
class Remembered:
    fingerprint: bytes
    txid: bytes


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
    """(token id, key) -> the request's fingerprint and txid, for the ``capacity`` latest keys."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], Remembered] = OrderedDict()

    def recall(self, token_id: str, key: str, request_fingerprint: bytes) -> bytes | None:
        """The txid signed for this key, None if unknown; 409 if the key named another request."""
        known = self._entries.get((token_id, key))
        if known is None:
            return None
        if known.fingerprint != request_fingerprint:
            raise ApiError("idempotency_conflict", f"{HEADER} {key!r} was already used by this token for "
                           "another request; use a new key for a new request")
        return known.txid

    def remember(self, token_id: str, key: str, request_fingerprint: bytes, txid: bytes) -> None:
        self._entries[(token_id, key)] = Remembered(request_fingerprint, txid)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def forget(self, token_id: str, key: str) -> None:
        """The node refused the transaction: a retry may be judged afresh."""
        self._entries.pop((token_id, key), None)
