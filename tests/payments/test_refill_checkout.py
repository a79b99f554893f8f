"""Refill checkout creation against the fake Stripe, and Stripe errors translated at the border.

Tests are plain sync functions that start their own asyncio loop (``payments_world.run``):
aiohttp and the SDK's AIOHTTPClient need asyncio, and pytest-trio (trio_mode) only takes over
``async def`` tests.
"""

from __future__ import annotations

import pytest

from fedow_node.payments import InvalidPaymentInput, RefillRequest, StripeFailure, StripeUnavailable, checkout_key
from payments_world import SECRET_KEY, STRIPE_ERROR_MODES, WALLET, run, stripe_world
from wallet.keys import encode_address


def test_checkout_session_carries_amount_wallet_and_urls_and_mints_nothing() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            link = await world.bridges[0].start_refill(RefillRequest("refill-7", WALLET, 2_500))
            assert link.refill_id == "refill-7"
            assert link.session_id in world.stripe.sessions
            assert link.url == world.stripe.sessions[link.session_id]["url"]
            (call,) = world.stripe.calls_to("/v1/checkout/sessions")
            assert call.idempotency_key == checkout_key("refill-7")
            assert call.params["mode"] == "payment"
            assert call.params["line_items[0][price_data][currency]"] == "eur"
            assert call.params["line_items[0][price_data][unit_amount]"] == "2500"
            assert call.params["metadata[fedow_wallet]"] == encode_address(WALLET)
            assert call.params["metadata[fedow_refill_id]"] == "refill-7"
            assert call.params["metadata[fedow_place]"] == "place-0"
            assert call.params["success_url"] == "https://pos.example/refill/ok"
            assert call.params["cancel_url"] == "https://pos.example/refill/cancel"
            assert world.ledger.fed_in_circulation() == 0  # minted only on the paid webhook
    run(scenario)


def test_same_refill_id_gives_the_same_session() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            first = await world.bridges[0].start_refill(RefillRequest("refill-1", WALLET, 1_000))
            again = await world.bridges[0].start_refill(RefillRequest("refill-1", WALLET, 1_000))
            assert again == first
            assert len(world.stripe.sessions) == 1
    run(scenario)


@pytest.mark.parametrize("amount", [0, 49, -5, 10**12 + 1, True])
def test_refill_amount_out_of_range_is_refused_before_stripe(amount: int) -> None:
    with pytest.raises(InvalidPaymentInput) as info:
        RefillRequest("refill-1", WALLET, amount)
    assert info.value.code == "invalid_amount"
    assert "amount_cents" in info.value.detail


@pytest.mark.parametrize("refill_id", ["", "x" * 65, "has space", "é"])
def test_refill_id_must_be_plain(refill_id: str) -> None:
    with pytest.raises(InvalidPaymentInput, match="refill_id"):
        RefillRequest(refill_id, WALLET, 1_000)


def test_refill_wallet_must_be_32_bytes() -> None:
    with pytest.raises(InvalidPaymentInput, match="target_wallet"):
        RefillRequest("refill-1", b"short", 1_000)


STRIPE_CODES = {402: "card_declined", 400: "parameter_invalid", 401: "stripe_authentication",
                500: "stripe_unavailable"}


@pytest.mark.parametrize(("status", "error_class"), STRIPE_ERROR_MODES)
def test_stripe_errors_become_payment_errors(status: int, error_class: type[StripeFailure]) -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            world.stripe.fail_with = status
            with pytest.raises(error_class) as info:
                await world.bridges[0].start_refill(RefillRequest("refill-1", WALLET, 1_000))
            assert info.value.code == STRIPE_CODES[status]
            assert info.value.http_status == status
            assert "create checkout session" in info.value.detail
            assert SECRET_KEY not in str(info.value)
            assert len(world.stripe.calls) == 1  # no SDK-side retry
    run(scenario)


def test_unreachable_stripe_is_unavailable() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            await world.stripe.stop()
            with pytest.raises(StripeUnavailable) as info:
                await world.bridges[0].start_refill(RefillRequest("refill-1", WALLET, 1_000))
            assert info.value.http_status is None
    run(scenario)
