"""A scripted festival day on a local devnet, through the POS HTTP API of several venues, then an audit.

What the README's main command runs: four validator processes on 127.0.0.1 (one
per venue; three of them hold the treasury's keys, 2-of-3), and a fake of
Stripe's API on 127.0.0.1 run by the demo itself (there is no internet here:
the nodes talk to it with the official Stripe SDK, as they would to Stripe).
Cards registered; cash refills out of a venue's FED float; a Stripe-paid refill
that two treasury nodes verify at "Stripe" and co-sign; a venue buying float by
bank transfer; sales at three venues of the federation; the local melting
currency, a membership, a badge check-in, a card linked to a festival-goer's
wallet and a transfer; a cash refund that goes back into the venue's float; a
payout to a venue's bank (FED on hold, Stripe transfer, burn attested by the
treasury); two tills racing to spend the same money (exactly one wins, on every
node); a governance action needing 2 of the 3 authority keys (one alone is
refused), and idle cards' FED melting, split four ways. The validators are then
stopped, the chain of each one is replayed from
genesis by the auditor, and the FED trail is reconciled with the Stripe account.
The devnet then runs again, and the demo ends by printing the dashboard URL of
venue 0 (its figures are the day's).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import stripe

from config import Secret, StripeSection
from fedow_node.audit import MoneyTrail, StoreSource, audit_chain, reconcile_stripe
from fedow_node.client import ApiRefused, FedowClient, Submission
from fedow_node.devnet import (AUTHORITY_THRESHOLD, TREASURY_KEY_FILE, Devnet, NodeHome, Ports, authority_keys,
                               prepare_devnet)
from fedow_node.fake_stripe import FakeStripe
from fedow_node.node import NodeFiles
from fedow_node.payments import StripeApi, float_metadata
from storage import Store
from wallet.bodies import CreatePlace, FederationPlace
from wallet.keys import SigningKey, read_key_file
from wallet.layout import card_wallet_id, place_wallet_id
from wallet.tx import combine, cosign

Say = Callable[[str], None]

STRIPE_SECRET_KEY = "sk_test_fedow_demo_local_fake"
STRIPE_WEBHOOK_SECRET = "whsec_fedow_demo_local_fake"
"""The demo's own fake Stripe accepts these; they are no real keys."""


def _card() -> tuple[bytes, str, bytes]:
    """A new card: 7-byte UID, 8-character printed number, 16-byte QR id."""
    uid = os.urandom(7)
    number = "".join("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"[b % 34] for b in os.urandom(8))
    return uid, number, os.urandom(16)


async def _committed(client: FedowClient, submission: Submission) -> Submission:
    if not submission.committed:
        submission = await client.wait_committed(submission.txid, 60.0)
    if not submission.committed:
        raise RuntimeError(f"transaction {submission.txid} was not committed: {submission}")
    return submission


async def _balance(client: FedowClient, uid: bytes, asset: str) -> int:
    wallet = (await client.card(uid))["paying_wallet"]
    return next((b["amount"] for b in wallet["balances"] if b["asset"] == asset), 0)


async def _wait_started(homes: Sequence[NodeHome], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    for home in homes:
        async with FedowClient(home.api_url) as client:
            while True:
                try:
                    if (await client.status())["height"] >= 1:
                        break
                except (ApiRefused, aiohttp.ClientError, OSError):  # not listening yet
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{home.api_url} did not commit a block within {timeout}s")
                await asyncio.sleep(0.2)


async def _float(client: FedowClient, place_id: str) -> int:
    """A venue's FED float: what its wallet holds (what it can sell for cash)."""
    wallet = await client.wallet(place_wallet_id(place_id))
    return next((b["amount"] for b in wallet["balances"] if b["asset"] == "FED"), 0)


async def stripe_refill(till: FedowClient, node: NodeHome, fake: FakeStripe, uid: bytes, amount: int,
                         refill_id: str) -> dict[str, Any]:
    """A card topped up by card payment: checkout, the payer pays, Stripe's signed webhook to the node."""
    link = await till.stripe_checkout(refill_id, amount, uid=uid)
    session = fake.pay(link["session_id"])
    body = json.dumps(fake.event(session))
    header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_WEBHOOK_SECRET)
    async with aiohttp.ClientSession() as http:
        async with http.post(node.api_url + "/v1/stripe/webhook", data=body.encode(),
                             headers={"Content-Type": "application/json", "Stripe-Signature": header}) as answer:
            outcome = await answer.json()
    if outcome.get("status") != "credited":
        raise RuntimeError(f"the webhook of {link['session_id']} was not credited: {outcome}")
    return session


