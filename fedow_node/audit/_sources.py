"""Where audited blocks come from: a node's data folder (a Store) or a running peer.

The replay only needs the genesis document, the blocks with their certificates
in height order, and, when the source keeps one, the recorded head and the
state it claims (to compare with the replayed state at the end).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from storage import Store, StoredBlock

__all__ = ["ChainSource", "RecordedHead", "StoreSource", "FetchedChain"]


@dataclass(frozen=True)
class RecordedHead:
    """What the audited store says it reached."""

    height: int
    block_hash: bytes | None
    state_hash: bytes | None
    """None when the source records no head (a peer serves blocks only)."""


class ChainSource(Protocol):
    """What the replay reads."""

    def genesis_doc(self) -> bytes | None: ...

    def head(self) -> RecordedHead: ...

    def blocks(self, from_height: int, to_height: int) -> Iterator[StoredBlock]: ...

    def state_entries(self) -> Iterator[tuple[bytes, bytes]] | None:
        """The source's whole state in key order, or None when it has none to show (a peer)."""
        ...


class StoreSource:
    """An opened data folder (``chain/``), read only."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def genesis_doc(self) -> bytes | None:
        return self.store.genesis_doc()

    def head(self) -> RecordedHead:
        height = self.store.height
        return RecordedHead(height, self.store.block_hash(height) if height else None, self.store.state_hash)

    def blocks(self, from_height: int, to_height: int) -> Iterator[StoredBlock]:
        return self.store.blocks(from_height, to_height)

    def state_entries(self) -> Iterator[tuple[bytes, bytes]] | None:
        return self.store.iter_prefix(b"")


@dataclass(frozen=True)
class FetchedChain:
    """Blocks fetched from a peer: its head is only the height it served, its state is not seen."""

    genesis: bytes
    fetched: tuple[tuple[bytes, bytes], ...]
    """(block, certificate) for heights 1..len."""

    def genesis_doc(self) -> bytes | None:
        return self.genesis

    def head(self) -> RecordedHead:
        return RecordedHead(len(self.fetched), None, None)

    def blocks(self, from_height: int, to_height: int) -> Iterator[StoredBlock]:
        for height in range(from_height, min(to_height, len(self.fetched)) + 1):
            block, certificate = self.fetched[height - 1]
            yield StoredBlock(height, None, block, certificate)  # type: ignore[arg-type]

    def state_entries(self) -> Iterator[tuple[bytes, bytes]] | None:
        return None
