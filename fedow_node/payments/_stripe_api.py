"""The one place that touches the Stripe SDK: async calls, closed client, errors translated.

Uses ``stripe.StripeClient`` with the SDK's ``AIOHTTPClient`` (so calls run on the asyncio
loop of the HTTP API) and no SDK-side retries: every call that moves money carries an
idempotency key chosen by the caller, and retrying is the caller's decision.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import aiohttp
import stripe
import structlog

from fedow_node.payments._config import StripeConfig
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

_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)


class StripeApi:
    """Async Stripe calls used by the bridge; each returns the Stripe object as a plain dict."""

    def __init__(self, config: StripeConfig) -> None:
        self._api_base = config.api_base
        self._http = stripe.AIOHTTPClient(timeout=_HTTP_TIMEOUT)
        bases = {"api": config.api_base, "connect": config.api_base, "files": config.api_base}
        self._client = stripe.StripeClient(
            config.secret_key,
            base_addresses=bases if config.api_base else None,  # type: ignore[arg-type]
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
        A payment has few refunds: one page of 100 holds them all.
        """
        with _translated("list refunds"):
            page = await self._client.v1.refunds.list_async({"payment_intent": payment_intent, "limit": 100})
        refunds = [refund.to_dict() for refund in page.data]
        return next((refund for refund in refunds
                     if (refund.get("metadata") or {}).get(metadata_key) == metadata_value), None)

    async def find_transfer(self, transfer_group: str) -> dict[str, Any] | None:
        """The transfer made for ``transfer_group`` (one per payout), if one exists."""
        with _translated("list transfers"):
            page = await self._client.v1.transfers.list_async({"transfer_group": transfer_group, "limit": 1})
        return page.data[0].to_dict() if page.data else None

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

