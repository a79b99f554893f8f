"""Test harness: a SoloNode behind the real API app on 127.0.0.1, and a client holding a bar token.

pytest runs in trio mode (setup.cfg) but aiohttp needs asyncio, so API tests
are plain synchronous test functions that call :func:`run_world`, which runs
the async scenario with ``asyncio.run`` (a fresh asyncio loop per test, no
trio involved). Every scenario is bounded by ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import json as json_module
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from api_solo_node import GENESIS_MS, SoloNode
from config import ApiSection
from fedow_node.api import build_app, create_token, start_server, tokens_path
from fedow_node.api.context import CONTEXT, ApiContext
from fedow_node.client import FedowClient, Submission

SCENARIO_TIMEOUT_S = 30
NOW_MS = GENESIS_MS + 10 * 86_400_000
"""The API's display clock in tests: ten days after genesis."""
MAX_BODY = 16 * 1024


@dataclass
class World:
    node: SoloNode
    client: FedowClient
    """Holds a token of the bar, the node's place."""
    base_url: str
    token: str
    home: Path
    app: web.Application

    @property
    def app_context(self) -> ApiContext:
        return self.app[CONTEXT]

    async def raw(self, method: str, path: str, *, body: bytes | None = None, json: Any = None,
                  token: str | None = "default", headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """An HTTP call without the client's conveniences: (status, decoded JSON body, or the text if not JSON)."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        async with aiohttp.ClientSession() as session:
            async with session.request(method, self.base_url + path, data=body, json=json,
                                       headers=all_headers) as response:
                text = await response.text()
                try:
                    return response.status, json_module.loads(text)
                except ValueError:
                    return response.status, text

    async def register(self, *numbers: int) -> Submission:
        """Cards of the bar: UID n (4 bytes), printed number n, QR id n (16 bytes)."""
        return await self.client.register_cards([(card_uid(n), f"{n:08d}", qr_id(n)) for n in numbers])


def card_uid(n: int) -> bytes:
    return n.to_bytes(4, "big")


def qr_id(n: int) -> bytes:
    return n.to_bytes(16, "big")


def run_world(tmp_path: Path, scenario: Callable[[World], Awaitable[None]], **node_options: Any) -> None:
    """Run ``scenario`` against a fresh node and API; the node is closed afterwards.

    ``api=ApiSection(...)`` replaces the API settings, ``node_class`` the :class:`SoloNode` class;
    other options go to the node.
    """
    asyncio.run(_with_world(tmp_path, scenario, node_options))


async def _with_world(tmp_path: Path, scenario: Callable[[World], Awaitable[None]],
                      node_options: dict[str, Any]) -> None:
    api = node_options.pop("api", ApiSection(max_body_bytes=MAX_BODY))
    node = node_options.pop("node_class", SoloNode)(tmp_path, **node_options)
    app = build_app(node, api, clock=lambda: NOW_MS)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    _entry, token = create_token(tokens_path(tmp_path), "bar", 0)
    base_url = str(server.make_url("")).rstrip("/")
    client = FedowClient(base_url, token)
    try:
        async with asyncio.timeout(SCENARIO_TIMEOUT_S):
            await scenario(World(node, client, base_url, token, tmp_path, app))
    finally:
        await client.close()
        await server.close()
        node.close()


class ServerThread:
    """An API server on 127.0.0.1 (free port) in a daemon thread; ``stop`` joins it."""

    def __init__(self, node: SoloNode) -> None:
        self._node = node
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        runner = await start_server(build_app(self._node, ApiSection()), "127.0.0.1:0")
        self.port = runner.addresses[0][1]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10), "the API server did not start"

    def stop(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive()
        self._loop.close()


@contextmanager
def served_node(home: Path, **node_options: Any) -> Iterator[tuple[str, SoloNode]]:
    """(API base URL, node) of a node served from its own thread: for synchronous callers (the CLI)."""
    node = SoloNode(home, **node_options)
    server = ServerThread(node)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}", node
    finally:
        server.stop()
        node.close()
