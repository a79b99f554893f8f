"""Refunds to the bank card: the FED on hold, the Stripe refund under an idempotency key, the attested burn.

Plain sync tests running an asyncio scenario (``payments_world.run``), see test_webhook.py.
"""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from fedow_node.payments import (
    InvalidPaymentInput, LedgerOutOfStep, LedgerRefused, LedgerUnavailable, RefundRequest, StripeFailure,
    StripeRequestInvalid, Submitted, refund_ref,
)
from payments_world import STRIPE_ERROR_MODES, STRIPE_REFUSALS, WALLET, World, run, stripe_world


async def funded(world: World, amount: int = 3_000) -> str:
    """Refill WALLET through a paid checkout and its webhook; the payment intent to refund."""
    session = await world.paid_refill(amount=amount)
    await world.deliver(world.stripe.event(session))
    return str(session["payment_intent"])


def test_refund_holds_pays_back_the_card_and_burns_the_fed() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            intent = await funded(world, 3_000)
            receipt = await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 1_000))
            (call,) = world.stripe.calls_to("/v1/refunds")
            assert call.idempotency_key == refund_ref("rf-1")
            assert (call.params["payment_intent"], call.params["amount"]) == (intent, "1000")
            assert call.params["metadata[fedow_hold]"] == refund_ref("rf-1")
            assert receipt.stripe_refund_id in world.stripe.refunds
            assert (receipt.amount_cents, receipt.ledger) == (1_000, Submitted.APPLIED)
            assert world.ledger.wallets[WALLET] == 2_000
            assert world.ledger.holds[refund_ref("rf-1")][1].state == "burnt"
            assert world.ledger.burnt == 1_000
            assert world.ledger.fed_conserved()
            # What Stripe holds for the federation still equals the FED in circulation.
            assert world.stripe.refundable(intent) == world.ledger.fed_in_circulation()
    run(scenario)


def test_the_fed_is_held_while_stripe_refunds_it() -> None:
    """The payout race of the old design: the FED can no longer be spent between the check and the burn."""
    async def scenario() -> None:
        async with stripe_world() as world:
            intent = await funded(world, 3_000)
            seen: list[int] = []
            real_burn = world.ledger.attest_burn

            async def burn(hold_ref: str, stripe_id: str, amount: int) -> Submitted:
                seen.append(world.ledger.wallets[WALLET])  # what a POS could still spend right now
                return await real_burn(hold_ref, stripe_id, amount)
            world.ledger.attest_burn = burn  # type: ignore[method-assign]
            await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 1_000))
            assert seen == [2_000]
    run(scenario)


def test_same_refund_request_twice_refunds_once() -> None:
    async def scenario() -> None:
        async with stripe_world(nodes=2) as world:
            intent = await funded(world, 3_000)
            request = RefundRequest("rf-1", intent, WALLET, 1_000)
            first = await world.bridges[0].refund(request)
            again = await world.bridges[1].refund(request)  # another node, or a retry
            assert again.stripe_refund_id == first.stripe_refund_id
            assert again.ledger is Submitted.DUPLICATE_REFERENCE
            assert len(world.stripe.refunds) == 1
            assert world.ledger.wallets[WALLET] == 2_000
    run(scenario)


@pytest.mark.parametrize(("status", "error_class"), STRIPE_ERROR_MODES)
def test_a_stripe_failure_releases_the_hold_or_keeps_it_for_the_retry(status: int,
                                                                     error_class: type[StripeFailure]) -> None:
    """Stripe refusing the refund (402, 400) ends the request and releases the FED; Stripe down or the key
    refused (500, 401) keeps it held, and retrying the same request refunds once."""
    async def scenario() -> None:
        async with stripe_world() as world:
            intent = await funded(world)
            world.stripe.fail_with = status
            with pytest.raises(error_class, match="refund"):
                await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 1_000))
            world.stripe.fail_with = None
            refused = (status, error_class) in STRIPE_REFUSALS
            assert world.ledger.holds[refund_ref("rf-1")][1].state == ("released" if refused else "held")
            assert world.ledger.wallets[WALLET] == (3_000 if refused else 2_000)
            if refused:
                with pytest.raises(InvalidPaymentInput) as info:  # that request is over: a new id asks again
                    await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 1_000))
                assert info.value.code == "refund_released" and world.ledger.burnt == 0
            else:
                receipt = await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 1_000))
                assert receipt.ledger is Submitted.APPLIED and world.ledger.burnt == 1_000
            assert len(world.stripe.refunds) == (0 if refused else 1) and world.ledger.fed_conserved()
    run(scenario)


