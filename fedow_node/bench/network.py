"""``fedow-node bench network``: a devnet on this machine under a steady load of signed sales.

The devnet's validators run as separate processes on 127.0.0.1 (plus one full
node kept stopped until the end). Set-up: each venue registers cards and
refills them with FED. Load: for ``seconds``, sales signed by the venues'
keys are offered at ``rate`` per second in total, in batches to the venues'
nodes in turn (``POST /v1/txs/batch``). Measured:

* committed tx/s: load transactions committed per second of the load window;
* finality: from the moment a node accepted a sale into its mempool to the
  moment node 0 reports the block holding it (p50, p99), at the offered rate;
* catch-up: a full node started from nothing after the load syncs the whole
  chain; transactions in the chain per second of its sync;
* state hash agreement of every node at the last common height.

The data folders are kept (``data_dirs``) for an auditor unless ``cleanup``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from config import ChainParams
from fedow_node.bench.machine import CpuMeter, MachineLoad, Profiler
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet
from wallet.bodies import CashRefill, RegisterCards, Sale
from wallet.fields import MAX_CARDS_PER_TX
from wallet.keys import SigningKey, read_key_file
from wallet.layout import card_wallet_id
from wallet.tx import sign_tx

CHAIN_ID = "fedow-devnet"
CARDS_PER_VENUE = 200
CARD_REFILL = 10**9
"""FED cents sold for cash to each card, out of its venue's genesis float."""
BATCH = 200
MAX_BODY_HEX = 60_000
TICK_S = 0.05


@dataclass(frozen=True)
class NetworkBenchResult:
    validators: int
    params: str
    seconds: float
    offered_tx_per_s: float
    submitted: int
    committed: int
    committed_tx_per_s: float
    finality_ms_p50: float | None
    finality_ms_p99: float | None
    catchup_tx_per_s: float | None
    catchup_blocks: int
    state_hash_agree: bool
    height: int
    data_dirs: list[str]
    load: MachineLoad
    profiles: list[str]


PARAMS = ("devnet", "production")


def chain_params(name: str) -> ChainParams:
    """The devnet's chain parameters (millisecond timeouts) or the production defaults."""
    if name not in PARAMS:
        raise ValueError(f"params must be one of {', '.join(PARAMS)}, got {name!r}")
    return ChainParams.devnet() if name == "devnet" else ChainParams()


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


class BenchNet:
    def __init__(self, session: aiohttp.ClientSession, homes: list[NodeHome]) -> None:
        self.session = session
        self.homes = homes

    async def get(self, home: NodeHome, path: str) -> Any:
        async with self.session.get(home.api_url + path) as response:
            return await response.json()

    async def height(self, home: NodeHome) -> int | None:
        try:
            return (await self.get(home, "/v1/status"))["height"]
        except (aiohttp.ClientError, OSError, KeyError):
            return None

    async def wait_height(self, homes: list[NodeHome], height: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all((h or 0) >= height for h in await asyncio.gather(*(self.height(x) for x in homes))):
                return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"nodes did not reach height {height} within {timeout}s")

    async def submit(self, home: NodeHome, txs: list[bytes]) -> list[dict[str, Any]]:
        """POST /v1/txs/batch, in requests that fit the API's default 64 KiB body limit."""
        results: list[dict[str, Any]] = []
        chunk: list[str] = []
        for tx in txs:
            if chunk and (sum(map(len, chunk)) + 2 * len(tx) > MAX_BODY_HEX or len(chunk) == BATCH):
                results += await self._post(home, chunk)
                chunk = []
            chunk.append(tx.hex())
        return results + (await self._post(home, chunk) if chunk else [])

    async def _post(self, home: NodeHome, txs: list[str]) -> list[dict[str, Any]]:
        async with self.session.post(home.api_url + "/v1/txs/batch", json={"txs": txs}) as response:
            answer = await response.json()
            if response.status != 200:
                raise RuntimeError(f"{home.api_url} refused a batch: {answer}")
            return answer["results"]


def _uid(venue: int, index: int) -> bytes:
    return bytes([0x04, venue]) + index.to_bytes(5, "big")


async def set_up_cards(net: BenchNet, places: list[SigningKey], height: int) -> list[bytes]:
    """Register and refill CARDS_PER_VENUE cards per venue; returns every card UID."""
    uids: list[bytes] = []
    expiry = height + 500
    registrations, refills = [], []
    for venue, key in enumerate(places):
        venue_uids = [_uid(venue, i) for i in range(CARDS_PER_VENUE)]
        uids += venue_uids
        for start in range(0, len(venue_uids), MAX_CARDS_PER_TX):
            rows = tuple((uid, f"{venue:02d}{i:06d}", uid.rjust(16, b"\0"))
                         for i, uid in enumerate(venue_uids[start:start + MAX_CARDS_PER_TX], start))
            registrations.append((venue, sign_tx(key, CHAIN_ID, "register_cards", RegisterCards(rows),
                                                 os.urandom(16), expiry)))
        refills += [(venue, sign_tx(key, CHAIN_ID, "cash_refill", CashRefill(card_wallet_id(uid), "FED", CARD_REFILL),
                                    os.urandom(16), expiry)) for uid in venue_uids]
    for phase in (registrations, refills):
        txids = []
        for venue in range(len(places)):
            mine = [tx for at, tx in phase if at == venue]
            for start in range(0, len(mine), BATCH):
                for result in await net.submit(net.homes[venue], mine[start:start + BATCH]):
                    if "txid" not in result:
                        raise RuntimeError(f"set-up transaction refused: {result}")
                    txids.append(result["txid"])
        await _wait_committed(net, net.homes[0], txids, 120.0)
    return uids


