"""The test world: a fake Stripe, an in-memory ledger, and N nodes' bridges with webhook servers.

Everything runs on an asyncio loop started by :func:`run` inside a plain (sync) test, because
aiohttp (the fake Stripe, the webhook servers) needs asyncio while pytest-trio runs async tests under trio.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import aiohttp
import stripe
from aiohttp import web

from fedow_node.fake_stripe import FakeStripe
from fedow_node.payments import (
    CardDeclined, RefillRequest, StripeAuthFailed, StripeBridge, StripeConfig, StripeRequestInvalid,
    StripeUnavailable, webhook_routes,
)
from memory_ledger import MemoryLedger
from wallet.keys import encode_address

SECRET_KEY = "sk_test_FEDOWsecretKEYneverLOGGED42"
WEBHOOK_SECRET = "whsec_FEDOWwebhookSECRETneverLOGGED7"
WALLET = bytes(range(32))
OTHER_WALLET = bytes(range(1, 33))
SCENARIO_DEADLINE_S = 20

STRIPE_REFUSALS = [(402, CardDeclined), (400, StripeRequestInvalid)]
"""Stripe refusing the request itself: a refund or payout is then over (its hold released)."""
STRIPE_RETRYABLE = [(401, StripeAuthFailed), (500, StripeUnavailable)]
"""Stripe not answering, or refusing the node's key: retrying the same request finishes it."""
STRIPE_ERROR_MODES = STRIPE_REFUSALS + STRIPE_RETRYABLE
"""The fake's error modes and the payment error each must become."""

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run an asyncio scenario to completion from a sync test, bounded in time."""
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), SCENARIO_DEADLINE_S)
    return asyncio.run(bounded())


def config_for(api_base: str) -> StripeConfig:
    return StripeConfig(secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, api_base=api_base,
                        success_url="https://pos.example/refill/ok", cancel_url="https://pos.example/refill/cancel")


@dataclass
class World:
    stripe: FakeStripe
    ledger: MemoryLedger
    bridges: list[StripeBridge]
    webhook_urls: list[str]
    http: aiohttp.ClientSession

    async def deliver(self, event: dict[str, Any], node: int = 0, *, timestamp: int | None = None,
                      secret: str = WEBHOOK_SECRET, body: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST an event to a node's webhook, signed as Stripe would (or as told)."""
        payload = json.dumps(event) if body is None else body
        header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
        return await self.post(node, payload.encode(), {"Stripe-Signature": header})

    async def post(self, node: int, raw: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.webhook_urls[node], data=raw,
                                  headers={"Content-Type": "application/json", **headers}) as response:
            return response.status, await response.json()

    async def paid_refill(self, refill_id: str = "refill-1", amount: int = 2_500,
                          wallet: bytes = WALLET) -> dict[str, Any]:
        """Open a checkout through node 0 and pay it: the session as Stripe now sees it."""
        link = await self.bridges[0].start_refill(RefillRequest(refill_id, wallet, amount))
        return self.stripe.pay(link.session_id)


@asynccontextmanager
async def stripe_world(nodes: int = 1) -> AsyncIterator[World]:
    fake = FakeStripe(SECRET_KEY)
    url = await fake.start()
    ledger = MemoryLedger()
    bridges = [StripeBridge(config_for(url), ledger, place_id=f"place-{i}") for i in range(nodes)]
    runners: list[web.AppRunner] = []
    webhook_urls = []
    for bridge in bridges:
        app = web.Application()
        app.add_routes(webhook_routes(bridge))
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        webhook_urls.append(f"http://127.0.0.1:{runner.addresses[0][1]}/stripe/webhook")
    try:
        async with aiohttp.ClientSession() as http:
            yield World(fake, ledger, bridges, webhook_urls, http)
    finally:
        for bridge in bridges:
            await bridge.aclose()
        for runner in runners:
            await runner.cleanup()
        await fake.stop()


def paid_session_event(event_id: str, session_id: str, amount: int, wallet: bytes,
                       event_type: str = "checkout.session.completed") -> dict[str, Any]:
    """A webhook event for a paid FED refill session, built without the fake server."""
    return {"id": event_id, "object": "event", "type": event_type, "data": {"object": {
        "id": session_id, "object": "checkout.session", "payment_status": "paid", "currency": "eur",
        "amount_total": amount, "metadata": {
            "fedow_purpose": "fed_refill", "fedow_refill_id": f"refill-{session_id}",
            "fedow_wallet": encode_address(wallet), "fedow_place": "place-0"}}}}


def stale_timestamp() -> int:
    """A signature time just outside Stripe's 300 s tolerance."""
    return int(time.time()) - 301
