"""Audit benchmark: replay a chain of certified sale blocks with 1 and with N signature jobs.

Run: ``.venv/bin/python bench/audit_bench.py [--blocks 50] [--block-txs 1000] [--cards 1000] [--jobs 1,2]
[--workers threads,processes] [--json]``.
Set-up (not timed): :func:`fedow_node.audit.build_sample_chain` writes a chain
(one block registering the cards, then ``blocks`` blocks of sales). Timed: the
whole audit of that data folder as ``fedow-node audit`` runs it (every check,
the replay into a fresh store with one synced write per block), once per job
count (and kind of signature worker, for more than one job); the final state
digest and money recount are included in ``seconds`` but not in ``tx_per_s`` (which is the block replay alone, as the audit reports it).
The machine may be shared: ``verify_per_s`` (raw Ed25519 verifications per CPU
second, measured before and after each run, the lower kept) says how loaded a core was; an idle core
of the reference box does about 21,000.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fedow_node.audit import WORKERS, StoreSource, audit_chain, build_sample_chain  # noqa: E402
from fedow_node.bench.ledger import verify_rate  # noqa: E402
from fedow_node.logs import configure_logging  # noqa: E402
from storage import Store  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=50)
    parser.add_argument("--block-txs", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--jobs", default=f"1,{os.cpu_count() or 1}", help="comma-separated job counts to time")
    parser.add_argument("--workers", default=WORKERS[0], help=f"comma-separated kinds of signature workers to time "
                                                               f"for more than one job: {', '.join(WORKERS)}")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("console", "warning")
    root = Path(tempfile.mkdtemp(prefix="fedow-audit-bench-"))
    try:
        started = time.perf_counter()
        sample = build_sample_chain(root / "data", blocks=args.blocks, block_txs=args.block_txs, cards=args.cards)
        setup_seconds = round(time.perf_counter() - started, 1)
        runs = []
        kinds = args.workers.split(",")
        for jobs, workers in [(jobs, workers) for jobs in sorted({int(value) for value in args.jobs.split(",")})
                              for workers in (kinds if jobs > 1 else kinds[:1])]:
            before = verify_rate()
            started = time.perf_counter()
            with Store.open(sample.files.store) as store:
                report = audit_chain(StoreSource(store), jobs=jobs, workers=workers)
            runs.append({"jobs": jobs, "workers": workers if jobs > 1 else "inline", "txs": report.txs,
                         "replay_seconds": report.seconds,
                         "tx_per_s": report.tx_per_s, "seconds": round(time.perf_counter() - started, 3),
                         "verify_per_s": round(min(before, verify_rate()))})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = {"blocks": sample.height, "block_txs": args.block_txs, "cards": args.cards,
              "setup_seconds": setup_seconds, "load_average_1m": os.getloadavg()[0], "runs": runs}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"audit bench: {sample.height} blocks of {args.block_txs} sales over {args.cards} cards "
              f"(set-up {setup_seconds} s, load average {result['load_average_1m']:.1f})")
        for run in runs:
            print(f"  --jobs {run['jobs']} ({run['workers']}): {run['tx_per_s']:,.0f} tx/s replayed ({run['txs']} txs in "
                  f"{run['replay_seconds']} s; {run['seconds']} s with the final checks; "
                  f"{run['verify_per_s']:,} verify/s per core)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
