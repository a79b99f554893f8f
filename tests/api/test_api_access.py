"""Private by default: who may read what, token roles, public_reads, pairing a till, revoking from the API."""

from __future__ import annotations

import time

from api_world import NOW_MS, World, card_uid, run_world
from config import ApiSection
from fedow_node.api import ROUTES, create_token, tokens_path
from fedow_node.api.pairing import create_pairing_code, redeem_pairing_code
from fedow_node.api.tokens import TokenFile
from test_api_tokens import _cli

PRIVATE_READS = ("/v1/cards/{uid}", "/v1/wallets/{wallet}", "/v1/wallets/{wallet}/history", "/v1/txs",
                 "/v1/totals", "/v1/totals.csv", "/v1/events", "/v1/reader/status", "/v1/reader/events")
PUBLIC_READS = ("/v1/status", "/v1/blocks/{height}", "/v1/validators", "/v1/assets", "/v1/places",
                "/v1/federations", "/v1/openapi.json")


def test_every_route_declares_who_may_call_it_and_balances_are_private():
    access = {(route.method, route.path): route.access for route in ROUTES}
    for path in PRIVATE_READS:
        assert access[("GET", path)] == "read", path
    for path in PUBLIC_READS:
        assert access[("GET", path)] == "public", path
    assert {path for (method, path), level in access.items() if level == "operator"} == {
        "/v1/admin/tokens", "/v1/admin/tokens/{token_id}", "/v1/admin/pairing-codes", "/v1/admin/chain-snapshot"}
    assert access[("POST", "/v1/pairing")] == "public"  # the one-time code is the credential


