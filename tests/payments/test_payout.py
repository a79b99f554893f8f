"""Payouts to venues: a Stripe Connect transfer, then the bank deposit that burns the FED.

Plain sync tests running an asyncio scenario (``payments_world.run``), see test_webhook.py.
"""

from __future__ import annotations

import pytest

from fedow_node.payments import (
    InvalidPaymentInput, LedgerRefused, LedgerUnavailable, PayoutRequest,
    StripeFailure, Submitted, payout_ref,
)
from payments_world import STRIPE_ERROR_MODES, run, stripe_world

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
            assert (receipt.amount_cents, receipt.ledger) == (12_345, Submitted.APPLIED)
            assert receipt.stripe_transfer_id in world.stripe.transfers
            assert world.ledger.places[PLACE] == 0
            assert world.ledger.deposited == 12_345
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
            assert world.ledger.places[PLACE] == 6_000
    run(scenario)


def test_whole_balance_retry_after_the_deposit_answers_the_first_receipt() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 500, ACCOUNT)
            first = await world.bridges[0].payout(PayoutRequest("po-1", PLACE))
            world.ledger.give_place(PLACE, 300)  # more sales since
            again = await world.bridges[0].payout(PayoutRequest("po-1", PLACE))
            assert (again.stripe_transfer_id, again.amount_cents) == (first.stripe_transfer_id, 500)
            assert again.ledger is Submitted.DUPLICATE_REFERENCE
            assert len(world.stripe.transfers) == 1
            assert world.ledger.places[PLACE] == 300
    run(scenario)


@pytest.mark.parametrize(("status", "error_class"), STRIPE_ERROR_MODES)
def test_stripe_error_on_payout_leaves_the_ledger_untouched(status: int, error_class: type[StripeFailure]) -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 10_000, ACCOUNT)
            before = world.ledger.snapshot()
            world.stripe.fail_with = status
            with pytest.raises(error_class, match="transfer"):
                await world.bridges[0].payout(PayoutRequest("po-1", PLACE, 1_000))
            assert world.ledger.snapshot() == before
            world.stripe.fail_with = None  # the retry goes through, once
            receipt = await world.bridges[0].payout(PayoutRequest("po-1", PLACE, 1_000))
            assert receipt.ledger is Submitted.APPLIED
            assert world.ledger.places[PLACE] == 9_000
    run(scenario)


def test_payout_beyond_the_balance_or_of_nothing_never_reaches_stripe() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 1_000, ACCOUNT)
            with pytest.raises(InvalidPaymentInput) as info:
                await world.bridges[0].payout(PayoutRequest("po-1", PLACE, 1_001))
            assert info.value.code == "insufficient_fed"
            with pytest.raises(InvalidPaymentInput) as info:
                await world.bridges[0].payout(PayoutRequest("po-2", "empty-place"))
            assert info.value.code == "nothing_to_pay_out"
            assert world.stripe.calls_to("/v1/transfers") == []
    run(scenario)


def test_place_without_connect_account_is_refused_before_stripe() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 1_000)
            with pytest.raises(LedgerRefused) as info:
                await world.bridges[0].payout(PayoutRequest("po-1", PLACE))
            assert info.value.code == "no_payout_account"
            assert world.stripe.calls == []
    run(scenario)


@pytest.mark.parametrize("stripe_forgot_the_key", [False, True], ids=["within-24h", "after-24h"])
def test_ledger_outage_after_the_transfer_is_finished_by_a_retry(stripe_forgot_the_key: bool) -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.ledger.give_place(PLACE, 2_000, ACCOUNT)
            request = PayoutRequest("po-1", PLACE)  # the whole balance
            real_deposit = world.ledger.submit_bank_deposit

            async def outage(*_: object) -> Submitted:
                raise LedgerUnavailable("ledger_unavailable", "no quorum (test)")
            world.ledger.submit_bank_deposit = outage  # type: ignore[method-assign]
            with pytest.raises(LedgerUnavailable):
                await world.bridges[0].payout(request)
            world.ledger.give_place(PLACE, 700)  # sales go on while the ledger catches up
            if stripe_forgot_the_key:  # the transfer is found again by its transfer_group
                world.stripe.forget_idempotency_keys()
            world.ledger.submit_bank_deposit = real_deposit  # type: ignore[method-assign]
            receipt = await world.bridges[0].payout(request)
            assert (receipt.ledger, receipt.amount_cents) == (Submitted.APPLIED, 2_000)  # what was transferred
            assert len(world.stripe.transfers) == 1
            assert world.ledger.places[PLACE] == 700
            assert world.ledger.fed_conserved()
    run(scenario)
