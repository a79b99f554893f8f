"""The Stripe bridge: card refills and float purchases minted by the treasury, refunds, payouts.

Money in: a verified webhook (or a venue announcing its bank transfer) only asks; the treasury
nodes each verify the payment at Stripe and co-sign the mint (``LedgerGateway.attest_mint``).

Money out (refunds to the bank card, payouts to a venue's bank), in this order: the FED is put
on hold on the ledger under a reference derived from our request id (so it cannot be spent
meanwhile), then Stripe moves the euros (an earlier attempt's object found by its metadata,
else created under an idempotency key derived from the same id), then the treasury attests
the Stripe object and the hold is burnt. Stripe refusing the request (declined, invalid)
releases the hold (attested too: nothing left the account); any other failure (Stripe down,
the node's key refused, the ledger or the treasury unreachable) is finished by retrying the
same request, which resumes from the hold. See docs/stripe.md for the full reasoning.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import structlog

from fedow_node.payments._config import StripeConfig
from fedow_node.payments._errors import (
    CardDeclined, InvalidPaymentInput, LedgerOutOfStep, LedgerRefused, LedgerUnavailable, StripeFailure,
    StripeRequestInvalid,
)
from fedow_node.payments._events import (
    HOLD_KEY, PLACE_KEY, PURPOSE_KEY, REFILL_ID_KEY, REFILL_PURPOSE, WALLET_KEY, IgnoredEvent, read_event,
)
from fedow_node.payments._ledger import HeldFunds, LedgerGateway, Submitted
from fedow_node.payments._recent import RecentIds
from fedow_node.payments._requests import (
    CheckoutLink, FloatReceipt, FloatRequest, PayoutReceipt, PayoutRequest, RefillRequest, RefundReceipt,
    RefundRequest, WebhookOutcome,
)
from fedow_node.payments._stripe_api import StripeApi
from wallet.keys import encode_address
from wallet.records import HOLD_BURNT, HOLD_RELEASED

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
        self._stripe = StripeApi(config.secret_key, config.api_base)
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
        """Have a paid refill minted once: the treasury verifies it, the ledger refuses a second use of the session id."""
        reading = read_event(event)
        if reading.event_id in self._handled_events:
            log.info("webhook_duplicate_event", event_id=reading.event_id)
            return WebhookOutcome("duplicate_event", reading.event_id, detail="event already handled here")
        if isinstance(reading, IgnoredEvent):
            log.info("webhook_event_ignored", event_id=reading.event_id, reason=reading.reason)
            self._handled_events.add(reading.event_id)
            return WebhookOutcome("ignored", reading.event_id, detail=reading.reason)
        submitted = await self._gateway.attest_mint(reading.target_wallet, reading.amount_cents, reading.session_id)
        status = "credited" if submitted is Submitted.APPLIED else "already_credited"
        log.info("refill_" + status, event_id=reading.event_id, session_id=reading.session_id,
                 refill_id=reading.refill_id, amount_cents=reading.amount_cents,
                 wallet=encode_address(reading.target_wallet))
        self._handled_events.add(reading.event_id)
        return WebhookOutcome(status, reading.event_id, reading.session_id)

    # -- float: a venue buys FED from the treasury by bank transfer -----------------------

    async def buy_float(self, request: FloatRequest) -> FloatReceipt:
        """Mint into the place's wallet the euros its bank transfer (a Stripe PaymentIntent) brought.

        The amount is what Stripe received; every treasury node checks it again, and that the
        payment names this place's wallet, before it signs.
        """
        intent = await self._stripe.payment_intent(request.payment_intent)
        amount = _stripe_amount({"amount": intent.get("amount_received")}, "payment intent")
        wallet = await self._gateway.place_wallet(request.place_id)
        submitted = await self._gateway.attest_mint(wallet, amount, request.payment_intent)
        log.info("float_bought", place=request.place_id, payment_intent=request.payment_intent,
                 amount_cents=amount, ledger=submitted.value)
        return FloatReceipt(request.payment_intent, request.place_id, amount, submitted)

    # -- refunds ---------------------------------------------------------------------------

    async def refund(self, request: RefundRequest) -> RefundReceipt:
        """Hold the FED, refund the bank card, have the treasury attest it; retry the same request after any failure."""
        ref = refund_ref(request.refund_id)
        held = await self._gateway.held(ref)
        if held is None:
            _require_balance(await self._gateway.wallet_fed_balance(request.wallet), request.amount_cents,
                             f"wallet {encode_address(request.wallet)}")
            await self._gateway.hold_for_refund(request.wallet, request.amount_cents, ref, request.payment_intent)
            held = HeldFunds(ref, request.amount_cents, "held", None)
        amount = held.amount_cents

        async def refund_at_stripe() -> dict[str, Any]:
            return await self._stripe.find_refund(request.payment_intent, HOLD_KEY, ref) \
                or await self._stripe.create_refund({
                    "payment_intent": request.payment_intent,
                    "amount": amount,
                    "metadata": {REFUND_ID_KEY: request.refund_id, HOLD_KEY: ref,
                                 WALLET_KEY: encode_address(request.wallet)},
                }, ref)

        stripe_refund_id, submitted = await self._pay_out("refund", request.refund_id, held, refund_at_stripe)
        return RefundReceipt(request.refund_id, stripe_refund_id, amount, submitted)

    # -- payouts ---------------------------------------------------------------------------

    async def payout(self, request: PayoutRequest) -> PayoutReceipt:
        """Hold the place's FED, transfer it to its Connect account, have the treasury attest and burn it."""
        ref = payout_ref(request.payout_id)
        held = await self._gateway.held(ref)
        if held is None:
            balance = await self._gateway.place_fed_balance(request.place_id)
            wanted = balance if request.amount_cents is None else request.amount_cents
            if wanted <= 0:
                raise InvalidPaymentInput("nothing_to_pay_out", f"place {request.place_id} holds no FED")
            _require_balance(balance, wanted, f"place {request.place_id}")
            await self._gateway.place_payout_account(request.place_id)  # refuse before holding anything
            await self._gateway.hold_for_payout(request.place_id, wanted, ref)
            held = HeldFunds(ref, wanted, "held", None)
        amount = held.amount_cents

        async def transfer_at_stripe() -> dict[str, Any]:
            account = await self._gateway.place_payout_account(request.place_id)
            return await self._stripe.find_transfer(ref) or await self._stripe.create_transfer({
                "amount": amount,
                "currency": "eur",
                "destination": account,
                "transfer_group": ref,
                "metadata": {PAYOUT_ID_KEY: request.payout_id, PLACE_KEY: request.place_id, HOLD_KEY: ref},
            }, ref)

        transfer_id, submitted = await self._pay_out("payout", request.payout_id, held, transfer_at_stripe)
        return PayoutReceipt(request.payout_id, request.place_id, transfer_id, amount, submitted)

    async def _pay_out(self, kind: str, request_id: str, held: HeldFunds,
                       pay: Callable[[], Awaitable[dict[str, Any]]]) -> tuple[str, Submitted]:
        """Stripe moves the held euros, then the treasury attests it and the hold is burnt: (Stripe id, ledger)."""
        if held.state == HOLD_BURNT:
            return held.paid_by or "", Submitted.DUPLICATE_REFERENCE
        if held.state == HOLD_RELEASED:
            raise InvalidPaymentInput(f"{kind}_released", f"{kind} {request_id} failed at Stripe and its hold was "
                                      "released: ask again with a new id")
        try:
            moved = await pay()
        except (CardDeclined, StripeRequestInvalid):  # Stripe refused this request: nothing left the account
            await self._release(kind, request_id, held.reference)
            raise
        stripe_id, amount = _stripe_id(moved, kind), _stripe_amount(moved, kind)
        try:
            if amount != held.amount_cents:
                raise LedgerRefused("amount_mismatch", f"Stripe moved {amount} cents, the hold is "
                                    f"{held.amount_cents}")
            submitted = await self._gateway.attest_burn(held.reference, stripe_id, amount)
        except LedgerRefused as err:
            raise _out_of_step(kind, request_id, stripe_id, err) from err
        log.info(f"{kind}_done", request_id=request_id, stripe_id=stripe_id, amount_cents=amount,
                 ledger=submitted.value)
        return stripe_id, submitted

    async def _release(self, kind: str, request_id: str, hold_ref: str) -> None:
        """Give a hold back after Stripe refused to move its euros (the treasury checks that nothing moved)."""
        try:
            await self._gateway.attest_release(hold_ref)
        except (LedgerRefused, LedgerUnavailable) as err:
            log.error("hold_not_released", kind=kind, request_id=request_id, hold_ref=hold_ref, code=err.code,
                      detail=err.detail)
        else:
            log.info("hold_released", kind=kind, request_id=request_id, hold_ref=hold_ref)


def _require_balance(balance: int, amount: int, owner: str) -> None:
    if balance < amount:
        raise InvalidPaymentInput("insufficient_fed", f"{owner} holds {balance} FED cents, {amount} asked")


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
