"""What a treasury node checks at Stripe itself before it signs a FED mint, burn or release.

A webhook, a POS or another node only asks; the treasury node reads the payment (or the
payout) from the Stripe account through the SDK and signs only what Stripe confirms:

* a mint of ``amount`` FED into ``wallet`` against ``reference``: the Checkout Session
  (``cs_...``, a card top-up) or PaymentIntent (``pi_...``, a venue's bank transfer for float)
  is paid, in euros, for exactly ``amount`` cents, names ``wallet`` in its ``fedow_wallet``
  metadata, and nothing of it was refunded. Its ``fedow_purpose`` must fit the reference
  (``fed_refill`` for a session, ``fed_float`` for a payment intent), so the payment intent
  behind a top-up session can never be minted a second time under its own id;
* a burn of a hold: the Stripe transfer (``tr_...``, a payout to the venue's bank) or refund
  (``re_...``, back to the bank card) was made for this hold (``transfer_group`` /
  ``fedow_hold`` metadata), succeeded, in euros, for exactly the held amount, and was not
  reversed;
* a release of a hold: no money left for it (no transfer of its group that was not reversed
  in full, no refund for it that did not fail).

A refusal is :class:`PaymentNotVerified` with a code naming what Stripe contradicts; Stripe
being unreachable is :class:`StripeUnavailable` (try again later), never a refusal.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from fedow_node.payments._errors import PaymentNotVerified, StripeRequestInvalid
from fedow_node.payments._events import (FLOAT_PURPOSE, HOLD_KEY, PLACE_KEY, PURPOSE_KEY, REFILL_PURPOSE,
                                         WALLET_KEY)
from fedow_node.payments._stripe_api import StripeApi
from wallet.keys import encode_address
from wallet.records import Hold

CURRENCY = "eur"
FAILED_REFUND = ("failed", "canceled")


class PaymentVerifier(Protocol):
    """The checks a treasury node makes at the payment provider (raise :class:`PaymentNotVerified`)."""

    async def verify_payment(self, reference: str, amount: int, wallet: bytes) -> None: ...

    async def verify_payout(self, hold: Hold, stripe_id: str, amount: int) -> None: ...

    async def verify_failed_payout(self, hold: Hold) -> None: ...

    async def aclose(self) -> None: ...


class StripeVerifier:
    """:class:`PaymentVerifier` over the Stripe SDK (``api_base``: a local fake in tests and the demo)."""

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        self._stripe = StripeApi(secret_key, api_base)

    def __repr__(self) -> str:
        return f"StripeVerifier({self._stripe!r})"

    async def aclose(self) -> None:
        await self._stripe.aclose()

    # -- money in ------------------------------------------------------------------------------

    async def verify_payment(self, reference: str, amount: int, wallet: bytes) -> None:
        if reference.startswith("cs_"):
            session = await self._found(self._stripe.checkout_session(reference), "unknown_payment", reference)
            if session.get("payment_status") != "paid":
                raise PaymentNotVerified("not_paid", f"Stripe says checkout session {reference} is "
                                         f"{session.get('payment_status')!r}, not paid")
            _same("wrong_purpose", f"checkout session {reference} metadata {PURPOSE_KEY}",
                  (session.get("metadata") or {}).get(PURPOSE_KEY), REFILL_PURPOSE)
            _same("amount_mismatch", f"checkout session {reference} amount_total", session.get("amount_total"), amount)
            _same("wrong_currency", f"checkout session {reference} currency", session.get("currency"), CURRENCY)
            _same_wallet(session, reference, wallet)
            intent_id = session.get("payment_intent")
            if not isinstance(intent_id, str):
                raise PaymentNotVerified("not_paid", f"checkout session {reference} has no payment intent")
            await self._paid_intent(intent_id, amount, None)
        elif reference.startswith("pi_"):
            await self._paid_intent(reference, amount, wallet)
        else:
            raise PaymentNotVerified("unknown_payment", f"payment reference {reference!r} is neither a Stripe "
                                     "Checkout Session (cs_...) nor a PaymentIntent (pi_...)")

    async def _paid_intent(self, intent_id: str, amount: int, wallet: bytes | None) -> None:
        intent = await self._found(self._stripe.payment_intent(intent_id), "unknown_payment", intent_id)
        if intent.get("status") != "succeeded":
            raise PaymentNotVerified("not_paid", f"Stripe says payment intent {intent_id} is "
                                     f"{intent.get('status')!r}, not succeeded")
        _same("amount_mismatch", f"payment intent {intent_id} amount_received", intent.get("amount_received"), amount)
        _same("wrong_currency", f"payment intent {intent_id} currency", intent.get("currency"), CURRENCY)
        if wallet is not None:  # a payment of its own (float), not the one behind a checkout session
            _same("wrong_purpose", f"payment intent {intent_id} metadata {PURPOSE_KEY}",
                  (intent.get("metadata") or {}).get(PURPOSE_KEY), FLOAT_PURPOSE)
            _same_wallet(intent, intent_id, wallet)
        charge = intent.get("latest_charge")
        refunded = charge.get("amount_refunded") if isinstance(charge, Mapping) else None
        if refunded != 0:
            raise PaymentNotVerified("refunded", f"payment intent {intent_id} was refunded ({refunded} cents): "
                                     "its euros are no longer the federation's")

    # -- money out -----------------------------------------------------------------------------

    async def verify_payout(self, hold: Hold, stripe_id: str, amount: int) -> None:
        if hold.payment_intent is None:  # a payout to the venue's bank: a Connect transfer of the hold's group
            what, prefix, fetch = "transfer", "tr_", self._stripe.transfer
            links = ((("transfer_group",), hold.reference), (("metadata", PLACE_KEY), hold.place))
        else:  # a refund to the bank card: a refund of the held payment, tagged with the hold
            what, prefix, fetch = "refund", "re_", self._stripe.refund
            links = ((("payment_intent",), hold.payment_intent), (("metadata", HOLD_KEY), hold.reference))
        if not stripe_id.startswith(prefix):
            raise PaymentNotVerified("unknown_payout", f"{stripe_id!r} is not a Stripe {what} ({prefix}...), which "
                                     f"hold {hold.reference!r} is paid out by")
        paid = await self._found(fetch(stripe_id), "unknown_payout", stripe_id)
        for path, expected in links:
            found = paid.get(path[0]) if len(path) == 1 else (paid.get(path[0]) or {}).get(path[1])
            _same("wrong_payout", f"{what} {stripe_id} {' '.join(path)}", found, expected)
        _same("amount_mismatch", f"{what} {stripe_id} amount", paid.get("amount"), amount)
        _same("wrong_currency", f"{what} {stripe_id} currency", paid.get("currency"), CURRENCY)
        if paid.get("amount_reversed"):
            raise PaymentNotVerified("reversed", f"transfer {stripe_id} was reversed "
                                     f"({paid.get('amount_reversed')} cents came back)")
        if what == "refund" and paid.get("status") != "succeeded":
            code = "payout_failed" if paid.get("status") in FAILED_REFUND else "payout_pending"
            raise PaymentNotVerified(code, f"refund {stripe_id} is {paid.get('status')!r}, not succeeded")

    async def verify_failed_payout(self, hold: Hold) -> None:
        if hold.payment_intent is None:
            for transfer in await self._stripe.transfers_of(hold.reference):
                if transfer.get("amount_reversed") != transfer.get("amount"):
                    raise PaymentNotVerified("paid_out", f"transfer {transfer.get('id')} of hold {hold.reference!r} "
                                             "moved money and was not reversed in full: the hold cannot be released")
            return
        for refund in await self._stripe.refunds_of(hold.payment_intent):
            mine = (refund.get("metadata") or {}).get(HOLD_KEY) == hold.reference
            if mine and refund.get("status") not in FAILED_REFUND:
                raise PaymentNotVerified("paid_out", f"refund {refund.get('id')} of hold {hold.reference!r} is "
                                         f"{refund.get('status')!r}: the hold cannot be released")

    @staticmethod
    async def _found(call: Any, code: str, stripe_id: str) -> dict[str, Any]:
        """The object Stripe answers; a missing one is a refusal (``code``), not a Stripe failure."""
        try:
            return await call  # type: ignore[no-any-return]
        except StripeRequestInvalid as err:
            if err.http_status == 404 or err.code == "resource_missing":
                raise PaymentNotVerified(code, f"Stripe has no object {stripe_id}") from None
            raise


def _same(code: str, what: str, found: object, expected: object) -> None:
    if found != expected:
        raise PaymentNotVerified(code, f"Stripe says {what} is {found!r}, the request says {expected!r}")


def _same_wallet(obj: Mapping[str, Any], stripe_id: str, wallet: bytes) -> None:
    named = (obj.get("metadata") or {}).get(WALLET_KEY)
    _same("wrong_wallet", f"{stripe_id} metadata {WALLET_KEY}", named, encode_address(wallet))
