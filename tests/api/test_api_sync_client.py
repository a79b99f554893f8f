"""The synchronous client against a real server started with ``start_server`` in its own thread.

The server thread runs its own asyncio loop (as the node's asyncio host would);
the test thread uses :class:`SyncFedowClient`, as a synchronous POS script would.
"""

from __future__ import annotations

from typing import Any

import pytest

from api_solo_node import SoloNode
from api_world import ServerThread, card_uid
from fedow_node.api import create_token, tokens_path
from fedow_node.client import ApiRefused, SyncFedowClient


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
