"""Multi-process devnets for the node tests: real processes on 127.0.0.1, bounded waits.

Every wait polls the nodes' HTTP status with a deadline and fails with what it
saw; nothing sleeps a fixed time to assert. Only the processes a test started
are stopped, by their pid (``Devnet`` keeps them).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from config import ChainParams, StripeSection
from fedow_node.devnet import Devnet, NodeHome, free_ports, prepare_devnet


def http_json(url: str, timeout: float = 2.0, token: str | None = None) -> Any:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
        return json.loads(response.read())


def status(home: NodeHome) -> dict[str, Any] | None:
    try:
        return http_json(f"{home.api_url}/v1/status")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def block_state_hash(home: NodeHome, height: int) -> str:
    return http_json(f"{home.api_url}/v1/blocks/{height}")["state_hash"]


@dataclass
class Net:
    devnet: Devnet
    homes: list[NodeHome]

    def wait(self, what: str, predicate: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if exited := self.devnet.exited():
                raise AssertionError(f"while waiting for {what}, nodes exited (index: code): {exited}")
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}; heights: {self.heights()}")

    def heights(self, indexes: Iterable[int] | None = None) -> dict[int, int | None]:
        chosen = range(len(self.homes)) if indexes is None else indexes
        return {i: (s["height"] if (s := status(self.homes[i])) else None) for i in chosen}

    def height(self, index: int) -> int:
        return self.heights([index])[index] or 0

    def wait_height(self, indexes: Iterable[int], height: int, timeout: float) -> None:
        chosen = list(indexes)
        self.wait(f"nodes {chosen} at height >= {height}",
                  lambda: all((h or 0) >= height for h in self.heights(chosen).values()), timeout)

    def assert_same_chain(self, indexes: Iterable[int], up_to: int, step: int = 1) -> None:
        """Every node of ``indexes`` reports the same state hash at heights 1..up_to (every ``step``-th, and the last)."""
        chosen = list(indexes)
        for height in sorted({*range(1, up_to + 1, step), up_to}):
            hashes = {i: block_state_hash(self.homes[i], height) for i in chosen}
            assert len(set(hashes.values())) == 1, f"state hashes differ at height {height}: {hashes}"


def start_net(root: Path, validators: int, *, full_nodes: int = 0, params: ChainParams | None = None,
              start: bool = True, stakes: list[int] | None = None, fed_melts: bool = False,
              stripe: StripeSection | None = None, **devnet_options: Any) -> Net:
    """A devnet in ``root``; FED does not melt unless asked (tests count exact cents over minutes).

    ``devnet_options`` go to :func:`prepare_devnet` (``full_node_venues``, ``offline``...)."""
    count = validators + full_nodes
    ports = free_ports(count)
    homes = prepare_devnet(root, validators, ports, params=params, full_nodes=full_nodes, stakes=stakes,
                           fed_melts=fed_melts, stripe=stripe, **devnet_options)
    devnet = Devnet(homes, extra_env={"FEDOW_LOG_LEVEL": os.environ.get("NODE_TEST_LOG_LEVEL", "info")})
    if start:
        for index in range(validators):
            devnet.start(index)
    return Net(devnet, homes)
