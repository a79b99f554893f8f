"""Fixtures of the backup tests: a sample validator home (built once) and a passphrase file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from backup_world import PASSPHRASE, Home, build_home

from config import write_atomically


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    return build_home(tmp_path_factory.mktemp("sample") / "home")


@pytest.fixture
def home(sample_home: Home, tmp_path: Path) -> Home:
    """A copy of the sample home a test may change."""
    copy = tmp_path / "home"
    shutil.copytree(sample_home.path, copy)
    return Home(copy, sample_home.sample, sample_home.place_key)


@pytest.fixture
def passphrase_file(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase"
    write_atomically(path, PASSPHRASE + "\n", mode=0o600)
    return path