async def mint_signers(client: FedowClient, wallet: bytes, reference: str) -> list[str]:
    """The treasury keys that co-signed the mint of ``reference`` into ``wallet`` (from its history)."""
    async for entry in client.history_all(wallet):
        if entry["kind"] == "fed_mint" and entry["body"]["payment_ref"] == reference:
            tx = (await client.tx(entry["txid"]))["tx"]
            return [signature["public_key"] for signature in tx["signatures"]]
    raise RuntimeError(f"no fed_mint of {reference} in the history of {wallet.hex()}")


async def festival_day(homes: Sequence[NodeHome], fake: FakeStripe, say: Say) -> dict[str, Any]:
    """Run the day through the tills of venues 0, 1 and 2; returns figures for the summary."""
    tills = [FedowClient(home.api_url, home.pos_token) for home in homes[:3]]
    bar, food, stage = tills
    treasury_of = {read_key_file(home.home / TREASURY_KEY_FILE).public_key.hex(): home.index for home in homes
                   if (home.home / TREASURY_KEY_FILE).exists()}
    try:
        cards = [_card() for _ in range(6)]
        await _committed(bar, await bar.register_cards(cards[:3]))
        await _committed(food, await food.register_cards(cards[3:]))
        say(f"venue-0 and venue-1 registered {len(cards)} NFC cards")
        uids = [uid for uid, _number, _qr in cards]

        for uid in uids[:3]:
            await _committed(bar, await bar.refill("FED", 5_000, uid=uid))
        say(f"cash refills of 50.00 FED at venue-0, out of its FED float (a venue sells only FED it holds; "
            f"{await _float(bar, 'venue-0') / 100:.2f} left)")
        sessions = [await stripe_refill(food, homes[1], fake, uid, 3_000, f"demo-{os.urandom(4).hex()}-{index}")
                    for index, uid in enumerate(uids[3:])]
        signers = await mint_signers(food, card_wallet_id(uids[3]), sessions[0]["id"])
        say(f"card payments of 30.00 FED at venue-1 ({len(sessions)} Stripe checkouts): each webhook only asks; "
            f"treasury keys of nodes {sorted(treasury_of.get(key, '?') for key in signers)} each verified the "
            f"session at Stripe and co-signed the mint ({len(signers)} of {len(treasury_of)})")
        transfer = fake.bank_transfer(200_000, float_metadata("venue-2", place_wallet_id("venue-2")))
        bought = await stage.buy_float(transfer["id"])
        say(f"venue-2 bought {bought['amount'] / 100:.2f} FED of float by bank transfer ({transfer['id']}): the "
            f"treasury verified it at Stripe and minted it into its wallet (float now "
            f"{await _float(stage, 'venue-2') / 100:.2f})")
        await _committed(bar, await bar.refill("MLT", 2_000, uid=uids[0]))
        say("venue-0 sold 20.00 of its local melting currency (MLT) to card 0")

        sales = [(bar, uids[0], "FED", 450), (food, uids[1], "FED", 1_200), (stage, uids[3], "FED", 800),
                 (bar, uids[0], "MLT", 350), (stage, uids[4], "FED", 600)]
        for till, uid, asset, amount in sales:
            await _committed(till, await till.sale(uid, asset, amount))
        say(f"{len(sales)} sales at venue-0 (bar), venue-1 (food) and venue-2 (stage), FED accepted federation-wide")

        await _committed(bar, await bar.grant_membership("MEMBER", "year", 1, uid=uids[2]))
        member = await bar.membership(card_wallet_id(uids[2]), "MEMBER")
        await _committed(bar, await bar.badge(uids[2], "BADGE"))
        say(f"card 2: yearly membership granted (active: {member['active']}) and a badge check-in")

        goer, friend = SigningKey.generate(), SigningKey.generate()
        await _committed(stage, await stage.link_card(goer, cards[5][1]))
        await _committed(stage, await stage.transfer(goer, friend.public_key, "FED", 700))
        say("a festival-goer linked card 5 to their wallet (its 30.00 FED fused) and sent 7.00 FED to a friend")

        await _committed(food, await food.refund(uids[4], "FED", 400))
        say("venue-1 refunded 4.00 FED of card 4 in cash: the 4.00 FED went back into its float, the venue that "
            f"paid the cash out is whole (float now {await _float(food, 'venue-1') / 100:.2f})")

        payout = await bar.payout(f"demo-{os.urandom(4).hex()}", 10_000)
        say(f"venue-0 paid {payout['amount'] / 100:.2f} FED out to its bank: held on the ledger (not spendable), "
            f"Stripe transfer {payout['stripe_transfer_id']}, then burnt with the treasury's attestation "
            f"(ledger: {payout['ledger']}; float now {await _float(bar, 'venue-0') / 100:.2f})")

        racing = uids[1]
        left = await _balance(bar, racing, "FED")
        price = left // 2 + 100
        outcomes = await asyncio.gather(bar.sale(racing, "FED", price), food.sale(racing, "FED", price),
                                        return_exceptions=True)
        settled = [await _settle(till, outcome) for till, outcome in zip((bar, food), outcomes)]
        wins = settled.count("committed")
        say(f"two tills sold {price / 100:.2f} FED each from card 1 at the same instant with {left / 100:.2f} "
            f"left: {wins} committed, the other {[s for s in settled if s != 'committed']}")
        if wins != 1:
            raise RuntimeError(f"double spend race: expected exactly one sale, got {settled}")
        return {"cards": len(cards), "race_balances": await _agreed_balances(homes, racing)}
    finally:
        for till in tills:
            await till.close()


