"""Start p2p nodes as real OS processes on 127.0.0.1 and drive them (tests and bench).

Each child is ``p2p_child.py``; this side keeps its pid, kills only that pid,
and exposes the child's stdout events. Every wait is bounded by the caller's
``trio.fail_after``.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.signing
import trio

from fedow_node.devnet import free_port_range
from p2p import peer_multiaddr

CHILD = Path(__file__).with_name("p2p_child.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    """Ports free right now, below the range outgoing connections take (fedow_node.devnet.free_port_range)."""
    base = free_port_range(count)
    return list(range(base, base + count))


@dataclass
class NodeSpec:
    """How to start one child: identity, port, whom to dial, validator and config overrides."""

    seed: bytes
    port: int
    peers: list[str] = field(default_factory=list)
    reject_prefix: str = ""
    ignore_prefix: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def public_key(self) -> bytes:
        return bytes(nacl.signing.SigningKey(self.seed).verify_key)

    @property
    def address(self) -> str:
        return peer_multiaddr("127.0.0.1", self.port, self.public_key)


class ChildNode:
    """One running child process and what it has reported so far."""

    def __init__(self, spec: NodeSpec, log_path: Path) -> None:
        self.spec = spec
        self.log_path = log_path
        self.peer_id = ""
        self.messages: list[dict[str, Any]] = []
        self._replies: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._changed = trio.Event()
        self._started = trio.Event()
        self._process: trio.Process | None = None
        self._nursery: trio.Nursery | None = None

    async def start(self, nursery: trio.Nursery) -> None:
        """Spawn the child and return once it listens; its events are read in ``nursery``."""
        self._nursery = nursery
        settings = {"seed": self.spec.seed.hex(), "port": self.spec.port, "peers": self.spec.peers,
                    "reject_prefix": self.spec.reject_prefix, "ignore_prefix": self.spec.ignore_prefix,
                    "options": self.spec.options}
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        with open(self.log_path, "ab") as log_file:
            self._process = await trio.lowlevel.open_process(
                [sys.executable, str(CHILD), json.dumps(settings)], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=log_file, env=env)
        self.messages = []
        self._started = trio.Event()
        nursery.start_soon(self._read_events, self._process)
        await self._started.wait()

    async def restart(self) -> None:
        """Start the same spec again (same key, same port) after :meth:`stop`."""
        assert self._nursery is not None
        await self.start(self._nursery)

    def kill(self) -> None:
        """SIGKILL this child (only this pid)."""
        if self._process is not None and self._process.returncode is None:
            self._process.kill()

    async def stop(self) -> None:
        """Kill and reap the child."""
        self.kill()
        if self._process is not None:
            with trio.move_on_after(5):
                await self._process.wait()

    async def command(self, op: str, **arguments: Any) -> dict[str, Any]:
        """Send one command and wait for its reply."""
        assert self._process is not None and self._process.stdin is not None
        command_id = next(self._ids)
        line = json.dumps({"id": command_id, "op": op, **arguments}) + "\n"
        await self._process.stdin.send_all(line.encode())
        await self.wait_until(lambda: command_id in self._replies)
        return self._replies.pop(command_id)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds after some event from the child."""
        while not condition():
            await self._changed.wait()

    def received(self, prefix: str) -> list[dict[str, Any]]:
        """Delivered messages whose payload starts with ``prefix``."""
        return [message for message in self.messages if message["head"].startswith(prefix)]

    async def _read_events(self, process: trio.Process) -> None:
        assert process.stdout is not None
        pending = b""
        async for chunk in process.stdout:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._record(json.loads(line))
            self._changed.set()
            self._changed = trio.Event()

    def _record(self, event: dict[str, Any]) -> None:
        if event["event"] == "started":
            self.peer_id = event["peer_id"]
            self._started.set()
        elif event["event"] == "message":
            self.messages.append(event)
        elif event["event"] == "reply":
            self._replies[event["id"]] = event


def full_mesh_specs(count: int, **common: Any) -> list[NodeSpec]:
    """``count`` nodes that all list each other as static peers."""
    ports = free_ports(count)
    specs = [NodeSpec(seed=os.urandom(32), port=port, **common) for port in ports]
    for spec in specs:
        spec.peers = [other.address for other in specs if other is not spec]
    return specs


@asynccontextmanager
async def running(specs: list[NodeSpec], log_dir: Path) -> AsyncIterator[list[ChildNode]]:
    """Start every spec as a child (concurrently); kill them all on exit."""
    nodes = [ChildNode(spec, log_dir / f"node{index}.log") for index, spec in enumerate(specs)]
    async with trio.open_nursery() as nursery:
        try:
            async with trio.open_nursery() as starters:
                for node in nodes:
                    starters.start_soon(node.start, nursery)
            yield nodes
        finally:
            with trio.CancelScope(shield=True):
                for node in nodes:
                    await node.stop()
            nursery.cancel_scope.cancel()


async def wait_connected(node: ChildNode, peer_ids: list[str]) -> None:
    """Poll the child's peer list until it holds every id of ``peer_ids``."""
    while not set(peer_ids) <= set((await node.command("peers"))["peers"]):
        await trio.sleep(0.05)


async def warm_up(publisher: ChildNode, receivers: list[ChildNode]) -> None:
    """Publish until every receiver got one message: the gossip mesh carries traffic."""
    for round_number in itertools.count():
        await publisher.command("publish", text=f"warm-{round_number}")
        with trio.move_on_after(0.3):
            for receiver in receivers:
                await receiver.wait_until(lambda receiver=receiver: bool(receiver.received("warm-")))
            return
