"""Reading a verified Stripe event: a paid FED refill to credit, or a reason to ignore it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from fedow_node.payments._errors import WebhookRejected
from fedow_node.payments._requests import MAX_AMOUNT_CENTS
from wallet.errors import Rejected
from wallet.keys import decode_address, encode_address

REFILL_EVENT_TYPES = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
"""A card payment completes paid; a delayed method (SEPA debit) completes unpaid, then succeeds."""

PURPOSE_KEY, REFILL_PURPOSE, FLOAT_PURPOSE = "fedow_purpose", "fed_refill", "fed_float"
"""Metadata that marks the payments FED is minted against (others may share the account): a
card top-up's Checkout Session (and its payment intent), a venue's bank transfer for float
(a payment intent of its own). Each payment is minted under one reference only: the session
id for a top-up, the payment intent id for float."""
WALLET_KEY, REFILL_ID_KEY, PLACE_KEY = "fedow_wallet", "fedow_refill_id", "fedow_place"
HOLD_KEY = "fedow_hold"


def float_metadata(place_id: str, place_wallet: bytes) -> dict[str, str]:
    """Metadata the federation puts on the PaymentIntent of a venue's bank transfer for FED float."""
    return {PURPOSE_KEY: FLOAT_PURPOSE, WALLET_KEY: encode_address(place_wallet), PLACE_KEY: place_id}
"""Metadata of a refund or transfer naming the ledger hold it pays out (what the treasury checks)."""


@dataclass(frozen=True)
class PaidRefill:
    event_id: str
    session_id: str
    refill_id: str
    target_wallet: bytes
    amount_cents: int


@dataclass(frozen=True)
class IgnoredEvent:
    event_id: str
    reason: str


def read_event(event: Mapping[str, Any]) -> PaidRefill | IgnoredEvent:
    """Classify an event; :class:`WebhookRejected` (``malformed_payload``) names a bad field."""
    event_id = _text(event, "id", "event")
    event_type = _text(event, "type", "event")
    if event_type not in REFILL_EVENT_TYPES:
        return IgnoredEvent(event_id, f"event type {event_type} is not handled")
    data = event.get("data")
    session = data.get("object") if isinstance(data, Mapping) else None
    if not isinstance(session, Mapping):
        raise _malformed("event data.object must be a Checkout Session object")
    session_id = _text(session, "id", "session")
    metadata = session.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get(PURPOSE_KEY) != REFILL_PURPOSE:
        return IgnoredEvent(event_id, f"session {session_id} is not a fedow FED refill")
    if session.get("payment_status") != "paid":
        return IgnoredEvent(event_id, f"session {session_id} is not paid yet "
                                      f"(payment_status={session.get('payment_status')!r})")
    if session.get("currency") != "eur":
        raise _malformed(f"session {session_id} currency must be eur, got {session.get('currency')!r}")
    amount = session.get("amount_total")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_CENTS:
        raise _malformed(f"session {session_id} amount_total must be a positive integer of cents")
    try:
        wallet = decode_address(metadata.get(WALLET_KEY))  # type: ignore[arg-type]
    except Rejected as err:
        raise _malformed(f"session {session_id} metadata.{WALLET_KEY}: {err.detail}") from None
    refill_id = _text(metadata, REFILL_ID_KEY, "session metadata")
    return PaidRefill(event_id, session_id, refill_id, wallet, amount)


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise _malformed(f"{where} field {key!r} must be a non-empty string")
    return value


def _malformed(detail: str) -> WebhookRejected:
    return WebhookRejected("malformed_payload", detail)
