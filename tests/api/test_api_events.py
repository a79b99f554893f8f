"""Server-sent events: committed transactions, filtered by wallet, card or place.

Plain synchronous tests running asyncio scenarios (see api_world); every wait
is bounded by ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import pytest

from api_solo_node import ALICE, BAR, CAFE
from api_world import World, card_uid, run_world
from fedow_node.api import events as events_module
from fedow_node.client import ApiRefused
from wallet.layout import card_wallet_id


async def subscribed(world: World, stream: AsyncIterator[dict[str, Any]]) -> asyncio.Task[dict[str, Any]]:
    """Start reading the first event; return once the node counts the subscription."""
    before = world.node.subscribers
    task = asyncio.ensure_future(anext(stream))
    async with asyncio.timeout(5):
        while world.node.subscribers == before:
            await asyncio.sleep(0.01)
    return task


def test_events_filtered_by_card_wallet_and_place(tmp_path):
    async def scenario(world: World) -> None:
        client = world.client
        await world.register(1, 2)
        await client.refill("FED", 500, uid=card_uid(1))
        await client.refill("FED", 500, uid=card_uid(2))
        by_card = client.events(card=card_uid(2))
        by_wallet = client.events(wallet=card_wallet_id(card_uid(1)))
        by_place = client.events(place="cafe")
        everything = client.events()
        firsts = [await subscribed(world, stream) for stream in (by_card, by_wallet, by_place, everything)]
        sale_1 = await client.sale(card_uid(1), "FED", 10)
        sale_2 = await client.sale(card_uid(2), "FED", 20)
        paid = await client.qr_sale(ALICE, "cafe", "FED", 30)
        async with asyncio.timeout(5):
            card_event, wallet_event, place_event, first_event = await asyncio.gather(*firsts)
            second_event = await anext(everything)
        assert card_event["txid"] == sale_2.txid and card_event["body"]["uid"] == card_uid(2).hex()
        assert wallet_event["txid"] == sale_1.txid and wallet_event["kind"] == "sale"
        assert wallet_event["signer"] == BAR.public_key.hex() and wallet_event["height"] == sale_1.height
        assert card_wallet_id(card_uid(1)).hex() in wallet_event["touched"]
        assert place_event["txid"] == paid.txid
        assert [first_event["txid"], second_event["txid"]] == [sale_1.txid, sale_2.txid]
        for stream in (by_card, by_wallet, by_place, everything):
            await stream.aclose()
        async with asyncio.timeout(5):
            while world.node.subscribers:
                await asyncio.sleep(0.01)  # closing the HTTP stream ends the node subscription
    run_world(tmp_path, scenario, place_key=BAR)


def test_event_filter_errors(tmp_path):
    async def scenario(world: World) -> None:
        for params, status, code in (({"place": "nowhere"}, 404, "unknown_place"),
                                     ({"wallet": "xyz"}, 400, "bad_request"),
                                     ({"card": "01"}, 400, "bad_request")):
            stream = world.client.events(**params)
            try:
                await anext(stream)
            except ApiRefused as exc:
                assert (exc.status, exc.code) == (status, code)
            else:
                raise AssertionError(f"{params} should be refused")
    run_world(tmp_path, scenario)


def test_keepalive_comments_keep_an_idle_stream_open(tmp_path, monkeypatch):
    monkeypatch.setattr(events_module, "KEEPALIVE_S", 0.05)

    async def scenario(world: World) -> None:
        import aiohttp
        async with aiohttp.ClientSession() as session:
            async with session.get(world.base_url + "/v1/events?place=cafe",
                                   headers={"Authorization": f"Bearer {world.token}"}) as response:
                assert response.headers["Content-Type"] == "text/event-stream"
                lines = []
                async with asyncio.timeout(5):
                    while b": keepalive\n" not in lines:
                        lines.append(await response.content.readline())
                assert lines[0] == b": connected\n"
        async with asyncio.timeout(5):
            while world.node.subscribers:
                await asyncio.sleep(0.01)  # the node noticed the client left (next keepalive write)
    run_world(tmp_path, scenario, place_key=CAFE)


def test_open_event_streams_are_bounded(tmp_path):
    async def scenario(world: World) -> None:
        slots = world.app_context.event_streams
        slots.limit = 1
        first = world.client.events()
        reading = await subscribed(world, first)
        try:
            with pytest.raises(ApiRefused) as caught:
                await anext(world.client.events())
            assert (caught.value.status, caught.value.code) == (503, "unavailable")
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)  # ends the client's stream
            await first.aclose()
        async with asyncio.timeout(5):
            while slots.open:
                await asyncio.sleep(0.01)
        status, _ = await world.raw("GET", "/v1/events?place=nowhere")
        assert status == 404  # a refused stream gives its slot back too
        assert slots.open == 0
    run_world(tmp_path, scenario)
