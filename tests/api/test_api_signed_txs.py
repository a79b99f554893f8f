"""Client-signed transactions through POST /v1/txs: transfers, card links, QR sales, and refusals.

Plain synchronous tests running asyncio scenarios (see api_world).
"""

from __future__ import annotations

import base64
import os

from api_solo_node import ALICE, BOB, CHAIN
from api_world import World, card_uid, qr_id, run_world
from test_api_pos import assert_refused, balance
from wallet.bodies import LinkCard, Transfer
from wallet.codec import pack
from wallet.layout import card_wallet_id, place_wallet_id
from wallet.tx import sign_tx


def alice_transfer(world: World, amount: int = 500, chain: str = CHAIN) -> bytes:
    expires_at = world.node.store.height + 10
    return sign_tx(ALICE, chain, "transfer", Transfer(BOB.public_key, "FED", amount), os.urandom(16), expires_at)


def test_signed_transfer_commits_and_its_replay_is_409(tmp_path):
    async def scenario(world: World) -> None:
        tx = alice_transfer(world)
        done = await world.client.submit(tx)
        assert done.committed and done.height == 1
        assert await balance(world, BOB.public_key, "FED") == 500
        detail = await assert_refused(world, "POST", "/v1/txs", 409, "replay", json_body={"tx": tx.hex()},
                                      token=None)
        assert done.txid in detail
        b64 = base64.b64encode(alice_transfer(world, 7)).decode()
        status, body = await world.raw("POST", "/v1/txs?wait=commit", json={"tx": b64}, token=None)
        assert (status, body["status"]) == (200, "committed")
        assert await balance(world, BOB.public_key, "FED") == 507
    run_world(tmp_path, scenario)


def test_pending_duplicate_is_409(tmp_path):
    async def scenario(world: World) -> None:
        world.node.auto_commit = False
        tx = alice_transfer(world)
        assert not (await world.client.submit(tx, wait=False)).committed
        await assert_refused(world, "POST", "/v1/txs", 409, "duplicate", json_body={"tx": tx.hex()})
    run_world(tmp_path, scenario)


def test_malformed_or_badly_signed_transactions_are_400(tmp_path):
    async def scenario(world: World) -> None:
        tx = alice_transfer(world)
        forged = tx[:-1] + bytes([tx[-1] ^ 1])
        await assert_refused(world, "POST", "/v1/txs", 400, "bad_signature", json_body={"tx": forged.hex()})
        other_chain = alice_transfer(world, chain="another-chain")
        await assert_refused(world, "POST", "/v1/txs", 400, "bad_signature", json_body={"tx": other_chain.hex()})
        await assert_refused(world, "POST", "/v1/txs", 400, "bad_request", json_body={"tx": "not hex!"})
        await assert_refused(world, "POST", "/v1/txs", 400, "bad_request", json_body={"tx": 5})
        await assert_refused(world, "POST", "/v1/txs", 400, "bad_request", json_body={})
        await assert_refused(world, "POST", "/v1/txs", 400, "bad_envelope", json_body={"tx": pack([1, 2]).hex()})
        status, body = await world.raw("POST", "/v1/txs", json={"tx": "c1"})  # msgpack 0xc1 is never valid
        assert status == 400 and body["error"]
        wrong_body = pack([1, "transfer", ALICE.public_key, b"\0" * 16, 5, [b"x", "FED", 1], b"\0" * 64])
        await assert_refused(world, "POST", "/v1/txs", 400, "bad_field", json_body={"tx": wrong_body.hex()})
    run_world(tmp_path, scenario)


def test_oversize_transaction_is_413(tmp_path):
    async def scenario(world: World) -> None:
        huge = pack([1, "transfer", ALICE.public_key, b"\0" * 16, 5, [b"x" * 5000, "FED", 1], b"\0" * 64])
        detail = await assert_refused(world, "POST", "/v1/txs", 413, "oversize", json_body={"tx": huge.hex()})
        assert "4096" in detail
    run_world(tmp_path, scenario)


def test_overdraft_and_expiry_are_422(tmp_path):
    async def scenario(world: World) -> None:
        await assert_refused(world, "POST", "/v1/txs", 422, "overdraft",
                             json_body={"tx": alice_transfer(world, 50_001).hex()})
        far = sign_tx(ALICE, CHAIN, "transfer", Transfer(BOB.public_key, "FED", 1), os.urandom(16), 10_000)
        await assert_refused(world, "POST", "/v1/txs", 422, "expiry_too_far", json_body={"tx": far.hex()})
    run_world(tmp_path, scenario)


def test_link_card_by_number_fuses_its_balance_then_qr_sale(tmp_path):
    async def scenario(world: World) -> None:
        client = world.client
        await world.register(1, 2)
        await client.refill("FED", 800, uid=card_uid(1))
        linked = await client.link_card(ALICE, "00000001")
        assert linked.committed
        card = await client.card(card_uid(1))
        assert card["owner"] == ALICE.public_key.hex()
        assert card["paying_wallet"]["wallet"] == ALICE.public_key.hex()
        assert await balance(world, ALICE.public_key, "FED") == 50_800
        assert await balance(world, card_wallet_id(card_uid(1)), "FED") == 0
        await client.link_card(BOB, qr_id(2))
        assert (await client.card(card_uid(2)))["owner"] == BOB.public_key.hex()
        paid = await client.qr_sale(ALICE, "cafe", "FED", 300)
        assert paid.committed and await balance(world, place_wallet_id("cafe"), "FED") == 300
        await client.transfer(ALICE, BOB.public_key, "FED", 100)
        assert await balance(world, BOB.public_key, "FED") == 100
        steal = sign_tx(BOB, CHAIN, "link_card", LinkCard("00000001"), os.urandom(16), world.node.store.height + 5)
        await assert_refused(world, "POST", "/v1/txs", 409, "card_owned", json_body={"tx": steal.hex()})
    run_world(tmp_path, scenario)


def test_batch_admits_each_transaction_on_its_own(tmp_path):
    async def scenario(world: World) -> None:
        world.node.auto_commit = False
        good = [alice_transfer(world, amount) for amount in (3, 4)]
        forged = good[0][:-1] + bytes([good[0][-1] ^ 1])
        status, body = await world.raw("POST", "/v1/txs/batch", json={"txs": [good[0].hex(), forged.hex(),
                                                                                good[1].hex(), good[0].hex()]})
        assert status == 200
        results = body["results"]
        assert [r.get("status") or r["error"] for r in results] == ["pending", "bad_signature", "pending",
                                                                    "duplicate"]
        assert results[0]["txid"] != results[2]["txid"]
        assert all(world.node.is_pending(bytes.fromhex(r["txid"])) for r in results if "txid" in r)
        await assert_refused(world, "POST", "/v1/txs/batch", 400, "bad_request", json_body={"txs": "x"})
    run_world(tmp_path, scenario)