def test_anonymous_visitors_see_chain_facts_but_no_balance(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        await world.client.refill("FED", 500, uid=card_uid(1))
        wallet = (await world.client.card(card_uid(1)))["paying_wallet"]["wallet"]
        for path in (f"/v1/cards/{card_uid(1).hex()}", f"/v1/wallets/{wallet}", f"/v1/wallets/{wallet}/history",
                     "/v1/txs", "/v1/totals", "/v1/totals.csv", "/v1/reader/status"):
            status, body = await world.raw("GET", path, token=None)
            assert (status, body["error"]) == (401, "missing_token"), path
            assert "token" in body["detail"]
        for path in ("/v1/status", "/v1/blocks/1", "/v1/assets", "/v1/places", "/v1/validators"):
            status, _ = await world.raw("GET", path, token=None)
            assert status == 200, path
        txid = (await world.client.block(2))["txids"][0]
        status, seen = await world.raw("GET", f"/v1/txs/{txid}", token=None)
        assert status == 200 and seen["status"] == "committed" and "tx" not in seen  # the status, not the body
        status, seen = await world.raw("GET", f"/v1/txs/{txid}")
        assert status == 200 and seen["tx"]["kind"] == "cash_refill"
        status, body = await world.raw("GET", f"/v1/txs/{txid}", token="fdw_nope")
        assert (status, body["error"]) == (401, "bad_token")
    run_world(tmp_path, scenario)


def test_read_tokens_read_but_cannot_sell_and_operators_administer(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        _entry, reader = create_token(tokens_path(world.home), "", 0, role="read", label="accountant")
        status, card = await world.raw("GET", f"/v1/cards/{card_uid(1).hex()}", token=reader)
        assert status == 200 and card["uid"] == card_uid(1).hex()
        status, body = await world.raw("POST", "/v1/pos/sales", json={"uid": card_uid(1).hex(), "asset": "FED",
                                                                       "amount": 1}, token=reader)
        assert (status, body["error"]) == (403, "wrong_role")
        status, body = await world.raw("GET", "/v1/admin/tokens", token=reader)
        assert (status, body["error"]) == (403, "wrong_role")
        _entry, operator = create_token(tokens_path(world.home), "", 0, role="operator")
        status, listed = await world.raw("GET", "/v1/admin/tokens", token=operator)
        assert status == 200
        assert {(t["role"], t["label"]) for t in listed["tokens"]} >= {("read", "accountant"), ("pos", ""),
                                                                       ("operator", "")}
        assert all("sha256" not in t and "token" not in t for t in listed["tokens"])
        status, body = await world.raw("POST", "/v1/pos/sales", json={"uid": card_uid(1).hex(), "asset": "FED",
                                                                       "amount": 1}, token=operator)
        assert (status, body["error"]) == (403, "wrong_role")  # the dashboard's token never signs sales
    run_world(tmp_path, scenario)


def test_public_reads_opens_balances_but_not_sales_nor_administration(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        status, card = await world.raw("GET", f"/v1/cards/{card_uid(1).hex()}", token=None)
        assert status == 200 and card["state"] == "active"
        status, _ = await world.raw("GET", "/v1/txs", token=None)
        assert status == 200
        status, body = await world.raw("POST", "/v1/pos/sales", json={}, token=None)
        assert (status, body["error"]) == (401, "missing_token")
        status, body = await world.raw("GET", "/v1/admin/tokens", token=None)
        assert (status, body["error"]) == (401, "missing_token")
    run_world(tmp_path, scenario, api=ApiSection(public_reads=True))


def test_a_till_pairs_once_with_a_code_and_the_operator_revokes_it(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        await world.client.refill("FED", 500, uid=card_uid(1))
        _entry, operator = create_token(tokens_path(world.home), "", 0, role="operator")
        status, made = await world.raw("POST", "/v1/admin/pairing-codes", json={"role": "pos", "label": "till 3"},
                                       token=operator)
        assert status == 201 and made["place"] == "bar" and made["expires_ms"] == NOW_MS + 600_000
        assert len(made["code"]) == 11 and made["code"][5] == "-"
        status, paired = await world.raw("POST", "/v1/pairing", json={"code": made["code"].lower()}, token=None)
        assert status == 201 and paired["role"] == "pos" and paired["label"] == "till 3"
        till = paired["token"]
        status, sold = await world.raw("POST", "/v1/pos/sales?wait=commit",
                                       json={"uid": card_uid(1).hex(), "asset": "FED", "amount": 120}, token=till)
        assert status == 200 and sold["status"] == "committed"
        status, again = await world.raw("POST", "/v1/pairing", json={"code": made["code"]}, token=None)
        assert (status, again["error"]) == (401, "bad_token")  # once only
        status, _ = await world.raw("DELETE", f"/v1/admin/tokens/{paired['id']}", token=operator)
        assert status == 200
        status, body = await world.raw("POST", "/v1/pos/sales", json={"uid": card_uid(1).hex(), "asset": "FED",
                                                                       "amount": 1}, token=till)
        assert (status, body["error"]) == (401, "bad_token")
        status, body = await world.raw("DELETE", f"/v1/admin/tokens/{paired['id']}", token=operator)
        assert (status, body["error"]) == (404, "not_found")
    run_world(tmp_path, scenario)


def test_expired_codes_fail_and_guessing_is_throttled(tmp_path):
    async def scenario(world: World) -> None:
        code, _pending = create_pairing_code(tokens_path(world.home), "bar", NOW_MS - 10, ttl_ms=5)
        status, body = await world.raw("POST", "/v1/pairing", json={"code": code}, token=None)
        assert (status, body["error"]) == (401, "bad_token")
        throttle = world.app_context.pairing
        for _ in range(throttle.limit - 1):
            status, _ = await world.raw("POST", "/v1/pairing", json={"code": "AAAAA-AAAAA"}, token=None)
            assert status == 401
        good, _pending = create_pairing_code(tokens_path(world.home), "bar", NOW_MS)
        status, body = await world.raw("POST", "/v1/pairing", json={"code": good}, token=None)
        assert (status, body["error"]) == (429, "too_many_attempts")  # even a good code waits for the minute
    run_world(tmp_path, scenario)


def test_the_pair_command_prints_a_code_a_till_can_use(tmp_path, capsys):
    assert _cli("pair", "--home", str(tmp_path), "--place", "bar", "--label", "till 9") == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]
    entry, token = redeem_pairing_code(tokens_path(tmp_path), code, time.time_ns() // 1_000_000)
    assert (entry.role, entry.place, entry.label) == ("pos", "bar", "till 9")
    assert TokenFile(tokens_path(tmp_path)).lookup(token) == entry
