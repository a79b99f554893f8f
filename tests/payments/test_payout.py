"""Payouts to venues: the place's FED on hold, a Stripe Connect transfer, the burn attested by the treasury.

Plain sync tests running an asyncio scenario (``payments_world.run``), see test_webhook.py.
"""

from __future__ import annotations

import pytest

from fedow_node.payments import (
    InvalidPaymentInput, LedgerRefused, LedgerUnavailable, PayoutRequest, StripeFailure, Submitted, payout_ref,
)
from payments_world import STRIPE_ERROR_MODES, STRIPE_REFUSALS, run, stripe_world

PLACE, ACCOUNT = "bar-du-coin", "acct_1BarDuCoin"


def test_payout_of_the_whole_balance() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 12_345, ACCOUNT)
            receipt = await world.bridges[0].payout(PayoutRequest("po-1", PLACE))
            (call,) = world.stripe.calls_to("/v1/transfers")
            assert call.idempotency_key == payout_ref("po-1")
            assert (call.params["amount"], call.params["currency"], call.params["destination"]) == \
                ("12345", "eur", ACCOUNT)
            assert (call.params["transfer_group"], call.params["metadata[fedow_hold]"]) == (payout_ref("po-1"),) * 2
            assert (receipt.amount_cents, receipt.ledger) == (12_345, Submitted.APPLIED)
            assert receipt.stripe_transfer_id in world.stripe.transfers
            assert world.ledger.place_fed(PLACE) == 0
            assert world.ledger.burnt == 12_345
            assert world.ledger.fed_conserved()
    run(scenario)


def test_payout_of_part_of_the_balance_and_its_idempotent_retry() -> None:
    async def scenario() -> None:
        async with stripe_world(nodes=2) as world:
            world.ledger.give_place(PLACE, 10_000, ACCOUNT)
            request = PayoutRequest("po-1", PLACE, 4_000)
            first = await world.bridges[0].payout(request)
            again = await world.bridges[1].payout(request)
            assert again.stripe_transfer_id == first.stripe_transfer_id
            assert again.ledger is Submitted.DUPLICATE_REFERENCE
            assert len(world.stripe.transfers) == 1
            assert world.ledger.place_fed(PLACE) == 6_000
    run(scenario)


def test_whole_balance_retry_after_the_burn_answers_the_first_receipt() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 500, ACCOUNT)
            first = await world.bridges[0].payout(PayoutRequest("po-1", PLACE))
            world.ledger.give_place(PLACE, 300)  # more sales since
            again = await world.bridges[0].payout(PayoutRequest("po-1", PLACE))
            assert (again.stripe_transfer_id, again.amount_cents) == (first.stripe_transfer_id, 500)
            assert again.ledger is Submitted.DUPLICATE_REFERENCE
            assert len(world.stripe.transfers) == 1
            assert world.ledger.place_fed(PLACE) == 300
    run(scenario)


@pytest.mark.parametrize(("status", "error_class"), STRIPE_ERROR_MODES)
def test_a_stripe_failure_releases_the_hold_or_keeps_it_for_the_retry(status: int,
                                                                     error_class: type[StripeFailure]) -> None:
    """Stripe refusing the transfer (402, 400) ends the request and releases the FED; Stripe down or the key
    refused (500, 401) keeps it held, and retrying the same request pays out once."""
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 10_000, ACCOUNT)
            world.stripe.fail_with = status
            with pytest.raises(error_class, match="transfer"):
                await world.bridges[0].payout(PayoutRequest("po-1", PLACE, 1_000))
            world.stripe.fail_with = None
            refused = (status, error_class) in STRIPE_REFUSALS
            assert world.ledger.holds[payout_ref("po-1")][1].state == ("released" if refused else "held")
            assert world.ledger.place_fed(PLACE) == (10_000 if refused else 9_000)
            retry = PayoutRequest("po-2" if refused else "po-1", PLACE, 1_000)  # a refused request is over
            receipt = await world.bridges[0].payout(retry)
            assert receipt.ledger is Submitted.APPLIED and len(world.stripe.transfers) == 1
            assert world.ledger.place_fed(PLACE) == 9_000 and world.ledger.burnt == 1_000
    run(scenario)


def test_payout_beyond_the_balance_or_of_nothing_never_reaches_stripe() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 1_000, ACCOUNT)
            before = world.ledger.snapshot()
            with pytest.raises(InvalidPaymentInput) as info:
                await world.bridges[0].payout(PayoutRequest("po-1", PLACE, 1_001))
            assert info.value.code == "insufficient_fed"
            with pytest.raises(InvalidPaymentInput) as info:
                await world.bridges[0].payout(PayoutRequest("po-2", "empty-place"))
            assert info.value.code == "nothing_to_pay_out"
            assert world.stripe.calls_to("/v1/transfers") == []
            assert world.ledger.snapshot() == before
    run(scenario)


def test_place_without_connect_account_is_refused_before_anything_is_held() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 1_000)
            with pytest.raises(LedgerRefused) as info:
                await world.bridges[0].payout(PayoutRequest("po-1", PLACE))
            assert info.value.code == "no_payout_account"
            assert world.stripe.calls == [] and world.ledger.holds == {}
    run(scenario)


@pytest.mark.parametrize("stripe_forgot_the_key", [False, True], ids=["within-24h", "after-24h"])
def test_treasury_outage_after_the_transfer_is_finished_by_a_retry(stripe_forgot_the_key: bool) -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 2_000, ACCOUNT)
            request = PayoutRequest("po-1", PLACE)  # the whole balance
            real_burn = world.ledger.attest_burn

            async def outage(*_: object) -> Submitted:
                raise LedgerUnavailable("treasury_unavailable", "too few treasury nodes answered (test)")
            world.ledger.attest_burn = outage  # type: ignore[method-assign]
            with pytest.raises(LedgerUnavailable):
                await world.bridges[0].payout(request)
            world.ledger.give_place(PLACE, 700)  # sales go on while the treasury catches up
            if stripe_forgot_the_key:  # the transfer is found again by its transfer_group
                world.stripe.forget_idempotency_keys()
            world.ledger.attest_burn = real_burn  # type: ignore[method-assign]
            receipt = await world.bridges[0].payout(request)
            assert (receipt.ledger, receipt.amount_cents) == (Submitted.APPLIED, 2_000)  # what was held
            assert len(world.stripe.transfers) == 1
            assert world.ledger.place_fed(PLACE) == 700
            assert world.ledger.fed_conserved()
    run(scenario)
