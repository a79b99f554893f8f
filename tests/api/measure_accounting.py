"""Measure what the accounting features cost on this machine: the totals index at commit, listings, totals.

Not a test: run ``.venv/bin/python tests/api/measure_accounting.py [--blocks N]`` from the repository
root. A SoloNode (real ledger rules and LevelDB, no consensus) commits ``--blocks`` blocks of 500
sales each; the script prints the time :func:`fedow_node.totals.block_totals` takes per block next to
the whole commit, then the client-side latency of ``GET /v1/totals``, ``GET /v1/totals.csv`` and
``GET /v1/txs`` pages over that chain. Figures depend on the machine's load: run it when quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import wallet  # noqa: E402
from api_solo_node import BAR, SoloNode  # noqa: E402
from api_world import card_uid, qr_id  # noqa: E402
from config import ApiSection  # noqa: E402
from fedow_node import totals  # noqa: E402
from fedow_node.api import build_app, create_token, start_server, tokens_path  # noqa: E402
from fedow_node.client import FedowClient  # noqa: E402
from fedow_node.logs import configure_logging  # noqa: E402
from wallet.bodies import CashRefill, RegisterCards, Sale  # noqa: E402
from wallet.layout import card_wallet_id  # noqa: E402
from wallet.tx import sign_tx  # noqa: E402

CARDS = 500


def _submit_signed(node: SoloNode, body: wallet.Body) -> None:
    tx = sign_tx(BAR, node.chain_id, body.KIND, body, os.urandom(16), node.next_expiry())
    node.pending.append(wallet.decode_tx(tx, len(tx)))
    node._raw[node.pending[-1].txid] = tx  # the solo node's mempool, filled without per-tx dry runs


def build_chain(node: SoloNode, blocks: int) -> tuple[list[float], list[float]]:
    """(block_totals seconds, whole commit seconds) per block of 500 sales."""
    cards = [(card_uid(n), f"{n:08d}", qr_id(n)) for n in range(CARDS)]
    for first in range(0, CARDS, 100):
        _submit_signed(node, RegisterCards(tuple(cards[first:first + 100])))
    node.commit()
    for uid, _number, _qr in cards:
        _submit_signed(node, CashRefill(card_wallet_id(uid), "FED", 1_000_000))
    node.commit()
    timed: list[float] = []
    original = totals.block_totals

    def measured(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timed.append(time.perf_counter() - start)

    sys.modules["api_solo_node"].block_totals = measured  # type: ignore[attr-defined]
    commits = []
    for _ in range(blocks):
        for uid, _number, _qr in cards:
            _submit_signed(node, Sale(uid, "FED", 1))
        start = time.perf_counter()
        node.commit()
        commits.append(time.perf_counter() - start)
    return timed[-blocks:], commits


async def latencies(url: str, token: str, path: str, runs: int = 20) -> list[float]:
    async with FedowClient(url, token) as client:
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            await client.request("GET", path) if not path.endswith(".csv") else await _csv(client, path)
            seconds.append(time.perf_counter() - start)
        return seconds


async def _csv(client: FedowClient, path: str) -> None:
    async with client._http().get(client.base_url + path, headers=client._headers()) as response:
        await response.read()


async def serve_and_measure(node: SoloNode, home: Path) -> None:
    runner = await start_server(build_app(node, ApiSection()), "127.0.0.1:0")
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    _entry, token = create_token(tokens_path(home), "", 0, role="read")
    try:
        for path in ("/v1/totals?date=2026-01-01", "/v1/totals.csv?date=2026-01-01", "/v1/txs?limit=50",
                     "/v1/txs?kind=refund&limit=50", f"/v1/txs?wallet={card_wallet_id(card_uid(7)).hex()}&limit=50"):
            seconds = await latencies(url, token, path)
            print(f"GET {path[:60]:60s} p50 {statistics.median(seconds) * 1000:7.1f} ms  "
                  f"max {max(seconds) * 1000:7.1f} ms")
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=20)
    args = parser.parse_args()
    configure_logging("console", "warning")
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        node = SoloNode(home, auto_commit=False, doc=None)
        try:
            indexed, commits = build_chain(node, args.blocks)
            print(f"{args.blocks} blocks of {CARDS} sales: block_totals p50 {statistics.median(indexed) * 1000:.1f} ms, "
                  f"whole commit (build, execute, totals, write) p50 {statistics.median(commits) * 1000:.1f} ms "
                  f"({statistics.median(indexed) / statistics.median(commits):.1%})")
            asyncio.run(serve_and_measure(node, home))
        finally:
            node.close()


if __name__ == "__main__":
    main()
