"""The webhook endpoint: raw body, verified signature, then the bridge; answers Stripe can act on.

200: handled or deliberately ignored (Stripe stops retrying). 400: bad signature, stale
timestamp or malformed payload (a retry cannot help; Stripe shows the failure). 422: the
ledger refused the refill (an operator must look; Stripe's retries are harmless). 503: the
ledger did not answer (Stripe retries later). 411/413: missing or oversized body.
"""

from __future__ import annotations

from aiohttp import web
import structlog

from fedow_node.payments._bridge import StripeBridge
from fedow_node.payments._errors import LedgerRefused, LedgerUnavailable, WebhookRejected

log = structlog.get_logger(__name__)

WEBHOOK_PATH = "/stripe/webhook"
MAX_WEBHOOK_BYTES = 256 * 1024
"""Stripe events are a few kilobytes; anything far larger is not from Stripe."""


def webhook_routes(bridge: StripeBridge, path: str = WEBHOOK_PATH) -> list[web.RouteDef]:
    """Routes to add to the node's aiohttp application: ``app.add_routes(webhook_routes(bridge))``."""

    async def stripe_webhook(request: web.Request) -> web.Response:
        return await handle_webhook(bridge, request)

    return [web.post(path, stripe_webhook)]


async def handle_webhook(bridge: StripeBridge, request: web.Request) -> web.Response:
    """Verify the raw body as Stripe signed it (never re-serialised JSON), then let the bridge act."""
    if request.content_length is None:
        return _error(411, "length_required", "webhook requests must carry a Content-Length")
    if request.content_length > MAX_WEBHOOK_BYTES:
        return _error(413, "payload_too_large", f"webhook body is over {MAX_WEBHOOK_BYTES} bytes")
    raw_body = await request.read()
    try:
        event = bridge.verified_event(raw_body, request.headers.get("Stripe-Signature"))
        outcome = await bridge.handle_event(event)
    except WebhookRejected as err:
        log.warning("webhook_rejected", code=err.code, detail=err.detail)
        return _error(400, err.code, err.detail)
    except LedgerUnavailable as err:
        log.warning("webhook_ledger_unavailable", detail=err.detail)
        return _error(503, err.code, err.detail)
    except LedgerRefused as err:
        log.error("webhook_refill_refused", code=err.code, detail=err.detail)
        return _error(422, err.code, err.detail)
    return web.json_response({"status": outcome.status, "event_id": outcome.event_id,
                              "session_id": outcome.session_id, "detail": outcome.detail})


def _error(status: int, code: str, detail: str) -> web.Response:
    return web.json_response({"error": code, "detail": detail}, status=status)
