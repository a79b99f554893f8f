"""The image built and docker-compose.yml run for real on this machine's dockerd.

One image build (session fixture), one compose project: four validators in containers on
the host's network (127.0.0.1, ports free at run time), a card registered, refilled and
charged through node0's POS API, then the stack stopped (each node exits cleanly on
SIGTERM) and started again from its volume: the chain is still there (same block hashes,
same balance on every node) and the next sale commits on every node.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.request
from typing import Any

import pytest
from compose_stack import ROOT, SERVICES, ComposeStack

from fedow_node.client import FedowClient, Submission
from fedow_node.devnet import free_ports

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

UID = bytes.fromhex("04a1b2c3d4e5f6")
NUMBER = "DOCKER01"
QR = bytes(range(16))


def get(url: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return json.loads(response.read())


async def committed(client: FedowClient, submission: Submission) -> Submission:
    if not submission.committed:
        submission = await client.wait_committed(submission.txid, 120.0)
    assert submission.committed, submission
    return submission


async def open_the_bar(url: str, token: str) -> None:
    """A till's morning: register a card, refill 50.00 FED in cash."""
    async with FedowClient(url, token, timeout_s=60.0) as till:
        await committed(till, await till.register_cards([(UID, NUMBER, QR)]))
        await committed(till, await till.refill("FED", 5_000, uid=UID))


async def sell(url: str, token: str, amount: int) -> Submission:
    async with FedowClient(url, token, timeout_s=60.0) as till:
        return await committed(till, await till.sale(UID, "FED", amount))


def fed_balance(url: str, token: str) -> int:
    wallet = get(f"{url}/v1/cards/{UID.hex()}", token)["paying_wallet"]
    return next(b["amount"] for b in wallet["balances"] if b["asset"] == "FED")


def chain_view(stack: ComposeStack, tokens: list[str], height: int) -> dict[int, tuple[str, int]]:
    """Per node: the block hash at ``height`` and the card's FED balance (read with the node's venue token)."""
    return {i: (get(f"{stack.api_url(i)}/v1/blocks/{height}")["hash"], fed_balance(stack.api_url(i), token))
            for i, token in enumerate(tokens)}


def wait_height(stack: ComposeStack, height: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    heights: dict[int, object] = {}
    while time.monotonic() < deadline:
        heights = {i: get(f"{stack.api_url(i)}/v1/status")["height"] for i in range(len(SERVICES))}
        if all(h >= height for h in heights.values()):
            return
        time.sleep(1.0)
    raise AssertionError(f"nodes not at height {height} after {timeout} s: {heights}")


def test_compose_devnet_sells_stops_and_restarts_with_its_chain(docker_image: str) -> None:
    stack = ComposeStack(ROOT, docker_image, free_ports(4), project=f"fedowtest{os.getpid()}")
    try:
        stack.compose("up", "-d", "--no-build", timeout=300)
        stack.wait_healthy(timeout=300)
        tokens = [stack.compose("exec", "-T", name, "cat", f"/data/{name}/pos-token").strip() for name in SERVICES]

        asyncio.run(open_the_bar(stack.api_url(0), tokens[0]))
        sale = asyncio.run(sell(stack.api_url(0), tokens[0], 450))
        assert sale.height is not None
        wait_height(stack, sale.height)
        before = chain_view(stack, tokens, sale.height)
        assert set(before.values()) == {(before[0][0], 5_000 - 450)}, before

        stack.compose("stop", "--timeout", "30", timeout=300)
        assert stack.exit_codes() == {service: "exited 0" for service in SERVICES}, stack.logs()

        stack.compose("up", "-d", "--no-build", timeout=300)
        stack.wait_healthy(timeout=300)
        assert chain_view(stack, tokens, sale.height) == before
        assert get(f"{stack.api_url(3)}/v1/txs/{sale.txid}")["height"] == sale.height
        again = asyncio.run(sell(stack.api_url(0), tokens[0], 300))  # consensus resumed
        assert again.height is not None and again.height > sale.height
        wait_height(stack, again.height)
        assert {fed_balance(stack.api_url(i), token) for i, token in enumerate(tokens)} == {5_000 - 450 - 300}
    except (AssertionError, subprocess.SubprocessError):
        print(stack.logs(tail=80))
        raise
    finally:
        stack.down()
