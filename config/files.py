"""Writing configuration and genesis files so that a crash never leaves half a file."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str | bytes, mode: int = 0o600) -> None:
    """Write ``text`` (UTF-8, or bytes as they are) to a sibling temporary file with ``mode``, sync it, then
    rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
