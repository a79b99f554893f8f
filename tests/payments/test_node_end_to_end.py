"""The Stripe routes of a node end to end: HTTP API -> bridge -> fake Stripe, and the real ledger.

Money in: checkout -> paid webhook -> two of the three treasury nodes verify the session at Stripe
and co-sign the mint -> the card is credited once, across replays, a second event about the same
payment, the same webhook at two nodes sharing one chain (also concurrently), and never on a
forged or stale signature; a venue's bank transfer is minted into its float the same way. Money
out: refunds and payouts hold the FED, move money at Stripe and commit the attested burn, once
per request id; Stripe refusing them releases the hold, Stripe down keeps it for the retry.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from api_solo_node import TREASURY
from fedow_node.payments import float_metadata
from node_world import BAR_WALLET, PAYOUT_ACCOUNT, NodeWorld, card_uid, card_wallet, node_world
from payments_world import run, stale_timestamp
from wallet import layout, queries
from wallet.block import decode_block
from wallet.invariants import check_full
from wallet.records import Pointer
from wallet.state import read_one
from wallet.tx import Tx, decode_tx


def committed_tx(world: NodeWorld, reference: str) -> Tx:
    """The transaction that spent ``reference`` (a payment reference or a payout's Stripe id)."""
    pointer = read_one(world.node.store, layout.payment_ref(reference), Pointer)
    assert pointer is not None, f"{reference} is not used on the chain"
    location = world.node.store.tx_location(pointer.target)
    assert location is not None
    raw_block = world.node.store.block(location.height)
    assert raw_block is not None
    raw = decode_block(raw_block, chain_id=world.node.chain_id, max_bytes=len(raw_block)).txs[location.position]
    return decode_tx(raw, len(raw))


def assert_attested(tx: Tx) -> None:
    """Co-signed by two distinct treasury keys (the 2-of-3 threshold), nobody else."""
    treasury = {key.public_key for key in TREASURY}
    assert len(set(tx.signers)) == 2 and set(tx.signers) <= treasury, tx.signers


def test_checkout_then_webhook_credits_the_card_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path, apps=2) as world:
            minted_before = world.backing().attested_minted
            link = await world.checkout("refill-1", 2_500)
            assert link["url"].startswith(world.stripe.url) and link["session_id"].startswith("cs_")
            assert world.fed(card_wallet(1)) == 0, "nothing is minted before Stripe says paid"
            session = world.stripe.pay(link["session_id"])
            completed = world.stripe.event(session)

            assert (await world.deliver(completed))[1]["status"] == "credited"
            assert (await world.deliver(completed))[1]["status"] == "duplicate_event"         # replay, same node
            assert (await world.deliver(completed, app=1))[1]["status"] == "already_credited"  # other node
            succeeded = world.stripe.event(session, "checkout.session.async_payment_succeeded")
            assert (await world.deliver(succeeded, app=1))[1]["status"] == "already_credited"

            assert world.fed(card_wallet(1)) == 2_500
            assert world.backing().attested_minted == minted_before + 2_500
            mint = committed_tx(world, session["id"])
            assert (mint.kind, mint.body.amount, mint.body.wallet) == ("fed_mint", 2_500, card_wallet(1))
            assert_attested(mint)
            check_full(world.node.store)
    run(scenario)


def test_the_same_webhook_at_two_nodes_at_once_mints_once(tmp_path: Path) -> None:
    """Both nodes admit a refill into the mempool; the block keeps one, the other learns it is a duplicate."""
    async def scenario() -> None:
        async with node_world(tmp_path, apps=2, auto_commit=False) as world:
            link = await world.checkout("refill-2", 1_000)
            event = world.stripe.event(world.stripe.pay(link["session_id"]))
            deliveries = [asyncio.create_task(world.deliver(event, app=app)) for app in (0, 1)]
            async with asyncio.timeout(10):
                while len(world.node.pending) < 2:
                    await asyncio.sleep(0.01)
            world.node.commit()
            answers = sorted([body["status"] for _status, body in await asyncio.gather(*deliveries)])
            assert answers == ["already_credited", "credited"]
            assert world.fed(card_wallet(1)) == 1_000
            check_full(world.node.store)
    run(scenario)


def test_forged_stale_and_tampered_webhooks_change_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            link = await world.checkout("refill-3", 3_000)
            event = world.stripe.event(world.stripe.pay(link["session_id"]))
            mark = world.ledger_mark()
            forged = await world.deliver(event, secret="whsec_an_attackers_guess")
            stale = await world.deliver(event, timestamp=stale_timestamp())
            rich = {**event, "data": {"object": {**event["data"]["object"], "amount_total": 300_000}}}
            tampered = await world.deliver(rich, signed_body=json.dumps(event))
            assert [(status, body["error"]) for status, body in (forged, stale, tampered)] == [
                (400, "bad_signature"), (400, "stale_timestamp"), (400, "bad_signature")]
            assert world.ledger_mark() == mark and world.fed(card_wallet(1)) == 0
            assert (await world.deliver(event))[1]["status"] == "credited"  # the genuine one still works
            assert world.fed(card_wallet(1)) == 3_000
    run(scenario)


