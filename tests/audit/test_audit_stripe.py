"""``fedow-node audit --stripe``: the chain's FED trail reconciled with the (fake) Stripe account.

A chain made through the real API, bridge and treasury (a card top-up, a venue's float bought
by bank transfer, a refund to the bank card, a payout) reconciles; then each way the account and
the chain can disagree is made at the fake Stripe, and the reconciliation names it by reference.
The node is stopped before the audit (its store is locked while it runs); the fake keeps its
objects and is started again on a new port.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

from fedow_node.audit import MoneyTrail, StoreSource, StripeReconciliation, audit_chain, reconcile_stripe
from fedow_node.cli import main
from fedow_node.fake_stripe import FakeStripe
from fedow_node.payments import StripeApi, float_metadata
from node_world import BAR_WALLET, card_uid, node_world
from payments_world import SECRET_KEY, run
from storage import Store


async def money_day(home: Path) -> tuple[FakeStripe, dict[str, Any]]:
    """Every kind of FED movement through a node; the fake (stopped) and the ids it made."""
    async with node_world(home) as world:
        session = await world.refilled_card("refill-1", 2_500)
        transfer = world.stripe.bank_transfer(10_000, float_metadata("bar", BAR_WALLET))
        assert (await world.call("/v1/stripe/float", {"payment_intent": transfer["id"]}))[0] == 200
        status, refund = await world.call("/v1/stripe/refunds", {
            "refund_id": "r-1", "payment_intent": session["payment_intent"], "uid": card_uid(1).hex(), "amount": 800})
        assert status == 200, refund
        status, payout = await world.call("/v1/stripe/payouts", {"payout_id": "p-1", "amount": 500})
        assert status == 200, payout
        return world.stripe, {"session": session, "float": transfer, "refund": refund, "payout": payout}


def replay(home: Path) -> tuple[MoneyTrail, Any]:
    trail = MoneyTrail()
    with Store.open(home / "data") as store:
        report = audit_chain(StoreSource(store), trail=trail)
    return trail, report


async def reconcile(trail: MoneyTrail, fake: FakeStripe) -> StripeReconciliation:
    api = StripeApi(SECRET_KEY, fake.url)
    try:
        return await reconcile_stripe(trail, api)
    finally:
        await api.aclose()


def codes(result: StripeReconciliation) -> list[tuple[str, str]]:
    return sorted((item.reference, item.code) for item in result.discrepancies)


def test_the_chain_and_the_account_reconcile_then_every_disagreement_is_named(tmp_path: Path) -> None:
    async def scenario() -> None:
        fake, made = await money_day(tmp_path)
        await fake.start()
        try:
            trail, report = replay(tmp_path)
            assert report.fed_circulation == report.fed_attested_minted - report.fed_attested_burnt
            assert report.fed_attested_burnt == 800 + 500 and report.fed_on_hold == 0
            clean = await reconcile(trail, fake)
            assert clean.reconciled, clean.discrepancies
            assert (clean.payments_minted, clean.payouts_burnt, clean.pending) == (2, 2, ())

            session, refund_id = made["session"], made["refund"]["stripe_refund_id"]
            transfer_id = made["payout"]["stripe_transfer_id"]
            dashboard = fake.refund_outside(session["payment_intent"], 100)          # euros out, no FED burnt
            orphan = fake.bank_transfer(7_000, float_metadata("bar", BAR_WALLET))     # paid, never minted
            fake.refunds[refund_id]["amount"] = 700                                   # Stripe and chain differ
            fake.reverse_transfer(transfer_id)                                        # burnt, but came back
            del fake.payment_intents[made["float"]["id"]]                             # minted, no payment
            result = await reconcile(trail, fake)
            assert codes(result) == sorted([
                (dashboard["id"], "paid_out_not_burnt"), (orphan["id"], "paid_not_minted"),
                (refund_id, "amount_mismatch"), (transfer_id, "burnt_without_payout"),
                (made["float"]["id"], "minted_without_payment")])
            assert all(item.reference in item.detail for item in result.discrepancies)
        finally:
            await fake.stop()
    run(scenario)


def test_the_audit_command_reconciles_and_exits_1_on_a_discrepancy(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FEDOW_STRIPE_SECRET_KEY", SECRET_KEY)

    async def scenario() -> None:
        fake, made = await money_day(tmp_path / "node")
        url = await fake.start()
        (tmp_path / "data").mkdir()  # a node's data folder holds chain/; the solo node keeps it in node/data
        (tmp_path / "data" / "chain").symlink_to(tmp_path / "node" / "data")
        command = ["--log-level", "error", "audit", "--data", str(tmp_path / "data"), "--jobs", "1", "--stripe",
                   "--stripe-api-base", url]
        capsys.readouterr()  # the node's logs so far
        try:
            assert await asyncio.to_thread(main, [*command, "--json"]) == 0
            clean = json.loads(capsys.readouterr().out)
            assert clean["ok"] and clean["stripe"]["reconciled"] and clean["stripe"]["payments_minted"] == 2
            fake.refund_outside(made["session"]["payment_intent"], 100)
            assert await asyncio.to_thread(main, command) == 1
            printed = capsys.readouterr().out
            assert "stripe 1 discrepancies" in printed and "paid_out_not_burnt" in printed
            assert "FED backing:" in printed
        finally:
            await fake.stop()
    run(scenario)


def test_stripe_needs_a_secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("FEDOW_STRIPE_SECRET_KEY", raising=False)
    assert main(["audit", "--data", os.fspath(tmp_path), "--stripe"]) == 2
    assert "stripe.secret_key" in capsys.readouterr().err