async def _wait_committed(net: BenchNet, home: NodeHome, txids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for txid in txids:
        while (await net.get(home, f"/v1/txs/{txid}")).get("status") != "committed":
            if time.monotonic() > deadline:
                raise TimeoutError(f"transaction {txid} not committed within {timeout}s")
            await asyncio.sleep(0.1)


class CommitWatcher:
    """Follows node 0's blocks and stamps when each awaited txid appears."""

    def __init__(self, net: BenchNet, home: NodeHome, start_height: int) -> None:
        self.net, self.home, self.next_height = net, home, start_height + 1
        self.submitted: dict[str, float] = {}
        self.latencies: list[float] = []
        self.committed_at: list[float] = []

    async def run(self) -> None:
        while True:
            height = await self.net.height(self.home) or 0
            while self.next_height <= height:
                block = await self.net.get(self.home, f"/v1/blocks/{self.next_height}")
                now = time.monotonic()
                for txid in block["txids"]:
                    sent = self.submitted.pop(txid, None)
                    if sent is not None:
                        self.latencies.append((now - sent) * 1000)
                        self.committed_at.append(now)
                self.next_height += 1
            await asyncio.sleep(0.02)


async def offer_sales(net: BenchNet, places: list[SigningKey], uids: list[bytes], watcher: CommitWatcher,
                rate: float, seconds: float) -> int:
    submitted, venue, carry = 0, 0, 0.0
    start = time.monotonic()
    height = await net.height(net.homes[0]) or 0
    while (elapsed := time.monotonic() - start) < seconds:
        carry += rate * TICK_S
        count, carry = int(carry), carry - int(carry)
        for offset in range(0, count, BATCH):
            key = places[venue]
            txs = [sign_tx(key, CHAIN_ID, "sale", Sale(uids[(submitted + i) % len(uids)], "FED", 1),
                           os.urandom(16), height + 300) for i in range(offset, min(count, offset + BATCH))]
            results = await net.submit(net.homes[venue], txs)
            now = time.monotonic()
            for result in results:
                if "txid" in result:
                    watcher.submitted[result["txid"]] = now
            submitted += len(txs)
            venue = (venue + 1) % len(places)
        await asyncio.sleep(max(0.0, start + elapsed + TICK_S - time.monotonic()))
    return submitted


async def _bench(homes: list[NodeHome], devnet: Devnet, validators: int, seconds: float,
                 rate: float, profile: Path | None) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        net = BenchNet(session, homes)
        validator_homes = homes[:validators]
        await net.wait_height(validator_homes, 1, 120.0)
        places = [read_key_file(home.home / "place.key") for home in validator_homes]
        uids = await set_up_cards(net, places, await net.height(homes[0]) or 0)
        watcher = CommitWatcher(net, homes[0], await net.height(homes[0]) or 0)
        watch = asyncio.create_task(watcher.run())
        pids = [devnet.processes[index].pid for index in range(validators)]
        meter = CpuMeter(pids)
        meter.start()
        profiler = Profiler(profile, pids, seconds) if profile else None
        started = time.monotonic()
        submitted = await offer_sales(net, places, uids, watcher, rate, seconds)
        load_end = time.monotonic()
        load = meter.stop()
        profiles = [str(path) for path in profiler.wait()] if profiler else []
        drain_deadline = load_end + 30
        while watcher.submitted and time.monotonic() < drain_deadline:
            await asyncio.sleep(0.1)
        watch.cancel()
        in_window = sum(1 for at in watcher.committed_at if at <= load_end)
        heights = [await net.height(h) or 0 for h in validator_homes]
        common = min(heights)
        hashes = {(await net.get(h, f"/v1/blocks/{common}"))["state_hash"] for h in validator_homes}
        chain_txs = await _chain_txs(net, homes[0], common)
        sync_started = time.monotonic()
        devnet.start(validators)
        await net.wait_height([homes[validators]], common, 300.0)
        sync_seconds = time.monotonic() - sync_started
        return {
            "submitted": submitted, "committed": len(watcher.latencies),
            "committed_tx_per_s": round(in_window / (load_end - started), 1),
            "finality_ms_p50": percentile(watcher.latencies, 0.5),
            "finality_ms_p99": percentile(watcher.latencies, 0.99),
            "catchup_tx_per_s": round(chain_txs / sync_seconds, 1) if chain_txs else None,
            "catchup_blocks": common, "state_hash_agree": len(hashes) == 1, "height": common,
            "load": load, "profiles": profiles,
        }


async def _chain_txs(net: BenchNet, home: NodeHome, height: int) -> int:
    total = 0
    for h in range(1, height + 1):
        total += len((await net.get(home, f"/v1/blocks/{h}"))["txids"])
    return total


def run_network_bench(*, validators: int = 4, seconds: float = 30.0, rate: float = 500.0, params: str = "devnet",
                      data: Path | None = None, cleanup: bool = False,
                      profile: Path | None = None) -> NetworkBenchResult:
    root = Path(tempfile.mkdtemp(prefix="fedow-bench-network-")) if data is None else data
    homes = prepare_devnet(root / "devnet", validators, free_ports(validators + 1), full_nodes=1,
                           venue_float=CARDS_PER_VENUE * CARD_REFILL, fed_melts=False, params=chain_params(params))
    try:
        with Devnet(homes) as devnet:
            for index in range(validators):
                devnet.start(index)
            figures = asyncio.run(_bench(homes, devnet, validators, seconds, rate, profile))
    finally:
        if cleanup:
            shutil.rmtree(root, ignore_errors=True)
    data_dirs = [] if cleanup else [str(home.home / "data") for home in homes]
    return NetworkBenchResult(validators=validators, params=params, seconds=seconds, offered_tx_per_s=rate,
                              data_dirs=data_dirs, **figures)