def test_refund_larger_than_the_payment_is_refused_by_stripe_and_released() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            intent = await funded(world, 1_000)
            world.ledger.wallets[WALLET] += 5_000  # FED from elsewhere: the ledger alone would allow it
            with pytest.raises(StripeRequestInvalid) as info:
                await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 2_000))
            assert info.value.code == "amount_too_large"
            assert world.ledger.wallets[WALLET] == 6_000 and world.ledger.burnt == 0
    run(scenario)


def test_refund_beyond_the_wallet_balance_never_reaches_stripe() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            intent = await funded(world, 1_000)
            before = world.ledger.snapshot()
            with pytest.raises(InvalidPaymentInput) as info:
                await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 1_001))
            assert info.value.code == "insufficient_fed"
            assert "1000" in info.value.detail
            assert world.stripe.calls_to("/v1/refunds") == []
            assert world.ledger.snapshot() == before
    run(scenario)


@pytest.mark.parametrize("stripe_forgot_the_key", [False, True], ids=["within-24h", "after-24h"])
def test_treasury_outage_after_the_stripe_refund_is_finished_by_a_retry(stripe_forgot_the_key: bool) -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            intent = await funded(world, 3_000)
            request = RefundRequest("rf-1", intent, WALLET, 1_000)
            real_burn = world.ledger.attest_burn

            async def outage(*_: object) -> Submitted:
                raise LedgerUnavailable("treasury_unavailable", "too few treasury nodes answered (test)")
            world.ledger.attest_burn = outage  # type: ignore[method-assign]
            with pytest.raises(LedgerUnavailable):
                await world.bridges[0].refund(request)
            assert world.ledger.wallets[WALLET] == 2_000  # still held
            if stripe_forgot_the_key:  # the refund is found again by its metadata
                world.stripe.forget_idempotency_keys()
            world.ledger.attest_burn = real_burn  # type: ignore[method-assign]
            receipt = await world.bridges[0].refund(request)
            assert receipt.ledger is Submitted.APPLIED
            assert len(world.stripe.refunds) == 1
            assert world.ledger.wallets[WALLET] == 2_000
            assert world.stripe.refundable(intent) == world.ledger.fed_in_circulation()
    run(scenario)


def test_treasury_refusing_the_burn_is_reported_for_reconciliation() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            intent = await funded(world, 3_000)

            async def refused(*_: object) -> Submitted:
                raise LedgerRefused("payout_pending", "the refund is not succeeded yet (test)")
            world.ledger.attest_burn = refused  # type: ignore[method-assign]
            with capture_logs() as logs, pytest.raises(LedgerOutOfStep) as info:
                await world.bridges[0].refund(RefundRequest("rf-1", intent, WALLET, 1_000))
            assert info.value.code == "refund_not_recorded"
            (refund_id,) = world.stripe.refunds
            assert refund_id in info.value.detail and "payout_pending" in info.value.detail
            assert any(entry["event"] == "ledger_out_of_step" and entry["log_level"] == "error"
                       and entry["stripe_id"] == refund_id for entry in logs)
            assert world.ledger.holds[refund_ref("rf-1")][1].state == "held"  # nothing spendable meanwhile
    run(scenario)


@pytest.mark.parametrize(("field", "kwargs"), [
    ("refund_id", {"refund_id": "no spaces"}),
    ("payment_intent", {"payment_intent": "ch_123"}),
    ("wallet", {"wallet": b"\0" * 31}),
    ("amount_cents", {"amount_cents": 0}),
])
def test_malformed_refund_requests_name_the_field(field: str, kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"refund_id": "rf-1", "payment_intent": "pi_1", "wallet": WALLET,
                                 "amount_cents": 100, **kwargs}
    with pytest.raises(InvalidPaymentInput, match=field):
        RefundRequest(**fields)  # type: ignore[arg-type]
