"""How the bridge is wired into a node: the gateway's edges, mounting, the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from api_solo_node import ALICE, BAR, CAFE, SoloNode
from config import ApiSection, StripeSection
from fedow_node.api import build_app
from fedow_node.api.stripe_routes import STRIPE_PATHS, stripe_routes
from fedow_node.payments import (LedgerRefused, NodeLedger, PaymentConfigError, StripeBridge, Submitted,
                                 node_bridge, stripe_enabled)
from fedow_node.treasury import NotAttested
from node_world import PAYOUT_ACCOUNT, card_wallet, node_world, stripe_section
from payments_world import config_for, run


class NoTreasury:
    """A node that could gather no treasury signature (the wiring tests never get that far)."""

    async def attest(self, unsigned: bytes) -> bytes:
        raise NotAttested("treasury_unavailable", "no treasury node in this test")


def test_a_node_without_both_secrets_has_no_bridge_and_no_stripe_route(tmp_path: Path) -> None:
    async def scenario() -> None:
        node = SoloNode(tmp_path)
        try:
            assert not stripe_enabled(StripeSection())
            assert node_bridge(StripeSection(), node, NoTreasury()) is None
            app = build_app(node, ApiSection())
            assert not any(route.resource is not None and route.resource.canonical in STRIPE_PATHS
                           for route in app.router.routes())
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            async with aiohttp.ClientSession() as http:
                async with http.post(str(server.make_url("/v1/stripe/webhook")), data=b"{}") as response:
                    assert response.status == 404
            await server.close()
        finally:
            node.close()
    run(scenario)


def test_stripe_needs_a_place_key_and_complete_settings(tmp_path: Path) -> None:
    node = SoloNode(tmp_path, place_key=None)
    try:
        with pytest.raises(PaymentConfigError) as no_key:
            node_bridge(stripe_section("http://127.0.0.1:9"), node, NoTreasury())
        assert "place key" in no_key.value.detail
        node.place_key = ALICE  # a key, but no place's
        with pytest.raises(PaymentConfigError) as no_place:
            node_bridge(stripe_section("http://127.0.0.1:9"), node, NoTreasury())
        assert "not the key of any place" in no_place.value.detail
        incomplete = StripeSection(secret_key=stripe_section("").secret_key,
                                   webhook_secret=stripe_section("").webhook_secret)
        with pytest.raises(PaymentConfigError) as no_url:
            node_bridge(incomplete, node, NoTreasury())
        assert "success_url" in no_url.value.detail
    finally:
        node.close()


def test_openapi_documents_the_stripe_routes(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            status, document = await world.call("/v1/openapi.json", method="GET", token=None)
            assert status == 200
            for path in STRIPE_PATHS:
                operation = document["paths"][path]["post"]
                assert operation["tags"] == ["stripe"] and operation["summary"]
                assert ("security" in operation) == (path != "/v1/stripe/webhook")
            checkout = document["paths"]["/v1/stripe/checkout"]["post"]
            assert checkout["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
            assert "/v1/pos/sales" in document["paths"]  # the rest of the API is still there
    run(scenario)


def test_gateway_signs_holds_for_its_own_place_and_has_mints_attested(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path) as world:
            ledger = world.ledger
            assert await ledger.held("fedow-payout-x") is None
            for call in (ledger.hold_for_payout("cafe", 1, "fedow-payout-x"), ledger.place_payout_account("cafe")):
                with pytest.raises(LedgerRefused) as other_place:
                    await call
                assert other_place.value.code == "wrong_place"
            assert await ledger.place_payout_account("bar") == PAYOUT_ACCOUNT

            session = world.stripe.pay((await world.checkout("refill-w", 700))["session_id"])
            assert await ledger.attest_mint(card_wallet(1), 700, session["id"]) is Submitted.APPLIED
            assert await ledger.attest_mint(card_wallet(1), 700, session["id"]) is Submitted.DUPLICATE_REFERENCE
            cafe_ledger = NodeLedger(world.node, CAFE, world.treasury.gatherer)  # another place, the same chain
            assert await cafe_ledger.attest_mint(card_wallet(1), 700, session["id"]) is Submitted.DUPLICATE_REFERENCE
            assert await ledger.wallet_fed_balance(card_wallet(1)) == 700
            with pytest.raises(LedgerRefused) as made_up:
                await ledger.attest_mint(card_wallet(1), 700, "cs_made_up")
            assert made_up.value.code == "unknown_payment"

            with pytest.raises(LedgerRefused) as overdraft:
                await ledger.hold_for_refund(ALICE.public_key, 60_000, "fedow-refund-big", "pi_1")
            assert overdraft.value.code == "overdraft"
            assert await ledger.held("fedow-refund-big") is None  # a refused hold spends no reference
    run(scenario)


def test_no_commit_in_time_answers_503_and_stripes_retry_credits_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with node_world(tmp_path, auto_commit=False) as world:
            slow = StripeBridge(config_for(world.stripe.url),
                                NodeLedger(world.node, BAR, world.treasury.gatherer, commit_timeout_s=0.2), "bar")
            server = TestServer(build_app(world.node, ApiSection(), extra_routes=stripe_routes(slow)),
                                host="127.0.0.1")
            await server.start_server()
            world.urls.append(str(server.make_url("")).rstrip("/"))
            try:
                link = await world.checkout("refill-slow", 1_200)
                event = world.stripe.event(world.stripe.pay(link["session_id"]))
                status, body = await world.deliver(event, app=1)
                assert (status, body["error"]) == (503, "ledger_unavailable")
                world.node.commit()  # the refill was in the mempool: it lands late
                status, body = await world.deliver(event, app=1)  # Stripe retries the same event
                assert (status, body["status"]) == (200, "already_credited")
                assert world.fed(card_wallet(1)) == 1_200
            finally:
                await slow.aclose()
                await server.close()
    run(scenario)
