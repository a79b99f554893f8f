"""``fedow-node run --home DIR``: run one node (p2p, sync, consensus, POS API, metrics) until SIGTERM."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import structlog

from fedow_node import daemon
from fedow_node.api import tls_context
from fedow_node.api.answers import fatal_fault, find_fault
from fedow_node.logs import configure_logging
from fedow_node.node import FedowNode
from fedow_node.protocol import UPGRADE_EXIT_CODE, UpgradeRequired

log = structlog.get_logger(__name__)

HALTED_EXIT_CODE = 3
"""The node stopped itself: its store is corrupt or a money invariant broke (``node.halted`` says which).
Restarting will not help; an operator must look (docs/storage.md: restore or re-sync)."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run a node from its home folder", description=__doc__)
    parser.add_argument("--home", required=True, type=Path, help="the node's folder (made by `fedow-node init`)")
    parser.set_defaults(func=run)


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
    try:
        halted = daemon.run(node, ssl_context)
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
        node.close()
    if halted is not None:
        log.critical("node.halted", reason=halted)
        return HALTED_EXIT_CODE
    return 0


def _stop_for_upgrade(upgrade: UpgradeRequired) -> int:
    """A clean stop at the upgrade height: the message goes to the log and to the operator's terminal."""
    log.critical("node.upgrade_required", version=upgrade.version, height=upgrade.height, detail=str(upgrade))
    print(f"fedow-node stopped: {upgrade}", file=sys.stderr)
    return UPGRADE_EXIT_CODE
