"""Catch-up bench: a late node block-syncs a chain of certified sale blocks from an in-process peer.

Run: ``.venv/bin/python bench/catchup_bench.py [--blocks 20] [--block-txs 1000] [--cards 1000] [--rounds 2]
[--workers threads,processes] [--json]``.
Set-up (not timed): :func:`fedow_node.audit.build_sample_chain` writes the chain. Timed: a
:class:`fedow_node.engine.sync.BlockSyncer` on a fresh store fetching every block from a
:class:`fedow_node.engine.sync.SyncServer` over the source store (the real request and answer
bytes, no sockets: the block sync's own work, not libp2p's) and applying it, once per round
and kind of signature workers (the late node's :class:`wallet.verify_pool.VerifyPool` of 2:
threads, or processes to compare). Run the same script against another tree (``PYTHONPATH=<tree>``) to compare code. The machine
may be shared: ``verify_per_s`` is one core's Ed25519 rate in the same run, the lowest of the
rounds (an idle core of the reference box does about 21,000).
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

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fedow_node.audit import build_sample_chain  # noqa: E402
from fedow_node.bench.ledger import verify_rate  # noqa: E402
from fedow_node.engine.application import LedgerApplication  # noqa: E402
from fedow_node.engine.sync import BlockSyncer, SyncServer  # noqa: E402
from fedow_node.logs import configure_logging  # noqa: E402
from fedow_node.node import NodeFiles, open_store  # noqa: E402
from wallet.verify_pool import MIN_PARALLEL, VerifyPool  # noqa: E402


class InProcessPeer:
    """The p2p calls of block sync, answered by a SyncServer in this process."""

    def __init__(self) -> None:
        self.server: SyncServer | None = None
        self.penalties: list[str] = []

    def connected_peers(self) -> list[str]:
        return ["source"]

    async def request(self, peer_id: str, protocol_id: str, data: bytes, *, max_response_bytes: int) -> bytes:
        assert self.server is not None
        return await self.server.handle("late-node", data)

    def penalize(self, peer_id: str, points: int, reason: str) -> None:
        self.penalties.append(reason)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--block-txs", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", default="threads", help="comma-separated: threads, processes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("console", "warning")
    root = Path(tempfile.mkdtemp(prefix="fedow-catchup-bench-"))
    try:
        sample = build_sample_chain(root / "source", blocks=args.blocks, block_txs=args.block_txs, cards=args.cards)
        genesis = sample.genesis
        source = LedgerApplication(open_store(sample.files, genesis), genesis.chain_id, genesis.genesis_time_ms)
        peer = InProcessPeer()
        peer.server = SyncServer(source, peer)  # type: ignore[arg-type]
        pools = {kind: VerifyPool(2, processes=kind == "processes") for kind in args.workers.split(",")}
        for pool in pools.values():  # start the workers before the timing
            pool.failed([(bytes(32), b"", bytes(64))] * MIN_PARALLEL)
        rates, runs = [verify_rate()], {kind: [] for kind in pools}
        load = os.getloadavg()[0]
        for round_, kind in [(round_, kind) for round_ in range(args.rounds) for kind in pools]:
            late = LedgerApplication(open_store(NodeFiles(root / f"late{round_}{kind}"), genesis), genesis.chain_id,
                                     genesis.genesis_time_ms)
            late.verify_pool = pools[kind]
            started = time.perf_counter()
            report = trio.run(BlockSyncer(late, peer).run_once)  # type: ignore[arg-type]
            seconds = time.perf_counter() - started
            if late.store.state_hash != source.store.state_hash or peer.penalties:
                raise SystemExit(f"the late node did not reach the source's state: {peer.penalties}")
            late.store.close()
            runs[kind].append(round(report.txs / seconds, 1))
            rates.append(verify_rate())
        source.store.close()
        for pool in pools.values():
            pool.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = {"blocks": sample.height, "txs": sample.txs, "load_average_1m": load, "verify_per_s": round(min(rates)),
              "catchup_tx_per_s": max(max(tx_per_s) for tx_per_s in runs.values()), "runs_tx_per_s": runs}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"catch-up bench: {sample.txs} transactions in {sample.height} blocks (load average {load:.1f}, "
              f"one core {result['verify_per_s']:,} verify/s)")
        for kind, tx_per_s in runs.items():
            print(f"  signature workers {kind}: {max(tx_per_s):,.0f} tx/s (rounds {tx_per_s})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
