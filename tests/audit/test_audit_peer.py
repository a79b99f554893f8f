"""fedow-node audit --peer against one real node process (a one-validator devnet on 127.0.0.1).

Then the same node, stopped, audited through its home folder (--home). The test
starts one process and stops only that one, by its handle; every wait is bounded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "node"))  # the devnet harness of the node tests
from node_harness import start_net  # noqa: E402

from fedow_node.cli import main  # noqa: E402

pytestmark = pytest.mark.slow

START_TIMEOUT = 90.0
"""A node process importing libp2p can take long to start on a loaded 2-core machine."""


def last_json_line(capsys: pytest.CaptureFixture[str]) -> dict:
    """The command's JSON report (the devnet harness logs to stdout too)."""
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_running_peer_and_then_its_home_audit_ok(capsys, tmp_path) -> None:
    net = start_net(tmp_path / "devnet", 1)
    try:
        net.wait_height([0], 3, START_TIMEOUT)
        home = net.homes[0]
        exit_code = main(["--log-level", "error", "audit", "--peer", home.p2p_address,
                          "--genesis", str(tmp_path / "devnet" / "genesis.json"), "--json", "--jobs", "1"])
        report = last_json_line(capsys)
        assert exit_code == 0, report
        assert report["height"] >= 3 and report["blocks"] == report["height"]
        assert report["state_hash_match"] is True and report["state_digest_match"] is None
    finally:
        net.devnet.stop(0)
    assert main(["--log-level", "error", "audit", "--home", str(home.home), "--json"]) == 0
    at_rest = last_json_line(capsys)
    assert at_rest["height"] >= report["height"] and at_rest["state_digest_match"] is True
