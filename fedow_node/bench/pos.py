"""``fedow-node bench pos``: sale latency at the tills while the network carries background load.

A 4-validator devnet on this machine (as ``bench network``); after the same
set-up, ``tills`` tills at every venue sell in a loop through the venue's POS
API with ``?wait=commit`` (the node signs with its place key), while signed
sales are offered in the background at ``background_rate`` per second. Each
till's answer time is a sale's latency as a cashier sees it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from fedow_node.bench.network import CommitWatcher, offer_sales, BenchNet, percentile, set_up_cards
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet
from wallet.keys import read_key_file


@dataclass(frozen=True)
class PosBenchResult:
    validators: int
    tills: int
    seconds: float
    background_tx_per_s: float
    sales: int
    refused: int
    refusals: dict[str, int]
    """Refusal codes and how often (a sale whose wait timed out is ``pending``)."""
    sales_per_s: float
    sale_ms_p50: float | None
    sale_ms_p99: float | None
    data_dirs: list[str]


async def _till(session: aiohttp.ClientSession, home: NodeHome, uids: list[bytes], deadline: float,
                latencies: list[float], refused: list[str], rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {home.pos_token}"}
    while time.monotonic() < deadline:
        body = {"uid": rng.choice(uids).hex(), "asset": "FED", "amount": rng.randint(100, 900)}
        started = time.monotonic()
        async with session.post(f"{home.api_url}/v1/pos/sales?wait=commit&timeout_ms=10000", json=body,
                                headers=headers) as response:
            answer = await response.json()
        if response.status == 200:
            latencies.append((time.monotonic() - started) * 1000)
        else:
            refused.append(answer.get("error", answer.get("status", str(response.status))))


async def _bench(homes: list[NodeHome], validators: int, tills: int, seconds: float, rate: float) -> dict:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        net = BenchNet(session, homes)
        await net.wait_height(homes, 1, 120.0)
        places = [read_key_file(home.home / "place.key") for home in homes]
        uids = await set_up_cards(net, places, await net.height(homes[0]) or 0)
        watcher = CommitWatcher(net, homes[0], await net.height(homes[0]) or 0)
        watch = asyncio.create_task(watcher.run())
        latencies: list[float] = []
        refused: list[str] = []
        rng = random.Random(11)
        deadline = time.monotonic() + seconds
        background = asyncio.create_task(offer_sales(net, places, uids, watcher, rate, seconds))
        await asyncio.gather(*(_till(session, home, uids, deadline, latencies, refused, rng)
                               for home in homes for _ in range(tills)))
        await background
        watch.cancel()
        return {"sales": len(latencies), "refused": len(refused), "refusals": dict(Counter(refused)), "sales_per_s": round(len(latencies) / seconds, 1),
                "sale_ms_p50": percentile(latencies, 0.5), "sale_ms_p99": percentile(latencies, 0.99)}


def run_pos_bench(*, validators: int = 4, tills: int = 2, seconds: float = 30.0, background_rate: float = 500.0,
                  data: Path | None = None, cleanup: bool = False) -> PosBenchResult:
    root = Path(tempfile.mkdtemp(prefix="fedow-bench-pos-")) if data is None else data
    homes = prepare_devnet(root / "devnet", validators, free_ports(validators), fed_melts=False)
    try:
        with Devnet(homes) as devnet:
            devnet.start_all()
            figures = asyncio.run(_bench(homes, validators, tills, seconds, background_rate))
    finally:
        if cleanup:
            shutil.rmtree(root, ignore_errors=True)
    return PosBenchResult(validators=validators, tills=tills * validators, seconds=seconds,
                          background_tx_per_s=background_rate,
                          data_dirs=[] if cleanup else [str(home.home / "data") for home in homes], **figures)
