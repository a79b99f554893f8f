"""`fedow-node bench ledger` runs end to end on a small chain and reports what it replayed."""

from __future__ import annotations

import json

import pytest

from fedow_node.cli import main


def test_bench_ledger_json_reports_the_replayed_sales(capsys) -> None:
    assert main(["bench", "ledger", "--cards", "300", "--blocks", "2", "--block-txs", "40", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["txs"] == 80 and report["blocks"] == 2
    assert report["tx_per_s"] > 0 and report["bytes_per_tx"] > 0 and report["verify_per_s"] > 0


def test_profile_without_py_spy_is_refused_before_anything_starts(monkeypatch, capsys, tmp_path) -> None:
    from fedow_node.bench import machine

    monkeypatch.setattr(machine, "py_spy", lambda: None)
    with pytest.raises(SystemExit) as stopped:
        main(["bench", "pos", "--profile", str(tmp_path / "graphs"), "--data", str(tmp_path / "devnet")])
    assert stopped.value.code == 2
    assert "--profile: needs py-spy" in capsys.readouterr().err
    assert not (tmp_path / "devnet").exists()  # no devnet was made
