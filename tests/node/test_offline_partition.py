"""A real partition on one box: a 4-validator devnet and a venue's own node, cut off and healed (docs/offline.md).

The venue (venue-4, a full node) locks a bond, is cut from every peer by its test-only isolation
file, and keeps selling offline; meanwhile another venue spends the same card until it is empty.
The venue's node is SIGKILLed in the middle of the partition and restarted, still cut off. After
healing, on every node: each offline sale is on chain exactly once, the shortfall came from the
bond, money is conserved, and the audit of every node's chain passes. Waits are on observed
states with generous bounds; only this test's processes are stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from config import OfflineSection
from fedow_node.client import ApiRefused, Submission, SyncFedowClient
from fedow_node.devnet import NodeHome
from node_harness import Net, http_json, start_net, status

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

VALIDATORS = 4
VENUE = 4
"""Index of the venue's node (a full node with its own place)."""
LIMITS = OfflineSection(enabled=True, stalled_after_ms=900_000, max_sale=2_000, max_per_card=4_000,
                        max_exposure=20_000)
"""Cut off by the partition only (no quorum): a 4-validator devnet on a loaded 2-core box can take a minute
for one height, which a short stall time would take for a cut (tests/offline covers the stall rule)."""
BOND = 10_000
START_S = 180.0
STEP_S = 180.0
"""A step on a loaded 2-core box can take long: every wait is on an observed state, bounded by this."""


def wait_for(what: str, predicate: Callable[[], bool], net: Net, timeout: float = STEP_S) -> None:
    net.wait(what, predicate, timeout)


def offline_state(home: NodeHome) -> dict[str, Any]:
    found = status(home)
    return {} if found is None or found.get("offline") is None else found["offline"]


def committed(client: SyncFedowClient, submission: Submission) -> Submission:
    if not submission.committed:
        submission = client.wait_committed(submission.txid, STEP_S)
    assert submission.committed, submission
    return submission


def records(home: NodeHome) -> list[tuple[str, int, int, int]]:
    """The venue's offline operations on chain: (txid, amount, from bond, uncovered), by txid."""
    data = http_json(f"{home.api_url}/v1/places/venue-{VENUE}/offline?limit=1000", token=home.pos_token)
    return sorted((r["txid"], r["amount"], r["from_bond"], r["uncovered"]) for r in data["records"])


def offline_txs(home: NodeHome) -> list[str]:
    found, cursor = [], None
    while True:
        query = "kind=offline&limit=200" + ("" if cursor is None else f"&cursor={cursor}")
        page = http_json(f"{home.api_url}/v1/txs?{query}", token=home.pos_token)
        found += [entry["txid"] for entry in page["entries"]]
        cursor = page.get("next_cursor")
        if cursor is None:
            return found


def test_a_venue_cut_off_keeps_selling_and_loses_nothing_when_it_reconnects(tmp_path: Path) -> None:
    net = start_net(tmp_path / "devnet", VALIDATORS, full_nodes=1, full_node_venues=True, offline=LIMITS)
    venue, other = net.homes[VENUE], net.homes[0]
    isolate = venue.home / "isolate"
    card, spent = os.urandom(7), os.urandom(7)
    with net.devnet:
        net.devnet.start(VENUE)
        net.wait_height(range(VALIDATORS + 1), 1, START_S)
        wait_for("the venue online", lambda: offline_state(venue).get("state") == "online", net)
        with SyncFedowClient(venue.api_url, venue.pos_token) as till, \
                SyncFedowClient(other.api_url, other.pos_token) as bar:
            committed(till, till.register_cards([(card, "OFFLINE1", os.urandom(16)), (spent, "OFFLINE2",
                                                                                      os.urandom(16))]))
            committed(till, till.refill("FED", 5_000, uid=card))
            committed(till, till.refill("FED", 3_000, uid=spent))
            committed(till, till.offline_bond(BOND))
            float_before = fed_of(till, f"venue-{VENUE}")

            isolate.touch()  # the partition
            wait_for("the venue cut off", lambda: offline_state(venue).get("state") == "offline", net)
            first = till.sale(card, "FED", 2_000)
            second = till.sale(card, "FED", 2_000)
            assert (first.status, first.seq, second.seq, second.provisional_balance) == ("offline", 1, 2, 1_000)
            refused(till, "offline_card_limit", card, 500)
            refused(till, "offline_sale_limit", spent, 2_001)

            # the rest of the network goes on: another venue spends card 1 until it is empty
            committed(bar, bar.sale(card, "FED", 5_000))

        net.devnet.kill(VENUE)  # a crash in the middle of the cut, then a restart, still cut off
        net.devnet.start(VENUE)
        wait_for("the venue's node back, cut off", lambda: offline_state(venue).get("state") == "offline", net)
        assert offline_state(venue)["pending"] == 2
        with SyncFedowClient(venue.api_url, venue.pos_token) as till:
            third = till.sale(spent, "FED", 1_500)
            assert (third.status, third.seq) == ("offline", 1)   # numbered in the new run's journal

            isolate.unlink()  # heal
            wait_for("the journal forwarded and on chain",
                     lambda: (lambda s: s.get("state") == "online" and s.get("pending") == 0
                              and s.get("committed") == 3)(offline_state(venue)), net)
            height = till.status()["height"]
            assert fed_of(till, f"venue-{VENUE}") == float_before + 5_500   # 55.00 sold: 40.00 of it from its bond
        net.wait_height(range(VALIDATORS + 1), height, STEP_S)
        net.assert_same_chain(range(VALIDATORS + 1), height, step=max(1, height // 20))
        for home in net.homes:
            assert records(home) == sorted([(first.txid, 2_000, 2_000, 0), (second.txid, 2_000, 2_000, 0),
                                            (third.txid, 1_500, 0, 0)]), home.index
            assert sorted(offline_txs(home)) == sorted({first.txid, second.txid, third.txid}), home.index
            bond = http_json(f"{home.api_url}/v1/places/venue-{VENUE}/offline", token=home.pos_token)["bond"]
            assert bond["locked"] == BOND - 4_000
            fed = http_json(f"{home.api_url}/v1/assets/FED")["supply"]
            assert fed["held"] == fed["minted"] - fed["burnt"]
    for home in net.homes:  # stopped: every node's own chain replays from genesis and checks out
        audit = subprocess.run([sys.executable, "-m", "fedow_node.cli", "audit", "--home", str(home.home), "--json",
                                "--jobs", "1"], capture_output=True, text=True, timeout=STEP_S)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert json.loads(audit.stdout.splitlines()[-1])["ok"]


def fed_of(client: SyncFedowClient, place_id: str) -> int:
    place = client.place(place_id)
    balances = client.wallet(place["wallet"])["balances"]
    return next((b["amount"] for b in balances if b["asset"] == "FED"), 0)


def refused(client: SyncFedowClient, code: str, uid: bytes, amount: int) -> None:
    try:
        client.sale(uid, "FED", amount)
    except ApiRefused as exc:
        assert exc.code == code, exc
    else:
        raise AssertionError(f"a sale of {amount} was accepted, {code} expected")