async def governance_by_threshold(home: NodeHome, authorities: Sequence[SigningKey], say: Say) -> None:
    """A new venue joins: each authority signs on its own (here, in turn); one signature is refused."""
    async with FedowClient(home.api_url) as client:
        venue = SigningKey.generate()
        chain_id, unsigned = await client.unsigned(CreatePlace("la-buvette", "La buvette", venue.public_key))
        first = cosign(authorities[0], chain_id, unsigned)
        try:
            await client.submit(combine(unsigned, [first]))
        except ApiRefused as exc:
            say(f"one authority alone tried to create place la-buvette: refused ({exc.code})")
        else:
            raise RuntimeError("a single authority created a place")
        signatures = [first] + [cosign(key, chain_id, unsigned) for key in authorities[1:AUTHORITY_THRESHOLD]]
        await _committed(client, await client.submit(combine(unsigned, signatures)))
        chain_id, unsigned = await client.unsigned(FederationPlace("devnet", "la-buvette", True))
        await _committed(client, await client.submit(combine(unsigned, [cosign(key, chain_id, unsigned)
                                                                        for key in authorities[:AUTHORITY_THRESHOLD]])))
        say(f"{AUTHORITY_THRESHOLD} of the {len(authorities)} authorities co-signed: place la-buvette created "
            "and admitted to the devnet federation")


async def fed_melting(homes: Sequence[NodeHome], say: Say, timeout_s: float = 120.0) -> dict[str, int]:
    """Wait until idle cards' FED melts (devnet: 15 s unused, then 2% per 5 s); show where it went."""
    async with FedowClient(homes[0].api_url, homes[0].pos_token) as client:  # wallet reads need a token
        places = [home.place_id for home in homes if home.place_id is not None]
        validators = [home.public_key for home in homes if home.place_id is not None]

        async def holdings() -> dict[str, int]:
            pools = (await client.asset("FED"))["pools"]
            return {"the cards' places": sum([await _wallet_fed(client, place_wallet_id(p)) for p in places]),
                    "the common fund": pools["common"], "the maintenance fund": pools["dev"],
                    "the validators (by stake)": pools["validators"]
                    + sum([await _wallet_fed(client, key) for key in validators])}

        before = await holdings()
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            await asyncio.sleep(1.0)
            gained = {who: amount - before[who] for who, amount in (await holdings()).items()}
            if all(amount > 0 for amount in gained.values()):
                break
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"FED did not melt four ways within {timeout_s}s: {gained}")
        say("idle cards' FED melted (devnet: after 15 s unused, 2% per 5 s); it went to "
            + ", ".join(f"{who} +{amount / 100:.2f}" for who, amount in gained.items()))
        return gained


async def _wallet_fed(client: FedowClient, wallet: bytes) -> int:
    balances = (await client.wallet(wallet))["balances"]
    return next((b["amount"] for b in balances if b["asset"] == "FED"), 0)


async def _settle(till: FedowClient, outcome: Submission | BaseException) -> str:
    if isinstance(outcome, ApiRefused):
        return outcome.code
    if isinstance(outcome, BaseException):
        raise outcome
    try:
        return (await till.wait_committed(outcome.txid, 30.0)).status if not outcome.committed else "committed"
    except ApiRefused as exc:
        return exc.code


