"""`fedow-node bench ledger` runs end to end on a small chain and reports what it replayed."""

from __future__ import annotations

import json

from fedow_node.cli import main


def test_bench_ledger_json_reports_the_replayed_sales(capsys) -> None:
    assert main(["bench", "ledger", "--cards", "300", "--blocks", "2", "--block-txs", "40", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["txs"] == 80 and report["blocks"] == 2
    assert report["tx_per_s"] > 0 and report["bytes_per_tx"] > 0 and report["verify_per_s"] > 0
