"""Idempotency-Key on POS requests: a retried sale is one sale.

Plain synchronous tests running asyncio scenarios (see api_world).
"""

from __future__ import annotations

import asyncio

from api_world import World, card_uid, run_world
from fedow_node.api import create_token, tokens_path
from fedow_node.api.idempotency import RETAIN_MS, IdempotencyKeys, Remembered
from test_api_pos import assert_refused, balance
from wallet.layout import card_wallet_id

SALE = {"uid": card_uid(1).hex(), "asset": "FED", "amount": 100}


async def sale(world: World, key: str, body: dict[str, object] = SALE, token: str = "default",
               query: str = "") -> tuple[int, dict[str, object]]:
    return await world.raw("POST", "/v1/pos/sales" + query, json=body, token=token,
                           headers={"Idempotency-Key": key})


async def funded(world: World, amount: int = 1000) -> None:
    await world.register(1)
    await world.client.refill("FED", amount, uid=card_uid(1))


def test_a_retried_sale_is_one_sale(tmp_path):
    async def scenario(world: World) -> None:
        await funded(world)
        first_status, first = await sale(world, "till-3:0001")
        again_status, again = await sale(world, "till-3:0001")
        assert first_status == 202 and again_status == 200  # the retry finds it committed
        assert again["txid"] == first["txid"] and again["status"] == "committed"
        assert await balance(world, card_wallet_id(card_uid(1)), "FED") == 900
        other_status, other = await sale(world, "till-3:0002")
        assert other_status == 202 and other["txid"] != first["txid"]
        assert await balance(world, card_wallet_id(card_uid(1)), "FED") == 800
    run_world(tmp_path, scenario)


def test_same_key_for_another_request_is_a_conflict(tmp_path):
    async def scenario(world: World) -> None:
        await funded(world)
        await sale(world, "k1")
        await assert_refused(world, "POST", "/v1/pos/sales", 409, "idempotency_conflict",
                             json_body={**SALE, "amount": 101}, headers={"Idempotency-Key": "k1"})
        await assert_refused(world, "POST", "/v1/pos/sales", 400, "bad_request", json_body=SALE,
                             headers={"Idempotency-Key": "no spaces allowed"})
    run_world(tmp_path, scenario)


def test_keys_belong_to_their_token(tmp_path):
    async def scenario(world: World) -> None:
        await funded(world)
        _entry, second_till = create_token(tokens_path(world.home), "bar", 0)
        _, first = await sale(world, "k1")
        _, second = await sale(world, "k1", token=second_till)
        assert first["txid"] != second["txid"]
        assert await balance(world, card_wallet_id(card_uid(1)), "FED") == 800
    run_world(tmp_path, scenario)


def test_a_refused_request_can_be_retried_with_its_key_later(tmp_path):
    async def scenario(world: World) -> None:
        await funded(world, amount=50)
        status, body = await sale(world, "k1")
        assert (status, body["error"]) == (422, "overdraft")
        await world.client.refill("FED", 50, uid=card_uid(1))
        status, body = await sale(world, "k1", query="?wait=commit")
        assert (status, body["status"]) == (200, "committed")
        assert await balance(world, card_wallet_id(card_uid(1)), "FED") == 0
    run_world(tmp_path, scenario)


def test_concurrent_retries_share_one_transaction_and_a_drop_answers_every_retry(tmp_path):
    async def scenario(world: World) -> None:
        await funded(world, amount=150)
        world.node.auto_commit = False
        answers = await asyncio.gather(*(sale(world, "k1") for _ in range(3)))
        assert len({body["txid"] for _status, body in answers}) == 1 and len(world.node.pending) == 1
        status, rival = await sale(world, "k2")  # the same card, another sale: only one fits
        assert status == 202
        world.node.commit()
        assert await balance(world, card_wallet_id(card_uid(1)), "FED") == 50
        assert (await world.raw("GET", f"/v1/txs/{rival['txid']}"))[1]["status"] == "dropped"
        status, body = await sale(world, "k2")
        assert (status, body["error"]) == (422, "overdraft")  # the retry learns why, no new sale
        assert not world.node.pending
    run_world(tmp_path, scenario)


def test_client_retries_with_its_key(tmp_path):
    async def scenario(world: World) -> None:
        await funded(world)
        first = await world.client.sale(card_uid(1), "FED", 10, idempotency_key="pos-1")
        again = await world.client.sale(card_uid(1), "FED", 10, idempotency_key="pos-1")
        assert first == again and first.committed
        assert await balance(world, card_wallet_id(card_uid(1)), "FED") == 990
    run_world(tmp_path, scenario)


def test_remembered_keys_are_bounded():
    keys = IdempotencyKeys(capacity=2)
    for n in range(3):
        keys.remember("till", f"k{n}", b"f", bytes([n]) * 32, b"tx%d" % n)
    assert keys.recall("till", "k0", b"f") is None
    assert keys.recall("till", "k2", b"f") == Remembered(b"f", b"\2" * 32, b"tx2")
    keys.forget("till", "k2")
    assert keys.recall("till", "k2", b"f") is None


def test_keys_survive_a_restart_and_old_ones_expire(tmp_path):
    now = [1_000]
    keys = IdempotencyKeys(database=str(tmp_path / "keys.sqlite"), clock_ms=lambda: now[0])
    keys.remember("till", "k1", b"f", b"\1" * 32, b"signed")
    keys.close()  # a restart (the SIGKILL case is tests/node/test_idempotency_restart.py)
    again = IdempotencyKeys(database=str(tmp_path / "keys.sqlite"), clock_ms=lambda: now[0])
    assert again.recall("till", "k1", b"f") == Remembered(b"f", b"\1" * 32, b"signed")
    again.close()
    now[0] += RETAIN_MS + 1
    later = IdempotencyKeys(database=str(tmp_path / "keys.sqlite"), clock_ms=lambda: now[0])
    assert later.recall("till", "k1", b"f") is None
