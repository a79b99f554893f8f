"""The Stripe bridge: card refills minted on verified webhooks, refunds, payouts to venues.

Ordering rule for money going out (refunds, payouts): read-only ledger checks first (is this
request already recorded? is the balance there?), then Stripe (an earlier attempt's object
found by its metadata, else created under an idempotency key derived from our request id),
then the ledger transaction under a reference derived from the same id. A Stripe failure
therefore leaves the ledger untouched, and a failure after Stripe succeeded is finished by
retrying the same request: Stripe's object is found again and the ledger either applies or
reports the reference as already used. See docs/stripe.md for the full reasoning.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import structlog

from fedow_node.payments._config import StripeConfig
from fedow_node.payments._errors import InvalidPaymentInput, LedgerOutOfStep, LedgerRefused, StripeFailure
from fedow_node.payments._events import (
    PLACE_KEY, PURPOSE_KEY, REFILL_ID_KEY, REFILL_PURPOSE, WALLET_KEY, IgnoredEvent, read_event,
)
from fedow_node.payments._ledger import LedgerGateway, Submitted
from fedow_node.payments._recent import RecentIds
from fedow_node.payments._requests import (
    CheckoutLink, PayoutReceipt, PayoutRequest, RefillRequest, RefundReceipt, RefundRequest, WebhookOutcome,
)
from fedow_node.payments._stripe_api import StripeApi
from wallet.keys import encode_address

log = structlog.get_logger(__name__)

REFUND_ID_KEY, PAYOUT_ID_KEY = "fedow_refund_id", "fedow_payout_id"
"""Metadata naming our request on Stripe refunds and transfers (found again after a lost answer)."""

RECENT_EVENTS = 10_000
"""Webhook event ids remembered per node (Stripe retries one event for up to three days)."""


def refund_ref(refund_id: str) -> str:
    """Ledger reference (and Stripe idempotency key) of a refund request."""
    return f"fedow-refund-{refund_id}"


def payout_ref(payout_id: str) -> str:
    """Ledger reference (and Stripe idempotency key) of a payout request."""
    return f"fedow-payout-{payout_id}"


def checkout_key(refill_id: str) -> str:
    """Stripe idempotency key of a refill's Checkout Session: one session per refill id."""
    return f"fedow-refill-{refill_id}"


