"""POS requests signed by the node's place key: every flow, its auth, and every kind of refusal.

A refusal must answer JSON ``{error, detail}`` with the right status and
change nothing (same height, same state hash). Plain synchronous tests running
asyncio scenarios (see api_world).
"""

from __future__ import annotations

import asyncio
import json
import os
import re

import pytest

from api_solo_node import ALICE, BAR, CAFE, FLOAT
from api_world import MAX_BODY, World, card_uid, run_world
from fedow_node.api import ROUTES, create_token, revoke_token, tokens_path
from fedow_node.api.pos import ACTIONS
from fedow_node.client import ApiRefused
from wallet.bodies import SetPlacePolicy
from wallet.layout import card_wallet_id, place_wallet_id


async def balance(world: World, wallet: bytes, asset: str) -> int:
    found = [b["amount"] for b in (await world.client.wallet(wallet))["balances"] if b["asset"] == asset]
    return found[0] if found else 0


async def assert_refused(world: World, method: str, path: str, status: int, code: str, *,
                         body: bytes | None = None, json_body: object = None, token: str | None = "default",
                         headers: dict[str, str] | None = None) -> str:
    """The call answers ``status``/``code`` with a sentence, and the chain did not move."""
    before = (world.node.store.height, world.node.store.state_hash, len(world.node.pending))
    got_status, got = await world.raw(method, path, body=body, json=json_body, token=token, headers=headers)
    assert (got_status, got.get("error")) == (status, code), got
    assert set(got) == {"error", "detail"} and len(got["detail"]) > 15
    assert (world.node.store.height, world.node.store.state_hash, len(world.node.pending)) == before
    return got["detail"]


async def funded_card_then_hold_blocks(world: World) -> None:
    """Card 1 holds 1000 FED; from now on submissions stay pending until ``world.node.commit()``."""
    await world.register(1)
    await world.client.refill("FED", 1000, uid=card_uid(1))
    world.node.auto_commit = False


SALE = {"uid": card_uid(1).hex(), "asset": "FED", "amount": 100}


def test_sale_refill_refund_cycle_moves_money(tmp_path):
    async def scenario(world: World) -> None:
        client, card = world.client, card_wallet_id(card_uid(1))
        await world.register(1)
        assert (await client.refill("FED", 2000, uid=card_uid(1))).committed
        assert await balance(world, place_wallet_id("bar"), "FED") == FLOAT - 2000  # sold from its float
        sale = await client.sale(card_uid(1), "FED", 450)
        assert sale.committed and sale.position == 0
        assert await balance(world, card, "FED") == 1550
        assert await balance(world, place_wallet_id("bar"), "FED") == FLOAT - 2000 + 450
        await client.refund(card_uid(1), "FED", 550)  # the cash paid out comes back as float
        assert await balance(world, card, "FED") == 1000
        assert await balance(world, place_wallet_id("bar"), "FED") == FLOAT - 2000 + 450 + 550
        await client.refill("FED", 300, wallet=ALICE.public_key)
        assert await balance(world, ALICE.public_key, "FED") == 50_300
        await client.mint("BARCOIN", 5000)
        await client.settlement("cafe", "FED", 200)
        assert await balance(world, place_wallet_id("cafe"), "FED") == 200
        fed = (await client.validators())["fed_backing"]  # no FED created nor destroyed by any of it
        assert fed == {"attested_minted": 150_000 + FLOAT, "attested_burnt": 0}
    run_world(tmp_path, scenario)


def test_card_life_cycle_primary_lost_void(tmp_path):
    async def scenario(world: World) -> None:
        client = world.client
        await world.register(1, 2)
        await client.set_primary_card(card_uid(1))
        assert (await client.card(card_uid(1)))["primary_places"] == ["bar"]
        await client.set_primary_card(card_uid(1), primary=False)
        assert (await client.card(card_uid(1)))["primary_places"] == []
        await client.refill("FED", 900, uid=card_uid(2))
        await client.void_card(card_uid(2))
        voided = await client.card(card_uid(2))
        assert voided["state"] == "voided" and voided["paying_wallet"]["balances"] == []
        await client.lost_card(card_uid(1))
        assert (await client.card(card_uid(1)))["state"] == "lost"
        with pytest.raises(ApiRefused) as caught:
            await client.sale(card_uid(1), "FED", 1)
        assert (caught.value.status, caught.value.code) == (422, "card_lost")
    run_world(tmp_path, scenario)


