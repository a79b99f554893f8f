"""The default devnet's governance (2 of 3 authorities) and melting FED, with a real node process.

What the demo shows, checked: one authority alone cannot create a place, two can;
an idle card's FED melts on the devnet schedule and the charge reaches the card's
place, the common fund, the maintenance fund and the validators.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from fedow_node.client import FedowClient
from fedow_node.demo import fed_melting, governance_by_threshold
from fedow_node.devnet import authority_keys
from node_harness import start_net

pytestmark = pytest.mark.slow

START_TIMEOUT = 90.0


async def _fund_an_idle_card(api_url: str, token: str) -> None:
    uid = os.urandom(7)
    async with FedowClient(api_url, token) as till:
        for submission in (await till.register_cards([(uid, "IDLE0001", os.urandom(16))]),
                           await till.refill("FED", 10_000, uid=uid)):
            if not submission.committed:
                submission = await till.wait_committed(submission.txid, 60.0)
            assert submission.committed, submission


async def _places(api_url: str) -> list[dict]:
    async with FedowClient(api_url) as client:
        return await client.places()


def test_two_of_three_authorities_govern_and_idle_fed_melts_four_ways(tmp_path: Path) -> None:
    root = tmp_path / "devnet"
    net = start_net(root, 1, fed_melts=True)
    lines: list[str] = []
    with net.devnet:
        net.wait_height([0], 1, START_TIMEOUT)
        home = net.homes[0]
        asyncio.run(_fund_an_idle_card(home.api_url, home.pos_token))
        asyncio.run(governance_by_threshold(home, authority_keys(root), lines.append))
        gained = asyncio.run(fed_melting(net.homes, lines.append, timeout_s=180.0))
        places = {place["id"] for place in asyncio.run(_places(home.api_url))}
    assert any("refused (below_threshold)" in line for line in lines), lines
    assert "la-buvette" in places
    assert len(gained) == 4 and all(amount > 0 for amount in gained.values()), gained
