"""Fixtures of the consensus tests (helpers live in consensus_testkit.py, importable by name)."""

from __future__ import annotations

import logging
from typing import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """Simulated runs log thousands of routine events: keep errors only, restore the config afterwards."""
    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    yield
    structlog.configure(**previous)