def test_operator_card_is_required_by_the_place_recorded_and_shown_in_history(tmp_path):
    async def scenario(world: World) -> None:
        client = world.client
        await world.register(1, 2, 3)
        await client.refill("FED", 900, uid=card_uid(1))
        await client.set_primary_card(card_uid(3))
        assert (await client.sign_and_submit(BAR, SetPlacePolicy(True))).committed
        for call in (lambda: client.sale(card_uid(1), "FED", 100), lambda: client.refund(card_uid(1), "FED", 1),
                     lambda: client.void_card(card_uid(2))):
            with pytest.raises(ApiRefused) as caught:
                await call()
            assert (caught.value.status, caught.value.code) == (422, "operator_required")
        with pytest.raises(ApiRefused) as caught:
            await client.sale(card_uid(1), "FED", 100, operator=card_uid(2))
        assert (caught.value.status, caught.value.code) == (422, "not_operator")
        assert (await client.sale(card_uid(1), "FED", 100, operator=card_uid(3))).committed
        assert (await client.refund(card_uid(1), "FED", 50, operator=card_uid(3))).committed
        assert (await client.void_card(card_uid(2), operator=card_uid(3))).committed
        history = (await client.history(card_wallet_id(card_uid(1)))).entries
        assert [(entry["kind"], entry["body"]["operator"]) for entry in history[:2]] == \
            [("refund", card_uid(3).hex()), ("sale", card_uid(3).hex())]
    run_world(tmp_path, scenario)


