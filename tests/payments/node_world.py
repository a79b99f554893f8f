"""End-to-end world: a solo node (real ledger + LevelDB) behind the real API with the Stripe routes.

Several API apps may serve the one node, each with its own bridge (its own memory of handled
webhook events): that is what several nodes sharing one chain look like to Stripe. Every FED
mint and burn is co-signed by a 2-of-3 treasury of in-process treasury nodes (tests/treasury),
each verifying at the fake Stripe with the SDK. Every server listens on 127.0.0.1. Scenarios
run on asyncio from plain sync tests (see payments_world.run); conftest.py puts tests/api and
tests/treasury on the path.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
import stripe
from aiohttp.test_utils import TestServer

from api_solo_node import BAR, SoloNode
from config import ApiSection, Secret, StripeSection
from fedow_node.fake_stripe import FakeStripe
from fedow_node.api import build_app, create_token, tokens_path
from fedow_node.api.stripe_routes import stripe_routes
from fedow_node.payments import NodeLedger, StripeBridge, node_bridge
from payments_world import SECRET_KEY, WEBHOOK_SECRET
from treasury_world import TreasuryNodes, treasury_nodes
from wallet import layout, queries
from wallet.records import Balance, FedBacking
from wallet.state import read_one

PAYOUT_ACCOUNT = "acct_bar_fake"
BAR_WALLET = layout.place_wallet_id("bar")


def stripe_section(api_base: str) -> StripeSection:
    return StripeSection(secret_key=Secret(SECRET_KEY), webhook_secret=Secret(WEBHOOK_SECRET), api_base=api_base,
                         success_url="https://pos.example/ok", cancel_url="https://pos.example/cancel")


def card_uid(n: int) -> bytes:
    return n.to_bytes(4, "big")


@dataclass
class NodeWorld:
    node: SoloNode
    stripe: FakeStripe
    bridges: list[StripeBridge]
    urls: list[str]
    """Base URL of each API app (all over the one node)."""
    token: str
    http: aiohttp.ClientSession
    treasury: TreasuryNodes

    async def call(self, path: str, payload: Any = None, *, app: int = 0, token: str | None = "bar",
                   method: str = "POST") -> tuple[int, Any]:
        headers = {} if token is None else {"Authorization": f"Bearer {self.token if token == 'bar' else token}"}
        async with self.http.request(method, self.urls[app] + path, json=payload, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    async def deliver(self, event: dict[str, Any], *, app: int = 0, timestamp: int | None = None,
                      secret: str = WEBHOOK_SECRET, signed_body: str | None = None) -> tuple[int, Any]:
        """POST ``event`` to an app's webhook, signed as Stripe would (or over ``signed_body``)."""
        body = json.dumps(event)
        header = stripe.WebhookSignature.generate_signature_header(signed_body or body, secret, timestamp)
        async with self.http.post(self.urls[app] + "/v1/stripe/webhook", data=body.encode(),
                                  headers={"Content-Type": "application/json", "Stripe-Signature": header}) as response:
            return response.status, await response.json()

    async def checkout(self, refill_id: str, amount: int, card: int = 1) -> dict[str, Any]:
        status, body = await self.call("/v1/stripe/checkout", {"refill_id": refill_id, "amount": amount,
                                                               "uid": card_uid(card).hex()})
        assert status == 200, body
        return body

    async def refilled_card(self, refill_id: str, amount: int, card: int = 1) -> dict[str, Any]:
        """Checkout, pay, webhook: the card holds ``amount`` more FED; the paid session."""
        link = await self.checkout(refill_id, amount, card)
        session = self.stripe.pay(link["session_id"])
        status, body = await self.deliver(self.stripe.event(session))
        assert (status, body["status"]) == (200, "credited"), body
        return session

    @property
    def ledger(self) -> NodeLedger:
        """The node's gateway, as the bridges use it (to read the reference index)."""
        return NodeLedger(self.node, BAR, self.treasury.gatherer, payout_accounts={"bar": PAYOUT_ACCOUNT})

    def fed(self, wallet_id: bytes) -> int:
        record = read_one(self.node.store, layout.balance(wallet_id, "FED"), Balance)
        return 0 if record is None else record.amount

    def backing(self) -> FedBacking:
        return queries.fed_backing(self.node.store)

    def ledger_mark(self) -> tuple[int, bytes]:
        """Height and state hash: equal before and after means the ledger is untouched."""
        return self.node.store.height, self.node.store.state_hash


def card_wallet(n: int) -> bytes:
    return layout.card_wallet_id(card_uid(n))


@asynccontextmanager
async def node_world(home: Path, apps: int = 1, *, auto_commit: bool = True,
                     payout_account: str | None = PAYOUT_ACCOUNT) -> AsyncIterator[NodeWorld]:
    """A solo node with the bar's cards 1-3 registered, ``apps`` API apps with Stripe routes, the fake Stripe."""
    fake = FakeStripe(SECRET_KEY)
    stripe_url = await fake.start()
    node = SoloNode(home, BAR)
    treasury = treasury_nodes(node.store, node.chain_id, stripe_url, SECRET_KEY)
    _entry, token = create_token(tokens_path(home), "bar", 0)
    bridges: list[StripeBridge] = []
    servers: list[TestServer] = []
    try:
        for _ in range(apps):
            bridge = node_bridge(stripe_section(stripe_url), node, treasury.gatherer, payout_account=payout_account)
            assert bridge is not None
            bridges.append(bridge)
            server = TestServer(build_app(node, ApiSection(), extra_routes=stripe_routes(bridge)), host="127.0.0.1")
            await server.start_server()
            servers.append(server)
        urls = [str(server.make_url("")).rstrip("/") for server in servers]
        async with aiohttp.ClientSession() as http:
            world = NodeWorld(node, fake, bridges, urls, token, http, treasury)
            cards = [{"uid": card_uid(n).hex(), "number": f"{n:08d}", "qr_id": n.to_bytes(16, "big").hex()}
                     for n in (1, 2, 3)]
            status, body = await world.call("/v1/pos/cards?wait=commit", {"cards": cards})
            assert status == 200, body
            node.auto_commit = auto_commit
            yield world
    finally:
        for bridge in bridges:
            await bridge.aclose()
        for server in servers:
            await server.close()
        await treasury.aclose()
        await fake.stop()
        node.close()
