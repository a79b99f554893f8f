"""Gossip bench: a peer's batches of sales admitted into the mempool, signatures checked one by one or together.

Run: ``.venv/bin/python bench/gossip_bench.py [--batches 10] [--batch-txs 1000] [--cards 1000] [--json]``.
Set-up (not timed): :func:`fedow_node.audit.build_sample_chain` writes a chain of 1,000 cards,
and ``batches`` batches of fresh sales are signed. Timed: ``TxGossip.validate`` of each batch (decode,
signatures, the rules' dry run, the mempool), into a fresh mempool, the two ways alternated batch by
batch: ``one_by_one`` (each signature verified by ``check_tx``, as before item 4) and ``together``
(the batch's signatures verified first on the node's pool of threads, then each admitted with that
answer). The machine may be shared: ``verify_per_s`` is one core's Ed25519 rate in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consensus.mempool import Mempool  # noqa: E402
from fedow_node.audit import build_sample_chain, card_uid  # noqa: E402
from fedow_node.bench.ledger import verify_rate  # noqa: E402
from fedow_node.engine.application import LedgerApplication  # noqa: E402
from fedow_node.engine.gossip import TxGossip  # noqa: E402
from fedow_node.logs import configure_logging  # noqa: E402
from fedow_node.node import open_store  # noqa: E402
from p2p import Outcome  # noqa: E402
from wallet.bodies import Sale  # noqa: E402
from wallet.codec import pack  # noqa: E402
from wallet.tx import sign_tx  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-txs", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    configure_logging("console", "warning")
    root = Path(tempfile.mkdtemp(prefix="fedow-gossip-bench-"))
    rng = random.Random(11)
    seconds = {"one_by_one": 0.0, "together": 0.0}
    try:
        sample = build_sample_chain(root / "data", blocks=0, block_txs=1, cards=args.cards)
        chain_id = sample.genesis.chain_id
        app = LedgerApplication(open_store(sample.files, sample.genesis), chain_id, sample.genesis.genesis_time_ms)
        rates = [verify_rate()]
        load = os.getloadavg()[0]
        for _batch in range(args.batches):
            for way in seconds:
                batch = [sign_tx(sample.bar, chain_id, "sale", Sale(card_uid(rng.randrange(args.cards)), "FED", 1),
                                 rng.randbytes(16), app.store.height + 100) for _ in range(args.batch_txs)]
                mempool = Mempool(app.check_tx, 2 * args.batch_txs, 1 << 30, app.params.max_tx_bytes)
                gossip = (TxGossip(None, chain_id, mempool, signatures_verify=app.signatures_verify)  # type: ignore[arg-type]
                          if way == "together" else TxGossip(None, chain_id, mempool))  # type: ignore[arg-type]
                started = time.perf_counter()
                verdict = gossip.validate(pack(batch), "peer")
                seconds[way] += time.perf_counter() - started
                if verdict.outcome is not Outcome.ACCEPT or len(mempool) != len(batch):
                    raise SystemExit(f"a batch was not admitted whole: {verdict}")
            rates.append(verify_rate())
        app.store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    txs = args.batches * args.batch_txs
    result = {"txs": txs, "batch_txs": args.batch_txs, "load_average_1m": load, "verify_per_s": round(min(rates)),
              **{f"{way}_tx_per_s": round(txs / spent, 1) for way, spent in seconds.items()}}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"gossip bench: {txs} sales in batches of {args.batch_txs} (load average {load:.1f}, one core "
              f"{result['verify_per_s']:,} verify/s)")
        for way in seconds:
            print(f"  signatures {way.replace('_', ' ')}: {result[f'{way}_tx_per_s']:,.0f} tx/s admitted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
