"""Storage benchmark: synced block commits of 1,000 state changes, 1,000 tx index
entries and 2,000 history entries, and the bytes on disk per transaction.

Run: ``.venv/bin/python bench/storage_bench.py [--blocks 40] [--path DIR] [--json]``.
Content is synthetic but shaped like real blocks: ~200 incompressible bytes per
transaction in the block, ~64-byte state values, 100,000 accounts, 10,000 wallets with 32-byte ids.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fedow_node.logs import configure_logging  # noqa: E402
from storage import CommitBatch, Store, genesis_state_hash, next_state_hash  # noqa: E402

TXS_PER_BLOCK = 1_000
CHANGES_PER_BLOCK = 1_000
TX_BYTES = 200
ACCOUNTS = 100_000
WALLETS = 10_000


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("/".join(map(str, parts)).encode()).digest()


def _transaction_bytes(height: int, position: int) -> bytes:
    """TX_BYTES incompressible bytes (keys and signatures dominate a real transaction)."""
    parts = (TX_BYTES + 31) // 32
    return b"".join(_digest(height, "body", position, part) for part in range(parts))[:TX_BYTES]


def _batch(height: int, prev_state_hash: bytes) -> CommitBatch:
    changes: dict[bytes, bytes | None] = {}
    index = 0
    while len(changes) < CHANGES_PER_BLOCK:
        digest = _digest(height, "change", index)
        changes[b"balance/%06d" % (int.from_bytes(digest[:4], "big") % ACCOUNTS)] = digest * 2
        index += 1
    txids = [_digest(height, "tx", position) for position in range(TXS_PER_BLOCK)]
    touches = [
        (_digest("wallet", int.from_bytes(txid[side : side + 4], "big") % WALLETS), txid)
        for txid in txids
        for side in (0, 4)
    ]
    block = b"".join(_transaction_bytes(height, position) for position in range(TXS_PER_BLOCK))
    return CommitBatch(
        height=height,
        block_hash=hashlib.sha256(block).digest(),
        block=block,
        certificate=b"".join(_digest(height, "vote", vote) * 3 for vote in range(4)),
        changes=changes,
        state_hash=next_state_hash(prev_state_hash, height, changes),
        txids=txids,
        wallet_touches=touches,
    )


def run(path: Path, blocks: int) -> dict[str, float | int]:
    """Commit ``blocks`` prepared batches into a new store at ``path`` and measure."""
    with Store.open(path) as store:
        store.init_genesis(b'{"chain_id": "bench"}', {}, genesis_state_hash({}))
        batches = []
        state_hash = store.state_hash
        for height in range(1, blocks + 1):
            batches.append(_batch(height, state_hash))
            state_hash = batches[-1].state_hash
        started = time.perf_counter()
        for batch in batches:
            store.commit(batch)
        elapsed = time.perf_counter() - started
        size_before = store.size_on_disk()
        store.compact()
        size_after = store.size_on_disk()
    txs = blocks * TXS_PER_BLOCK
    return {
        "blocks": blocks,
        "state_changes_per_block": CHANGES_PER_BLOCK,
        "tx_index_entries_per_block": TXS_PER_BLOCK,
        "history_entries_per_block": 2 * TXS_PER_BLOCK,
        "block_bytes": len(batches[0].block),
        "seconds": round(elapsed, 3),
        "commits_per_second": round(blocks / elapsed, 1),
        "ms_per_commit": round(1000 * elapsed / blocks, 2),
        "txs_per_second": round(txs / elapsed),
        "bytes_on_disk_per_tx": round(size_before / txs, 1),
        "bytes_on_disk_per_tx_after_compaction": round(size_after / txs, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=40, help="blocks to commit (default 40)")
    parser.add_argument("--path", type=Path, help="an empty folder to use (default: a temporary one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    configure_logging(level="warning")
    if args.path is None:
        with tempfile.TemporaryDirectory() as folder:
            figures = run(Path(folder) / "data", args.blocks)
    else:
        figures = run(args.path, args.blocks)
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:40} {value}")


if __name__ == "__main__":
    main()
