"""What tills and accountants need: receipts with the new balance, dated entries, filtered listings, day totals."""

from __future__ import annotations

import asyncio
import csv
import io

import aiohttp

from api_solo_node import ALICE, BOB, SoloNode
from api_world import World, card_uid, run_world
from fedow_node.api import create_token, tokens_path
from fedow_node.client import FedowClient
from fedow_node.iso_time import iso_time
from test_api_events import subscribed
from wallet.layout import card_wallet_id

DAY = "2026-01-01"  # the solo node's block h is at GENESIS_MS + (h - 1) seconds: 2026-01-01T00:00:0x Z


def _balance(wallet: dict, asset: str) -> int:
    return next((b["amount"] for b in wallet["balances"] if b["asset"] == asset), 0)


def test_sale_refill_and_refund_answers_carry_the_new_balance(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        refill = await world.client.refill("FED", 1_000, uid=card_uid(1))
        assert refill.committed and _balance(refill.wallet, "FED") == 1_000
        sale = await world.client.sale(card_uid(1), "FED", 250)
        assert _balance(sale.wallet, "FED") == 750 and sale.wallet["wallet"] == card_wallet_id(card_uid(1)).hex()
        refund = await world.client.refund(card_uid(1), "FED", 50)
        assert _balance(refund.wallet, "FED") == 700
        pending = await world.client.sale(card_uid(1), "FED", 1, wait=False)
        assert pending.wallet is None  # no receipt before the commit
    run_world(tmp_path, scenario)


def test_history_entries_and_events_carry_the_block_time(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        events = world.client.events(card=card_uid(1).hex())
        first = await subscribed(world, events)
        await world.client.refill("FED", 300, uid=card_uid(1))
        async with asyncio.timeout(5):
            event = await first
        page = await world.client.history(card_wallet_id(card_uid(1)))
        entry = page.entries[0]
        assert entry["time_ms"] == SoloNode.block_time(entry["height"]) == event["time_ms"]
        assert entry["time"] == iso_time(entry["time_ms"]) == event["time"]
        assert entry["time"].startswith(f"{DAY}T00:00:0") and entry["place"] == "bar"
        await events.aclose()
    run_world(tmp_path, scenario)


async def _day(world: World) -> None:
    """Refills, sales and a refund at the bar, by two tills; a user transfer; cards 1-3."""
    await world.register(1, 2, 3)
    _entry, second = create_token(tokens_path(world.home), "bar", 0, label="till 2")
    other = FedowClient(world.base_url, second)
    try:
        for n in (1, 2, 3):
            await world.client.refill("FED", 2_000, uid=card_uid(n))
        await world.client.sale(card_uid(1), "FED", 300)
        await other.sale(card_uid(2), "FED", 450)
        await other.sale(card_uid(3), "FED", 50)
        await world.client.refund(card_uid(3), "FED", 100)
        await world.client.transfer(ALICE, BOB.public_key, "FED", 10)
    finally:
        await other.close()


def test_listing_filters_by_kind_asset_place_wallet_and_time_and_pages_with_a_cursor(tmp_path):
    async def scenario(world: World) -> None:
        await _day(world)
        everything = await world.client.transactions(limit=500)
        assert everything.next_cursor is None
        heights = [(e["height"], e["position"]) for e in everything.entries]
        assert heights == sorted(heights, reverse=True) and len(heights) == 9
        sales = await world.client.transactions(kind="sale")
        assert [e["body"]["amount"] for e in sales.entries] == [50, 450, 300]
        both = await world.client.transactions(kind="sale,refund")
        assert [e["kind"] for e in both.entries] == ["refund", "sale", "sale", "sale"]
        assert {e["kind"] for e in (await world.client.transactions(asset="FED")).entries} == {
            "cash_refill", "sale", "refund", "transfer"}
        bar = await world.client.transactions(place="bar", limit=500)
        assert "transfer" not in {e["kind"] for e in bar.entries} and len(bar.entries) == 8
        card2 = await world.client.transactions(wallet=card_wallet_id(card_uid(2)).hex())
        assert [e["kind"] for e in card2.entries] == ["sale", "cash_refill"]
        sale_time = sales.entries[1]["time_ms"]
        window = await world.client.transactions(from_=str(sale_time), to=iso_time(sale_time + 1))
        assert [e["txid"] for e in window.entries] == [sales.entries[1]["txid"]]
        pages, cursor = [], None
        while True:
            page = await world.client.transactions(limit=2, cursor=cursor)
            pages.append(page.entries)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert [e["txid"] for p in pages for e in p] == [e["txid"] for e in everything.entries]
        assert all(len(p) <= 2 for p in pages)
        status, body = await world.raw("GET", "/v1/txs?from=2026-01-01T00:00:00")
        assert (status, body["error"]) == (400, "bad_request") and "offset" in body["detail"]
        status, body = await world.raw("GET", "/v1/txs?cursor=zz")
        assert (status, body["error"]) == (400, "bad_cursor")
    run_world(tmp_path, scenario)


def test_day_totals_per_place_asset_kind_hour_and_till_as_json_and_csv(tmp_path):
    async def scenario(world: World) -> None:
        await _day(world)
        totals = await world.client.totals(DAY)
        rows = {(r["place"], r["asset"], r["kind"]): (r["count"], r["amount"]) for r in totals["rows"]}
        assert rows[("bar", "FED", "cash_refill")] == (3, 6_000)
        assert rows[("bar", "FED", "sale")] == (3, 800)
        assert rows[("bar", "FED", "refund")] == (1, 100)
        assert rows[("bar", "", "register_cards")] == (1, 0)
        assert all(r["place"] == "bar" for r in totals["rows"])  # the user's transfer is no venue's
        assert all(r["day"] == DAY for r in totals["rows"])
        assert {h["hour"] for h in totals["hours"]} == {"2026-01-01T00:00:00+00:00"}
        my_token = world.token.split("_")[1]
        tills = {(t["till"], t["kind"]): (t["count"], t["amount"]) for t in totals["tills"]}
        assert tills[(my_token, "sale")] == (1, 300)
        second = [t for (t, kind) in tills if kind == "sale" and t != my_token]
        assert len(second) == 1 and tills[(second[0], "sale")] == (2, 500)
        paris = await world.client.totals(DAY, tz="Europe/Paris")
        assert {h["hour"] for h in paris["hours"]} == {"2026-01-01T01:00:00+01:00"}
        assert (await world.client.totals("2025-12-31"))["rows"] == []
        assert (await world.client.totals("2025-12-31", days=2))["rows"] == totals["rows"]
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {world.token}"}) as session:
            async with session.get(f"{world.base_url}/v1/totals.csv?date={DAY}") as response:
                assert response.status == 200 and response.content_type == "text/csv"
                assert "attachment" in response.headers["Content-Disposition"]
                table = list(csv.DictReader(io.StringIO(await response.text())))
        assert [(r["day"], r["place"], r["asset"], r["kind"], int(r["count"]), int(r["amount"])) for r in table] == [
            (r["day"], r["place"], r["asset"], r["kind"], r["count"], r["amount"]) for r in totals["rows"]]
        for query in ("date=2026-13-01", "days=0", "tz=Mars/Olympus"):
            status, body = await world.raw("GET", f"/v1/totals?{query}")
            assert (status, body["error"]) == (400, "bad_request"), query
    run_world(tmp_path, scenario)


def test_a_void_counts_the_amounts_it_refunded(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        await world.client.refill("FED", 700, uid=card_uid(1))
        await world.client.refill("BARCOIN", 300, uid=card_uid(1))
        await world.client.void_card(card_uid(1))
        rows = {(r["asset"], r["kind"]): (r["count"], r["amount"]) for r in (await world.client.totals(DAY))["rows"]}
        assert rows[("FED", "void_card")] == (1, 700) and rows[("BARCOIN", "void_card")] == (1, 300)
    run_world(tmp_path, scenario)


def test_demurrage_due_soon_lists_melting_balances_soonest_first(tmp_path):
    async def scenario(world: World) -> None:
        due = (await world.client.request("GET", "/v1/demurrage/due"))[1]["due"]
        assert [(d["wallet"], d["asset"]) for d in due] == [(BOB.public_key.hex(), "MELT")]  # genesis balance
        assert due[0]["amount"] == 10_000 and due[0]["amount_after"] < 10_000
        assert due[0]["due"] == iso_time(due[0]["due_ms"])
    run_world(tmp_path, scenario)
