"""``fedow-node run --home DIR``: run one node (p2p, sync, consensus, POS API, metrics) until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Awaitable, Callable

import structlog
import trio

from fedow_node.api import build_app, start_server, tls_context
from fedow_node.api.answers import ON_FATAL, fatal_fault, find_fault
from fedow_node.api.idempotency import IdempotencyKeys
from fedow_node.api.stripe_routes import stripe_routes
from fedow_node.guest import TrioBridge, run_guest
from fedow_node.logs import configure_logging
from fedow_node.node import FedowNode
from fedow_node.node_api import NodeApi
from fedow_node.payments import node_bridge
from fedow_node.protocol import UPGRADE_EXIT_CODE, UpgradeRequired

log = structlog.get_logger(__name__)

HALTED_EXIT_CODE = 3
"""The node stopped itself: its store is corrupt or a money invariant broke (``node.halted`` says which).
Restarting will not help; an operator must look (docs/storage.md: restore or re-sync)."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run a node from its home folder", description=__doc__)
    parser.add_argument("--home", required=True, type=Path, help="the node's folder (made by `fedow-node init`)")
    parser.set_defaults(func=run)


class TrioAttester:
    """The node's treasury gatherer (trio, it asks peers over p2p) as the asyncio bridge awaits it."""

    def __init__(self, trio_side: TrioBridge, node: FedowNode) -> None:
        self._trio = trio_side
        self._node = node

    async def attest(self, unsigned: bytes) -> bytes:
        assert self._node.treasury is not None, "FedowNode.open builds the gatherer"
        return await self._trio.call(self._node.treasury.attest, unsigned)


def run(args: argparse.Namespace) -> int:
    node = FedowNode.from_home(args.home)
    # The node's own [log] section applies, except for a format chosen on the command line.
    configure_logging(node.config.log.format if args.log_format == "auto" else args.log_format, node.config.log.level)
    ssl_context = tls_context(node.config.api)  # a bad certificate or key stops here, before anything runs
    try:
        node.open()
    except UpgradeRequired as upgrade:
        node.close()
        return _stop_for_upgrade(upgrade)
    shared: dict[str, TrioBridge] = {}
    idempotency = IdempotencyKeys.open(node.files.idempotency)

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
        async with trio.open_nursery() as nursery:
            await nursery.start(shared["trio"].serve)
            await node.run()

    async def start_http() -> Callable[[], Awaitable[None]]:
        api = NodeApi(node)
        shared["trio"] = trio_side = TrioBridge(asyncio.get_running_loop())
        treasury = TrioAttester(trio_side, node)
        bridge = node_bridge(node.config.stripe, api, treasury,  # None unless [stripe] holds both secrets
                             payout_account=node.config.stripe.payout_account or None)
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
    except BaseException as error:  # noqa: B902 - a fatal fault is reported, anything else re-raised
        upgrade = find_fault(error, (UpgradeRequired,))
        if upgrade is not None:
            return _stop_for_upgrade(upgrade)
        fatal = fatal_fault(error)
        if fatal is None:
            raise
        log.critical("node.halted", reason=f"{type(fatal).__name__}: {fatal}", exc_info=fatal)
        return HALTED_EXIT_CODE
    finally:
        idempotency.close()
        node.close()
    if halted:
        log.critical("node.halted", reason=halted[0])
        return HALTED_EXIT_CODE
    return 0


def _stop_for_upgrade(upgrade: UpgradeRequired) -> int:
    """A clean stop at the upgrade height: the message goes to the log and to the operator's terminal."""
    log.critical("node.upgrade_required", version=upgrade.version, height=upgrade.height, detail=str(upgrade))
    print(f"fedow-node stopped: {upgrade}", file=sys.stderr)
    return UPGRADE_EXIT_CODE
