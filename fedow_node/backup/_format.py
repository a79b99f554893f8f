"""The backup file: one gzip-compressed msgpack stream, written to a temporary name and renamed.

    manifest  {"format", "version", "created_ms", "chain_id", "genesis_sha256", "node_public_key",
               "validator", "moniker", "files": {name: bytes}, "keys": sealed keys or None}
    entry*    [key, value]   every entry of the node's store in key order, from one LevelDB snapshot
    trailer   {"entries": n, "sha256": digest of the entries, "height", "block_hash", "state_hash",
               "files": {name: bytes}}   files read after the snapshot (the last-sign state)

The trailer comes last because the snapshot's head is only known once streamed; a file
cut short has no trailer and is refused, and so is one whose entries do not match its digest.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import msgpack

from fedow_node.backup._errors import BackupError
from storage import layout

FORMAT = "fedow-node-backup"
VERSION = 1
_MAX_OBJECT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Trailer:
    entries: int
    sha256: bytes
    height: int
    block_hash: bytes
    state_hash: bytes
    files: dict[str, bytes] = field(default_factory=dict, compare=False)


class _EntryDigest:
    """Digest and head of the entries as they pass (length-prefixed key and value, in order)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0
        self.head: layout.Head | None = None

    def add(self, key: bytes, value: bytes) -> None:
        self._hash.update(len(key).to_bytes(4, "big") + key + len(value).to_bytes(4, "big") + value)
        self.count += 1
        if key == layout.HEAD:
            try:
                self.head = layout.Head.decode(value)
            except ValueError as exc:
                raise BackupError("bad_backup", f"the store's head record is malformed: {exc}") from None

    def trailer(self, files: dict[str, bytes] | None = None) -> Trailer:
        if self.head is None:
            raise BackupError("bad_backup", "the store's entries hold no head record: nothing was committed")
        return Trailer(self.count, self._hash.digest(), self.head.height, self.head.block_hash, self.head.state_hash,
                       files or {})


def write_backup(path: Path, manifest: dict[str, Any], entries: Iterable[tuple[bytes, bytes]],
                 files_after: Callable[[], dict[str, bytes]]) -> Trailer:
    """Write the file atomically (mode 0600: it may hold the API tokens' hashes and sealed keys).

    ``files_after`` is called once the last entry is written: what must not be older than the chain.
    """
    temp = path.with_name(f".{path.name}.partial")
    digest = _EntryDigest()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as out:
            packer = msgpack.Packer(use_bin_type=True)
            out.write(packer.pack({"format": FORMAT, "version": VERSION, **manifest}))
            for key, value in entries:
                digest.add(key, value)
                out.write(packer.pack([key, value]))
            trailer = digest.trailer(files_after())
            out.write(packer.pack({"entries": trailer.entries, "sha256": trailer.sha256, "height": trailer.height,
                                   "block_hash": trailer.block_hash, "state_hash": trailer.state_hash,
                                   "files": trailer.files}))
            out.flush()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return trailer


class BackupReader:
    """Reads a backup file: :attr:`manifest` at once, then :meth:`entries` once, then :attr:`trailer`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: BinaryIO = gzip.open(path, "rb")  # type: ignore[assignment]
            self._unpacker = msgpack.Unpacker(self._file, raw=False, max_buffer_size=_MAX_OBJECT_BYTES)
            self.manifest = self._next("its manifest")
        except OSError as exc:
            raise BackupError("bad_backup", f"{path} cannot be read as a backup: {exc}") from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise BackupError("bad_backup", f"{path} is not a fedow-node backup")
        if self.manifest.get("version") != VERSION:
            raise BackupError("bad_backup", f"{path} is a backup of format version {self.manifest.get('version')}; "
                                            f"this fedow-node reads version {VERSION}")
        self.trailer: Trailer | None = None

    def _next(self, what: str) -> Any:
        try:
            return next(self._unpacker)
        except StopIteration:
            raise BackupError("bad_backup", f"{self.path} ends before {what}: the file is incomplete") from None
        except (ValueError, msgpack.UnpackException, OSError, EOFError) as exc:
            raise BackupError("bad_backup", f"{self.path} is damaged near {what}: {exc}") from None

    def entries(self) -> Iterator[tuple[bytes, bytes]]:
        """The store's entries; the trailer is checked after the last one (raises if it disagrees)."""
        digest = _EntryDigest()
        while True:
            item = self._next(f"the end of the chain (after {digest.count} entries)")
            if isinstance(item, dict):
                self.trailer = self._checked_trailer(item, digest)
                return
            if not (isinstance(item, list) and len(item) == 2 and all(isinstance(x, bytes) for x in item)):
                raise BackupError("bad_backup", f"{self.path}: entry {digest.count + 1} is not a [key, value] pair")
            digest.add(item[0], item[1])
            yield item[0], item[1]

    def _checked_trailer(self, item: dict[str, Any], digest: _EntryDigest) -> Trailer:
        try:
            files = {str(name): bytes(data) for name, data in item["files"].items()}
            written = Trailer(int(item["entries"]), bytes(item["sha256"]), int(item["height"]),
                              bytes(item["block_hash"]), bytes(item["state_hash"]), files)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BackupError("bad_backup", f"{self.path}: the trailer is malformed") from None
        if digest.trailer() != written:
            raise BackupError("bad_backup", f"{self.path}: the chain does not match the digest written with it "
                                            "(the file was damaged or altered)")
        return written

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> BackupReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
