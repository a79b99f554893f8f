"""The storage error tree, translated from plyvel at the border.

::

    StorageError                 (code, detail)
    ├── StoreLocked              the data folder is held by another running node
    ├── StoreCorrupted           LevelDB reports corruption, or the head disagrees with the data
    ├── StoreClosed              the store was used after close()
    ├── NotInitialised           no genesis yet
    ├── AlreadyInitialised       init_genesis called twice with the same genesis
    ├── GenesisMismatch          the folder holds another chain's genesis
    ├── WrongHeight              commit of a height that is not head + 1
    └── InvalidInput             a batch or argument that breaks the storage rules

A rejected call writes nothing.
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of the storage errors: a stable ``code`` and a ``detail`` sentence."""

    code = "storage_error"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.code}: {detail}")
        self.detail = detail


class StoreLocked(StorageError):
    code = "store_locked"


class StoreCorrupted(StorageError):
    code = "store_corrupted"


class StoreClosed(StorageError):
    code = "store_closed"


class NotInitialised(StorageError):
    code = "not_initialised"


class AlreadyInitialised(StorageError):
    code = "already_initialised"


class GenesisMismatch(StorageError):
    code = "genesis_mismatch"


class WrongHeight(StorageError):
    code = "wrong_height"


class InvalidInput(StorageError):
    code = "invalid_input"