def test_refund_to_the_bank_card_burns_the_fed_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            session = await world.refilled_card("refill-4", 2_000)
            request = {"refund_id": "refund-1", "payment_intent": session["payment_intent"],
                       "uid": card_uid(1).hex(), "amount": 800}
            status, receipt = await world.call("/v1/stripe/refunds", request)
            assert status == 200, receipt
            assert receipt["ledger"] == "applied" and receipt["amount"] == 800
            assert receipt["stripe_refund_id"] in world.stripe.refunds
            assert world.fed(card_wallet(1)) == 1_200 and world.backing().attested_burnt == 800
            assert world.stripe.refundable(session["payment_intent"]) == 1_200
            hold = queries.hold(world.node.store, "fedow-refund-refund-1")
            assert hold is not None and (hold.state, hold.paid_by) == ("burnt", receipt["stripe_refund_id"])
            assert_attested(committed_tx(world, receipt["stripe_refund_id"]))

            status, again = await world.call("/v1/stripe/refunds", request)  # a retry of the same request
            assert (status, again["ledger"], again["stripe_refund_id"]) == (
                200, "duplicate_reference", receipt["stripe_refund_id"])
            assert len(world.stripe.refunds) == 1 and world.fed(card_wallet(1)) == 1_200
            check_full(world.node.store)
    run(scenario)


