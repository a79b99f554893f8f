"""The bridge's inputs and results: frozen dataclasses, inputs validated on construction."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fedow_node.payments._errors import InvalidPaymentInput
from fedow_node.payments._ledger import Submitted

MIN_CHARGE_CENTS = 50
"""Stripe's smallest euro charge."""
MAX_AMOUNT_CENTS = 10**12
"""The ledger's largest amount (docs/contracts.md)."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_STRIPE_ID = re.compile(r"[a-z]{2,5}_[A-Za-z0-9_]{1,250}")


def check_request_id(field: str, value: object) -> None:
    """Request ids become idempotency keys and ledger references: short and plain."""
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise InvalidPaymentInput("invalid_request_id", f"{field} must be 1-64 characters of [A-Za-z0-9_-]")


def check_amount(field: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_AMOUNT_CENTS:
        raise InvalidPaymentInput(
            "invalid_amount", f"{field} must be an integer number of cents in [{minimum}, {MAX_AMOUNT_CENTS}]")


def check_payment_intent(value: object) -> None:
    if not isinstance(value, str) or not value.startswith("pi_") or not _STRIPE_ID.fullmatch(value):
        raise InvalidPaymentInput("invalid_payment_intent", "payment_intent must be a Stripe id pi_...")


def check_wallet(field: str, value: object) -> None:
    if not isinstance(value, bytes) or len(value) != 32:
        raise InvalidPaymentInput("invalid_wallet", f"{field} must be a 32-byte wallet id")


@dataclass(frozen=True)
class RefillRequest:
    """Top up ``target_wallet`` (a user's wallet or the one behind a card) with FED bought by card."""

    refill_id: str
    target_wallet: bytes
    amount_cents: int

    def __post_init__(self) -> None:
        check_request_id("refill_id", self.refill_id)
        check_wallet("target_wallet", self.target_wallet)
        check_amount("amount_cents", self.amount_cents, MIN_CHARGE_CENTS)


@dataclass(frozen=True)
class CheckoutLink:
    """Where to send the payer; the FED is minted later, when Stripe's webhook says it is paid."""

    refill_id: str
    session_id: str
    url: str


@dataclass(frozen=True)
class RefundRequest:
    """Give ``amount_cents`` back to the card that paid ``payment_intent``, burning as much FED of ``wallet``."""

    refund_id: str
    payment_intent: str
    wallet: bytes
    amount_cents: int

    def __post_init__(self) -> None:
        check_request_id("refund_id", self.refund_id)
        check_payment_intent(self.payment_intent)
        check_wallet("wallet", self.wallet)
        check_amount("amount_cents", self.amount_cents)


@dataclass(frozen=True)
class RefundReceipt:
    refund_id: str
    stripe_refund_id: str
    amount_cents: int
    ledger: Submitted
    """APPLIED now, or DUPLICATE_REFERENCE when an earlier attempt already recorded it."""


@dataclass(frozen=True)
class PayoutRequest:
    """Pay a place's FED out to its bank: ``amount_cents``, or its whole balance when None."""

    payout_id: str
    place_id: str
    amount_cents: int | None = None

    def __post_init__(self) -> None:
        check_request_id("payout_id", self.payout_id)
        if not isinstance(self.place_id, str) or not self.place_id:
            raise InvalidPaymentInput("invalid_place", "place_id must be a non-empty string")
        if self.amount_cents is not None:
            check_amount("amount_cents", self.amount_cents)


@dataclass(frozen=True)
class PayoutReceipt:
    payout_id: str
    place_id: str
    stripe_transfer_id: str
    amount_cents: int
    ledger: Submitted


@dataclass(frozen=True)
class FloatRequest:
    """A venue announces the bank transfer (a Stripe PaymentIntent) with which it bought FED float."""

    payment_intent: str
    place_id: str

    def __post_init__(self) -> None:
        check_payment_intent(self.payment_intent)
        if not isinstance(self.place_id, str) or not self.place_id:
            raise InvalidPaymentInput("invalid_place", "place_id must be a non-empty string")


@dataclass(frozen=True)
class FloatReceipt:
    payment_intent: str
    place_id: str
    amount_cents: int
    ledger: Submitted
    """APPLIED now, or DUPLICATE_REFERENCE when this transfer was already minted."""


@dataclass(frozen=True)
class WebhookOutcome:
    """What a verified webhook delivery did: ``credited``, ``already_credited``, ``ignored`` or ``duplicate_event``."""

    status: str
    event_id: str
    session_id: str | None = None
    detail: str = ""
