"""Signature bench: N Ed25519 verifications with 1 thread, with 2 threads, with 2 processes.

Run: ``.venv/bin/python bench/verify_bench.py [--signatures 20000] [--rounds 3] [--json]``.
Each way verifies the same N signatures of 200-byte messages (one in ten forged, so the
answer is checked too) and is timed by the wall clock, rounds alternated, the best kept:
both go through :class:`wallet.verify_pool.VerifyPool` (the calling thread takes a share,
the other goes to a worker thread or to a worker process started before the timing;
the pickling is timed: it is part of the cost). The machine may be shared: ``verify_per_s`` is one core's rate in the same
run (CPU time of a verify loop), and the 1-minute load average is printed; an idle
core of the reference box does about 21,000.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fedow_node.bench.ledger import verify_rate  # noqa: E402
from wallet.codec import signing_bytes  # noqa: E402
from wallet.keys import SigningKey  # noqa: E402
from wallet.verify_pool import SignedItem, VerifyPool  # noqa: E402


def sample_items(count: int) -> tuple[list[SignedItem], frozenset[int]]:
    """``count`` signed messages of 200 bytes over 100 keys, every tenth signature forged."""
    keys = [SigningKey(index.to_bytes(32, "big")) for index in range(1, 101)]
    items, forged = [], set()
    for index in range(count):
        key = keys[index % len(keys)]
        message = index.to_bytes(8, "big") * 25
        signature = key.sign("bench", "verify", message)
        signed = signing_bytes("bench", "verify", message)
        if index % 10 == 9:
            signature, forged = bytes(64 - 1) + b"\x01", forged | {index}
        items.append((key.public_key, signed, signature))
    return items, frozenset(forged)


def timed(work: Callable[[], frozenset[int]], expected: frozenset[int]) -> float:
    started = time.perf_counter()
    answer = work()
    seconds = time.perf_counter() - started
    if answer != expected:
        raise SystemExit("a way of verifying gave a wrong answer")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signatures", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    items, forged = sample_items(args.signatures)
    pools = {"1_thread": VerifyPool(1), "2_threads": VerifyPool(2), "2_processes": VerifyPool(2, processes=True)}
    ways: dict[str, list[float]] = {way: [] for way in pools}
    pools["2_processes"].failed(items[:100])  # start the worker before timing
    load_before = os.getloadavg()[0]
    rates = [verify_rate()]
    for _round in range(args.rounds):
        for way, pool in pools.items():
            ways[way].append(timed(lambda: pool.failed(items), forged))
        rates.append(verify_rate())
    for pool in pools.values():
        pool.close()
    result = {"signatures": args.signatures, "rounds": args.rounds, "load_average_1m": load_before,
              "verify_per_s": round(min(rates)), "cpus": os.cpu_count(),
              **{f"{way}_per_s": round(args.signatures / min(seconds)) for way, seconds in ways.items()}}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"verify bench: {args.signatures:,} signatures, best of {args.rounds} alternated rounds "
              f"(load average {load_before:.1f}, one core {result['verify_per_s']:,} verify/s CPU)")
        for way in ways:
            print(f"  {way.replace('_', ' ')}: {result[f'{way}_per_s']:,} verify/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
