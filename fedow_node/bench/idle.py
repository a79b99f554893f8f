"""``fedow-node bench idle``: what an idle devnet costs: blocks made, CPU, disk.

A devnet with no transaction at all should make only heartbeat blocks (one per
``heartbeat_ms`` of consensus time, so that time-driven rules still advance) and
leave the box's CPU to others. After the nodes made their first block, this
watches them for ``seconds``: every block of the window, its transactions and the
consensus time since the block before, the CPU the node processes used, and how
much node 0's data folder grew, extrapolated to a day.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from config import load_genesis
from fedow_node.bench.machine import CpuMeter, MachineLoad, Profiler
from fedow_node.bench.network import BenchNet, chain_params
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet

DAY_MS = 86_400_000


@dataclass(frozen=True)
class IdleBenchResult:
    validators: int
    params: str
    seconds: float
    heartbeat_ms: int
    blocks: int
    """Blocks committed during the window."""
    blocks_with_txs: int
    min_gap_ms: int | None
    """Smallest consensus time between two consecutive blocks of the window."""
    only_heartbeat_blocks: bool
    """No block of the window holds a transaction and each came a heartbeat or more after the one before."""
    blocks_per_day: float
    disk_bytes_per_block: float | None
    """Growth of node 0's data folder per block made in the window (LevelDB log, before compaction)."""
    disk_mb_per_day: float | None
    load: MachineLoad
    data_dirs: list[str]
    profiles: list[str]


def _folder_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


async def _watch(homes: list[NodeHome], devnet: Devnet, seconds: float,
                 profile: Path | None) -> tuple[list[dict], MachineLoad, int, list[str]]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        net = BenchNet(session, homes)
        await net.wait_height(homes, 1, 120.0)
        await asyncio.sleep(1.0)  # let start-up work (imports, connections, first block) settle
        start_height = min([h or 0 for h in await asyncio.gather(*(net.height(home) for home in homes))])
        data = homes[0].home / "data"
        disk_before = _folder_bytes(data)
        pids = [devnet.processes[home.index].pid for home in homes]
        meter = CpuMeter(pids)
        meter.start()
        profiler = Profiler(profile, pids, seconds) if profile else None
        await asyncio.sleep(seconds)
        load = meter.stop()
        profiles = [str(path) for path in profiler.wait()] if profiler else []
        disk_grown = _folder_bytes(data) - disk_before
        end_height = await net.height(homes[0]) or 0
        blocks = [await net.get(homes[0], f"/v1/blocks/{height}") for height in range(start_height, end_height + 1)]
        return blocks, load, disk_grown, profiles


def run_idle_bench(*, validators: int = 4, seconds: float = 60.0, params: str = "devnet",
                   data: Path | None = None, cleanup: bool = False, profile: Path | None = None) -> IdleBenchResult:
    root = Path(tempfile.mkdtemp(prefix="fedow-bench-idle-")) if data is None else data
    homes = prepare_devnet(root / "devnet", validators, free_ports(validators), params=chain_params(params))
    heartbeat_ms = load_genesis(root / "devnet" / "genesis.json").params.heartbeat_ms
    try:
        with Devnet(homes) as devnet:
            devnet.start_all()
            blocks, load, disk_grown, profiles = asyncio.run(_watch(homes, devnet, seconds, profile))
    finally:
        if cleanup:
            shutil.rmtree(root, ignore_errors=True)
    made = blocks[1:]  # the first one is the block before the window, for the first gap
    gaps = [block["time_ms"] - before["time_ms"] for before, block in zip(blocks, made)]
    with_txs = sum(1 for block in made if block["txids"])
    per_day = len(made) * DAY_MS / (seconds * 1000)
    per_block = disk_grown / len(made) if made else None
    return IdleBenchResult(
        validators=validators, params=params, seconds=seconds, heartbeat_ms=heartbeat_ms, blocks=len(made),
        blocks_with_txs=with_txs, min_gap_ms=min(gaps) if gaps else None,
        only_heartbeat_blocks=with_txs == 0 and all(gap >= heartbeat_ms for gap in gaps),
        blocks_per_day=round(per_day, 1), disk_bytes_per_block=None if per_block is None else round(per_block, 1),
        disk_mb_per_day=None if per_block is None else round(per_block * per_day / 1e6, 2), load=load,
        data_dirs=[] if cleanup else [str(home.home / "data") for home in homes], profiles=profiles)
