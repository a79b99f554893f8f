"""The chained state hash of docs/contracts.md, and a full-state digest for auditors.

Pure and deterministic: entries are always hashed in key order, whatever order
the caller's mapping has. Lengths are 4-byte big-endian prefixes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

__all__ = ["ZERO_HASH", "next_state_hash", "genesis_state_hash", "state_digest"]

ZERO_HASH = b"\0" * 32
_DOMAIN = b"fedow/state/v1"
_DELETE = b"\x00"
_PUT = b"\x01"


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _digest_sorted(entries: Iterable[tuple[bytes, bytes | None]]) -> bytes:
    """sha256 over entries already in key order: key, then delete marker or value."""
    digest = hashlib.sha256()
    for key, value in entries:
        digest.update(_length_prefixed(key))
        digest.update(_DELETE if value is None else _PUT + _length_prefixed(value))
    return digest.digest()


def next_state_hash(prev: bytes, height: int, changes: Mapping[bytes, bytes | None]) -> bytes:
    """State hash after applying ``changes`` (None = delete) at ``height`` on top of ``prev``."""
    changes_digest = _digest_sorted(sorted(changes.items()))
    return hashlib.sha256(_DOMAIN + prev + height.to_bytes(8, "big") + changes_digest).digest()


def genesis_state_hash(state: Mapping[bytes, bytes]) -> bytes:
    """State hash of height 0: the genesis state as the changes of a first step from zero."""
    return next_state_hash(ZERO_HASH, 0, state)


def state_digest(entries_in_key_order: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Digest of a whole state (e.g. ``Store.iter_prefix(b"")``): equal states, equal digests.

    Unlike the chained state hash it does not depend on history, so two stores that
    reached the same state by different block histories (or a replay) compare equal.
    """
    return _digest_sorted(entries_in_key_order)
