"""GET /v1/reader/status and /v1/reader/events over the real API app, the hub fed by hand (no pcscd).

Plain synchronous tests running asyncio scenarios (see tests/api/api_world.py);
every wait is bounded by ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, AsyncIterator

import aiohttp

from api_solo_node import BAR
from api_world import World, card_uid, run_world
from fedow_node.api import reader_routes
from fedow_node.reader import CardReaderHub, ReaderNotice, ReaderStatus
from hardware import (CardRemoved, CardTapped, CardUnreadable, ReaderAttached, ReaderConfig, ReaderDetached,
                      ReaderServiceStatus)

ATR = bytes.fromhex("3B8F8001804F0CA0000003060300030000000068")
READER = "ACS ACR122U PICC Interface 00 00"
Event = tuple[str, str | None, dict[str, Any]]


async def sse_events(response: aiohttp.ClientResponse) -> AsyncIterator[Event]:
    """(event name, id, data) of each server-sent event; comment lines are skipped."""
    name, event_id, data = "message", None, None
    async for raw in response.content:
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            name = line[len("event: "):]
        elif line.startswith("id: "):
            event_id = line[len("id: "):]
        elif line.startswith("data: "):
            data = json.loads(line[len("data: "):])
        elif line == "" and data is not None:
            yield name, event_id, data
            name, event_id, data = "message", None, None


def attach_hub(world: World) -> CardReaderHub:
    hub = CardReaderHub(ReaderConfig(enabled=True), world.node.reader)
    world.node.card_reader = hub  # type: ignore[attr-defined]  # what NodeApi exposes
    return hub


def test_a_node_without_reader_says_disabled_and_refuses_the_stream(tmp_path):
    async def scenario(world: World) -> None:
        assert await world.raw("GET", "/v1/reader/status") == (200, {
            "enabled": False, "state": "disabled", "readers": [],
            "detail": "this node watches no card reader ([reader] enabled = false)"})
        status, body = await world.raw("GET", "/v1/reader/events")
        assert status == 503 and body["error"] == "unavailable" and "[reader] enabled" in body["detail"]
    run_world(tmp_path, scenario)


def test_taps_of_known_and_unknown_cards_and_the_reader_life_cycle(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        await world.client.refill("FED", 1500, uid=card_uid(1))
        await world.client.grant_membership("MEMBER", "year", 1, uid=card_uid(1))
        hub = attach_hub(world)
        async with aiohttp.ClientSession() as session, \
                session.get(world.base_url + "/v1/reader/events", headers={"Authorization": f"Bearer {world.token}"}) as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            stream = sse_events(response)
            async with asyncio.timeout(5):
                assert await anext(stream) == ("status", None, {
                    "enabled": True, "state": "starting", "detail": hub.status.detail, "readers": []})
                while not hub.subscribers:
                    await asyncio.sleep(0.01)
            for event in (ReaderServiceStatus("ok", "connected to pcscd"), ReaderAttached(READER),
                          CardTapped(READER, card_uid(1), ATR)):
                hub.handle(event)
            status, body = await world.raw("GET", "/v1/reader/status")
            assert body == {"enabled": True, "state": "ok", "detail": "connected to pcscd",
                            "readers": [{"name": READER, "card": card_uid(1).hex()}]}
            for event in (CardRemoved(READER), CardTapped(READER, card_uid(9), ATR), CardRemoved(READER),
                          CardUnreadable(READER, ATR, "status_word", "GET DATA answered 6A81"),
                          ReaderDetached(READER), ReaderServiceStatus("pcscd_unavailable", "pcscd stopped")):
                hub.handle(event)
            async with asyncio.timeout(5):
                received = [await anext(stream) for _ in range(9)]
        names = [(name, event_id) for name, event_id, _data in received]
        assert names == [("status", "1"), ("attached", "2"), ("tap", "3"), ("removed", "4"), ("tap", "5"),
                         ("removed", "6"), ("unreadable", "7"), ("detached", "8"), ("status", "9")]
        known, unknown = received[2][2], received[4][2]
        assert known["known"] is True and known["uid"] == card_uid(1).hex() and known["reader"] == READER
        assert known["atr"] == ATR.hex()
        paying = known["card"]["paying_wallet"]
        assert [(b["asset"], b["amount"]) for b in paying["balances"]] == [("FED", 1500)]
        assert [(m["asset"], m["active"]) for m in paying["memberships"]] == [("MEMBER", True)]
        assert known["card"]["number"] == "00000001" and known["card"]["state"] == "active"
        assert unknown == {"reader": READER, "uid": card_uid(9).hex(), "atr": ATR.hex(), "known": False,
                           "card": None, "error": "unknown_card",
                           "detail": f"no card is registered with UID {card_uid(9).hex()}"}
        assert received[6][2] == {"reader": READER, "atr": ATR.hex(), "error": "status_word",
                                  "detail": "GET DATA answered 6A81"}
        assert received[8][2] == {"enabled": True, "state": "pcscd_unavailable", "detail": "pcscd stopped",
                                  "readers": []}
        async with asyncio.timeout(5):
            while hub.subscribers:
                await asyncio.sleep(0.01)  # closing the HTTP stream unsubscribes it
    run_world(tmp_path, scenario, place_key=BAR)


def test_a_backlog_that_overflows_ends_the_stream_instead_of_growing() -> None:
    backlog = reader_routes._Backlog()
    notice = ReaderNotice(1, ReaderAttached(READER), ReaderStatus("ok", ""))
    for _ in range(reader_routes.MAX_BACKLOG + 10):
        backlog(notice)
    queued = [backlog.queue.get_nowait() for _ in range(backlog.queue.qsize())]
    assert queued == [notice] * reader_routes.MAX_BACKLOG + [None]


def test_the_reader_routes_are_in_the_openapi_document(tmp_path):
    async def scenario(world: World) -> None:
        _status, document = await world.raw("GET", "/v1/openapi.json", token=None)
        status_op = document["paths"]["/v1/reader/status"]["get"]
        assert status_op["responses"]["200"]["content"]["application/json"]["schema"] == reader_routes.STATUS_SCHEMA
        events_op = document["paths"]["/v1/reader/events"]["get"]
        assert "text/event-stream" in events_op["responses"]["200"]["content"]
        assert "503" in events_op["responses"]
    run_world(tmp_path, scenario)