async def _agreed_balances(homes: Sequence[NodeHome], uid: bytes) -> list[int]:
    """Card 1's balance as each node sees it, once every node has caught up with node 0."""
    clients = [FedowClient(home.api_url, home.pos_token) for home in homes]
    try:
        target = (await clients[0].status())["height"]
        for client in clients:
            while (await client.status())["height"] < target:
                await asyncio.sleep(0.1)
        return [await _balance(client, uid, "FED") for client in clients]
    finally:
        for client in clients:
            await client.close()


def _serve_dashboard(homes: Sequence[NodeHome], say: Say) -> None:
    """Run the devnet again after the audit so the dashboard can be opened; stop on Ctrl-C or SIGTERM."""
    with Devnet(homes) as devnet:
        devnet.start_all()
        asyncio.run(_wait_started(homes))
        say(f"dashboard of venue-0 (Ctrl-C stops the devnet): {homes[0].dashboard_url}")
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops it like Ctrl-C
        try:
            while not devnet.exited():
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
        finally:
            devnet.stop_all()


def run_demo(data: Path, validators: int, ports: Ports, say: Say = print, serve: bool = True) -> int:
    if validators < 3:
        raise ValueError("the demo needs at least 3 validators (three venues' tills, a 2-of-3 treasury)")
    code = asyncio.run(_demo(data, validators, ports, say))
    homes = prepare_devnet(data, validators, ports)  # the same homes, Stripe off: the fake is gone
    if serve:
        _serve_dashboard(homes, say)
    else:
        say(f"dashboard of venue-0 (run `fedow-node devnet --data {data}` to serve it again): "
            f"{homes[0].dashboard_url}")
    return code


def stripe_section(api_base: str) -> StripeSection:
    """The devnet's ``[stripe]`` for the demo's fake Stripe at ``api_base`` (payout accounts: per venue)."""
    return StripeSection(secret_key=Secret(STRIPE_SECRET_KEY), webhook_secret=Secret(STRIPE_WEBHOOK_SECRET),
                         api_base=api_base, success_url="https://pos.example/ok", cancel_url="https://pos.example/cancel")


async def _demo(data: Path, validators: int, ports: Ports, say: Say) -> int:
    fake = FakeStripe(STRIPE_SECRET_KEY)
    url = await fake.start()
    say(f"Stripe: a fake of Stripe's API on {url}, run by this demo (no internet here); the nodes call it with "
        "the official Stripe SDK, as they would call Stripe")
    try:
        homes = prepare_devnet(data, validators, ports, stripe=stripe_section(url))
        say(f"devnet: {validators} validators on 127.0.0.1 (nodes 0-2 hold the 2-of-3 treasury keys), "
            f"data in {data.absolute()}")
        with Devnet(homes) as devnet:
            devnet.start_all()
            await _wait_started(homes)
            figures = await festival_day(homes, fake, say)
            say("every node committed the same outcome of the race" if len(set(figures["race_balances"])) == 1
                else f"nodes disagree: {figures['race_balances']}")
            await governance_by_threshold(homes[0], authority_keys(data), say)
            await fed_melting(homes, say)
            codes = devnet.stop_all()
        say(f"validators stopped ({codes}); auditing each node's chain from genesis")
        trail = MoneyTrail()
        for home in homes:
            with Store.open(NodeFiles(home.home / "data").store) as store:
                report = audit_chain(StoreSource(store), jobs=os.cpu_count() or 1,
                                     trail=trail if home.index == 0 else None)
            say(f"  node{home.index}: {report.blocks} blocks, {report.txs} txs verified ({report.tx_per_s:,.0f} tx/s), "
                f"state hash {report.state_hash[:16]} match={report.state_hash_match}, "
                f"invariants ok={report.invariants_ok}, FED in circulation {report.fed_circulation / 100:.2f} = "
                f"attested {report.fed_attested_minted / 100:.2f} minted - {report.fed_attested_burnt / 100:.2f} burnt")
        api = StripeApi(STRIPE_SECRET_KEY, url)
        try:
            result = await reconcile_stripe(trail, api)
        finally:
            await api.aclose()
        say(f"audit --stripe (against the fake Stripe): {'reconciled' if result.reconciled else 'DISCREPANCIES'}: "
            f"{result.payments_minted} payments minted once, {result.payouts_burnt} payouts burnt once"
            + "".join(f"\n    {item.reference}: {item.code}: {item.detail}" for item in result.discrepancies))
        return 0 if result.reconciled else 1
    finally:
        await fake.stop()
