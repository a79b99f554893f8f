"""``fedow-node bench pos``: sale latency at the tills while the network carries background load.

A 4-validator devnet on this machine (as ``bench network``); after the same
set-up, ``tills`` tills (spread over the venues in turn: ``--tills 1`` is one
till alone) sell in a loop through their venue's POS API with ``?wait=commit``
(the node signs with its place key), while signed sales are offered in the
background at ``background_rate`` per second. Each till's answer time is a
sale's latency as a cashier sees it. The chain runs the devnet's parameters or
the production ones (``params``); the machine's load is measured beside
(:mod:`fedow_node.bench.machine`). With ``trace`` the nodes log at debug level and
each sale's time is split into hops (:mod:`fedow_node.bench.hops`).
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

from fedow_node.bench.hops import TracedSale, hop_medians
from fedow_node.bench.machine import CpuMeter, MachineLoad, Profiler
from fedow_node.bench.network import (CARD_REFILL, CARDS_PER_VENUE, BenchNet, CommitWatcher, chain_params,
                                      offer_sales, percentile, set_up_cards)
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet
from wallet.keys import read_key_file


@dataclass(frozen=True)
class PosBenchResult:
    validators: int
    tills: int
    params: str
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
    load: MachineLoad
    profiles: list[str]
    hops_ms_p50: dict[str, float]
    """With ``trace``: median milliseconds of each hop of a sale (:data:`fedow_node.bench.hops.HOPS`)."""


async def _till(session: aiohttp.ClientSession, home: NodeHome, uids: list[bytes], deadline: float,
                latencies: list[float], refused: list[str], traced: list[TracedSale], rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {home.pos_token}"}
    while time.monotonic() < deadline:
        body = {"uid": rng.choice(uids).hex(), "asset": "FED", "amount": rng.randint(100, 900)}
        started, sent = time.monotonic(), time.time()
        async with session.post(f"{home.api_url}/v1/pos/sales?wait=commit&timeout_ms=10000", json=body,
                                headers=headers) as response:
            answer = await response.json()
        if response.status == 200:
            latencies.append((time.monotonic() - started) * 1000)
            traced.append(TracedSale(home.index, answer["txid"], answer["height"], sent, time.time()))
        else:
            refused.append(answer.get("error", answer.get("status", str(response.status))))


async def _bench(homes: list[NodeHome], devnet: Devnet, tills: int, seconds: float, rate: float,
                 profile: Path | None) -> dict:
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
        pids = [devnet.processes[home.index].pid for home in homes]
        meter = CpuMeter(pids)
        meter.start()
        profiler = Profiler(profile, pids, seconds) if profile else None
        deadline = time.monotonic() + seconds
        background = asyncio.create_task(offer_sales(net, places, uids, watcher, rate, seconds))
        traced: list[TracedSale] = []
        await asyncio.gather(*(_till(session, homes[till % len(homes)], uids, deadline, latencies, refused, traced,
                                     rng) for till in range(tills)))
        await background
        load = meter.stop()
        watch.cancel()
        profiles = [str(path) for path in profiler.wait()] if profiler else []
        return {"sales": len(latencies), "refused": len(refused), "refusals": dict(Counter(refused)),
                "sales_per_s": round(len(latencies) / seconds, 1), "sale_ms_p50": percentile(latencies, 0.5),
                "sale_ms_p99": percentile(latencies, 0.99), "load": load, "profiles": profiles, "traced": traced}


def run_pos_bench(*, validators: int = 4, tills: int = 8, seconds: float = 30.0, background_rate: float = 500.0,
                  params: str = "devnet", data: Path | None = None, cleanup: bool = False,
                  profile: Path | None = None, trace: bool = False) -> PosBenchResult:
    root = Path(tempfile.mkdtemp(prefix="fedow-bench-pos-")) if data is None else data
    homes = prepare_devnet(root / "devnet", validators, free_ports(validators), fed_melts=False,
                           venue_float=CARDS_PER_VENUE * CARD_REFILL, params=chain_params(params))
    try:
        with Devnet(homes, extra_env={"FEDOW_LOG_LEVEL": "debug"} if trace else None) as devnet:
            devnet.start_all()
            figures = asyncio.run(_bench(homes, devnet, tills, seconds, background_rate, profile))
        traced = figures.pop("traced")
        hops = hop_medians([home.home / "node.log" for home in homes], traced) if trace else {}
    finally:
        if cleanup:
            shutil.rmtree(root, ignore_errors=True)
    return PosBenchResult(validators=validators, tills=tills, params=params, seconds=seconds,
                          background_tx_per_s=background_rate,
                          data_dirs=[] if cleanup else [str(home.home / "data") for home in homes],
                          hops_ms_p50=hops, **figures)
