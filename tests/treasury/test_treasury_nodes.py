"""Treasury nodes: each signs only what its own state and the (fake) Stripe account confirm.

A co-signer refuses a payment Stripe says is unpaid, of another amount, currency or wallet,
refunded, made up, or the payment intent behind a top-up asked a second time under its own id;
it refuses what its state says is used or settled. The gatherer collects the threshold over the
protocol (in-process peers: ``treasury_world``), never asks the others what its own node
refused, checks every answer, and penalises a peer whose answer is not a valid treasury
signature; the servers penalise an asker for malformed requests and for claims Stripe
contradicts, not for honest races. Plain sync tests running asyncio (the SDK's HTTPX client
and the aiohttp fake run on it), bounded in time.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import pytest

from api_solo_node import BAR, CHAIN, SoloNode, key
from fedow_node.fake_stripe import FakeStripe
from fedow_node.payments import HOLD_KEY, PLACE_KEY, PURPOSE_KEY, REFILL_PURPOSE, WALLET_KEY, StripeApi, float_metadata
from fedow_node.treasury import CosignRefused, NotAttested
from fedow_node.treasury._protocol import decode_request, decode_response, encode_request, encode_response
from treasury_world import ASKER, TreasuryNodes, treasury_nodes
from wallet.bodies import FedBurn, FedMint, FedRelease, PayoutHold, RefundHold
from wallet.errors import Rejected
from wallet.keys import encode_address
from wallet.layout import card_wallet_id, place_wallet_id
from wallet.tx import build_unsigned, decode_tx, sign_tx

SECRET_KEY = "sk_test_treasury_nodes_fake"
WALLET = card_wallet_id(b"\1\2\3\4")
T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(scenario(), 30)
    return asyncio.run(bounded())


@dataclass
class World:
    node: SoloNode
    stripe: FakeStripe
    api: StripeApi
    treasury: TreasuryNodes

    def unsigned(self, body: Any) -> bytes:
        return build_unsigned(body.KIND, body, os.urandom(16), self.node.next_expiry())

    async def checkout(self, amount: int, wallet: bytes = WALLET, currency: str = "eur", pay: bool = True) -> dict:
        """A top-up Checkout Session as the bridge opens it (optionally paid)."""
        metadata = {PURPOSE_KEY: REFILL_PURPOSE, WALLET_KEY: encode_address(wallet)}
        session = await self.api.create_checkout_session({
            "mode": "payment", "line_items": [{"quantity": 1, "price_data": {
                "currency": currency, "unit_amount": amount, "product_data": {"name": "FED"}}}],
            "metadata": metadata, "payment_intent_data": {"metadata": metadata},
            "success_url": "https://pos.example/ok", "cancel_url": "https://pos.example/no"}, os.urandom(8).hex())
        return self.stripe.pay(session["id"]) if pay else session


@asynccontextmanager
async def world(tmp_path: Path, *, local: int | None = 0) -> AsyncIterator[World]:
    fake = FakeStripe(SECRET_KEY)
    url = await fake.start()
    node = SoloNode(tmp_path)
    api = StripeApi(SECRET_KEY, url)
    nodes = treasury_nodes(node.store, CHAIN, url, SECRET_KEY, local=local)
    try:
        yield World(node, fake, api, nodes)
    finally:
        await nodes.aclose()
        await api.aclose()
        await fake.stop()
        node.close()


async def refusal(world: World, unsigned: bytes, index: int = 0) -> CosignRefused:
    with pytest.raises(CosignRefused) as refused:
        await world.treasury.cosigners[index].cosign(unsigned)
    return refused.value


# -- one treasury node's own checks --------------------------------------------------------

def test_a_paid_checkout_is_signed_and_stripe_contradictions_are_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            paid = await w.checkout(2_500)
            key_, signature = await w.treasury.cosigners[0].cosign(w.unsigned(FedMint(paid["id"], 2_500, WALLET)))
            assert key_ == w.treasury.cosigners[0].key.public_key and len(signature) == 64

            unpaid = await w.checkout(2_500, pay=False)
            dollars = await w.checkout(2_500, currency="usd")
            refunded = await w.checkout(2_500)
            w.stripe.refund_outside(refunded["payment_intent"], 100)
            cases = [
                (FedMint(unpaid["id"], 2_500, WALLET), "not_paid"),
                (FedMint(paid["id"], 2_501, WALLET), "amount_mismatch"),
                (FedMint(dollars["id"], 2_500, WALLET), "wrong_currency"),
                (FedMint(refunded["id"], 2_500, WALLET), "refunded"),
                (FedMint(paid["id"], 2_500, place_wallet_id("bar")), "wrong_wallet"),
                (FedMint("cs_test_made_up", 2_500, WALLET), "unknown_payment"),
                (FedMint("ch_not_a_payment", 2_500, WALLET), "unknown_payment"),
                (FedMint(paid["payment_intent"], 2_500, WALLET), "wrong_purpose"),  # the top-up a second time
            ]
            for body, code in cases:
                refused = await refusal(w, w.unsigned(body))
                assert (refused.code, refused.blame > 0) == (code, True), (body, refused)
    run(scenario)


def test_a_venue_bank_transfer_is_signed_into_its_own_wallet_only(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            transfer = w.stripe.bank_transfer(90_000, float_metadata("bar", place_wallet_id("bar")))
            await w.treasury.cosigners[1].cosign(w.unsigned(FedMint(transfer["id"], 90_000, place_wallet_id("bar"))))
            refused = await refusal(w, w.unsigned(FedMint(transfer["id"], 90_000, place_wallet_id("cafe"))), 1)
            assert refused.code == "wrong_wallet"
    run(scenario)


def test_state_refusals_blame_nobody(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            genesis = await refusal(w, w.unsigned(FedMint("genesis", 1, WALLET)))
            unknown = await refusal(w, w.unsigned(FedBurn("fedow-payout-x", "tr_1", 1)))
            release = await refusal(w, w.unsigned(FedRelease("fedow-payout-x")))
            late = await refusal(w, build_unsigned("fed_mint", FedMint("cs_x", 1, WALLET), b"\0" * 16, 0))
            assert [(r.code, r.blame) for r in (genesis, unknown, release, late)] == [
                ("reference_used", 0), ("unknown_hold", 0), ("unknown_hold", 0), ("bad_expiry", 0)]
    run(scenario)


def test_a_node_whose_key_is_not_in_the_treasury_does_not_sign(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            outsider = treasury_nodes(w.node.store, CHAIN, w.stripe.url, SECRET_KEY, (key("not-treasury"),))
            try:
                paid = await w.checkout(500)
                with pytest.raises(CosignRefused) as refused:
                    await outsider.cosigners[0].cosign(w.unsigned(FedMint(paid["id"], 500, WALLET)))
                assert refused.value.code == "not_treasury_node"
            finally:
                await outsider.aclose()
    run(scenario)


def test_stripe_down_is_nobodys_fault(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            paid = await w.checkout(500)
            w.stripe.fail_with = 500
            refused = await refusal(w, w.unsigned(FedMint(paid["id"], 500, WALLET)))
            assert (refused.code, refused.blame) == ("stripe_unavailable", 0)
    run(scenario)


# -- gathering over the protocol -----------------------------------------------------------

def test_two_of_three_sign_and_the_mint_commits(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            paid = await w.checkout(1_200)
            raw = await w.treasury.gatherer.attest(w.unsigned(FedMint(paid["id"], 1_200, WALLET)))
            tx = decode_tx(raw, 4096)
            expected = {w.treasury.cosigners[0].key.public_key, w.treasury.cosigners[1].key.public_key}
            assert set(tx.signers) == expected and tx.verify_signature(CHAIN)
            assert w.treasury.network.asked == ["peer-1"]  # the threshold reached, nobody else is asked
            await w.node.submit(raw)
            assert w.node.store.height >= 1 and w.treasury.server_penalties.given == []
    run(scenario)


def test_a_node_without_a_treasury_key_gathers_from_its_peers(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path, local=None) as w:
            paid = await w.checkout(800)
            tx = decode_tx(await w.treasury.gatherer.attest(w.unsigned(FedMint(paid["id"], 800, WALLET))), 4096)
            assert len(tx.signers) == 2 and w.treasury.network.asked == ["peer-0", "peer-1"]
    run(scenario)


def test_a_refusal_at_home_asks_nobody(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            unpaid = await w.checkout(800, pay=False)
            with pytest.raises(NotAttested) as refused:
                await w.treasury.gatherer.attest(w.unsigned(FedMint(unpaid["id"], 800, WALLET)))
            assert refused.value.code == "not_paid" and w.treasury.network.asked == []
    run(scenario)


def test_peers_refusing_a_claim_penalise_the_asker_and_nothing_is_attested(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path, local=None) as w:
            unpaid = await w.checkout(800, pay=False)
            with pytest.raises(NotAttested) as refused:
                await w.treasury.gatherer.attest(w.unsigned(FedMint(unpaid["id"], 800, WALLET)))
            assert refused.value.code == "not_paid" and len(refused.value.refusals) == 3
            assert [(peer, points) for peer, points, _reason in w.treasury.server_penalties.given] == [(ASKER, 20)] * 3
    run(scenario)


def test_a_peer_answering_a_bad_signature_is_penalised_and_not_counted(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            real_ask = w.treasury.network.ask

            async def forging(peer: str, unsigned: bytes) -> bytes:
                answer = await real_ask(peer, unsigned)
                return answer if peer != "peer-1" else encode_response((decode_response(answer)[0], bytes(64)))
            w.treasury.network.ask = forging  # type: ignore[method-assign]
            paid = await w.checkout(300)
            tx = decode_tx(await w.treasury.gatherer.attest(w.unsigned(FedMint(paid["id"], 300, WALLET))), 4096)
            assert len(tx.signers) == 2 and tx.verify_signature(CHAIN)  # peer-2 made up for it
            assert [(peer, points) for peer, points, _ in w.treasury.network.penalties.given] == [("peer-1", 50)]
    run(scenario)


def test_too_few_treasury_nodes_is_unavailable_not_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.treasury.network.servers.clear()  # the other treasury nodes are down
            paid = await w.checkout(300)
            with pytest.raises(NotAttested) as refused:
                await w.treasury.gatherer.attest(w.unsigned(FedMint(paid["id"], 300, WALLET)))
            assert refused.value.code == "treasury_unavailable"
    run(scenario)


def test_malformed_requests_are_refused_and_blamed() -> None:
    assert decode_request(encode_request(b"abc")) == b"abc"
    for data in (b"\xc1", encode_request(b"abc")[:-1], b"\x92\xa4sign\xc4\x01a"):
        with pytest.raises(CosignRefused) as refused:
            decode_request(data)
        assert refused.value.blame > 0
    with pytest.raises(Rejected):
        decode_response(b"\x92\xc4\x01a\xc4\x01b")


# -- money out: the burn and the release of a hold -------------------------------------------

async def held_payout(w: World, reference: str, amount: int) -> None:
    """The bar's FED on hold for a payout (a place-signed hold on the node)."""
    body = PayoutHold(reference, amount)
    await w.node.submit(sign_tx(BAR, CHAIN, body.KIND, body, os.urandom(16), w.node.next_expiry()))


