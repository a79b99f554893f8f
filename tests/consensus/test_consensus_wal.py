"""Write-ahead log: what was logged comes back, a torn or corrupt tail is cut off, heights do not mix."""

from __future__ import annotations

from pathlib import Path

import pytest

from consensus import Step
from consensus.wal import FileWal, MemoryWal, Wal, WalMessage, WalTimeout, frame

ENTRIES = [WalMessage(b"\x01" * 40), WalTimeout(7, 2, Step.PREVOTE), WalMessage(b"")]


def fresh(kind: str, tmp_path: Path) -> Wal:
    return FileWal(tmp_path / "cs.wal") if kind == "file" else MemoryWal()


@pytest.mark.parametrize("kind", ["file", "memory"])
def test_entries_of_the_height_come_back(kind: str, tmp_path: Path) -> None:
    wal = fresh(kind, tmp_path)
    wal.start_height(7)
    for entry in ENTRIES:
        wal.append(entry, durable=True)
    assert wal.entries(7) == ENTRIES
    assert wal.entries(8) == []
    wal.start_height(8)
    assert wal.entries(7) == [] and wal.entries(8) == []


def test_file_wal_survives_reopening_and_tolerates_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "cs.wal"
    wal = FileWal(path)
    wal.start_height(3)
    for entry in ENTRIES:
        wal.append(entry, durable=True)
    wal.close()
    whole = path.stat().st_size
    with open(path, "ab") as handle:
        handle.write(frame(b"\x92\xa3msg\xc4\x05hello")[:9])  # crash in the middle of an append
    reopened = FileWal(path)
    assert reopened.entries(3) == ENTRIES
    assert path.stat().st_size == whole  # the torn record is cut off
    reopened.append(WalTimeout(3, 0, Step.PROPOSE), durable=False)
    assert reopened.entries(3) == [*ENTRIES, WalTimeout(3, 0, Step.PROPOSE)]


def test_corrupt_record_ends_the_log() -> None:
    wal = MemoryWal()
    wal.start_height(1)
    for entry in ENTRIES:
        wal.append(entry, durable=True)
    wal.data[-3] ^= 0xFF  # flip a byte in the last record: its CRC fails
    assert wal.entries(1) == ENTRIES[:2]
