"""``fedow-node simulate``: the JSON report and the exit status (run as a child process, bounded in time)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fedow_node.commands import simulate as simulate_command

ROOT = Path(__file__).resolve().parents[2]


def simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fedow_node.cli", "simulate", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_json_report_of_a_clean_batch() -> None:
    done = simulate("--validators", "4", "--seeds", "3", "--seed-start", "40", "--byzantine", "1", "--json",
                    "--jobs", "1")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["runs"] == 3 and report["validators"] == 4 and report["byzantine"] == 1
    assert report["safety_violations"] == 0 and report["liveness_failures"] == 0
    assert report["evidence_committed"] == 3 and report["heights_committed"] >= 9
    assert "wall_time_s" in report and "max_round" in report and report["failed_seeds"] == []


def test_impossible_byzantine_share_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(validators=3, seeds=1, seed_start=0, byzantine=1, jobs=1, json=True)
    assert simulate_command._simulate(args) == 2
    assert "3 x --byzantine < --validators" in capsys.readouterr().err
