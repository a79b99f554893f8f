"""The chained state hash of docs/contracts.md, and a full-state digest for auditors.

Pure and deterministic: entries are always hashed in key order, whatever order
the caller's mapping has. Lengths are 4-byte big-endian prefixes.

A block's changes are hashed twice on a node (the application compares the
result with the block header, then the store checks the batch it commits), so
:class:`ChangeSet` freezes them and keeps their digest: the second hash costs
one short sha256 instead of a pass over every change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping

__all__ = ["ZERO_HASH", "ChangeSet", "next_state_hash", "genesis_state_hash", "state_digest"]

ZERO_HASH = b"\0" * 32
_DOMAIN = b"fedow/state/v1"
_DELETE = b"\x00"
_PUT = b"\x01"


def _digest_sorted(entries: Iterable[tuple[bytes, bytes | None]]) -> bytes:
    """sha256 over entries already in key order: len-prefixed key, then delete marker or len-prefixed value.

    Streamed, one update per entry: a whole-state digest never holds the state in memory.
    """
    digest = hashlib.sha256()
    update = digest.update
    for key, value in entries:
        update(len(key).to_bytes(4, "big") + key
               + (_DELETE if value is None else _PUT + len(value).to_bytes(4, "big") + value))
    return digest.digest()


def _changes_digest(changes: Mapping[bytes, bytes | None]) -> bytes:
    return _digest_sorted(sorted(changes.items()))  # keys are distinct: tuples sort by key


class ChangeSet(Mapping[bytes, "bytes | None"]):
    """A block's state changes (None = delete), frozen, with their digest computed once."""

    __slots__ = ("_changes", "digest")

    def __init__(self, changes: Mapping[bytes, bytes | None]) -> None:
        self._changes = dict(changes)
        self.digest = _changes_digest(self._changes)
        """sha256 over the changes in key order: the part of the state hash that depends on them."""

    def __getitem__(self, key: bytes) -> bytes | None:
        return self._changes[key]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._changes)

    def __len__(self) -> int:
        return len(self._changes)

    def items(self):  # type: ignore[no-untyped-def, override]
        """The dict's own views: commits iterate every change, this keeps it at C speed."""
        return self._changes.items()

    def keys(self):  # type: ignore[no-untyped-def, override]
        return self._changes.keys()

    def values(self):  # type: ignore[no-untyped-def, override]
        return self._changes.values()


def next_state_hash(prev: bytes, height: int, changes: Mapping[bytes, bytes | None]) -> bytes:
    """State hash after applying ``changes`` (None = delete) at ``height`` on top of ``prev``."""
    changes_digest = changes.digest if isinstance(changes, ChangeSet) else _changes_digest(changes)
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
