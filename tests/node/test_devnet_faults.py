"""Fault tests with real node processes on 127.0.0.1 (issue: network node).

Each test starts its own devnet in a temporary folder on free ports, is bounded
in time by its waits, and stops only the processes it started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from config import ChainParams
from fedow_node.client import SyncFedowClient
from node_harness import Net, start_net

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

START_TIMEOUT = 90.0
"""Starting four Python processes that import libp2p can take long on a loaded 2-core machine."""


def _sell_something(net: Net) -> list[str]:
    """Register a card at venue 0, refill it and sell on it; returns the txids."""
    home = net.homes[0]
    uid = os.urandom(7)
    with SyncFedowClient(home.api_url, home.pos_token) as client:
        steps = [
            lambda: client.register_cards([(uid, f"{int.from_bytes(os.urandom(3), 'big') % 10**8:08d}",
                                            os.urandom(16))]),
            lambda: client.refill("FED", 1_000, uid=uid),
            lambda: client.sale(uid, "FED", 250),
            lambda: client.sale(uid, "FED", 300),
        ]
        submissions = []
        for step in steps:  # each one needs the previous one committed
            submission = step()
            if not submission.committed:
                submission = client.wait_committed(submission.txid, 60.0)
            assert submission.committed, submission
            submissions.append(submission)
        card = client.card(uid)
    balances = {entry["asset"]: entry["amount"] for entry in card["paying_wallet"]["balances"]}
    assert balances["FED"] == 1_000 - 250 - 300
    return [submission.txid for submission in submissions]


def test_four_validators_survive_a_crash_and_a_lost_quorum(tmp_path: Path) -> None:
    net = start_net(tmp_path / "devnet", 4)
    with net.devnet:
        net.wait_height(range(4), 2, START_TIMEOUT)

        # Transactions submitted at one node are committed on all.
        txids = _sell_something(net)
        with SyncFedowClient(net.homes[3].api_url) as far:
            net.wait("the sale to reach node 3",
                     lambda: far.tx(txids[-1]).get("status") == "committed", 30.0)

        # SIGKILL one validator: the three others keep committing.
        net.devnet.kill(3)
        height = max(h for h in net.heights(range(3)).values() if h is not None)
        net.wait_height(range(3), height + 3, 60.0)

        # Restarted, it catches up and agrees on every state hash.
        net.devnet.start(3)
        net.wait("node 3 to catch up", lambda: net.height(3) >= net.height(0) - 1 and net.height(3) > height + 3,
                 START_TIMEOUT)

        # Two of four stopped: no quorum, no commit (one block may already be decided).
        net.devnet.stop(2)
        net.devnet.stop(3)
        stalled = max(h for h in net.heights(range(2)).values() if h is not None)
        time.sleep(3.0)  # a window to observe that nothing commits; not a timing assertion
        assert all(h is not None and h <= stalled + 1 for h in net.heights(range(2)).values()), net.heights()

        # Both back: commits resume.
        net.devnet.start(2)
        net.devnet.start(3)
        net.wait_height(range(4), stalled + 3, START_TIMEOUT)
        net.assert_same_chain(range(4), min(h for h in net.heights().values() if h is not None))


def test_full_node_joins_after_thousands_of_blocks(tmp_path: Path) -> None:
    fast = replace(ChainParams.devnet(), timeout_commit_ms=1, timeout_propose_ms=200, heartbeat_ms=1)  # back to back
    net = start_net(tmp_path / "devnet", 1, full_nodes=1, params=fast)
    with net.devnet:
        net.wait_height([0], 2000, 240.0)
        target = net.height(0)
        net.devnet.start(1)
        net.wait("the full node to sync to the head", lambda: net.height(1) >= target, START_TIMEOUT)
        net.assert_same_chain([0, 1], target, step=97)


ROGUE = Path(__file__).with_name("rogue_peer.py")
REFUSED_KINDS = "garbage,non_canonical,forged_vote,bad_tx_batch,garbage_tx_batch"


def _rogue(net: Net, seconds: float, kinds: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(ROGUE), net.homes[0].p2p_address, "fedow-devnet", str(seconds), kinds],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])


def _sent(rogue: subprocess.Popen[str]) -> tuple[set[str], str]:
    """Stop the rogue peer (if it still runs): the kinds it sent and the end of its stderr."""
    rogue.terminate()
    stdout, stderr = rogue.communicate(timeout=60)
    return {json.loads(line)["kind"] for line in stdout.splitlines() if line.startswith("{")}, stderr[-2000:]


def test_garbage_from_a_peer_is_refused_and_nobody_crashes(tmp_path: Path) -> None:
    """A rogue peer sends refused messages until node 0 bans it (however long a loaded machine takes);
    a second one sends messages larger than a node accepts; the chain goes on and nobody crashes."""
    net = start_net(tmp_path / "devnet", 4)
    with net.devnet:
        net.wait_height(range(4), 2, START_TIMEOUT)
        node_log = net.homes[0].home.joinpath("node.log")
        rogue = _rogue(net, 240, REFUSED_KINDS)
        try:
            net.wait("node 0 to ban the rogue peer", lambda: '"event": "peer_banned"' in node_log.read_text(), 240.0)
        finally:
            sent, stderr = _sent(rogue)
        assert sent >= {"garbage", "forged_vote", "bad_tx_batch"}, stderr
        oversize = _rogue(net, 5, "oversize")  # connects, sends for 5 s, then exits by itself
        try:
            oversize.wait(timeout=240)
        finally:
            sent, stderr = _sent(oversize)
        assert sent == {"oversize"}, stderr
        height = net.height(0)
        net.wait_height(range(4), height + 2, 240.0)  # a flooded, loaded box may take long to resume
        assert net.devnet.exited() == {}
        log = node_log.read_text()
        for reason in ("bad_signature", "non_canonical", "malformed"):
            assert f'"event": "peer_penalized"' in log and reason in log, f"node 0 did not penalise {reason}"


def test_festival_day_and_the_double_spend_race_agree_on_every_node(tmp_path: Path) -> None:
    """The demo's day through three venues' POS APIs; two tills race on one card: exactly one sale wins."""
    import asyncio

    from fedow_node.demo import STRIPE_SECRET_KEY, festival_day, stripe_section
    from fedow_node.fake_stripe import FakeStripe

    lines: list[str] = []

    async def day() -> dict[str, object]:
        fake = FakeStripe(STRIPE_SECRET_KEY)  # the day's card top-ups, float purchase and payout go through it
        net = start_net(tmp_path / "devnet", 4, stripe=stripe_section(await fake.start()))
        try:
            with net.devnet:
                await asyncio.to_thread(net.wait_height, range(4), 1, START_TIMEOUT)
                return await festival_day(net.homes, fake, lines.append)
        finally:
            await fake.stop()

    figures = asyncio.run(day())
    assert any("1 committed" in line for line in lines), lines
    assert len(set(figures["race_balances"])) == 1, figures
