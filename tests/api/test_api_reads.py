"""Read endpoints: status, cards by UID / number / QR id, wallets, memberships, directory, blocks, txs, history.

Plain synchronous tests running asyncio scenarios (see api_world).
"""

from __future__ import annotations

import uuid

import pytest

from api_solo_node import ALICE, AUTHORITY, BAR, CHAIN, FLOAT, TREASURY, VALIDATOR
from api_world import NOW_MS, World, card_uid, qr_id, run_world
from fedow_node.client import ApiRefused
from wallet.keys import encode_address
from wallet.layout import card_wallet_id, place_wallet_id


async def refused(call) -> ApiRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiRefused) as caught:
        await call
    return caught.value


def test_status_reports_chain_tip_and_place(tmp_path):
    async def scenario(world: World) -> None:
        status = await world.client.status()
        assert (status["chain_id"], status["height"], status["block_hash"]) == (CHAIN, 0, None)
        assert status["state_hash"] == world.node.store.state_hash.hex()
        assert status["place"] == "bar" and status["place_key"] == BAR.public_key.hex()
        assert status["tx_ttl_blocks"] == 100 and status["node"]["validator"] is True
        assert status["key_sets"] == {"authority": {"threshold": 1, "keys": [AUTHORITY.public_key.hex()]},
                                      "treasury": {"threshold": 2, "keys": sorted(k.public_key.hex() for k in TREASURY)}}
        assert status["treasury"]["single_key"] is False and "2 of 3" in status["treasury"]["note"]
        await world.register(1)
        status = await world.client.status()
        assert status["height"] == 1 and status["block_hash"] == world.node.store.block_hash(1).hex()
        assert status["time_ms"] == (await world.client.block(1))["time_ms"]
    run_world(tmp_path, scenario)


