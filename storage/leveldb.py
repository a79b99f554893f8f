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


def _message(error: BaseException) -> str:
    raw = error.args[0] if error.args else error
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


@contextmanager
def translated_errors(path: Path) -> Iterator[None]:
    """Re-raise plyvel's errors as the most specific StorageError, naming the folder."""
    try:
        yield
    except plyvel.CorruptionError as error:
        raise StoreCorrupted(f"LevelDB in {path} is corrupted: {_message(error)}") from error
    except plyvel.IOError as error:
        message = _message(error)
        if "lock" in message.lower():
            raise StoreLocked(
                f"the data folder {path} is locked: another running node (or process) has it "
                f"open; stop that node or choose another data folder ({message})"
            ) from error
        raise StorageError(f"LevelDB I/O error in {path}: {message}") from error
    except plyvel.Error as error:
        raise StorageError(f"LevelDB error in {path}: {_message(error)}") from error
    except RuntimeError as error:
        if "closed" not in _message(error):
            raise
        raise StoreClosed(f"the store at {path} is closed") from error


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
        )
