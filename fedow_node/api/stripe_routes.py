"""Stripe over the POS API: card top-ups by Checkout, the signed webhook, float bought by bank
transfer, refunds and payouts (every FED mint and burn attested by the treasury nodes).

Mounted only when the node's ``[stripe]`` section holds both secrets
(``build_app(..., extra_routes=stripe_routes(bridge))``). Checkout, refunds and
payouts need a POS token of the node's place (``Route.access``); the webhook has
none: Stripe signs it, and :mod:`fedow_node.payments` verifies the raw body.
Every payment error leaves as ``{error, detail}`` with the status below.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from aiohttp import web

from fedow_node.api import schema as s
from fedow_node.api.context import context, json_response, read_json, require_place_token
from fedow_node.api.errors import ApiError, status_of
from fedow_node.api.pos import _target_wallet as target_wallet  # the POS routes' uid-or-wallet rule
from fedow_node.api.routes import Param, Route
from fedow_node.payments import (
    MIN_CHARGE_CENTS, CardDeclined, FloatRequest, InvalidPaymentInput, LedgerOutOfStep, LedgerRefused,
    PaymentError, PaymentNotVerified, PayoutRequest, RefillRequest, RefundRequest, StripeBridge, StripeRequestInvalid,
    handle_webhook,
)

__all__ = ["STRIPE_PATHS", "stripe_routes"]

STRIPE_PATHS = ("/v1/stripe/checkout", "/v1/stripe/webhook", "/v1/stripe/float", "/v1/stripe/refunds",
                "/v1/stripe/payouts")

_REQUEST_ID = s.string("^[A-Za-z0-9_-]{1,64}$", "your id for this request (1-64 of A-Za-z0-9_-): retrying "
                       "with the same id never moves money twice")
_TARGET = {"uid": s.UID, "wallet": s.WALLET}
_ONE_TARGET = (("uid",), ("wallet",))
_CENTS = "FED cents (1 FED = 1 euro)"

CHECKOUT_REQUEST = s.obj({"refill_id": _REQUEST_ID, "amount": s.integer(MIN_CHARGE_CENTS, 10**12, _CENTS)},
                         _TARGET, _ONE_TARGET)
CHECKOUT_RESULT = s.shape({"refill_id": s.TEXT, "session_id": s.TEXT, "url": s.TEXT},
                          required=("refill_id", "session_id", "url"))
_PAYMENT_INTENT = "^pi_[A-Za-z0-9_]{1,250}$"
FLOAT_REQUEST = s.obj({"payment_intent": s.string(_PAYMENT_INTENT, "the Stripe payment of the place's bank "
                                                                  "transfer (its metadata names the place's wallet)")})
REFUND_REQUEST = s.obj({"refund_id": _REQUEST_ID, "amount": s.integer(1, 10**12, _CENTS),
                        "payment_intent": s.string(_PAYMENT_INTENT, "the Stripe payment that paid")},
                       _TARGET, _ONE_TARGET)
PAYOUT_REQUEST = s.obj({"payout_id": _REQUEST_ID},
                       {"amount": s.integer(1, 10**12, f"{_CENTS}; absent: the place's whole FED balance")})
_LEDGER = {"type": "string", "enum": ["applied", "duplicate_reference"],
           "description": "applied now, or already on the chain from an earlier attempt"}
REFUND_RESULT = s.shape({"refund_id": s.TEXT, "stripe_refund_id": s.TEXT, "amount": s.INT, "ledger": _LEDGER},
                        required=("refund_id", "stripe_refund_id", "amount", "ledger"))
FLOAT_RESULT = s.shape({"payment_intent": s.TEXT, "place": s.TEXT, "amount": s.INT, "ledger": _LEDGER},
                       required=("payment_intent", "place", "amount", "ledger"))
PAYOUT_RESULT = s.shape({"payout_id": s.TEXT, "place": s.TEXT, "stripe_transfer_id": s.TEXT, "amount": s.INT,
                         "ledger": _LEDGER}, required=("payout_id", "place", "stripe_transfer_id", "amount", "ledger"))
WEBHOOK_RESULT = s.shape({
    "status": {"type": "string", "enum": ["credited", "already_credited", "duplicate_event", "ignored"]},
    "event_id": s.TEXT, "session_id": s.NULLABLE_TEXT, "detail": s.TEXT}, required=("status", "event_id"))
SIGNATURE_PARAM = Param("Stripe-Signature", "Stripe's signature of the raw body (t=...,v1=...)", where="header")

_OUT_OF_FUNDS = ("insufficient_fed", "nothing_to_pay_out", "refund_released", "payout_released")


def _status(err: PaymentError) -> int:
    """The HTTP status of a payment error (documented statuses only: see openapi._REASONS)."""
    if isinstance(err, InvalidPaymentInput):
        return 422 if err.code in _OUT_OF_FUNDS else 400
    if isinstance(err, (CardDeclined, StripeRequestInvalid, PaymentNotVerified)):
        return 422  # Stripe refused this request as asked: retrying it unchanged will not help
    if isinstance(err, LedgerRefused):
        return status_of(err.code)
    if isinstance(err, LedgerOutOfStep):
        return 409  # money moved at Stripe, the ledger refused: an operator reconciles (logged)
    return 503  # LedgerUnavailable, StripeAuthFailed, StripeUnavailable: retry later, or fix the node's key


@contextmanager
def _payment_errors() -> Iterator[None]:
    try:
        yield
    except PaymentError as err:
        raise ApiError(err.code, err.detail, _status(err)) from None


def stripe_routes(bridge: StripeBridge) -> tuple[Route, ...]:
    """The Stripe routes over ``bridge`` (the caller closes the bridge on shutdown)."""

    async def stripe_checkout(request: web.Request) -> web.Response:
        payload = await read_json(request, CHECKOUT_REQUEST)
        wallet = target_wallet(payload, context(request).node.reader)
        with _payment_errors():
            link = await bridge.start_refill(RefillRequest(payload["refill_id"], wallet, payload["amount"]))
        return json_response({"refill_id": link.refill_id, "session_id": link.session_id, "url": link.url})

    async def stripe_webhook(request: web.Request) -> web.Response:
        return await handle_webhook(bridge, request)

    async def stripe_float(request: web.Request) -> web.Response:
        payload = await read_json(request, FLOAT_REQUEST)
        place_id = require_place_token(request)
        with _payment_errors():
            receipt = await bridge.buy_float(FloatRequest(payload["payment_intent"], place_id))
        return json_response({"payment_intent": receipt.payment_intent, "place": receipt.place_id,
                              "amount": receipt.amount_cents, "ledger": receipt.ledger.value})

    async def stripe_refund(request: web.Request) -> web.Response:
        payload = await read_json(request, REFUND_REQUEST)
        wallet = target_wallet(payload, context(request).node.reader)
        with _payment_errors():
            receipt = await bridge.refund(RefundRequest(payload["refund_id"], payload["payment_intent"], wallet,
                                                        payload["amount"]))
        return json_response({"refund_id": receipt.refund_id, "stripe_refund_id": receipt.stripe_refund_id,
                              "amount": receipt.amount_cents, "ledger": receipt.ledger.value})

    async def stripe_payout(request: web.Request) -> web.Response:
        payload = await read_json(request, PAYOUT_REQUEST)
        place_id = require_place_token(request)
        with _payment_errors():
            receipt = await bridge.payout(PayoutRequest(payload["payout_id"], place_id, payload.get("amount")))
        return json_response({"payout_id": receipt.payout_id, "place": receipt.place_id,
                              "stripe_transfer_id": receipt.stripe_transfer_id, "amount": receipt.amount_cents,
                              "ledger": receipt.ledger.value})

    checkout, webhook, float_, refunds, payouts = STRIPE_PATHS
    return (
        Route("POST", checkout, stripe_checkout, "Open a Stripe Checkout to top up a card or wallet with FED "
              "(minted when Stripe's webhook says it is paid)", "stripe", request=CHECKOUT_REQUEST,
              response=CHECKOUT_RESULT, access="pos", errors=(400, 401, 403, 404, 413, 422, 503)),
        Route("POST", webhook, stripe_webhook, "Stripe's signed webhook: a paid checkout is minted once "
              "network-wide, attested by the treasury", "stripe", response=WEBHOOK_RESULT, params=(SIGNATURE_PARAM,),
              errors=(400, 413, 422, 503)),
        Route("POST", float_, stripe_float, "The place bought FED float by bank transfer: the treasury verifies "
              "the payment at Stripe and mints it into the place's wallet", "stripe", request=FLOAT_REQUEST,
              response=FLOAT_RESULT, access="pos", errors=(400, 401, 403, 409, 413, 422, 503)),
        Route("POST", refunds, stripe_refund, "Refund FED to the bank card that paid: hold, Stripe refund, burn "
              "attested by the treasury",
              "stripe", request=REFUND_REQUEST, response=REFUND_RESULT, access="pos",
              errors=(400, 401, 403, 404, 409, 413, 422, 503)),
        Route("POST", payouts, stripe_payout, "Pay the place's FED out to its bank: hold, Stripe Connect "
              "transfer, burn attested by the treasury", "stripe", request=PAYOUT_REQUEST, response=PAYOUT_RESULT,
              access="pos", errors=(400, 401, 403, 409, 413, 422, 503)),
    )
