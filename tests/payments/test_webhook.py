"""The webhook endpoint over HTTP: signature checks, replays, several nodes, ledger outages.

Plain sync tests running an asyncio scenario (``payments_world.run``): aiohttp needs asyncio,
pytest-trio's trio_mode only takes ``async def`` tests.
"""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

import stripe
from structlog.testing import capture_logs

from fedow_node.payments import MAX_WEBHOOK_BYTES, LedgerRefused, RefillRequest, StripeBridge
from payments_world import OTHER_WALLET, WALLET, WEBHOOK_SECRET, config_for, run, stale_timestamp, stripe_world
from wallet.keys import encode_address


def test_paid_session_credits_the_wallet_once() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill(amount=2_500)
            status, body = await world.deliver(world.stripe.event(session))
            assert (status, body["status"], body["session_id"]) == (200, "credited", session["id"])
            assert world.ledger.wallets[WALLET] == 2_500
            assert set(world.ledger.references) == {session["id"]}
            assert world.ledger.fed_conserved()
    run(scenario)


def test_forged_signature_is_refused_and_changes_nothing() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill()
            status, body = await world.deliver(world.stripe.event(session), secret="whsec_attacker")
            assert (status, body["error"]) == (400, "bad_signature")
            assert "Stripe-Signature" in body["detail"]
            assert world.ledger.applied == 0
    run(scenario)


def test_body_changed_after_signing_is_refused() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill(amount=1_000)
            signed = json.dumps(world.stripe.event(session))
            header = stripe.WebhookSignature.generate_signature_header(signed, WEBHOOK_SECRET)
            tampered = signed.replace('"amount_total": 1000', '"amount_total": 100000')
            assert tampered != signed
            status, body = await world.post(0, tampered.encode(), {"Stripe-Signature": header})
            assert (status, body["error"]) == (400, "bad_signature")
            status, body = await world.post(0, signed.encode(), {})
            assert (status, body["error"]) == (400, "bad_signature")  # no header at all
            assert world.ledger.applied == 0
    run(scenario)


def test_stale_timestamp_is_refused() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill()
            status, body = await world.deliver(world.stripe.event(session), timestamp=stale_timestamp())
            assert (status, body["error"]) == (400, "stale_timestamp")
            assert "300" in body["detail"]
            assert world.ledger.applied == 0
    run(scenario)


def test_malformed_payloads_are_refused_with_the_field_named() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill()
            status, body = await world.deliver({}, body="{not json")
            assert (status, body["error"]) == (400, "malformed_payload")
            status, body = await world.deliver({}, body="[1, 2]")
            assert (status, body["error"]) == (400, "malformed_payload")
            bad_wallet = dict(session, metadata=dict(session["metadata"], fedow_wallet="fedow1nope"))
            status, body = await world.deliver(world.stripe.event(bad_wallet))
            assert (status, body["error"]) == (400, "malformed_payload")
            assert "fedow_wallet" in body["detail"]
            dollars = dict(session, currency="usd")
            status, body = await world.deliver(world.stripe.event(dollars))
            assert (status, body["error"]) == (400, "malformed_payload")
            assert "currency" in body["detail"]
            assert world.ledger.applied == 0
    run(scenario)


def test_oversized_or_unsized_body_is_refused_before_reading() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            status, body = await world.post(0, b"x" * (MAX_WEBHOOK_BYTES + 1), {"Stripe-Signature": "t=1,v1=00"})
            assert (status, body["error"]) == (413, "payload_too_large")

            async def chunks() -> AsyncIterator[bytes]:
                yield b"{}"
            async with world.http.post(world.webhook_urls[0], data=chunks()) as response:  # chunked: no length
                assert (response.status, (await response.json())["error"]) == (411, "length_required")
    run(scenario)


def test_replayed_event_credits_once() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill(amount=700)
            event = world.stripe.event(session)
            first = await world.deliver(event)
            second = await world.deliver(event)
            assert first[1]["status"] == "credited"
            assert (second[0], second[1]["status"]) == (200, "duplicate_event")
            assert world.ledger.wallets[WALLET] == 700
    run(scenario)


def test_same_session_in_two_events_credits_once() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill(amount=900)
            completed = world.stripe.event(session)
            succeeded = world.stripe.event(session, "checkout.session.async_payment_succeeded")
            assert (await world.deliver(completed))[1]["status"] == "credited"
            assert (await world.deliver(succeeded))[1]["status"] == "already_credited"
            assert world.ledger.wallets[WALLET] == 900
            assert world.ledger.fed_conserved()
    run(scenario)