async def transfer(w: World, reference: str, amount: int, place: str = "bar") -> dict:
    return await w.api.create_transfer({"amount": amount, "currency": "eur", "destination": "acct_bar",
                                        "transfer_group": reference,
                                        "metadata": {PLACE_KEY: place, HOLD_KEY: reference}}, os.urandom(8).hex())


def test_a_burn_is_signed_only_for_the_transfer_that_paid_the_hold_out(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            await held_payout(w, "fedow-payout-1", 5_000)
            paid = await transfer(w, "fedow-payout-1", 5_000)
            await w.treasury.cosigners[0].cosign(w.unsigned(FedBurn("fedow-payout-1", paid["id"], 5_000)))
            other_group = await transfer(w, "fedow-payout-2", 5_000)
            other_place = await transfer(w, "fedow-payout-1", 5_000, place="cafe")
            reversed_ = await transfer(w, "fedow-payout-1", 5_000)
            w.stripe.reverse_transfer(reversed_["id"])
            cases = [(other_group["id"], "wrong_payout"), (other_place["id"], "wrong_payout"),
                     (reversed_["id"], "reversed"), ("tr_made_up", "unknown_payout"), ("re_1", "unknown_payout")]
            for stripe_id, code in cases:
                assert (await refusal(w, w.unsigned(FedBurn("fedow-payout-1", stripe_id, 5_000)))).code == code
            assert (await refusal(w, w.unsigned(FedBurn("fedow-payout-1", paid["id"], 4_000)))).code == \
                "amount_mismatch"  # the state's own check, before Stripe
    run(scenario)


def test_a_release_is_signed_only_when_no_money_left(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            await held_payout(w, "fedow-payout-1", 5_000)
            await w.treasury.cosigners[0].cosign(w.unsigned(FedRelease("fedow-payout-1")))  # nothing was sent
            paid = await transfer(w, "fedow-payout-1", 5_000)
            assert (await refusal(w, w.unsigned(FedRelease("fedow-payout-1")))).code == "paid_out"
            w.stripe.reverse_transfer(paid["id"])  # it all came back
            await w.treasury.cosigners[0].cosign(w.unsigned(FedRelease("fedow-payout-1")))
    run(scenario)


def test_a_refund_burn_needs_a_succeeded_refund_of_the_held_payment(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            session = await w.checkout(3_000)
            mint = await w.treasury.gatherer.attest(w.unsigned(FedMint(session["id"], 3_000, WALLET)))
            await w.node.submit(mint)
            body = RefundHold("fedow-refund-1", WALLET, 1_000, session["payment_intent"])
            await w.node.submit(sign_tx(BAR, CHAIN, body.KIND, body, os.urandom(16), w.node.next_expiry()))
            refund = await w.api.create_refund({"payment_intent": session["payment_intent"], "amount": 1_000,
                                                "metadata": {HOLD_KEY: "fedow-refund-1"}}, os.urandom(8).hex())
            await w.treasury.cosigners[2].cosign(w.unsigned(FedBurn("fedow-refund-1", refund["id"], 1_000)))
            untagged = w.stripe.refund_outside(session["payment_intent"], 1_000)
            w.stripe.fail_refund(refund["id"])
            for stripe_id, code in ((untagged["id"], "wrong_payout"), (refund["id"], "payout_failed"),
                                    ("tr_x", "unknown_payout")):
                assert (await refusal(w, w.unsigned(FedBurn("fedow-refund-1", stripe_id, 1_000)), 2)).code == code
    run(scenario)


def test_a_treasury_node_without_stripe_refuses_to_start(tmp_path: Path) -> None:
    from config import ConfigError, NodeConfig
    from api_solo_node import genesis
    from fedow_node.node import FedowNode
    with pytest.raises(ConfigError) as refused:
        FedowNode(tmp_path, NodeConfig(), genesis(), key("node"), None, key("treasury-1"))
    assert refused.value.problems[0].where == "stripe.secret_key"
