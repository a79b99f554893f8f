"""storage: the node's durable store on LevelDB (plyvel).

Blocks, commit certificates, the committed state, the state hash and the
indexes (txid -> location, per-wallet history) live in one data folder; each
block is committed in one synced write batch, so a crash never leaves a mix of
two heights. Storage never decodes blocks or state values. See docs/storage.md.
"""

from .batch import CommitBatch
from .errors import (
    AlreadyInitialised,
    GenesisMismatch,
    InvalidInput,
    NotInitialised,
    StorageError,
    StoreClosed,
    StoreCorrupted,
    StoreLocked,
    WrongHeight,
)
from .state_hash import ZERO_HASH, ChangeSet, genesis_state_hash, next_state_hash, state_digest
from .store import MAX_HISTORY_PAGE, CommittedState, HistoryEntry, Store, StoredBlock, TxLocation

__all__ = [
    "Store",
    "CommittedState",
    "CommitBatch",
    "ChangeSet",
    "StoredBlock",
    "TxLocation",
    "HistoryEntry",
    "MAX_HISTORY_PAGE",
    "ZERO_HASH",
    "next_state_hash",
    "genesis_state_hash",
    "state_digest",
    "StorageError",
    "StoreLocked",
    "StoreCorrupted",
    "StoreClosed",
    "NotInitialised",
    "AlreadyInitialised",
    "GenesisMismatch",
    "WrongHeight",
    "InvalidInput",
]
