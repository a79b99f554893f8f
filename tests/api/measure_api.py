"""Measure the API on this machine: card look-ups, POS sales, sales waiting for their commit.

Not a test: run ``.venv/bin/python tests/api/measure_api.py`` from the repository root.
A child process serves the API over a SoloNode (real ledger rules and LevelDB,
no consensus) with a block every ``BLOCK_INTERVAL_S``; this process is the
client. Figures are requests per second and client-side latency percentiles.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

sys.path.insert(0, str(Path(__file__).parent))

from api_solo_node import SoloNode  # noqa: E402
from api_world import card_uid  # noqa: E402
from config import ApiSection  # noqa: E402
from fedow_node.api import build_app, create_token, start_server, tokens_path  # noqa: E402
from fedow_node.client import FedowClient  # noqa: E402
from fedow_node.logs import configure_logging  # noqa: E402

BLOCK_INTERVAL_S = 0.05
CARDS = 64


async def serve(home: Path) -> None:
    """The child: serve until killed, committing pending transactions every BLOCK_INTERVAL_S."""
    node = SoloNode(home, auto_commit=False)
    runner = await start_server(build_app(node, ApiSection()), "127.0.0.1:0")
    print(runner.addresses[0][1], flush=True)
    while True:
        await asyncio.sleep(BLOCK_INTERVAL_S)
        if node.pending:
            node.commit()


async def measure(label: str, requests: int, concurrency: int, call: Callable[[int], Awaitable[object]]) -> None:
    latencies: list[float] = []
    counter = iter(range(requests))

    async def worker() -> None:
        for index in counter:
            started = time.perf_counter()
            await call(index)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"{label:<34} c={concurrency:<3} {requests / elapsed:7.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")


async def run_client(port: int, token: str) -> None:
    async with FedowClient(f"http://127.0.0.1:{port}", token) as client:
        await client.register_cards([(card_uid(n), f"{n:08d}", n.to_bytes(16, "big")) for n in range(CARDS)])
        for n in range(CARDS):
            await client.refill("FED", 10**9, uid=card_uid(n), wait=False)
        await client.sale(card_uid(0), "FED", 1)  # waits for the refills' block
        for concurrency in (1, 16):
            await measure("GET /v1/cards/{uid}", 2000, concurrency, lambda i: client.card(card_uid(i % CARDS)))
            await measure("POST /v1/pos/sales (to mempool)", 2000, concurrency,
                          lambda i: client.sale(card_uid(i % CARDS), "FED", 1, wait=False))
            await measure("POST /v1/pos/sales?wait=commit", 400, concurrency,
                          lambda i: client.sale(card_uid(i % CARDS), "FED", 1))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        _entry, token = create_token(tokens_path(home), "bar", 0)
        child = subprocess.Popen([sys.executable, __file__, "--serve", folder], stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            asyncio.run(run_client(port, token))
        finally:
            child.kill()
            child.wait(10)


if __name__ == "__main__":
    configure_logging("console", "warning")
    if sys.argv[1:2] == ["--serve"]:
        asyncio.run(serve(Path(sys.argv[2])))
    else:
        main()
