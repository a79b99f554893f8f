"""``fedow-node simulate``: run the consensus engine in the seeded, virtual-time simulator.

N validators with unequal stakes (B of them byzantine, below 1/3 of the stake),
random delays, drops, duplicates, partitions that heal, crashes and restarts.
After each run: no two honest nodes committed different blocks at one height
(safety), commits resumed after the network healed (liveness), every committed
block has a valid certificate, and the double-voter's evidence was committed and
slashed. Exits 1 on any violation; the same seed always gives the same run.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

import structlog

from consensus.simulation import Scenario, run_seeds


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("simulate", help="run the consensus simulator over many seeds",
                                   description=__doc__)
    parser.add_argument("--validators", type=int, default=4, help="number of validators (default 4)")
    parser.add_argument("--seeds", type=int, default=100, help="number of runs (default 100)")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--byzantine", type=int, default=0,
                        help="byzantine validators: the 1st, 3rd... double-vote and double-propose, "
                             "the 2nd, 4th... withhold (default 0)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    if args.validators < 1 or args.seeds < 1 or not 0 <= 3 * args.byzantine < args.validators:
        print("simulate: need --validators >= 1, --seeds >= 1 and 0 <= 3 x --byzantine < --validators",
              file=sys.stderr)
        return 2
    # Thousands of nodes' routine events would drown the result: only errors are shown.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    started = time.monotonic()
    summary = run_seeds(Scenario(validators=args.validators, byzantine=args.byzantine), args.seeds,
                        args.seed_start, args.jobs)
    report = {"validators": args.validators, "byzantine": args.byzantine, "seed_start": args.seed_start,
              **summary.as_json(), "wall_time_s": round(time.monotonic() - started, 2)}
    if args.json:
        print(json.dumps(report))
    else:
        for failure in summary.failures:
            print(failure)
        print(f"{report['runs']} runs, {report['validators']} validators ({report['byzantine']} byzantine): "
              f"{report['safety_violations']} safety violations, {report['liveness_failures']} liveness failures, "
              f"evidence committed in {report['evidence_committed']}/{report['evidence_expected']} runs, "
              f"{report['heights_committed']} heights, max round {report['max_round']}, "
              f"{report['wall_time_s']} s")
    return 0 if summary.ok else 1
