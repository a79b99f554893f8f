"""Every service of one node, wired in one :func:`run`.

asyncio owns the main thread and serves HTTP; trio runs the node as its guest
(fedow_node/guest.py, notes/trio-and-aiohttp.md). Started, in order:

* on asyncio: the POS API (with the Stripe webhook routes when ``[stripe]`` holds
  both secrets), the metrics endpoint;
* on trio: the bridge that lets HTTP handlers await trio work, the engine
  (:meth:`FedowNode.run`: p2p, block sync, consensus, gossip, offline watch, card
  reader; blocks are executed and committed in its execution worker thread), and
  the one reader of the node's channel of commits, which hands each block to the
  node (restore guard, metrics) and to the API (``?wait=commit`` waiters, the event
  stream, the Stripe bridge's credits).

SIGTERM or SIGINT cancels trio, then the HTTP servers stop; a fatal fault met by the
API halts both the same way.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from typing import Awaitable, Callable

import structlog
import trio

from fedow_node.api import build_app, start_server
from fedow_node.api.answers import ON_FATAL
from fedow_node.api.idempotency import IdempotencyKeys
from fedow_node.api.stripe_routes import stripe_routes
from fedow_node.engine.worker import SWITCH_INTERVAL_S
from fedow_node.guest import TrioBridge, run_guest
from fedow_node.node import FedowNode
from fedow_node.node_api import NodeApi
from fedow_node.payments import node_bridge

__all__ = ["run"]

log = structlog.get_logger(__name__)


class TrioAttester:
    """The node's treasury gatherer (trio, it asks peers over p2p) as the asyncio bridge awaits it."""

    def __init__(self, trio_side: TrioBridge, node: FedowNode) -> None:
        self._trio = trio_side
        self._node = node

    async def attest(self, unsigned: bytes) -> bytes:
        assert self._node.treasury is not None, "FedowNode.open builds the gatherer"
        return await self._trio.call(self._node.treasury.attest, unsigned)


async def read_commits(node: FedowNode, api: NodeApi) -> None:
    """The one reader of the channel of commits: every block, in order, to the node then to the API."""
    assert node.commits is not None, "FedowNode.open builds the channel"
    async for block in node.commits.blocks():
        node.committed(block)
        api.committed(block)


def run(node: FedowNode, ssl_context: ssl.SSLContext | None) -> str | None:
    """Serve every service of an opened node until SIGTERM/SIGINT; the reason if the node halted itself.

    A fatal fault raised on the trio side propagates (the caller reports it).
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # the loop and the execution worker share the GIL
    idempotency = IdempotencyKeys.open(node.files.idempotency)
    shared: dict[str, object] = {}
    halted: list[str] = []
    running: list[tuple[trio.lowlevel.TrioToken, trio.CancelScope]] = []

    def halt(reason: str) -> None:
        """A fatal fault met by the API: stop the whole node (the trio side first, then HTTP)."""
        if not halted:
            halted.append(reason)
            log.critical("node.halting", reason=reason)
            for token, scope in running:
                token.run_sync_soon(scope.cancel)

    async def trio_main(scope: trio.CancelScope) -> None:
        running.append((trio.lowlevel.current_trio_token(), scope))
        if halted:
            return
        bridge, api = shared["trio"], shared["api"]
        assert isinstance(bridge, TrioBridge) and isinstance(api, NodeApi)
        async with trio.open_nursery() as nursery:
            await nursery.start(bridge.serve)
            nursery.start_soon(read_commits, node, api)
            await node.run()
            nursery.cancel_scope.cancel()

    async def start_http() -> Callable[[], Awaitable[None]]:
        shared["api"] = api = NodeApi(node)
        shared["trio"] = trio_side = TrioBridge(asyncio.get_running_loop())
        bridge = node_bridge(node.config.stripe, api, TrioAttester(trio_side, node),  # None unless [stripe] holds
                             payout_account=node.config.stripe.payout_account or None)  # both secrets
        stripe = () if bridge is None else stripe_routes(bridge)
        app = build_app(api, node.config.api, extra_routes=stripe, idempotency=idempotency)
        app[ON_FATAL] = halt
        runners = [await start_server(app, node.config.api.bind, ssl_context)]
        if node.config.metrics.bind:
            runners.append(await start_server(node.metrics.app(), node.config.metrics.bind))
        log.info("node.http", api=node.config.api.bind, metrics=node.config.metrics.bind or None)

        async def cleanup() -> None:
            for runner in runners:
                await runner.cleanup()
            if bridge is not None:
                await bridge.aclose()

        return cleanup

    try:
        run_guest(trio_main, start_http)
    finally:
        idempotency.close()
    return halted[0] if halted else None
