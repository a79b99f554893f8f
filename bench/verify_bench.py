"""Signature bench: N Ed25519 verifications with 1 thread, with 2 threads, with 2 processes.

Run: ``.venv/bin/python bench/verify_bench.py [--signatures 20000] [--rounds 3] [--json]``.
Each way verifies the same N signatures of 200-byte messages (one in ten forged, so the
answer is checked too) and is timed by the wall clock, rounds alternated, the best kept:
threads go through :class:`wallet.verify_pool.VerifyPool` (the calling thread plus
workers), processes through a ``ProcessPoolExecutor`` started before the timing and
fed the items in one chunk per process (the pickling is timed: it is part of the
cost). The machine may be shared: ``verify_per_s`` is one core's rate in the same
run (CPU time of a verify loop), and the 1-minute load average is printed; an idle
core of the reference box does about 21,000.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fedow_node.bench.ledger import verify_rate  # noqa: E402
from wallet.codec import signing_bytes  # noqa: E402
from wallet.keys import SigningKey  # noqa: E402
from wallet.verify_pool import SignedItem, VerifyPool, _failures  # noqa: E402


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


def in_processes(executor: ProcessPoolExecutor, processes: int, items: Sequence[SignedItem]) -> frozenset[int]:
    size = -(-len(items) // processes)
    futures = [executor.submit(_failures, items[start:start + size], start) for start in range(0, len(items), size)]
    return frozenset(index for future in futures for index in future.result())


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
    one, two = VerifyPool(1), VerifyPool(2)
    ways: dict[str, list[float]] = {"1_thread": [], "2_threads": [], "2_processes": []}
    load_before = os.getloadavg()[0]
    rates = [verify_rate()]
    with ProcessPoolExecutor(2) as executor:
        in_processes(executor, 2, items[:100])  # start the workers before timing
        for _round in range(args.rounds):
            ways["1_thread"].append(timed(lambda: one.failed(items), forged))
            ways["2_threads"].append(timed(lambda: two.failed(items), forged))
            ways["2_processes"].append(timed(lambda: in_processes(executor, 2, items), forged))
            rates.append(verify_rate())
    two.close()
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