class StripeBridge:
    """Turns Stripe payments into ledger transactions, exactly once. Use ``async with`` or ``aclose``."""

    def __init__(self, config: StripeConfig, gateway: LedgerGateway, place_id: str,
                 recent_events: int = RECENT_EVENTS) -> None:
        self._config = config
        self._gateway = gateway
        self._place_id = place_id
        self._stripe = StripeApi(config)
        self._handled_events = RecentIds(recent_events)

    def __repr__(self) -> str:
        return f"StripeBridge(place_id={self._place_id!r}, stripe={self._stripe!r})"

    async def __aenter__(self) -> StripeBridge:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._stripe.aclose()

    # -- refills ---------------------------------------------------------------------------

    async def start_refill(self, request: RefillRequest) -> CheckoutLink:
        """Open a Checkout Session for a FED top-up; nothing is minted until the paid webhook."""
        metadata = {
            PURPOSE_KEY: REFILL_PURPOSE,
            REFILL_ID_KEY: request.refill_id,
            WALLET_KEY: encode_address(request.target_wallet),
            PLACE_KEY: self._place_id,
        }
        session = await self._stripe.create_checkout_session({
            "mode": "payment",
            "client_reference_id": request.refill_id,
            "line_items": [{"quantity": 1, "price_data": {
                "currency": "eur", "unit_amount": request.amount_cents,
                "product_data": {"name": "FED refill (federated euro)"}}}],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": self._config.success_url,
            "cancel_url": self._config.cancel_url,
        }, checkout_key(request.refill_id))
        link = CheckoutLink(request.refill_id, _stripe_id(session, "checkout session"), str(session.get("url")))
        log.info("refill_checkout_created", refill_id=link.refill_id, session_id=link.session_id,
                 amount_cents=request.amount_cents, wallet=metadata[WALLET_KEY])
        return link

    def verified_event(self, raw_body: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event in a webhook body once its signature and timestamp check out."""
        return self._stripe.verified_event(raw_body, signature_header, self._config.webhook_secret)

    async def handle_event(self, event: dict[str, Any]) -> WebhookOutcome:
        """Credit a paid refill once; the ledger refuses a second use of the session id network-wide."""
        reading = read_event(event)
        if reading.event_id in self._handled_events:
            log.info("webhook_duplicate_event", event_id=reading.event_id)
            return WebhookOutcome("duplicate_event", reading.event_id, detail="event already handled here")
        if isinstance(reading, IgnoredEvent):
            log.info("webhook_event_ignored", event_id=reading.event_id, reason=reading.reason)
            self._handled_events.add(reading.event_id)
            return WebhookOutcome("ignored", reading.event_id, detail=reading.reason)
        submitted = await self._gateway.submit_fed_refill(
            reading.target_wallet, reading.amount_cents, reading.session_id)
        status = "credited" if submitted is Submitted.APPLIED else "already_credited"
        log.info("refill_" + status, event_id=reading.event_id, session_id=reading.session_id,
                 refill_id=reading.refill_id, amount_cents=reading.amount_cents,
                 wallet=encode_address(reading.target_wallet))
        self._handled_events.add(reading.event_id)
        return WebhookOutcome(status, reading.event_id, reading.session_id)

    # -- refunds ---------------------------------------------------------------------------

    async def refund(self, request: RefundRequest) -> RefundReceipt:
        """Refund to the bank card, then burn the FED; retry the same request after any failure."""
        ref = refund_ref(request.refund_id)
        recorded = await self._gateway.recorded(ref)
        if recorded is not None:
            return RefundReceipt(request.refund_id, recorded.stripe_id, recorded.amount_cents,
                                 Submitted.DUPLICATE_REFERENCE)
        balance = await self._gateway.wallet_fed_balance(request.wallet)
        if balance < request.amount_cents:
            raise InvalidPaymentInput(
                "insufficient_fed", f"wallet {encode_address(request.wallet)} holds {balance} FED cents, "
                                    f"refund asks {request.amount_cents}")
        refund = await self._stripe.find_refund(request.payment_intent, REFUND_ID_KEY, request.refund_id) \
            or await self._stripe.create_refund({
                "payment_intent": request.payment_intent,
                "amount": request.amount_cents,
                "metadata": {REFUND_ID_KEY: request.refund_id, WALLET_KEY: encode_address(request.wallet)},
            }, ref)
        stripe_refund_id, amount, submitted = await _record_on_ledger(
            "refund", request.refund_id, refund,
            lambda amount, stripe_id: self._gateway.submit_fed_refund(request.wallet, amount, ref, stripe_id))
        return RefundReceipt(request.refund_id, stripe_refund_id, amount, submitted)

    # -- payouts ---------------------------------------------------------------------------

    async def payout(self, request: PayoutRequest) -> PayoutReceipt:
        """Transfer a place's FED to its Connect account, then burn it with a bank deposit."""
        ref = payout_ref(request.payout_id)
        recorded = await self._gateway.recorded(ref)
        if recorded is not None:
            return PayoutReceipt(request.payout_id, request.place_id, recorded.stripe_id, recorded.amount_cents,
                                 Submitted.DUPLICATE_REFERENCE)
        balance = await self._gateway.place_fed_balance(request.place_id)
        amount = balance if request.amount_cents is None else request.amount_cents
        if amount <= 0:
            raise InvalidPaymentInput("nothing_to_pay_out", f"place {request.place_id} holds no FED")
        if amount > balance:
            raise InvalidPaymentInput(
                "insufficient_fed", f"place {request.place_id} holds {balance} FED cents, payout asks {amount}")
        account = await self._gateway.place_payout_account(request.place_id)
        transfer = await self._stripe.find_transfer(ref) or await self._stripe.create_transfer({
            "amount": amount,
            "currency": "eur",
            "destination": account,
            "transfer_group": ref,
            "metadata": {PAYOUT_ID_KEY: request.payout_id, PLACE_KEY: request.place_id},
        }, ref)
        transfer_id, amount, submitted = await _record_on_ledger(
            "payout", request.payout_id, transfer,
            lambda amount, stripe_id: self._gateway.submit_bank_deposit(request.place_id, amount, ref, stripe_id))
        return PayoutReceipt(request.payout_id, request.place_id, transfer_id, amount, submitted)


async def _record_on_ledger(
    kind: str, request_id: str, stripe_object: dict[str, Any],
    submit: Callable[[int, str], Awaitable[Submitted]],
) -> tuple[str, int, Submitted]:
    """Burn on the ledger what Stripe moved (its id and amount decide, even from an earlier attempt)."""
    stripe_id = _stripe_id(stripe_object, kind)
    amount = _stripe_amount(stripe_object, kind)
    try:
        submitted = await submit(amount, stripe_id)
    except LedgerRefused as err:
        raise _out_of_step(kind, request_id, stripe_id, err) from err
    log.info(f"{kind}_done", request_id=request_id, stripe_id=stripe_id, amount_cents=amount,
             ledger=submitted.value)
    return stripe_id, amount, submitted


def _stripe_id(obj: dict[str, Any], kind: str) -> str:
    value = obj.get("id")
    if not isinstance(value, str) or not value:
        raise StripeFailure("stripe_answer_invalid", f"Stripe answered a {kind} without an id")
    return value


def _stripe_amount(obj: dict[str, Any], kind: str) -> int:
    value = obj.get("amount")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise StripeFailure("stripe_answer_invalid", f"Stripe answered a {kind} without a positive amount")
    return value


def _out_of_step(kind: str, request_id: str, stripe_id: str, err: LedgerRefused) -> LedgerOutOfStep:
    log.error("ledger_out_of_step", kind=kind, request_id=request_id, stripe_id=stripe_id,
              ledger_code=err.code, ledger_detail=err.detail)
    return LedgerOutOfStep(
        f"{kind}_not_recorded",
        f"Stripe {kind} {stripe_id} succeeded but the ledger refused it ({err.code}: {err.detail}); "
        "reconcile by hand")
