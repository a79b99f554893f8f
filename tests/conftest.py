"""Keeps one test's logging set-up from leaking into the next.

Commands run in-process (``fedow_node.cli.main``) call ``configure_logging``,
which caches each structlog logger on first use. A cached logger keeps the
processors of that moment, so a later ``structlog.testing.capture_logs`` saw
nothing from it and the payments tests failed only after a CLI test ran
(structlog's docs: do not cache loggers in tests). Every test here runs with
caching off and ends with structlog and the root logger as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog


@pytest.fixture(autouse=True)
def _isolated_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_configure = structlog.configure

    def configure_without_cache(**settings: Any) -> None:
        real_configure(**{**settings, "cache_logger_on_first_use": False})

    monkeypatch.setattr(structlog, "configure", configure_without_cache)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    libp2p = logging.getLogger("libp2p")
    libp2p_propagate, libp2p_level = libp2p.propagate, libp2p.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)
    libp2p.propagate, libp2p.level = libp2p_propagate, libp2p_level
