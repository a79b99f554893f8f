"""Configuration from the node's [stripe] section, and secrets kept out of reprs, errors and logs.

Plain sync tests; the flows run in an asyncio scenario (``payments_world.run``).
"""

from __future__ import annotations

import logging

import pytest
import stripe
from structlog.testing import capture_logs

from config import Secret, StripeSection
from fedow_node.payments import (
    PaymentConfigError, PayoutRequest, RefillRequest, RefundRequest, StripeAuthFailed, StripeConfig,
)
from payments_world import SECRET_KEY, WALLET, WEBHOOK_SECRET, run, stripe_world

SECTION = StripeSection(secret_key=Secret(SECRET_KEY), webhook_secret=Secret(WEBHOOK_SECRET),
                        success_url="https://pos.example/ok", cancel_url="https://pos.example/cancel")


def test_config_from_the_node_section_uses_stripe_itself_by_default() -> None:
    config = StripeConfig.from_section(SECTION)
    assert (config.secret_key, config.webhook_secret, config.api_base) == (SECRET_KEY, WEBHOOK_SECRET, None)
    pointed = StripeConfig.from_section(StripeSection(**{**SECTION.__dict__, "api_base": "http://127.0.0.1:1"}))
    assert pointed.api_base == "http://127.0.0.1:1"


@pytest.mark.parametrize("missing", ["secret_key", "webhook_secret", "success_url", "cancel_url"])
def test_missing_setting_is_named_with_its_variable(missing: str) -> None:
    empty = Secret() if missing.endswith(("key", "secret")) else ""
    with pytest.raises(PaymentConfigError) as info:
        StripeConfig.from_section(StripeSection(**{**SECTION.__dict__, missing: empty}))
    assert f"stripe.{missing}" in info.value.detail
    assert f"FEDOW_STRIPE_{missing.upper()}" in info.value.detail


@pytest.mark.parametrize(("field", "value"), [
    ("secret_key", "pk_test_publishable"), ("webhook_secret", "not-a-whsec"),
    ("success_url", "ftp://x"), ("api_base", "localhost:12111"),
])
def test_bad_values_are_refused_without_echoing_secrets(field: str, value: str) -> None:
    values = {"secret_key": SECRET_KEY, "webhook_secret": WEBHOOK_SECRET,
              "success_url": "https://a/ok", "cancel_url": "https://a/no", field: value}
    with pytest.raises(PaymentConfigError) as info:
        StripeConfig(**values)
    assert f"stripe.{field}" in info.value.detail
    assert SECRET_KEY not in str(info.value) and WEBHOOK_SECRET not in str(info.value)


def test_reprs_hide_secrets() -> None:
    async def scenario() -> None:
        async with stripe_world() as world:
            bridge = world.bridges[0]
            for text in (repr(bridge), repr(StripeConfig.from_section(SECTION))):
                assert SECRET_KEY not in text and WEBHOOK_SECRET not in text
            assert world.stripe.url in repr(bridge)
    run(scenario)


def test_secrets_never_reach_the_logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe, "log", "debug")  # the SDK's own request logging, at its most verbose
    caplog.set_level(logging.DEBUG)

    async def every_flow() -> None:
        async with stripe_world() as world:
            world.ledger.give_place("bar", 5_000, "acct_1Bar")
            session = await world.paid_refill(amount=4_000)
            await world.deliver(world.stripe.event(session))
            await world.deliver(world.stripe.event(session), secret="whsec_forged")
            await world.bridges[0].refund(RefundRequest("rf-1", session["payment_intent"], WALLET, 1_000))
            await world.bridges[0].payout(PayoutRequest("po-1", "bar"))
            world.stripe.fail_with = 401
            with pytest.raises(StripeAuthFailed):
                await world.bridges[0].start_refill(RefillRequest("refill-2", WALLET, 1_000))

    with capture_logs() as events:
        run(every_flow)
    captured = capsys.readouterr()
    names = {entry["event"] for entry in events}
    assert {"refill_checkout_created", "refill_credited", "webhook_rejected", "refund_done", "payout_done",
            "stripe_call_failed"} <= names  # the capture really saw the flows
    assert any(record.name.startswith("stripe") for record in caplog.records)
    for text in (repr(events), caplog.text, captured.out, captured.err):
        assert SECRET_KEY not in text
        assert WEBHOOK_SECRET not in text
