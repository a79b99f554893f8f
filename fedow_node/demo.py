"""A scripted festival day on a local devnet, through the POS HTTP API of several venues, then an audit.

What the README's main command runs: four validator processes on 127.0.0.1 (one
per venue), cards registered, cash and online (Stripe-paid) refills, sales at
three venues of the federation, the local melting currency, a membership, a
badge check-in, a card linked to a festival-goer's wallet and a transfer, a
refund, and two tills racing to spend the same money (exactly one wins, on
every node). The validators are then stopped and the chain of each one is
replayed from genesis by the auditor. The devnet then runs again, and the
demo ends by printing the dashboard URL of venue 0 (its figures are the day's).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from fedow_node.audit import StoreSource, audit_chain
from fedow_node.client import ApiRefused, FedowClient, Submission
from fedow_node.devnet import Devnet, NodeHome, Ports, prepare_devnet
from fedow_node.node import NodeFiles
from storage import Store
from wallet.keys import SigningKey
from wallet.layout import card_wallet_id

Say = Callable[[str], None]


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


async def festival_day(homes: Sequence[NodeHome], say: Say) -> dict[str, Any]:
    """Run the day through the tills of venues 0, 1 and 2; returns figures for the summary."""
    tills = [FedowClient(home.api_url, home.pos_token) for home in homes[:3]]
    bar, food, stage = tills
    try:
        cards = [_card() for _ in range(6)]
        await _committed(bar, await bar.register_cards(cards[:3]))
        await _committed(food, await food.register_cards(cards[3:]))
        say(f"venue-0 and venue-1 registered {len(cards)} NFC cards")
        uids = [uid for uid, _number, _qr in cards]

        for uid in uids[:3]:
            await _committed(bar, await bar.refill("FED", 5_000, uid=uid))
        for index, uid in enumerate(uids[3:]):
            await _committed(food, await food.fed_refill(3_000, f"cs_demo_{os.urandom(6).hex()}_{index}", uid=uid))
        say("cash refills of 50.00 FED at venue-0; Stripe-paid refills of 30.00 FED at venue-1")
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
        say("venue-1 refunded 4.00 FED of card 4 in cash")

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
    homes = prepare_devnet(data, validators, ports)
    say(f"devnet: {validators} validators on 127.0.0.1, data in {data.absolute()}")
    with Devnet(homes) as devnet:
        devnet.start_all()
        asyncio.run(_wait_started(homes))
        figures = asyncio.run(festival_day(homes, say))
        say("every node committed the same outcome of the race" if len(set(figures["race_balances"])) == 1
            else f"nodes disagree: {figures['race_balances']}")
        codes = devnet.stop_all()
    say(f"validators stopped ({codes}); auditing each node's chain from genesis")
    for home in homes:
        with Store.open(NodeFiles(home.home / "data").store) as store:
            report = audit_chain(StoreSource(store), jobs=os.cpu_count() or 1)
        say(f"  node{home.index}: {report.blocks} blocks, {report.txs} txs verified ({report.tx_per_s:,.0f} tx/s), "
            f"state hash {report.state_hash[:16]} match={report.state_hash_match}, "
            f"invariants ok={report.invariants_ok}")
    if serve:
        _serve_dashboard(homes, say)
    else:
        say(f"dashboard of venue-0 (run `fedow-node devnet --data {data}` to serve it again): "
            f"{homes[0].dashboard_url}")
    return 0
