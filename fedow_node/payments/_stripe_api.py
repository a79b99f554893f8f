"""The one place that touches the Stripe SDK: async calls, closed client, errors translated.

Uses ``stripe.StripeClient`` with the SDK's ``HTTPXClient``, whose async calls run on any
event loop (httpx over anyio): the bridge calls Stripe from the HTTP API's asyncio loop, a
treasury node from the trio side of the node (one client per loop). No SDK-side retries:
every call that moves money carries an idempotency key chosen by the caller, and retrying is
the caller's decision. Reads (retrieve, list) serve the treasury's verifications and the audit.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from typing import AsyncIterator

import stripe
import structlog

from fedow_node.payments._errors import (
    CardDeclined,
    StripeAuthFailed,
    StripeFailure,
    StripeRequestInvalid,
    StripeUnavailable,
    WebhookRejected,
)

log = structlog.get_logger(__name__)

WEBHOOK_TOLERANCE_S = 300
"""Oldest accepted webhook signature timestamp, in seconds (Stripe's own default)."""

HTTP_TIMEOUT_S = 30
PAGE = 100
"""Objects per list page (Stripe's maximum)."""


class StripeApi:
    """Async Stripe calls; each returns the Stripe object as a plain dict. ``api_base`` None: Stripe's own."""

    def __init__(self, secret_key: str, api_base: str | None = None) -> None:
        self._api_base = api_base
        self._http = stripe.HTTPXClient(timeout=HTTP_TIMEOUT_S)
        bases = {"api": api_base, "connect": api_base, "files": api_base}
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses=bases if api_base else None,  # type: ignore[arg-type]
            max_network_retries=0,
            http_client=self._http,
        )

    def __repr__(self) -> str:  # the client holds the secret key: show only where it points
        return f"StripeApi(api_base={self._api_base or 'stripe'!r})"

    async def create_checkout_session(self, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await _create(self._client.v1.checkout.sessions, "create checkout session", params, idempotency_key)

    async def create_refund(self, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await _create(self._client.v1.refunds, "create refund", params, idempotency_key)

    async def create_transfer(self, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
        return await _create(self._client.v1.transfers, "create transfer", params, idempotency_key)

    async def find_refund(self, payment_intent: str, metadata_key: str, metadata_value: str) -> dict[str, Any] | None:
        """A refund of ``payment_intent`` tagged with this metadata, if one exists.

        Covers retries after Stripe has forgotten an idempotency key (kept at least 24 h).
        """
        return next((refund for refund in await self.refunds_of(payment_intent)
                     if (refund.get("metadata") or {}).get(metadata_key) == metadata_value), None)

    async def find_transfer(self, transfer_group: str) -> dict[str, Any] | None:
        """The transfer made for ``transfer_group`` (one per payout), if one exists."""
        return next(iter(await self.transfers_of(transfer_group)), None)

    # -- reads: what a treasury node verifies, what the audit reconciles -----------------------

    async def checkout_session(self, session_id: str) -> dict[str, Any]:
        with _translated("retrieve checkout session"):
            return (await self._client.v1.checkout.sessions.retrieve_async(session_id)).to_dict()

    async def payment_intent(self, payment_intent: str) -> dict[str, Any]:
        """The payment intent with its latest charge expanded (how much of it was refunded)."""
        with _translated("retrieve payment intent"):
            found = await self._client.v1.payment_intents.retrieve_async(payment_intent,
                                                                          {"expand": ["latest_charge"]})
        return found.to_dict()

    async def transfer(self, transfer_id: str) -> dict[str, Any]:
        with _translated("retrieve transfer"):
            return (await self._client.v1.transfers.retrieve_async(transfer_id)).to_dict()

    async def refund(self, refund_id: str) -> dict[str, Any]:
        with _translated("retrieve refund"):
            return (await self._client.v1.refunds.retrieve_async(refund_id)).to_dict()

    async def refunds_of(self, payment_intent: str) -> list[dict[str, Any]]:
        """Every refund of one payment (a payment has few: one page holds them)."""
        with _translated("list refunds"):
            page = await self._client.v1.refunds.list_async({"payment_intent": payment_intent, "limit": PAGE})
        return [refund.to_dict() for refund in page.data]

    async def transfers_of(self, transfer_group: str) -> list[dict[str, Any]]:
        """Every transfer of one group (one per payout; a retried payout never makes a second)."""
        with _translated("list transfers"):
            page = await self._client.v1.transfers.list_async({"transfer_group": transfer_group, "limit": PAGE})
        return [transfer.to_dict() for transfer in page.data]

    async def every(self, objects: str) -> AsyncIterator[dict[str, Any]]:
        """Every object of a kind in the account, newest first, page after page (the audit's reading).

        ``objects``: ``checkout_sessions``, ``payment_intents``, ``refunds`` or ``transfers``.
        """
        services = {"checkout_sessions": self._client.v1.checkout.sessions,
                    "payment_intents": self._client.v1.payment_intents,
                    "refunds": self._client.v1.refunds, "transfers": self._client.v1.transfers}
        with _translated(f"list {objects.replace('_', ' ')}"):
            page = await services[objects].list_async({"limit": PAGE})
            async for item in page.auto_paging_iter():
                yield item.to_dict()

    def verified_event(self, raw_body: bytes, signature_header: str | None, webhook_secret: str) -> dict[str, Any]:
        """The webhook event in ``raw_body`` once its ``Stripe-Signature`` checks out."""
        try:
            event = self._client.construct_event(raw_body, signature_header, webhook_secret, WEBHOOK_TOLERANCE_S)
        except stripe.SignatureVerificationError as err:
            stale = "tolerance" in str(err)
            raise WebhookRejected(
                "stale_timestamp" if stale else "bad_signature",
                f"Stripe-Signature timestamp is older than {WEBHOOK_TOLERANCE_S} s" if stale
                else "Stripe-Signature header is missing, malformed or does not match the body",
            ) from None
        except (ValueError, TypeError, AttributeError, KeyError) as err:  # not UTF-8, JSON, an event
            raise WebhookRejected("malformed_payload", f"webhook body is not a Stripe event: {err}") from None
        return event.to_dict()

    async def aclose(self) -> None:
        """Close the HTTP session; call on shutdown."""
        await self._http.close_async()


async def _create(service: Any, action: str, params: Mapping[str, Any], idempotency_key: str) -> dict[str, Any]:
    """``service.create_async`` under an idempotency key: the same key answers the same object."""
    with _translated(action):
        created = await service.create_async(dict(params), {"idempotency_key": idempotency_key})
    return created.to_dict()


@contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn a Stripe SDK exception into the matching :class:`StripeFailure`, logged once."""
    try:
        yield
    except stripe.StripeError as err:
        failure = translate_stripe_error(action, err)
        log.warning("stripe_call_failed", action=action, code=failure.code,
                    http_status=failure.http_status, detail=failure.detail)
        raise failure from None


def translate_stripe_error(action: str, err: stripe.StripeError) -> StripeFailure:
    """The project error for an SDK exception, with Stripe's code and message in the detail."""
    stripe_code = getattr(err, "code", None)
    message = err.user_message or str(err).strip() or "no message from Stripe"
    status = err.http_status
    kind: type[StripeFailure]
    if isinstance(err, stripe.CardError):
        kind, code = CardDeclined, stripe_code or "card_declined"
    elif isinstance(err, (stripe.AuthenticationError, stripe.PermissionError)):
        kind, code = StripeAuthFailed, "stripe_authentication"
    elif isinstance(err, (stripe.InvalidRequestError, stripe.IdempotencyError)):
        kind, code = StripeRequestInvalid, stripe_code or "stripe_invalid_request"
    else:  # APIConnectionError, RateLimitError, APIError (5xx) and anything newer
        kind, code = StripeUnavailable, "stripe_unavailable"
    return kind(code, f"Stripe refused to {action} (HTTP {status}): {message}", status)

