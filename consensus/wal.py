"""Write-ahead log of the height in progress: what a node saw and signed, replayed after a crash.

Record framing: ``length (4 bytes BE) + crc32 (4 bytes BE) + payload``. Appends are
flushed and fsynced before the node acts on them. A crash can leave a torn last
record: reading stops at the first record whose length or checksum does not hold,
and the file is cut back to the last whole record. The log only ever holds one
height: :meth:`start_height` replaces it atomically with a fresh one.

Payloads (canonical msgpack): ``["height", h]`` first, then ``["msg", wire bytes]``,
``["timeout", h, round, step]`` and ``["work", h]`` (an idle height started because
this node had work for it).
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Union

import structlog
from wallet.codec import pack, unpack

from consensus.params import Step

log = structlog.get_logger(__name__)

_HEADER = struct.Struct(">II")
MAX_RECORD_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class WalMessage:
    wire: bytes


@dataclass(frozen=True)
class WalTimeout:
    height: int
    round: int
    step: Step


@dataclass(frozen=True)
class WalWork:
    height: int


WalEntry = Union[WalMessage, WalTimeout, WalWork]


def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def parse_frames(data: bytes) -> tuple[list[bytes], int]:
    """Whole records of ``data`` and the length they span (the rest is a torn or corrupt tail)."""
    records: list[bytes] = []
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        payload = data[start:start + length]
        if length > MAX_RECORD_BYTES or len(payload) != length or zlib.crc32(payload) != crc:
            break
        records.append(payload)
        offset = start + length
    return records, offset


def _entry_payload(entry: WalEntry) -> bytes:
    if isinstance(entry, WalMessage):
        return pack(["msg", entry.wire])
    if isinstance(entry, WalWork):
        return pack(["work", entry.height])
    return pack(["timeout", entry.height, entry.round, int(entry.step)])


def _entries_of(height: int, payloads: list[bytes]) -> list[WalEntry]:
    """Entries recorded for ``height``; empty when the log belongs to another height."""
    if not payloads or unpack(payloads[0]) != ["height", height]:
        return []
    entries: list[WalEntry] = []
    for payload in payloads[1:]:
        fields = unpack(payload)
        if fields[0] == "msg":
            entries.append(WalMessage(fields[1]))
        elif fields[0] == "work":
            entries.append(WalWork(fields[1]))
        else:
            entries.append(WalTimeout(fields[1], fields[2], Step(fields[3])))
    return entries


class Wal(Protocol):
    def entries(self, height: int) -> list[WalEntry]:
        """What was logged for ``height`` before a crash (empty if the log is of another height)."""
        ...

    def start_height(self, height: int) -> None: ...

    def append(self, entry: WalEntry, *, durable: bool) -> None:
        """Log ``entry``; ``durable`` ones (our own messages) are fsynced with everything before them.

        Peer messages and timeouts reach the OS at once (a crashed process loses
        nothing) but are not fsynced one by one, as in CometBFT: after a power cut
        they are simply received again; our own messages are what must survive.
        """
        ...


class FileWal:
    """The log on disk (one file, replaced at each height)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "ab")

    def entries(self, height: int) -> list[WalEntry]:
        data = self.path.read_bytes()
        payloads, valid = parse_frames(data)
        if valid < len(data):
            log.warning("wal_torn_tail", path=str(self.path), dropped_bytes=len(data) - valid)
            self._handle.close()
            with open(self.path, "r+b") as handle:
                handle.truncate(valid)
                os.fsync(handle.fileno())
            self._handle = open(self.path, "ab")
        return _entries_of(height, payloads)

    def start_height(self, height: int) -> None:
        temp = self.path.with_name(self.path.name + ".tmp")
        with open(temp, "wb") as handle:
            handle.write(frame(pack(["height", height])))
            handle.flush()
            os.fsync(handle.fileno())
        self._handle.close()
        os.replace(temp, self.path)
        self._handle = open(self.path, "ab")

    def append(self, entry: WalEntry, *, durable: bool) -> None:
        self._handle.write(frame(_entry_payload(entry)))
        self._handle.flush()
        if durable:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()


class MemoryWal:
    """The same framing in memory: survives simulated crashes, and tests can tear its tail."""

    def __init__(self) -> None:
        self.data = bytearray()

    def entries(self, height: int) -> list[WalEntry]:
        payloads, valid = parse_frames(bytes(self.data))
        del self.data[valid:]
        return _entries_of(height, payloads)

    def start_height(self, height: int) -> None:
        self.data = bytearray(frame(pack(["height", height])))

    def append(self, entry: WalEntry, *, durable: bool) -> None:
        self.data += frame(_entry_payload(entry))
