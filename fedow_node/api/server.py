"""The HTTP server around the API app: aiohttp's, with the connection handling the node needs.

* the HTTP parser's refusals are answered in JSON (:func:`answers.parser_refusal`)
  instead of aiohttp's ``text/plain`` (aiohttp has no option for it: one
  overridden method of its connection protocol);
* each connection reports at once when its client hangs up (``protocol.lost``),
  so an event stream frees its slot immediately instead of at its next keep-alive;
* a connection idle for ``IDLE_TIMEOUT_S`` (no request yet, or headers still
  arriving: a slow-header client) is closed;
* at shutdown, handlers still running after ``SHUTDOWN_GRACE_S`` are cancelled
  (the app's ``on_shutdown`` ends the event streams first), so a SIGTERM stops
  the node in a few seconds whatever is connected.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import structlog
from aiohttp import web, web_protocol, web_server

from fedow_node.api.answers import parser_refusal

__all__ = ["IDLE_TIMEOUT_S", "SHUTDOWN_GRACE_S", "start_server"]

log = structlog.get_logger(__name__)

IDLE_TIMEOUT_S = 30.0
SHUTDOWN_GRACE_S = 2.0


class _NodeProtocol(web_protocol.RequestHandler):
    """aiohttp's connection protocol, answering parser refusals in JSON and reporting a lost client."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost = asyncio.Event()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.lost.set()
        super().connection_lost(exc)

    def handle_error(self, request: Any, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        return parser_refusal(status, exc, message)


class _NodeServer(web_server.Server):
    def __call__(self) -> web_protocol.RequestHandler:
        return _NodeProtocol(self, loop=self._loop, **self._kwargs)


class _NodeRunner(web.AppRunner):
    async def _make_server(self) -> web_server.Server:
        server = await super()._make_server()
        server.__class__ = _NodeServer  # same state, one overridden factory method
        return server


async def start_server(app: web.Application, bind: str, ssl_context: ssl.SSLContext | None = None, *,
                       idle_timeout_s: float = IDLE_TIMEOUT_S) -> web.AppRunner:
    """Serve ``app`` on ``host:port`` (``[v6]:port`` too; HTTPS with ``ssl_context``); ``await runner.cleanup()`` stops it."""
    host, _, port = bind.rpartition(":")
    runner = _NodeRunner(app, access_log=None, keepalive_timeout=idle_timeout_s, shutdown_timeout=SHUTDOWN_GRACE_S)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]"), int(port), ssl_context=ssl_context).start()
    log.info("api_listening", bind=bind, https=ssl_context is not None)
    return runner
