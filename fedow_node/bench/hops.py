"""Where one sale's time goes, hop by hop, read back from the nodes' debug logs after a ``bench pos --trace``.

The nodes of a devnet share this machine's clock, so the timestamps of their
log lines and the till's own clock line up. For each sale the till notes when it
sent the request and got the answer, and the block (height) it was committed in;
the logs give the rest:

* ``pos_request_signed`` (the till's node, by txid): the API parsed and signed it;
* ``height_started`` (first of any node): the sale's height left IDLE, or began;
* ``own_message`` proposal (the proposer), prevote and precommit (the till's node):
  each after its write-ahead log fsync;
* ``decided`` then ``committed`` (the till's node): the block executed and written
  in one synced LevelDB batch.

A hop that overlaps the one before (the height had started before the sale
arrived) counts as 0.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

HOPS = ("api_sign", "to_height_start", "propose", "prevote", "precommit", "decide", "commit_write", "answer")
"""Hop names, in order: each ends at the mark of the same index in :func:`_marks`."""


@dataclass(frozen=True)
class TracedSale:
    node: int
    """Index of the till's node."""
    txid: str
    height: int
    sent: float
    """Wall-clock seconds (``time.time()``) when the till sent the request."""
    answered: float


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


class _NodeLog:
    def __init__(self, path: Path) -> None:
        self.signed_tx: dict[str, float] = {}
        self.by_height: dict[tuple[str, int], float] = {}
        for line in path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            event, at = entry.get("event"), entry.get("timestamp")
            if event is None or at is None:
                continue
            if event == "pos_request_signed":
                self.signed_tx[entry["txid"]] = _seconds(at)
            elif event in ("height_started", "decided", "committed"):
                self.by_height.setdefault((event, entry["height"]), _seconds(at))
            elif event == "own_message":
                self.by_height.setdefault((entry["kind"], entry["height"]), _seconds(at))

    def at(self, event: str, height: int) -> float | None:
        return self.by_height.get((event, height))


def _marks(sale: TracedSale, logs: list[_NodeLog]) -> list[float] | None:
    own = logs[sale.node]
    started = [t for t in (log.at("height_started", sale.height) for log in logs) if t is not None]
    proposed = [t for t in (log.at("proposal", sale.height) for log in logs) if t is not None]
    marks = [own.signed_tx.get(sale.txid), min(started, default=None), min(proposed, default=None),
             own.at("prevote", sale.height), own.at("precommit", sale.height), own.at("decided", sale.height),
             own.at("committed", sale.height), sale.answered]
    if any(mark is None for mark in marks):
        return None
    return [sale.sent, *marks]  # type: ignore[list-item]


def hop_medians(log_files: list[Path], sales: list[TracedSale]) -> dict[str, float]:
    """Median milliseconds of each hop over the sales whose every mark was found (``traced_sales`` too)."""
    logs = [_NodeLog(path) for path in log_files]
    hops: dict[str, list[float]] = {name: [] for name in HOPS}
    traced = 0
    for sale in sales:
        marks = _marks(sale, logs)
        if marks is None:
            continue
        traced += 1
        reached = marks[0]
        for name, mark in zip(HOPS, marks[1:]):
            hops[name].append(max(0.0, mark - reached) * 1000)
            reached = max(reached, mark)
    medians = {name: round(statistics.median(values), 1) for name, values in hops.items() if values}
    return {**medians, "traced_sales": traced}
