"""Fixtures for the hardware tests: a real pcscd with the vpcd virtual readers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pcscd_process import Pcscd, fail_if_foreign_pcscd, pcscd_slot


@pytest.fixture
def slot() -> Iterator[None]:
    """The machine's only pcscd slot, held for the whole test."""
    with pcscd_slot():
        yield


@pytest.fixture
def no_pcscd(slot: None) -> Iterator[None]:
    """No pcscd runs: fail clearly if a foreign one does."""
    fail_if_foreign_pcscd()
    yield


@pytest.fixture
def pcscd_process(slot: None, tmp_path: Path) -> Iterator[Pcscd]:
    """A pcscd we control but have not started yet; always stopped at the end of the test."""
    process = Pcscd(tmp_path)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def pcscd(pcscd_process: Pcscd) -> Pcscd:
    """A running pcscd serving two empty virtual readers."""
    pcscd_process.start()
    return pcscd_process
