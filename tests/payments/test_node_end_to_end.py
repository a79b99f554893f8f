"""The Stripe routes of a node end to end: HTTP API -> bridge -> fake Stripe, and the real ledger.

Money in: checkout -> paid webhook -> the card is credited once, across replays, a second event
about the same payment, the same webhook at two nodes sharing one chain (also concurrently),
and never on a forged or stale signature. Money out: refunds and payouts move money at Stripe
and commit the burn, once per request id; Stripe failures leave the ledger untouched.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from node_world import BAR_WALLET, PAYOUT_ACCOUNT, NodeWorld, card_uid, card_wallet, node_world
from payments_world import run, stale_timestamp
from wallet import layout
from wallet.invariants import check_full
from wallet.records import Pointer
from wallet.state import read_one


def refill_txs(world: NodeWorld, session_id: str) -> Pointer | None:
    return read_one(world.node.store, layout.payment_ref(session_id), Pointer)


def test_checkout_then_webhook_credits_the_card_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path, apps=2) as world:
            refilled_before = world.totals().refilled
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
            assert world.totals().refilled == refilled_before + 2_500
            pointer = refill_txs(world, session["id"])
            assert pointer is not None and world.node.store.tx_location(pointer.target) is not None
            recorded = await world.ledger.recorded(session["id"])  # the ledger's own record
            assert recorded is not None and (recorded.stripe_id, recorded.amount_cents) == (session["id"], 2_500)
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
            assert world.fed(card_wallet(1)) == 1_200 and world.totals().refunded == 800
            assert world.stripe.refundable(session["payment_intent"]) == 1_200

            status, again = await world.call("/v1/stripe/refunds", request)  # a retry of the same request
            assert (status, again["ledger"], again["stripe_refund_id"]) == (
                200, "duplicate_reference", receipt["stripe_refund_id"])
            assert len(world.stripe.refunds) == 1 and world.fed(card_wallet(1)) == 1_200
            check_full(world.node.store)
    run(scenario)


def test_payout_transfers_the_place_balance_and_records_the_deposit(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            await world.refilled_card("refill-5", 5_000)
            status, sale = await world.call("/v1/pos/sales?wait=commit",
                                             {"uid": card_uid(1).hex(), "asset": "FED", "amount": 3_500})
            assert status == 200, sale
            status, receipt = await world.call("/v1/stripe/payouts", {"payout_id": "payout-1"})
            assert status == 200, receipt
            assert (receipt["place"], receipt["amount"], receipt["ledger"]) == ("bar", 3_500, "applied")
            transfer = world.stripe.transfers[receipt["stripe_transfer_id"]]
            assert (transfer["destination"], transfer["amount"]) == (PAYOUT_ACCOUNT, 3_500)
            assert world.fed(BAR_WALLET) == 0 and world.totals().deposited == 3_500
            recorded = await world.ledger.recorded("fedow-payout-payout-1")
            assert recorded is not None and recorded.stripe_id == receipt["stripe_transfer_id"]

            status, again = await world.call("/v1/stripe/payouts", {"payout_id": "payout-1"})
            assert (status, again["ledger"]) == (200, "duplicate_reference")
            assert len(world.stripe.transfers) == 1
            status, empty = await world.call("/v1/stripe/payouts", {"payout_id": "payout-2"})
            assert (status, empty["error"]) == (422, "nothing_to_pay_out")
            check_full(world.node.store)
    run(scenario)


@pytest.mark.parametrize("stripe_status, api_status", [(402, 422), (400, 422), (401, 503), (500, 503)])
def test_stripe_failures_leave_the_ledger_untouched(tmp_path: Path, stripe_status: int, api_status: int) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            session = await world.refilled_card("refill-6", 2_000)
            await world.call("/v1/pos/sales?wait=commit", {"uid": card_uid(1).hex(), "asset": "FED", "amount": 500})
            mark = world.ledger_mark()
            world.stripe.fail_with = stripe_status
            requests = [
                ("/v1/stripe/checkout", {"refill_id": "refill-7", "amount": 900, "uid": card_uid(2).hex()}),
                ("/v1/stripe/refunds", {"refund_id": "refund-2", "payment_intent": session["payment_intent"],
                                        "uid": card_uid(1).hex(), "amount": 100}),
                ("/v1/stripe/payouts", {"payout_id": "payout-3"}),
            ]
            for path, payload in requests:
                status, body = await world.call(path, payload)
                assert status == api_status, (path, body)
                assert "Stripe" in body["detail"], body
            assert world.ledger_mark() == mark

            world.stripe.fail_with = None  # the same requests, retried, now go through once
            assert (await world.call(*requests[1]))[1]["ledger"] == "applied"
            assert (await world.call(*requests[2]))[1]["ledger"] == "applied"
            assert world.fed(card_wallet(1)) == 1_400 and world.fed(BAR_WALLET) == 0
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
            for path in ("/v1/stripe/checkout", "/v1/stripe/refunds", "/v1/stripe/payouts"):
                status, body = await world.call(path, {}, token=None)
                assert (status, body["error"]) == (401, "missing_token")
            status, body = await world.deliver({"id": "evt_x", "type": "customer.created", "data": {"object": {}}})
            assert (status, body["status"]) == (200, "ignored")
            assert world.stripe.calls == []
    run(scenario)
