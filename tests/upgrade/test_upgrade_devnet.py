"""A scheduled upgrade on a four-validator devnet of real processes.

node0 runs a "newer release" from the start (it knows protocol version 2, through the
test variable of fedow_node/protocol.py); node1..3 run the current one. Two of the three
authorities schedule version 2 a few heights ahead. The old nodes commit the last
version-1 block and stop cleanly (exit code 4) with a message naming the version to
install; node0 alone cannot go on. An old release started again refuses at once. The new
release started from the same homes carries on: the upgrade height is the first block
with version 2 in its header, every node agrees on every block, and nothing was lost.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from config import ChainParams
from fedow_node.client import FedowClient
from fedow_node.devnet import authority_keys
from fedow_node.protocol import TEST_VERSIONS_VARIABLE, UPGRADE_EXIT_CODE
from wallet.bodies import ScheduleUpgrade
from wallet.tx import combine, cosign

sys.path.append(str(Path(__file__).resolve().parents[1] / "node"))
from node_harness import Net, start_net  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

NEW_RELEASE = {TEST_VERSIONS_VARIABLE: "2"}
AHEAD = 8


def get(net: Net, path: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{net.homes[0].api_url}{path}", timeout=10) as response:
        return json.loads(response.read())


async def schedule(api_url: str, root: Path, version: int, height: int) -> None:
    authorities = authority_keys(root)
    async with FedowClient(api_url) as client:
        chain_id, unsigned = await client.unsigned(ScheduleUpgrade(version, height))
        submission = await client.submit(combine(unsigned, [cosign(key, chain_id, unsigned) for key in authorities[:2]]))
        if not submission.committed:
            submission = await client.wait_committed(submission.txid, 60.0)
        assert submission.committed, submission


def start(net: Net, index: int, env: dict[str, str]) -> None:
    net.devnet.extra_env = {**net.devnet.extra_env, **env}
    try:
        net.devnet.start(index)
    finally:
        for name in env:
            net.devnet.extra_env.pop(name, None)


def wait_for(what: str, predicate: Callable[[], bool], timeout: float) -> None:
    """Like Net.wait, but here nodes exiting is what is awaited."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.2)


def upgrade_events(net: Net, index: int) -> list[dict[str, object]]:
    events = []
    for line in (net.homes[index].home / "node.log").read_text().splitlines():
        if '"node.upgrade_required"' in line:
            events.append(json.loads(line))
    return events


def test_old_releases_stop_at_the_upgrade_height_and_the_new_one_carries_on(tmp_path: Path) -> None:
    root = tmp_path / "devnet"
    net = start_net(root, 4, params=replace(ChainParams(), heartbeat_ms=1_000), start=False)
    with net.devnet:
        start(net, 0, NEW_RELEASE)
        for index in (1, 2, 3):
            start(net, index, {})
        net.wait_height(range(4), 2, timeout=180)
        status = get(net, "/v1/status")["node"]
        assert status["protocol_version"] == 1 and status["software_protocol_versions"] == [1, 2]  # type: ignore[index]
        upgrade_height = net.height(0) + AHEAD
        asyncio.run(schedule(net.homes[0].api_url, root, 2, upgrade_height))
        assert get(net, "/v1/status")["node"]["upgrade"] == {"version": 2, "height": upgrade_height}  # type: ignore[index]

        wait_for("the old releases to stop at the upgrade", lambda: set(net.devnet.exited()) == {1, 2, 3}, 300)
        assert net.devnet.exited() == {1: UPGRADE_EXIT_CODE, 2: UPGRADE_EXIT_CODE, 3: UPGRADE_EXIT_CODE}
        for index in (1, 2, 3):
            (event,) = upgrade_events(net, index)
            assert (event["version"], event["height"]) == (2, upgrade_height)
            assert "install a release that implements protocol version 2" in str(event["detail"])
        assert net.height(0) == upgrade_height - 1  # the last version-1 block; node0 alone makes no more
        assert get(net, f"/v1/blocks/{upgrade_height - 1}")["version"] == 1

        start(net, 3, {})  # the old release again: it refuses before doing anything
        wait_for("the old release to refuse", lambda: 3 in net.devnet.exited(), 120)
        assert net.devnet.exited()[3] == UPGRADE_EXIT_CODE and len(upgrade_events(net, 3)) == 2

        for index in (1, 2, 3):  # the new release, same homes
            start(net, index, NEW_RELEASE)
        net.wait_height(range(4), upgrade_height + 2, timeout=300)
        assert net.devnet.exited() == {}
        assert get(net, f"/v1/blocks/{upgrade_height}")["version"] == 2
        assert get(net, f"/v1/blocks/{upgrade_height + 1}")["version"] == 2
        assert get(net, "/v1/status")["node"]["protocol_version"] == 2  # type: ignore[index]
        net.assert_same_chain(range(4), upgrade_height + 2)