def test_card_lookup_by_uid_number_and_qr_give_the_same_card(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(7)
        await world.client.refill("FED", 1500, uid=card_uid(7))
        by_uid = await world.client.card(card_uid(7))
        assert by_uid == await world.client.card_by_number("00000007")
        assert by_uid == await world.client.card_by_qr(qr_id(7))
        assert by_uid == await world.client.card_by_qr(str(uuid.UUID(bytes=qr_id(7))))
        assert by_uid["state"] == "active" and by_uid["origin_place"] == "bar" and by_uid["owner"] is None
        paying = by_uid["paying_wallet"]
        assert paying["wallet"] == card_wallet_id(card_uid(7)).hex() == by_uid["card_wallet"]
        assert paying["kind"] == "card"
        assert paying["balances"] == [{"asset": "FED", "amount": 1500, "amount_now": 1500,
                                       "last_activity_ms": (await world.client.block(2))["time_ms"]}]
    run_world(tmp_path, scenario)


def test_card_lookup_errors(tmp_path):
    async def scenario(world: World) -> None:
        assert (await refused(world.client.card(card_uid(9)))).code == "unknown_card"
        assert (await refused(world.client.card_by_number("00000009"))).status == 404
        assert (await refused(world.client.card_by_qr(qr_id(9)))).status == 404
        for path in ("/v1/cards/xyz", "/v1/cards/0102", "/v1/cards/by-number/abc", "/v1/cards/by-qr/00"):
            status, body = await world.raw("GET", path)
            assert status == 400 and body["error"] == "bad_request", path
            assert body["detail"]
        wallet = "00" * 32
        for path in ("/v1/places/%ED%A0%80", "/v1/places/Bar", "/v1/assets/fed",
                     f"/v1/wallets/{wallet}/memberships/x y", "/v1/events?place=%ff", "/v1/events?card=zz"):
            status, body = await world.raw("GET", path)
            assert status == 400 and body["error"] == "bad_request", path
        status, body = await world.raw("GET", "/v1/nowhere")
        assert (status, body["error"]) == (404, "not_found")
        status, body = await world.raw("DELETE", "/v1/status")
        assert (status, body["error"]) == (405, "method_not_allowed")
    run_world(tmp_path, scenario)


def test_wallet_by_hex_or_address_with_memberships_and_badges(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        await world.client.grant_membership("MEMBER", "month", 1, uid=card_uid(1))
        await world.client.badge(card_uid(1), "BADGE")
        await world.client.badge(card_uid(1), "BADGE")
        wallet = card_wallet_id(card_uid(1))
        by_hex = await world.client.wallet(wallet)
        assert by_hex == await world.client.wallet(encode_address(wallet))
        [member] = by_hex["memberships"]
        assert member["asset"] == "MEMBER" and member["active"] is True  # clock: 10 days after genesis
        assert member["expiry_ms"] > NOW_MS > member["start_ms"]
        assert by_hex["badges"] == [{"asset": "BADGE", "count": 2,
                                     "last_ms": (await world.client.block(4))["time_ms"]}]
        check = await world.client.membership(wallet, "MEMBER")
        assert check == member
        alice = await world.client.membership(ALICE.public_key, "MEMBER")
        assert alice["active"] is False and alice["expiry_ms"] is None
        assert (await refused(world.client.membership(wallet, "FED"))).code == "unknown_asset"
        assert (await refused(world.client.wallet("fedow1notanaddress"))).status == 400
        empty = await world.client.wallet(b"\x01" * 32)
        assert empty["kind"] is None and empty["balances"] == [] and empty["memberships"] == []
    run_world(tmp_path, scenario)


def test_directory_lists_places_assets_federations_validators(tmp_path):
    async def scenario(world: World) -> None:
        places = await world.client.places()
        assert [p["id"] for p in places] == ["bar", "cafe"]
        assert places[0]["wallet"] == place_wallet_id("bar").hex() and places[0]["federations"] == ["festival"]
        assert await world.client.place("cafe") == places[1]
        assert (await refused(world.client.place("nowhere"))).code == "unknown_place"
        assets = await world.client.assets()
        assert [a["id"] for a in assets] == ["BADGE", "BARCOIN", "CAFEPTS", "FED", "MELT", "MEMBER"]
        fed = await world.client.asset("FED")
        assert fed["category"] == "FED" and fed["supply"]["minted"] == 150_000 + FLOAT  # stake, Alice's, the float
        assert fed["pools"] == {"common": 0, "dev": 0, "validators": 0}
        assert (await refused(world.client.asset("NOPE"))).code == "unknown_asset"
        assert await world.client.federations() == [
            {"id": "festival", "name": "Festival", "places": ["bar", "cafe"], "assets": ["FED"]}]
        validators = await world.client.validators()
        [one] = validators["validators"]
        assert one["public_key"] == VALIDATOR.public_key.hex() and one["stake"] == 100_000
        assert one["power"] == 100_000 and validators["total_power"] == 100_000
        assert validators["fed_backing"] == {"attested_minted": 150_000 + FLOAT, "attested_burnt": 0}
    run_world(tmp_path, scenario)


def test_blocks_and_transactions_by_height_hash_and_txid(tmp_path):
    async def scenario(world: World) -> None:
        registered = await world.register(1, 2)
        block = await world.client.block(1)
        assert block["height"] == 1 and block["txids"] == [registered.txid] and block["chain_id"] == CHAIN
        assert block["certificate"] and block["hash"] == world.node.store.block_hash(1).hex()
        assert await world.client.block_by_hash(block["hash"]) == block
        tx = await world.client.tx(registered.txid)
        assert tx["status"] == "committed" and (tx["height"], tx["position"]) == (1, 0)
        assert tx["tx"]["kind"] == "register_cards" and tx["tx"]["signer"] == BAR.public_key.hex()
        assert tx["tx"]["body"]["cards"][1] == [card_uid(2).hex(), "00000002", qr_id(2).hex()]
        assert (await refused(world.client.block(2))).code == "unknown_block"
        assert (await refused(world.client.block_by_hash(b"\0" * 32))).status == 404
        assert (await refused(world.client.tx(b"\0" * 32))).code == "unknown_tx"
        for path in ("/v1/blocks/0", "/v1/blocks/-1", "/v1/blocks/x", "/v1/txs/abcd", "/v1/blocks/by-hash/zz"):
            status, body = await world.raw("GET", path)
            assert (status, body["error"]) == (400, "bad_request"), path
    run_world(tmp_path, scenario)


def test_history_pages_are_bounded_newest_first_and_complete(tmp_path):
    async def scenario(world: World) -> None:
        await world.register(1)
        txids = [(await world.client.refill("FED", 100 + n, uid=card_uid(1))).txid for n in range(7)]
        wallet = card_wallet_id(card_uid(1))
        first = await world.client.history(wallet, limit=3)
        assert [e["txid"] for e in first.entries] == txids[::-1][:3] and first.next_cursor
        assert first.entries[0]["kind"] == "cash_refill" and first.entries[0]["body"]["amount"] == 106
        second = await world.client.history(wallet, first.next_cursor, limit=3)
        third = await world.client.history(wallet, second.next_cursor, limit=3)
        assert [e["txid"] for e in second.entries + third.entries] == txids[::-1][3:]
        assert third.next_cursor is None
        assert [e["txid"] async for e in world.client.history_all(wallet, page_size=2)] == txids[::-1]
        base = f"/v1/wallets/{wallet.hex()}/history"
        for query in ("?limit=0", "?limit=501", "?limit=x", "?cursor=zz", "?cursor=00"):
            status, body = await world.raw("GET", base + query)
            assert status == 400 and body["error"] in ("bad_request", "bad_cursor"), query
        default = await world.client._get(base)
        assert len(default["entries"]) == 7
    run_world(tmp_path, scenario)
