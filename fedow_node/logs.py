"""structlog set-up: JSON lines in production, pretty lines on a terminal.

Standard-library loggers (libp2p, aiohttp) are routed through the same
renderer, so every line the node prints is a structlog event.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is emitted, not the stream of when it was configured.

    A stream bound at configuration time may be closed later (pytest swaps
    stderr per test; a daemon's stderr may be replaced): writing to it printed
    ``Logging error ... I/O operation on closed file``.
    """

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Configure structlog and the standard logging module once for the process."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    # JSON lines carry the traceback as text under "exception" (the console renderer draws its own).
    tracebacks: list[structlog.typing.Processor] = [] if fmt == "console" else [structlog.processors.format_exc_info]
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processors=[
        structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tracebacks, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # py-libp2p stops its logger from propagating and gives it no handler (notes/libp2p.md #11).
    logging.getLogger("libp2p").propagate = True
    for noisy in ("libp2p", "multiaddr", "asyncio"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
