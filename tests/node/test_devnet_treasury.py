"""The treasury on a real 3-validator devnet: three processes, libp2p between them, a fake Stripe on 127.0.0.1.

A Stripe-paid refill delivered to one node is verified at Stripe and co-signed by two of the
three treasury nodes over the treasury protocol, then minted once; a payout holds the venue's
FED, transfers it at Stripe and burns it with the treasury's attestation; every node agrees.
The fake Stripe runs on this test's asyncio loop; blocking waits run in threads so it keeps
answering. Bounded in time, only this test's processes are stopped.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from fedow_node.client import FedowClient
from fedow_node.demo import STRIPE_SECRET_KEY, mint_signers, stripe_refill, stripe_section
from fedow_node.devnet import TREASURY_KEY_FILE
from fedow_node.fake_stripe import FakeStripe
from node_harness import start_net
from wallet.keys import read_key_file
from wallet.layout import card_wallet_id, place_wallet_id

pytestmark = pytest.mark.slow

DEADLINE_S = 240


def test_a_paid_refill_is_attested_by_two_treasury_nodes_and_a_payout_burnt(tmp_path: Path) -> None:
    async def scenario() -> None:
        fake = FakeStripe(STRIPE_SECRET_KEY)
        url = await fake.start()
        net = start_net(tmp_path, 3, stripe=stripe_section(url))
        try:
            await asyncio.to_thread(net.wait_height, range(3), 1, 120)
            treasury = {read_key_file(home.home / TREASURY_KEY_FILE).public_key.hex() for home in net.homes}
            home = net.homes[1]
            async with FedowClient(home.api_url, home.pos_token) as till:
                status = await till.status()
                keys = status["key_sets"]["treasury"]
                assert keys["threshold"] == 2 and set(keys["keys"]) == treasury and not status["treasury"]["single_key"]
                uid = os.urandom(7)
                assert (await till.register_cards([(uid, "TREASURY", os.urandom(16))])).committed
                session = await stripe_refill(till, home, fake, uid, 4_200, "node-refill-1")
                signers = await mint_signers(till, card_wallet_id(uid), session["id"])
                assert len(set(signers)) == 2 and set(signers) <= treasury

                payout = await till.payout("node-payout-1", 1_000)
                assert payout["ledger"] == "applied" and payout["stripe_transfer_id"] in fake.transfers
                again = await till.payout("node-payout-1", 1_000)
                assert again["ledger"] == "duplicate_reference" and len(fake.transfers) == 1
                height = (await till.status())["height"]
            await asyncio.to_thread(net.wait_height, range(3), height, 60)
            await asyncio.to_thread(net.assert_same_chain, range(3), height, 5)
            for other in net.homes:
                async with FedowClient(other.api_url, other.pos_token) as reader:
                    card = await reader.wallet(card_wallet_id(uid))
                    assert [(b["asset"], b["amount"]) for b in card["balances"]] == [("FED", 4_200)]
                    venue = await reader.wallet(place_wallet_id("venue-1"))
                    assert dict((b["asset"], b["amount"]) for b in venue["balances"])["FED"] == 1_000_000 - 1_000
        finally:
            await asyncio.to_thread(net.devnet.stop_all)
            await fake.stop()

    asyncio.run(asyncio.wait_for(scenario(), DEADLINE_S))
