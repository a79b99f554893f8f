"""The plyvel border: opening the database and turning its errors into StorageError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import plyvel

from .errors import StorageError, StoreClosed, StoreCorrupted, StoreLocked

# A larger write buffer keeps 1,000-change block batches in the memtable.
_WRITE_BUFFER_BYTES = 16 * 1024 * 1024
_BLOCK_CACHE_BYTES = 32 * 1024 * 1024
# Every transaction reads keys that are absent (its txid, before it is applied) or deep in
# the tree (a card among millions): a bloom filter per table skips the tables without the key.
_BLOOM_FILTER_BITS = 10


def _message(error: BaseException) -> str:
    raw = error.args[0] if error.args else error
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


@contextmanager
def translated_errors(path: Path) -> Iterator[None]:
    """Re-raise plyvel's errors as the most specific StorageError, naming the folder."""
    try:
        yield
    except (plyvel.Error, RuntimeError) as error:
        raise translate(error, path) from error


def translate(error: Exception, path: Path) -> Exception:
    """The StorageError for a plyvel error (or the error itself when it is not plyvel's)."""
    if isinstance(error, plyvel.CorruptionError):
        return StoreCorrupted(f"LevelDB in {path} is corrupted: {_message(error)}")
    if isinstance(error, plyvel.IOError):
        message = _message(error)
        if "lock" in message.lower():
            return StoreLocked(
                f"the data folder {path} is locked: another running node (or process) has it "
                f"open; stop that node or choose another data folder ({message})"
            )
        return StorageError(f"LevelDB I/O error in {path}: {message}")
    if isinstance(error, plyvel.Error):
        return StorageError(f"LevelDB error in {path}: {_message(error)}")
    if isinstance(error, RuntimeError) and "closed" in _message(error):
        return StoreClosed(f"the store at {path} is closed")
    return error


def open_leveldb(path: Path) -> plyvel.DB:
    """Open (creating if missing) the LevelDB folder at ``path``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError(f"cannot create the data folder {path}: {error.strerror}") from error
    with translated_errors(path):
        return plyvel.DB(
            str(path),
            create_if_missing=True,
            write_buffer_size=_WRITE_BUFFER_BYTES,
            lru_cache_size=_BLOCK_CACHE_BYTES,
            bloom_filter_bits=_BLOOM_FILTER_BITS,
        )
