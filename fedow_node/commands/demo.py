"""``fedow-node demo``: a festival day on a local 4-validator devnet, then the audit of every node.

This is the README's main command (``make run``): it needs nothing but this
machine, uses only 127.0.0.1 (Stripe too: the demo runs a local fake of
Stripe's API, there is no internet here) and keeps the chains under ``--data``. It
ends by printing the dashboard URL and serving it until Ctrl-C (``--no-serve``:
stop right after the audit). ``fedow-node devnet`` runs the same network without
the script.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fedow_node.devnet import Ports


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="a scripted festival day on a local devnet, then an audit",
                                   description=__doc__)
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--data", type=Path, default=Path("data/devnet"), help="devnet folder (default data/devnet)")
    parser.add_argument("--p2p-port", type=int, default=Ports.p2p, help="first p2p port (node i uses +i)")
    parser.add_argument("--api-port", type=int, default=Ports.api, help="first POS API port (node i uses +i)")
    parser.add_argument("--metrics-port", type=int, default=Ports.metrics, help="first metrics port")
    parser.add_argument("--no-serve", action="store_true",
                        help="stop after the audit instead of serving the dashboard until Ctrl-C")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fedow_node.demo import run_demo

    if args.validators < 3:
        print("--validators must be at least 3 (three venues' tills; a 2-of-3 treasury)")
        return 2
    return run_demo(args.data, args.validators, Ports(args.p2p_port, args.api_port, args.metrics_port),
                    serve=not args.no_serve)
