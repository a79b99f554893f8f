"""`bench pos --trace`: a sale's hops are read back from the nodes' log lines (fedow_node/bench/hops.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from fedow_node.bench.hops import HOPS, TracedSale, hop_medians

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()


def _line(event: str, at_ms: float, **fields: object) -> str:
    stamp = datetime.fromtimestamp(T0 + at_ms / 1000, timezone.utc).isoformat().replace("+00:00", "Z")
    return json.dumps({**fields, "event": event, "level": "debug", "timestamp": stamp})


def test_each_hop_is_the_time_since_the_previous_mark(tmp_path: Path) -> None:
    till_node = [
        _line("pos_request_signed", 2, txid="aa"), _line("height_started", 5, height=7, round=0),
        _line("own_message", 20, kind="prevote", height=7, round=0), _line("own_message", 30, kind="precommit", height=7, round=0),
        _line("decided", 45, height=7, round=0), _line("committed", 50, height=7, round=0, txs=1),
        "not json at all",
    ]
    proposer = [_line("height_started", 4, height=7, round=0), _line("own_message", 12, kind="proposal", height=7, round=0)]
    files = [tmp_path / "node0.log", tmp_path / "node1.log"]
    files[0].write_text("\n".join(till_node))
    files[1].write_text("\n".join(proposer))
    sale = TracedSale(node=0, txid="aa", height=7, sent=T0, answered=T0 + 0.053)
    unknown = TracedSale(node=0, txid="bb", height=8, sent=T0, answered=T0 + 1)  # no marks: not counted
    hops = hop_medians(files, [sale, unknown])
    assert hops.pop("traced_sales") == 1
    assert list(hops) == list(HOPS)
    expected = [2, 2, 8, 8, 10, 15, 5, 3]  # the height started at 4 ms: the first node to start it counts
    assert [round(value) for value in hops.values()] == expected
