"""The synchronous client against a real server started with ``start_server`` in its own thread.

The server thread runs its own asyncio loop (as the node's asyncio host would);
the test thread uses :class:`SyncFedowClient`, as a synchronous POS script would.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from api_solo_node import SoloNode
from api_world import card_uid
from config import ApiSection
from fedow_node.api import build_app, create_token, start_server, tokens_path
from fedow_node.client import ApiRefused, SyncFedowClient


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


def test_sync_client_sells_and_reads(tmp_path):
    node = SoloNode(tmp_path)
    server = ServerThread(node)
    server.start()
    try:
        _entry, token = create_token(tokens_path(tmp_path), "bar", 0)
        with SyncFedowClient(f"http://127.0.0.1:{server.port}", token) as client:
            assert client.status()["place"] == "bar"
            assert client.register_cards([(card_uid(1), "00000001", b"\1" * 16)]).committed
            client.refill("FED", 300, uid=card_uid(1))
            sale = client.sale(card_uid(1), "FED", 120)
            assert sale.committed
            card: dict[str, Any] = client.card(card_uid(1))
            assert card["paying_wallet"]["balances"][0]["amount"] == 180
            with pytest.raises(ApiRefused) as caught:
                client.sale(card_uid(1), "FED", 181)
            assert (caught.value.status, caught.value.code) == (422, "overdraft")
            with pytest.raises(AttributeError):
                client.events
    finally:
        server.stop()
        node.close()
