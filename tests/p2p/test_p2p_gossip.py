"""Gossip between real node processes on 127.0.0.1: delivery, validation, scoring, restarts."""

from __future__ import annotations

import hashlib
import os
from functools import partial
from collections import Counter
from pathlib import Path

import pytest
import trio
from p2p_child import batch_payload
from p2p_cluster import NodeSpec, free_ports, full_mesh_specs, running, wait_connected, warm_up

pytestmark = pytest.mark.slow


async def test_four_nodes_deliver_each_message_exactly_once_and_batches_intact(tmp_path: Path) -> None:
    async with running(full_mesh_specs(4), tmp_path) as nodes:
        with trio.fail_after(30):
            for node in nodes:
                await wait_connected(node, [other.peer_id for other in nodes if other is not node])
            await warm_up(nodes[0], nodes[1:])
            async with trio.open_nursery() as publishers:
                for index, node in enumerate(nodes):
                    publishers.start_soon(partial(node.command, "publish_many", text=f"m{index}", count=10))
            await nodes[0].command("publish_batch", tag="big", items=2000, item_size=200)
            for node in nodes:
                others = [other for other in nodes if other is not node]
                expected = 10 * len(others)
                await node.wait_until(lambda node=node, expected=expected:
                                      len(node.received("m")) >= expected)
            for node in nodes[1:]:
                await node.wait_until(lambda node=node: bool(node.received("batch-big")))
            for index, node in enumerate(nodes):
                await node.command("publish", text=f"end{index}")
            for node in nodes:
                await node.wait_until(lambda node=node: len(node.received("end")) == 3)

    for index, node in enumerate(nodes):
        heads = Counter(message["head"].split("|")[0] for message in node.received("m"))
        senders = {other.peer_id for other in nodes if other is not node}
        assert sorted(heads) == sorted(f"m{other}-{k}" for other in range(4) if other != index
                                       for k in range(10))
        assert set(heads.values()) == {1}
        assert {message["from"] for message in node.received("m")} == senders
    batch = batch_payload("big", 2000, 200)
    for node in nodes[1:]:
        [received] = node.received("batch-big")
        assert received["size"] == len(batch) > 400_000
        assert received["sha256"] == hashlib.sha256(batch).hexdigest()
    assert nodes[0].received("batch-big") == []


def _line_specs(tmp_path: Path) -> list[NodeSpec]:
    """A - B - C: A and C only reach each other through B, which rejects ``bad`` payloads
    and ignores ``stale`` ones."""
    ports = free_ports(3)
    a, b, c = (NodeSpec(seed=os.urandom(32), port=port) for port in ports)
    b.reject_prefix, b.ignore_prefix = "bad", "stale"
    b.options = {"ban_threshold": -25, "score_recovery_per_second": 0}
    a.peers, b.peers, c.peers = [b.address], [a.address, c.address], [b.address]
    return [a, b, c]


async def test_rejected_or_ignored_message_is_not_relayed_and_rejects_ban_the_sender(tmp_path: Path) -> None:
    async with running(_line_specs(tmp_path), tmp_path) as (a, b, c):
        with trio.fail_after(30):
            await wait_connected(b, [a.peer_id, c.peer_id])
            await warm_up(a, [c])
            assert c.peer_id not in (await a.command("peers"))["peers"]

            await a.command("publish", text="stale-1")
            await a.command("publish", text="bad-1")
            await a.command("publish", text="good-1")
            await c.wait_until(lambda: bool(c.received("good-1")))
            assert c.received("bad") == [] and b.received("bad") == []
            assert c.received("stale") == [] and b.received("stale") == []
            assert (await b.command("score", peer=a.peer_id))["score"] == -10
            metrics = (await b.command("metrics"))["metrics"]
            assert (metrics["messages_rejected"], metrics["messages_ignored"]) == (1, 1)
            assert metrics["bans"] == 0

            for number in (2, 3):
                await a.command("publish", text=f"bad-{number}")
            while (await b.command("metrics"))["metrics"]["bans"] == 0:
                await trio.sleep(0.05)
            metrics = (await b.command("metrics"))["metrics"]
            assert metrics["peers_banned"] == 1 and metrics["messages_rejected"] == 3
            refused = await a.command("request", peer=b.peer_id, data="blob:10", max_response_bytes=100)
            assert not refused["ok"]  # refused by B, or cut with the connection B closes
            assert refused["code"] == "peer_banned" or refused["error"] != "RemoteError"
            await a.command("publish", text="good-after-ban")
            await c.command("publish", text="still-flowing")
            await b.wait_until(lambda: bool(b.received("still-flowing")))
    assert c.received("bad") == []
    assert b.received("good-after-ban") == []


async def test_killed_peer_restarted_on_same_port_and_key_gets_gossip_again(tmp_path: Path) -> None:
    specs = full_mesh_specs(3)
    async with running(specs, tmp_path) as nodes:
        first, second, victim = nodes
        with trio.fail_after(30):
            for node in nodes:
                await wait_connected(node, [other.peer_id for other in nodes if other is not node])
            await warm_up(first, [second, victim])
            victim.kill()
            await victim.stop()
            await first.command("publish", text="while-down")
            for survivor in (first, second):  # their failing redials now mark it "recently failed"
                while victim.peer_id in (await survivor.command("peers"))["peers"]:
                    await trio.sleep(0.05)
            victim.spec.peers = []  # it will not dial: the others' redial loops must find it
            await victim.restart()
        with trio.fail_after(8):
            await wait_connected(first, [victim.peer_id])
            await wait_connected(second, [victim.peer_id])
            await first.command("publish", text="after-restart")
            await victim.wait_until(lambda: bool(victim.received("after-restart")))
        assert victim.peer_id == nodes[2].spec.address.rsplit("/", 1)[1]
