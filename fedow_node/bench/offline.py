"""``fedow-node bench pos --offline``: offline sales at a venue cut off from the network, then their forwarding.

A devnet on this machine (``validators`` validators) plus the venue's own node (a full node with
its place, ``[offline]`` on, docs/offline.md). Set-up, online: the venue registers cards, sells
them FED for cash and locks an offline bond. Then its node is cut from every peer (its isolation
file) and ``tills`` tills sell ``sales`` offline sales in all through its POS API; each answer
time is an offline sale's latency as a cashier sees it (the node signs, journals and fsyncs
before answering). Then the partition heals, and the clock runs until every offline sale is on
chain: the time to reconnect (the node sees 2/3 of the power and has caught up) and the time to
forward and commit them all. The machine's load is measured beside (:mod:`fedow_node.bench.machine`).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from config import OfflineSection
from fedow_node.bench.machine import CpuMeter, MachineLoad
from fedow_node.bench.network import BenchNet, chain_params, percentile
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet

CARDS = 100
CARD_FED = 1_000_000
"""10,000.00 FED sold for cash to each card: offline sales never run short (the rest is measured)."""
BOND = 10**8
LIMITS = OfflineSection(enabled=True, stalled_after_ms=900_000, max_sale=10_000, max_per_card=10**9,
                        max_exposure=10**9)
STEP_S = 300.0


@dataclass(frozen=True)
class OfflineBenchResult:
    validators: int
    tills: int
    params: str
    offline_sales: int
    offline_refused: int
    offline_refusals: dict[str, int]
    offline_sale_ms_p50: float | None
    """Latency of an offline sale at the till: request to answer (signed, journalled, fsynced)."""
    offline_sale_ms_p99: float | None
    offline_sales_per_s: float
    cut_off_s: float
    """From the partition to the node saying it is cut off."""
    reconnect_s: float
    """From the heal to the node saying it is back online."""
    forward_commit_s: float
    """From the heal to every offline sale on chain (reconnection included)."""
    forwarded_per_s: float
    data_dirs: list[str]
    load: MachineLoad


async def _json(session: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None) -> Any:
    async with session.request(method, url, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
        answer = await response.json()
        if response.status >= 400:
            raise RuntimeError(f"{method} {url} answered {response.status}: {answer}")
        return answer


async def _until(what: str, check: Any, timeout: float = STEP_S) -> float:
    """Poll ``check()`` until true; the seconds it took."""
    started = time.monotonic()
    while not await check():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _set_up(session: aiohttp.ClientSession, venue: NodeHome) -> list[bytes]:
    token, url = venue.pos_token, venue.api_url
    uids = [bytes([0x0F, 0x0F]) + i.to_bytes(5, "big") for i in range(CARDS)]
    rows = [{"uid": uid.hex(), "number": f"OF{i:06d}", "qr_id": uid.rjust(16, b"\0").hex()} for i, uid in
            enumerate(uids)]
    await _json(session, "POST", f"{url}/v1/pos/cards?wait=commit&timeout_ms=60000", token, {"cards": rows})
    for uid in uids:
        await _json(session, "POST", f"{url}/v1/pos/refills", token, {"uid": uid.hex(), "asset": "FED",
                                                                      "amount": CARD_FED})
    await _json(session, "POST", f"{url}/v1/pos/offline-bonds?wait=commit&timeout_ms=60000", token, {"amount": BOND})
    return uids


async def _till(session: aiohttp.ClientSession, venue: NodeHome, uids: list[bytes], left: list[int],
                latencies: list[float], refused: list[str], rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {venue.pos_token}"}
    while left[0] > 0:
        left[0] -= 1
        body = {"uid": rng.choice(uids).hex(), "asset": "FED", "amount": rng.randint(100, 900)}
        started = time.monotonic()
        async with session.post(f"{venue.api_url}/v1/pos/sales", json=body, headers=headers) as response:
            answer = await response.json()
        if response.status == 202 and answer.get("status") == "offline":
            latencies.append((time.monotonic() - started) * 1000)
        else:
            refused.append(answer.get("error", answer.get("status", str(response.status))))


async def _bench(homes: list[NodeHome], devnet: Devnet, venue: NodeHome, tills: int, sales: int) -> dict[str, Any]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        net = BenchNet(session, homes)
        await net.wait_height(homes, 1, STEP_S)

        async def offline() -> dict[str, Any]:
            return (await net.get(venue, "/v1/status")).get("offline") or {}

        await _until("the venue online", lambda: _state_is(offline, "online"))
        uids = await _set_up(session, venue)
        await _until("the set-up on chain", lambda: _pending_is(session, venue, 0))
        isolate = venue.home / "isolate"
        isolate.touch()
        cut_off_s = await _until("the venue cut off", lambda: _state_is(offline, "offline"))
        pids = [process.pid for process in devnet.processes.values()]
        meter = CpuMeter(pids)
        meter.start()
        latencies: list[float] = []
        refused: list[str] = []
        rng = random.Random(11)
        left = [sales]
        selling = time.monotonic()
        await asyncio.gather(*(_till(session, venue, uids, left, latencies, refused, rng) for _ in range(tills)))
        selling_s = time.monotonic() - selling
        healed = time.monotonic()
        isolate.unlink()
        reconnect_s = await _until("the venue back online", lambda: _state_is(offline, "online"))
        sold = len(latencies)
        await _until("every offline sale on chain", lambda: _all_committed(offline, sold))
        forward_commit_s = time.monotonic() - healed
        load = meter.stop()
        return {"offline_sales": sold, "offline_refused": len(refused), "offline_refusals": dict(Counter(refused)),
                "offline_sale_ms_p50": percentile(latencies, 0.5), "offline_sale_ms_p99": percentile(latencies, 0.99),
                "offline_sales_per_s": round(sold / selling_s, 1), "cut_off_s": round(cut_off_s, 2),
                "reconnect_s": round(reconnect_s, 2), "forward_commit_s": round(forward_commit_s, 2),
                "forwarded_per_s": round(sold / forward_commit_s, 1), "load": load}


async def _state_is(offline: Any, state: str) -> bool:
    try:
        return (await offline()).get("state") == state
    except (aiohttp.ClientError, OSError):
        return False


async def _all_committed(offline: Any, sold: int) -> bool:
    found = await offline()
    return found.get("state") == "online" and found.get("pending") == 0 and found.get("committed", 0) >= sold


async def _pending_is(session: aiohttp.ClientSession, venue: NodeHome, count: int) -> bool:
    async with session.get(f"{venue.api_url}/v1/status") as response:
        return (await response.json())["node"]["mempool_txs"] == count


def run_offline_bench(*, validators: int = 4, tills: int = 1, sales: int = 1_000, params: str = "devnet",
                      data: Path | None = None, cleanup: bool = False) -> OfflineBenchResult:
    root = Path(tempfile.mkdtemp(prefix="fedow-bench-offline-")) if data is None else data
    homes = prepare_devnet(root / "devnet", validators, free_ports(validators + 1), full_nodes=1, fed_melts=False,
                           params=chain_params(params), full_node_venues=True, offline=LIMITS,
                           venue_float=CARDS * CARD_FED + BOND)
    venue = homes[validators]
    try:
        with Devnet(homes) as devnet:
            devnet.start_all()
            figures = asyncio.run(_bench(homes, devnet, venue, tills, sales))
    finally:
        if cleanup:
            shutil.rmtree(root, ignore_errors=True)
    return OfflineBenchResult(validators=validators, tills=tills, params=params,
                              data_dirs=[] if cleanup else [str(home.home / "data") for home in homes], **figures)
