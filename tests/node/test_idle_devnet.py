"""An idle devnet makes only heartbeat blocks (issue 14, item 2): `fedow-node bench idle` on real processes."""

from __future__ import annotations

import json

import pytest

from fedow_node.cli import main

pytestmark = pytest.mark.slow


def test_an_idle_devnet_makes_only_heartbeat_blocks(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    assert main(["bench", "idle", "--seconds", "20", "--data", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["heartbeat_ms"] == 5000 and report["blocks_with_txs"] == 0
    assert report["blocks"] >= 1, "the heartbeat still makes blocks on an idle chain (time-driven rules advance)"
    assert report["only_heartbeat_blocks"] is True, report  # each block a heartbeat or more after the one before
    assert report["min_gap_ms"] >= 5000
    assert 0 <= report["load"]["nodes_cpu"] <= 1