def test_token_is_required_and_bound_to_the_nodes_place(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        await assert_refused(world, "POST", "/v1/pos/sales", 401, "missing_token", json_body=SALE, token=None)
        await assert_refused(world, "POST", "/v1/pos/sales", 401, "bad_token", json_body=SALE,
                             token=world.token + "x")
        await assert_refused(world, "POST", "/v1/pos/sales", 401, "bad_token", json_body=SALE,
                             headers={"Authorization": "Basic abc"}, token=None)
        _entry, cafe_token = create_token(tokens_path(world.home), "cafe", 0)
        detail = await assert_refused(world, "POST", "/v1/pos/sales", 403, "wrong_place", json_body=SALE,
                                      token=cafe_token)
        assert "cafe" in detail and "bar" in detail
    run_world(tmp_path, scenario)


def test_every_token_route_refuses_a_request_without_token_before_reading_it(tmp_path):
    async def scenario(world: World) -> None:
        token_routes = [route for route in ROUTES if route.access == "pos"]
        assert {route.path for route in token_routes} == {f"/v1/pos/{action.name}" for action in ACTIONS}
        for route in token_routes:
            await assert_refused(world, route.method, route.path, 401, "missing_token", body=b"{not json",
                                 token=None)
    run_world(tmp_path, scenario)


def test_revoked_token_stops_working_without_restart(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        entry, token = create_token(tokens_path(world.home), "bar", 0)
        await world.client.refill("FED", 200, uid=card_uid(1))
        status, _ = await world.raw("POST", "/v1/pos/sales", json=SALE, token=token)
        assert status == 202
        assert revoke_token(tokens_path(world.home), entry.id)
        await assert_refused(world, "POST", "/v1/pos/sales", 401, "bad_token", json_body=SALE, token=token)
        status, _ = await world.raw("POST", "/v1/pos/sales?wait=commit", json={**SALE, "amount": 1})
        assert status == 200  # the other token still works
    run_world(tmp_path, scenario)


def test_unsafe_token_file_is_refused(tmp_path):
    async def scenario(world: World) -> None:
        os.chmod(tokens_path(world.home), 0o644)
        detail = await assert_refused(world, "POST", "/v1/pos/sales", 503, "unavailable", json_body=SALE)
        assert "chmod 600" in detail
    run_world(tmp_path, scenario)


def test_node_without_place_key_refuses_pos_requests(tmp_path):
    async def scenario(world: World) -> None:
        await assert_refused(world, "POST", "/v1/pos/sales", 403, "no_place_key", json_body=SALE)
    run_world(tmp_path, scenario, place_key=None)


def test_node_whose_key_is_no_place_refuses_pos_requests(tmp_path):
    async def scenario(world: World) -> None:
        await assert_refused(world, "POST", "/v1/pos/sales", 403, "no_place_key", json_body=SALE)
    run_world(tmp_path, scenario, place_key=ALICE)


@pytest.mark.parametrize("body, code", [
    (b"{not json", "bad_json"),
    (b"", "bad_json"),
    (b"[1, 2]", "bad_request"),
    (json.dumps({**SALE, "amount": 1.5}).encode(), "bad_request"),
    (json.dumps({**SALE, "amount": True}).encode(), "bad_request"),
    (json.dumps({**SALE, "amount": 0}).encode(), "bad_request"),
    (json.dumps({**SALE, "amount": 10**13}).encode(), "bad_request"),
    (json.dumps({**SALE, "uid": "zz"}).encode(), "bad_request"),
    (json.dumps({**SALE, "asset": "fed"}).encode(), "bad_request"),
    (json.dumps({**SALE, "extra": 1}).encode(), "bad_request"),
    (json.dumps({"uid": SALE["uid"], "asset": "FED"}).encode(), "bad_request"),
    (b"[" * 5000 + b"]" * 5000, "bad_json"),
    (b"1" * 5000, "bad_json"),
])
def test_malformed_requests_are_400_and_change_nothing(tmp_path, body, code):
    async def scenario(world: World) -> None:
        await world.register(1)
        detail = await assert_refused(world, "POST", "/v1/pos/sales", 400, code, body=body,
                                      headers={"Content-Type": "application/json"})
        if code == "bad_request" and body.startswith(b"{"):
            assert "field" in detail or "body" in detail
    run_world(tmp_path, scenario)


def test_refill_needs_exactly_one_target(tmp_path):
    async def scenario(world: World) -> None:
        both = {"asset": "FED", "amount": 1, "uid": "00000001", "wallet": ALICE.public_key.hex()}
        detail = await assert_refused(world, "POST", "/v1/pos/refills", 400, "bad_request", json_body=both)
        assert "uid or wallet" in detail
        await assert_refused(world, "POST", "/v1/pos/refills", 400, "bad_request",
                             json_body={"asset": "FED", "amount": 1})
        await assert_refused(world, "POST", "/v1/pos/refills", 404, "unknown_card",
                             json_body={"asset": "FED", "amount": 1, "uid": "00000001"})
    run_world(tmp_path, scenario)


def test_oversize_body_is_413(tmp_path):
    async def scenario(world: World) -> None:
        body = json.dumps({**SALE, "pad": "x" * MAX_BODY}).encode()
        detail = await assert_refused(world, "POST", "/v1/pos/sales", 413, "body_too_large", body=body,
                                      headers={"Content-Type": "application/json"})
        assert str(MAX_BODY) in detail
    run_world(tmp_path, scenario)


def test_ledger_refusals_map_to_404_409_422(tmp_path):
    async def scenario(world: World) -> None:
        await assert_refused(world, "POST", "/v1/pos/sales", 404, "unknown_card", json_body=SALE)
        await world.register(1)
        await world.client.refill("FED", 100, uid=card_uid(1))
        detail = await assert_refused(world, "POST", "/v1/pos/sales", 422, "overdraft",
                                      json_body={**SALE, "amount": 101})
        assert "100" in detail
        await assert_refused(world, "POST", "/v1/pos/sales", 422, "asset_not_accepted",
                             json_body={**SALE, "asset": "CAFEPTS"})
        await assert_refused(world, "POST", "/v1/pos/sales", 404, "unknown_asset",
                             json_body={**SALE, "asset": "NOPE"})
        await assert_refused(world, "POST", "/v1/pos/cards", 409, "duplicate_card",
                             json_body={"cards": [{"uid": "00000001", "number": "00000099", "qr_id": "00" * 16}]})
        detail = await assert_refused(world, "POST", "/v1/pos/refills", 422, "insufficient_float",
                                      json_body={"asset": "FED", "amount": FLOAT, "uid": "00000001"})
        assert str(FLOAT - 100) in detail  # the float left
        await assert_refused(world, "POST", "/v1/pos/fed-refills", 404, "not_found",
                             json_body={"amount": 10, "payment_ref": "cs_once", "uid": "00000001"})
        await assert_refused(world, "POST", "/v1/pos/mints", 422, "not_origin",
                             json_body={"asset": "CAFEPTS", "amount": 10})
        await assert_refused(world, "POST", "/v1/pos/memberships", 422, "wrong_category",
                             json_body={"asset": "FED", "unit": "day", "count": 1, "uid": "00000001"})
        await assert_refused(world, "POST", "/v1/pos/primary-cards", 409, "no_change",
                             json_body={"uid": "00000001", "primary": False})
    run_world(tmp_path, scenario)


@pytest.mark.parametrize("action, body, status, code", [
    ("refunds", {"uid": "00000001", "asset": "FED", "amount": 1}, 422, "overdraft"),
    ("voids", {"uid": "00000002"}, 422, "card_voided"),
    ("lost-cards", {"uid": "00000009"}, 404, "unknown_card"),
    ("badges", {"uid": "00000001", "asset": "FED"}, 422, "wrong_category"),
    ("settlements", {"to_place": "bar", "asset": "FED", "amount": 1}, 422, "self_transfer"),
    ("settlements", {"to_place": "nowhere", "asset": "FED", "amount": 1}, 404, "unknown_place"),
    ("refills", {"asset": "CAFEPTS", "amount": 1, "uid": "00000001"}, 422, "not_origin"),
    ("memberships", {"asset": "MEMBER", "unit": "fortnight", "count": 1, "uid": "00000001"}, 400, "bad_request"),
])
def test_each_pos_action_refuses_what_the_ledger_refuses(tmp_path, action, body, status, code):
    async def scenario(world: World) -> None:
        await world.register(1, 2)
        await world.client.void_card(card_uid(2))
        await assert_refused(world, "POST", f"/v1/pos/{action}", status, code, json_body=body)
    run_world(tmp_path, scenario)


def test_wait_commit_times_out_to_202_then_status_url_follows_the_tx(tmp_path):
    async def scenario(world: World) -> None:
        await funded_card_then_hold_blocks(world)
        status, body = await world.raw("POST", "/v1/pos/sales?wait=commit&timeout_ms=50", json=SALE)
        assert status == 202 and body["status"] == "pending"
        assert body["status_url"] == f"/v1/txs/{body['txid']}"
        status, pending = await world.raw("GET", body["status_url"])
        assert (status, pending["status"]) == (200, "pending")
        status, plain = await world.raw("POST", "/v1/pos/sales", json={**SALE, "amount": 5})
        assert (status, plain["status"]) == (202, "pending")
        height = world.node.commit()
        committed = await world.client.wait_committed(body["txid"], timeout_s=5)
        assert committed.committed and committed.height == height
        assert (await world.client.tx(plain["txid"]))["position"] == 1
        for query in ("?wait=later", "?wait=commit&timeout_ms=0", "?wait=commit&timeout_ms=x",
                      "?wait=commit&timeout_ms=60001"):
            await assert_refused(world, "POST", "/v1/pos/sales" + query, 400, "bad_request", json_body=SALE)
    run_world(tmp_path, scenario)


def test_wait_commit_answers_as_soon_as_the_block_commits(tmp_path):
    async def scenario(world: World) -> None:
        await funded_card_then_hold_blocks(world)
        waiting = asyncio.create_task(world.client.sale(card_uid(1), "FED", 10, timeout_ms=10_000))
        while not world.node.pending:
            await asyncio.sleep(0.01)
        height = world.node.commit()
        sale = await waiting
        assert sale.committed and sale.height == height
    run_world(tmp_path, scenario)


def test_double_spend_by_two_terminals_one_commits_the_other_gets_its_refusal(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(2)
        await world.client.refill("FED", 100, uid=card_uid(2))
        world.node.auto_commit = False
        terminals = [asyncio.create_task(world.client.sale(card_uid(2), "FED", 80, timeout_ms=10_000))
                     for _ in range(2)]
        async with asyncio.timeout(5):
            while len(world.node.pending) < 2:  # both passed the check against committed state
                await asyncio.sleep(0.01)
        world.node.commit()
        outcomes = await asyncio.gather(*terminals, return_exceptions=True)
        [won] = [item for item in outcomes if not isinstance(item, BaseException)]
        [lost] = [item for item in outcomes if isinstance(item, ApiRefused)]
        assert won.committed and (lost.status, lost.code) == (422, "overdraft")
        assert "dropped before commit" in lost.detail
        assert (await world.client.card(card_uid(2)))["paying_wallet"]["balances"][0]["amount"] == 20
        dropped = re.search(r"transaction ([0-9a-f]{64})", lost.detail)
        assert dropped is not None and dropped.group(1) != won.txid
        status = await world.client.wait_committed(dropped.group(1), timeout_s=5)
        assert (status.status, status.error) == ("dropped", "overdraft") and "80" in (status.detail or "")
    run_world(tmp_path, scenario)


def test_full_mempool_is_503(tmp_path):
    async def scenario(world: World) -> None:
        await funded_card_then_hold_blocks(world)
        await world.client.sale(card_uid(1), "FED", 1, wait=False)
        await assert_refused(world, "POST", "/v1/pos/sales", 503, "mempool_full", json_body=SALE)
    run_world(tmp_path, scenario, max_pending=1)


def test_other_place_signing_node_serves_its_own_tokens(tmp_path):
    async def scenario(world: World) -> None:
        _entry, cafe_token = create_token(tokens_path(world.home), "cafe", 0)
        status, body = await world.raw("POST", "/v1/pos/mints?wait=commit", token=cafe_token,
                                       json={"asset": "CAFEPTS", "amount": 10})
        assert status == 200 and body["status"] == "committed"
        await assert_refused(world, "POST", "/v1/pos/mints", 403, "wrong_place",
                             json_body={"asset": "CAFEPTS", "amount": 10})  # the bar's token
    run_world(tmp_path, scenario, place_key=CAFE)
