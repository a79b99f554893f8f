"""The trio driver: four validators in one process, gossip through memory, timers on trio's mock clock."""

from __future__ import annotations

import trio
import trio.testing
from consensus_testkit import CHAIN, PARAMS, make_keys

from consensus import Message, decode_message, encode_message
from consensus.driver import Driver
from consensus.evidence import EvidencePool
from consensus.mempool import Mempool
from consensus.node import Node, NodeConfig
from consensus.signer import MemoryLastSignStore, Signer
from consensus.simulation import SimApplication, pay_tx
from consensus.simulation.app import SimBlock
from consensus.wal import MemoryWal

KEYS = make_keys(4)
POWERS = {key.public_key: power for key, power in zip(KEYS, [10, 20, 30, 40])}


class TrioClock:
    def now_ms(self) -> int:
        return 1_000_000 + int(trio.current_time() * 1000)


class MemoryGossip:
    """Transport: every broadcast goes through the wire codec to every other driver's inbox."""

    def __init__(self) -> None:
        self.drivers: list[Driver] = []

    def for_sender(self, sender: int) -> "SenderTransport":
        return SenderTransport(self, sender)


class SenderTransport:
    def __init__(self, gossip: MemoryGossip, sender: int) -> None:
        self.gossip = gossip
        self.sender = sender

    async def broadcast(self, message: Message) -> None:
        checked = decode_message(encode_message(message), CHAIN, PARAMS.max_block_bytes)
        for index, driver in enumerate(self.gossip.drivers):
            if index != self.sender:
                driver.inbox.send_nowait(checked)


def four_drivers() -> tuple[MemoryGossip, list[SimApplication]]:
    gossip = MemoryGossip()
    apps = [SimApplication(CHAIN, POWERS, 1_000_000, evidence_max_age_blocks=100) for _ in KEYS]
    for index, (key, app) in enumerate(zip(KEYS, apps)):
        node = Node(NodeConfig(CHAIN, PARAMS, regossip_interval_ms=200), app, TrioClock(), MemoryWal(),
                    Mempool(app.check_tx, 100, 100_000, 1024), EvidencePool(100),
                    Signer(key, CHAIN, MemoryLastSignStore()))
        gossip.drivers.append(Driver(node, gossip.for_sender(index)))
    return gossip, apps


async def test_four_drivers_commit_the_same_blocks_on_a_virtual_clock(autojump_clock: trio.testing.MockClock) -> None:
    gossip, apps = four_drivers()
    for nonce in range(5):
        for driver in gossip.drivers:
            driver.node.mempool.add(pay_tx(1, nonce))
    with trio.fail_after(60):  # virtual seconds: the mock clock jumps whenever every task waits
        async with trio.open_nursery() as nursery:
            for driver in gossip.drivers:
                await nursery.start(driver.run)
            while min(app.height for app in apps) < 5:
                await trio.sleep(0.05)
            nursery.cancel_scope.cancel()
    for height in range(1, 6):
        assert len({app.blocks[height][0] for app in apps}) == 1
    assert all(len(app.applied_txs) == 5 for app in apps)  # the mempool's transactions made it into blocks


async def wait_height(apps: list[SimApplication], height: int) -> None:
    while min(app.height for app in apps) < height:
        await trio.sleep(0.01)


async def test_an_idle_network_makes_only_heartbeat_blocks_and_a_transaction_starts_a_height_at_once(
        autojump_clock: trio.testing.MockClock) -> None:
    gossip, apps = four_drivers()
    with trio.fail_after(60):  # virtual seconds
        async with trio.open_nursery() as nursery:
            for driver in gossip.drivers:
                await nursery.start(driver.run)
            await wait_height(apps, 4)
            while not all(driver.node.waiting_for_work for driver in gossip.drivers):  # past timeout_commit
                await trio.sleep(0.01)
            # A transaction gossiped to every mempool starts the next height at once, long before the heartbeat.
            idle_since = trio.current_time()
            height = apps[0].height
            for driver in gossip.drivers:
                driver.node.mempool.add(pay_tx(1, 0))
            await wait_height(apps, height + 1)
            started_by_tx = trio.current_time() - idle_since
            nursery.cancel_scope.cancel()
    blocks = apps[0].blocks
    assert all(apps[0].block_times[h] - apps[0].block_times[h - 1] >= PARAMS.heartbeat_ms for h in range(3, 5)), \
        "idle blocks are a heartbeat apart in consensus time"
    assert all(pay_tx(1, 0) not in SimBlock.decode(blocks[h][0]).txs for h in range(1, height + 1))
    assert pay_tx(1, 0) in SimBlock.decode(blocks[height + 1][0]).txs
    assert started_by_tx < PARAMS.heartbeat_ms / 1000 / 2, started_by_tx