def test_one_event_delivered_to_two_nodes_credits_once_even_concurrently() -> None:
    async def scenario() -> None:
        async with stripe_world(nodes=2) as world:
            sequential = await world.paid_refill("refill-a", 1_100)
            event = world.stripe.event(sequential)
            statuses = [(await world.deliver(event, node))[1]["status"] for node in (0, 1)]
            assert statuses == ["credited", "already_credited"]
            concurrent = await world.paid_refill("refill-b", 300, OTHER_WALLET)
            event = world.stripe.event(concurrent)
            answers = await asyncio.gather(world.deliver(event, 0), world.deliver(event, 1))
            assert sorted(body["status"] for _, body in answers) == ["already_credited", "credited"]
            assert (world.ledger.wallets[WALLET], world.ledger.wallets[OTHER_WALLET]) == (1_100, 300)
            assert world.ledger.fed_conserved()
    run(scenario)


def test_retry_after_a_node_restart_credits_once() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill(amount=1_200)
            event = world.stripe.event(session)
            await world.deliver(event)
            # A restarted node has forgotten the event ids it handled: the ledger still knows.
            async with StripeBridge(config_for(world.stripe.url), world.ledger, "place-0") as restarted:
                outcome = await restarted.handle_event(event)
            assert outcome.status == "already_credited"
            assert world.ledger.wallets[WALLET] == 1_200
    run(scenario)


def test_unpaid_session_is_ignored_with_a_log_event() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            link = await world.bridges[0].start_refill(RefillRequest("refill-sepa", WALLET, 5_000))
            unpaid = dict(world.stripe.sessions[link.session_id], status="complete", payment_status="unpaid")
            with capture_logs() as logs:
                status, body = await world.deliver(world.stripe.event(unpaid))
            assert (status, body["status"]) == (200, "ignored")
            assert "not paid" in body["detail"]
            assert any(entry["event"] == "webhook_event_ignored" and unpaid["id"] in entry["reason"]
                       for entry in logs)
            # The delayed payment succeeds later: that event credits.
            paid = world.stripe.pay(unpaid["id"])
            status, body = await world.deliver(world.stripe.event(paid, "checkout.session.async_payment_succeeded"))
            assert (status, body["status"]) == (200, "credited")
            assert world.ledger.wallets[WALLET] == 5_000
    run(scenario)


def test_foreign_sessions_and_other_event_types_are_ignored() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill()
            foreign = dict(session, metadata={"order": "42"})
            assert (await world.deliver(world.stripe.event(foreign)))[1]["status"] == "ignored"
            other = world.stripe.event(session, "payment_intent.succeeded")
            assert (await world.deliver(other))[1]["status"] == "ignored"
            assert world.ledger.applied == 0
    run(scenario)


def test_ledger_outage_answers_503_and_the_retry_credits_once() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill(amount=400)
            event = world.stripe.event(session)
            world.ledger.available = False
            status, body = await world.deliver(event)
            assert (status, body["error"]) == (503, "ledger_unavailable")
            assert world.ledger.applied == 0
            world.ledger.available = True
            status, body = await world.deliver(event)  # Stripe retries the same event
            assert (status, body["status"]) == (200, "credited")
            assert world.ledger.wallets[WALLET] == 400
    run(scenario)


def test_credited_wallet_is_the_one_named_at_checkout() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill(amount=600, wallet=OTHER_WALLET)
            assert session["metadata"]["fedow_wallet"] == encode_address(OTHER_WALLET)
            await world.deliver(world.stripe.event(session))
            assert dict(world.ledger.wallets) == {OTHER_WALLET: 600}
    run(scenario)


def test_ledger_refusal_answers_422_and_is_logged_as_an_error() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            session = await world.paid_refill()

            async def refuse(*_: object) -> None:
                raise LedgerRefused("unknown_wallet", "wallet is frozen (test)")
            world.ledger.attest_mint = refuse  # type: ignore[method-assign]
            with capture_logs() as logs:
                status, body = await world.deliver(world.stripe.event(session))
            assert (status, body) == (422, {"error": "unknown_wallet", "detail": "wallet is frozen (test)"})
            assert any(entry["event"] == "webhook_refill_refused" and entry["log_level"] == "error"
                       for entry in logs)
    run(scenario)