def test_payout_holds_transfers_and_burns_the_place_balance(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            await world.refilled_card("refill-5", 5_000)
            status, sale = await world.call("/v1/pos/sales?wait=commit",
                                             {"uid": card_uid(1).hex(), "asset": "FED", "amount": 3_500})
            assert status == 200, sale
            balance = world.fed(BAR_WALLET)  # its float and its sales
            status, receipt = await world.call("/v1/stripe/payouts", {"payout_id": "payout-1"})
            assert status == 200, receipt
            assert (receipt["place"], receipt["amount"], receipt["ledger"]) == ("bar", balance, "applied")
            transfer = world.stripe.transfers[receipt["stripe_transfer_id"]]
            assert (transfer["destination"], transfer["amount"]) == (PAYOUT_ACCOUNT, balance)
            assert world.fed(BAR_WALLET) == 0 and world.backing().attested_burnt == balance
            hold = queries.hold(world.node.store, "fedow-payout-payout-1")
            assert hold is not None and (hold.state, hold.paid_by) == ("burnt", receipt["stripe_transfer_id"])
            assert_attested(committed_tx(world, receipt["stripe_transfer_id"]))

            status, again = await world.call("/v1/stripe/payouts", {"payout_id": "payout-1"})
            assert (status, again["ledger"]) == (200, "duplicate_reference")
            assert len(world.stripe.transfers) == 1
            status, empty = await world.call("/v1/stripe/payouts", {"payout_id": "payout-2"})
            assert (status, empty["error"]) == (422, "nothing_to_pay_out")
            check_full(world.node.store)
    run(scenario)


def _money_out_requests(session: dict[str, object], suffix: str) -> list[tuple[str, dict[str, object]]]:
    return [("/v1/stripe/refunds", {"refund_id": f"refund-{suffix}", "payment_intent": session["payment_intent"],
                                    "uid": card_uid(1).hex(), "amount": 100}),
            ("/v1/stripe/payouts", {"payout_id": f"payout-{suffix}", "amount": 500})]


@pytest.mark.parametrize("stripe_status, api_status", [(402, 422), (400, 422), (401, 503), (500, 503)])
def test_stripe_failures_release_the_holds_or_keep_them_for_the_retry(tmp_path: Path, stripe_status: int,
                                                                      api_status: int) -> None:
    """Stripe refusing (402, 400): the holds are released, no balance changes, new requests go through.
    Stripe down or the key refused (500, 401): the FED stays held until the same requests are retried."""
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            session = await world.refilled_card("refill-6", 2_000)
            balances = world.fed(card_wallet(1)), world.fed(BAR_WALLET)
            refused = api_status == 422
            world.stripe.fail_with = stripe_status
            status, body = await world.call("/v1/stripe/checkout",
                                            {"refill_id": "refill-7", "amount": 900, "uid": card_uid(2).hex()})
            assert status == api_status and "Stripe" in body["detail"], body
            for path, payload in _money_out_requests(session, "a"):
                status, body = await world.call(path, payload)
                assert status == api_status and "Stripe" in body["detail"], (path, body)
            held = 0 if refused else 1
            assert (world.fed(card_wallet(1)), world.fed(BAR_WALLET)) == (balances[0] - 100 * held,
                                                                           balances[1] - 500 * held)
            for reference in ("fedow-refund-refund-a", "fedow-payout-payout-a"):
                hold = queries.hold(world.node.store, reference)
                assert hold is not None and hold.state == ("released" if refused else "held"), reference

            world.stripe.fail_with = None  # new requests (refused) or the same ones (down) go through, once
            for path, payload in _money_out_requests(session, "b" if refused else "a"):
                assert (await world.call(path, payload))[1]["ledger"] == "applied"
            assert world.fed(card_wallet(1)) == balances[0] - 100 and world.fed(BAR_WALLET) == balances[1] - 500
            assert len(world.stripe.refunds) == 1 and len(world.stripe.transfers) == 1
            assert world.backing().attested_burnt == 600
            check_full(world.node.store)
    run(scenario)


def test_a_venue_buys_float_by_bank_transfer(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            before = world.fed(BAR_WALLET)
            transfer = world.stripe.bank_transfer(50_000, float_metadata("bar", BAR_WALLET))
            status, receipt = await world.call("/v1/stripe/float", {"payment_intent": transfer["id"]})
            assert (status, receipt["amount"], receipt["ledger"]) == (200, 50_000, "applied"), receipt
            assert world.fed(BAR_WALLET) == before + 50_000
            assert_attested(committed_tx(world, transfer["id"]))
            status, again = await world.call("/v1/stripe/float", {"payment_intent": transfer["id"]})
            assert (status, again["ledger"]) == (200, "duplicate_reference")

            mark = world.ledger_mark()
            for metadata, code in [(float_metadata("cafe", layout.place_wallet_id("cafe")), "wrong_wallet"),
                                   ({**float_metadata("bar", BAR_WALLET), "fedow_purpose": "fed_refill"},
                                    "wrong_purpose")]:
                other = world.stripe.bank_transfer(50_000, metadata)
                status, body = await world.call("/v1/stripe/float", {"payment_intent": other["id"]})
                assert (status, body["error"]) == (422, code), body
            status, body = await world.call("/v1/stripe/float", {"payment_intent": "pi_made_up"})
            assert (status, body["error"]) == (422, "resource_missing"), body
            assert world.ledger_mark() == mark
            check_full(world.node.store)
    run(scenario)


def test_refusals_before_stripe_is_called(tmp_path: Path) -> None:
    """Overdraft, no payout account, another place's wallet, bad input: nothing sent, nothing changed."""
    async def scenario() -> None:
        async with node_world(tmp_path, payout_account=None) as world:
            session = await world.refilled_card("refill-8", 1_000)
            await world.call("/v1/pos/sales?wait=commit", {"uid": card_uid(1).hex(), "asset": "FED", "amount": 100})
            calls, mark = len(world.stripe.calls), world.ledger_mark()
            refund = {"refund_id": "refund-3", "payment_intent": session["payment_intent"], "uid": card_uid(1).hex()}
            cases = [
                ("/v1/stripe/refunds", {**refund, "amount": 901}, 422, "insufficient_fed"),
                ("/v1/stripe/refunds", {**refund, "amount": 1, "uid": card_uid(9).hex()}, 404, "unknown_card"),
                ("/v1/stripe/refunds", {**refund, "amount": 1, "payment_intent": "ch_1"}, 400, "bad_request"),
                ("/v1/stripe/payouts", {"payout_id": "payout-4"}, 422, "no_payout_account"),
                ("/v1/stripe/checkout", {"refill_id": "refill-9", "amount": 49, "uid": card_uid(1).hex()}, 400,
                 "bad_request"),
                ("/v1/stripe/checkout", {"refill_id": "has space", "amount": 100, "uid": card_uid(1).hex()}, 400,
                 "bad_request"),
            ]
            for path, payload, status, code in cases:
                answer = await world.call(path, payload)
                assert (answer[0], answer[1]["error"]) == (status, code), (path, payload, answer)
            assert len(world.stripe.calls) == calls and world.ledger_mark() == mark
    run(scenario)


def test_routes_need_the_place_token_but_the_webhook_does_not(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            for path in ("/v1/stripe/checkout", "/v1/stripe/float", "/v1/stripe/refunds", "/v1/stripe/payouts"):
                status, body = await world.call(path, {}, token=None)
                assert (status, body["error"]) == (401, "missing_token")
            status, body = await world.deliver({"id": "evt_x", "type": "customer.created", "data": {"object": {}}})
            assert (status, body["status"]) == (200, "ignored")
            assert world.stripe.calls == []
    run(scenario)
