"""``fedow-node bench ledger|network|pos``: measured figures, or one JSON object with --json.

Figures are goals to watch, never assertions: the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from dataclasses import asdict
from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="benchmarks", description=__doc__)
    kinds = parser.add_subparsers(dest="bench", required=True, metavar="KIND")
    ledger = kinds.add_parser("ledger", help="decode + verify + apply + commit of sale blocks on one core")
    ledger.add_argument("--cards", type=int, default=1_000_000, help="card wallets in the state (default 1,000,000)")
    ledger.add_argument("--blocks", type=int, default=20, help="blocks replayed (default 20)")
    ledger.add_argument("--block-txs", type=int, default=1000, help="sales per block (default 1,000)")
    ledger.add_argument("--json", action="store_true", help="print one JSON object")
    ledger.set_defaults(func=run_ledger)
    network = kinds.add_parser("network", help="a local devnet under a steady load of signed sales")
    network.add_argument("--validators", type=int, default=4)
    network.add_argument("--seconds", type=float, default=30.0, help="length of the load (default 30)")
    network.add_argument("--rate", type=float, default=500.0, help="offered sales per second (default 500)")
    _devnet_options(network)
    network.set_defaults(func=run_network)
    pos = kinds.add_parser("pos", help="sale latency at the tills (wait=commit) under background load; --offline: "
                                       "offline sales at a venue cut off, then their forwarding")
    pos.add_argument("--validators", type=int, default=4)
    pos.add_argument("--tills", type=int, default=None,
                     help="tills in all, spread over the venues in turn (default 8; 1: one till alone); "
                          "--offline: tills of the cut-off venue (default 1)")
    pos.add_argument("--offline", action="store_true",
                     help="cut the venue's own node off the devnet, sell --sales offline, heal, time the forwarding "
                          "(docs/offline.md)")
    pos.add_argument("--sales", type=int, default=1_000, help="--offline: offline sales in all (default 1,000)")
    pos.add_argument("--seconds", type=float, default=30.0)
    pos.add_argument("--background-rate", type=float, default=500.0, help="background sales/s (default 500)")
    pos.add_argument("--trace", action="store_true",
                     help="nodes log at debug level; print where a sale's time goes, hop by hop (medians)")
    _devnet_options(pos)
    pos.set_defaults(func=run_pos)
    idle = kinds.add_parser("idle", help="an idle devnet: heartbeat blocks only, CPU and disk it costs")
    idle.add_argument("--validators", type=int, default=4)
    idle.add_argument("--seconds", type=float, default=60.0, help="length of the watch (default 60)")
    _devnet_options(idle)
    idle.set_defaults(func=run_idle)


def _profile_dir(text: str) -> Path:
    """--profile DIR, refused at once when py-spy is missing (not after the devnet started)."""
    from fedow_node.bench import machine

    if machine.py_spy() is None:
        raise argparse.ArgumentTypeError("needs py-spy: pip install -e .[profile]")
    return Path(text)


def _devnet_options(parser: argparse.ArgumentParser) -> None:
    from fedow_node.bench.network import PARAMS

    parser.add_argument("--params", choices=PARAMS, default="devnet",
                        help="chain parameters: the devnet's millisecond timeouts or the production defaults")
    parser.add_argument("--profile", type=_profile_dir, metavar="DIR",
                        help="sample every validator with py-spy during the measured window: DIR/node<i>.svg")
    parser.add_argument("--data", type=Path, help="keep the devnet here (default: a temporary folder)")
    parser.add_argument("--cleanup", action="store_true", help="delete the data folders after the run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _report(result: Any, as_json: bool, lines: list[str]) -> int:
    print(json.dumps(asdict(result)) if as_json else "\n".join(lines))
    return 0


def _load_lines(result: Any) -> list[str]:
    load = result.load
    return [f"  machine: {load.cores} cores {load.box_busy:.0%} busy during the load, the nodes "
            f"{load.nodes_cpu:.0%} of the box; {load.verify_per_s:,.0f} Ed25519 verify/s per core here",
            *(f"  flame graph: {path}" for path in result.profiles)]


def run_network(args: argparse.Namespace) -> int:
    from fedow_node.bench.network import run_network_bench

    result = run_network_bench(validators=args.validators, seconds=args.seconds, rate=args.rate, params=args.params,
                               data=args.data, cleanup=args.cleanup, profile=args.profile)
    return _report(result, args.json, [
        f"network bench: {result.validators} validators on 127.0.0.1 ({result.params} parameters), {result.seconds} s at "
        f"{result.offered_tx_per_s:g} sales/s offered ({result.submitted} submitted, {result.committed} committed)",
        f"  committed: {result.committed_tx_per_s:,.0f} tx/s; finality p50 {result.finality_ms_p50} ms, "
        f"p99 {result.finality_ms_p99} ms",
        f"  catch-up of a new full node: {result.catchup_tx_per_s} tx/s ({result.catchup_blocks} blocks)",
        f"  state hashes agree at height {result.height}: {result.state_hash_agree}",
        f"  data folders: {', '.join(result.data_dirs) or '(deleted)'}",
        *_load_lines(result),
    ])


def run_pos(args: argparse.Namespace) -> int:
    from fedow_node.bench.pos import run_pos_bench

    if args.offline:
        return run_pos_offline(args)
    result = run_pos_bench(validators=args.validators, tills=args.tills or 8, seconds=args.seconds,
                           background_rate=args.background_rate, params=args.params, data=args.data,
                           cleanup=args.cleanup, profile=args.profile, trace=args.trace)
    return _report(result, args.json, [
        f"pos bench: {result.tills} tills on {result.validators} venues ({result.params} parameters) for "
        f"{result.seconds} s, {result.background_tx_per_s:g} sales/s of background load",
        f"  sales with wait=commit: {result.sales} ({result.sales_per_s} /s, {result.refused} refused); "
        f"latency p50 {result.sale_ms_p50} ms, p99 {result.sale_ms_p99} ms",
        *_load_lines(result),
        *(["  hops (median ms): " + ", ".join(f"{name} {value}" for name, value in result.hops_ms_p50.items())]
          if result.hops_ms_p50 else []),
    ])


def run_pos_offline(args: argparse.Namespace) -> int:
    from fedow_node.bench.offline import run_offline_bench

    result = run_offline_bench(validators=args.validators, tills=args.tills or 1, sales=args.sales,
                               params=args.params, data=args.data, cleanup=args.cleanup)
    return _report(result, args.json, [
        f"offline pos bench: the venue's own node cut off from {result.validators} validators ({result.params} "
        f"parameters), {result.tills} till(s) selling offline",
        f"  offline sales: {result.offline_sales} ({result.offline_sales_per_s} /s, {result.offline_refused} refused); "
        f"latency at the till p50 {result.offline_sale_ms_p50} ms, p99 {result.offline_sale_ms_p99} ms "
        "(signed, journalled, fsynced)",
        f"  cut off noticed in {result.cut_off_s} s; after the heal: back online in {result.reconnect_s} s, all "
        f"{result.offline_sales} forwarded and committed in {result.forward_commit_s} s ({result.forwarded_per_s} /s)",
        f"  machine: {result.load.cores} cores {result.load.box_busy:.0%} busy from the cut to the last commit, the "
        f"nodes {result.load.nodes_cpu:.0%} of the box; {result.load.verify_per_s:,.0f} Ed25519 verify/s per core here",
    ])


def run_idle(args: argparse.Namespace) -> int:
    from fedow_node.bench.idle import run_idle_bench

    result = run_idle_bench(validators=args.validators, seconds=args.seconds, params=args.params, data=args.data,
                            cleanup=args.cleanup, profile=args.profile)
    load = result.load
    return _report(result, args.json, [
        f"idle bench: {result.validators} validators ({result.params} parameters, heartbeat {result.heartbeat_ms} ms) "
        f"watched {result.seconds} s without transactions",
        f"  blocks: {result.blocks} ({result.blocks_with_txs} with transactions), smallest gap {result.min_gap_ms} ms "
        f"of consensus time; only heartbeat blocks: {result.only_heartbeat_blocks}",
        f"  an idle day: {result.blocks_per_day:,.0f} blocks, {result.disk_mb_per_day} MB on disk per node "
        f"({result.disk_bytes_per_block} bytes per block before compaction)",
        f"  CPU: the nodes used {load.nodes_cpu:.1%} of the box ({load.cores} cores, {load.box_busy:.0%} busy in all); "
        f"{load.verify_per_s:,.0f} Ed25519 verify/s per core here",
        *(f"  flame graph: {path}" for path in result.profiles),
    ])


def run_ledger(args: argparse.Namespace) -> int:
    from fedow_node.bench.ledger import run_ledger_bench

    result = run_ledger_bench(cards=args.cards, blocks=args.blocks, block_txs=args.block_txs)
    return _report(result, args.json, [
        f"ledger bench: {result.txs} sales in {result.blocks} blocks of {result.block_txs}, "
        f"{result.cards:,} card wallets (set-up {result.setup_seconds} s)",
        f"  decode + verify + apply + commit: {result.tx_per_s:,.0f} tx/s ({result.seconds} s, one core), "
        f"{result.tx_per_cpu_s:,.0f} tx per CPU second",
        f"  calibration: {result.verify_per_s:,.0f} Ed25519 verify/s here; scaled to a 21,000/s core: "
        f"{result.calibrated_tx_per_s:,.0f} tx/s (LevelDB background CPU {result.background_cpu_seconds} s)",
        f"  disk: {result.bytes_per_tx} bytes/tx ({result.bytes_per_tx_compacted} after compaction)",
    ])
