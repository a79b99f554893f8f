"""``fedow-node devnet``: a local multi-validator network on 127.0.0.1, LevelDB under a data folder.

Creates (or reuses) ``--data`` with a genesis and one home per validator, starts
every node as its own process, prints their heights and state hashes as they
commit, and on Ctrl-C / SIGTERM stops them all cleanly. ``--seconds`` bounds
the run (0 = until interrupted). Stripe is off, so the treasury nodes sign no FED
mint nor burn: the venues sell FED out of their genesis floats (``fedow-node demo``
runs a local fake of Stripe and the treasury with it).
"""

from __future__ import annotations

import argparse
import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from config import ChainParams
from fedow_node.devnet import Devnet, NodeHome, Ports, prepare_devnet


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("devnet", help="run a local multi-validator devnet", description=__doc__)
    parser.add_argument("--validators", type=int, default=4, help="number of validator processes (default 4)")
    parser.add_argument("--data", type=Path, default=Path("data/devnet"), help="devnet folder (default data/devnet)")
    parser.add_argument("--p2p-port", type=int, default=Ports.p2p, help="first p2p port (node i uses +i)")
    parser.add_argument("--api-port", type=int, default=Ports.api, help="first POS API port (node i uses +i)")
    parser.add_argument("--metrics-port", type=int, default=Ports.metrics, help="first metrics port")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: run until ^C)")
    parser.add_argument("--params", choices=("devnet", "production"), default="devnet",
                        help="chain parameters written into a new genesis: devnet (millisecond round timeouts, a "
                             "5 s heartbeat) or production (CometBFT's round timeouts, which a loaded machine "
                             "tolerates better, a 60 s heartbeat); an existing genesis keeps its own")
    parser.add_argument("--prepare-only", action="store_true",
                        help="write the devnet folder (keys kept, config.toml updated) and exit without starting "
                             "nodes: what docker-compose.yml's init service runs")
    parser.set_defaults(func=run)


def node_status(home: NodeHome, timeout: float = 1.0) -> dict[str, object] | None:
    """GET /v1/status of one node; None while it does not answer."""
    try:
        with urllib.request.urlopen(f"{home.api_url}/v1/status", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def run(args: argparse.Namespace) -> int:
    if args.validators < 1:
        print("--validators must be at least 1")
        return 2
    params = ChainParams() if args.params == "production" else ChainParams.devnet()
    homes = prepare_devnet(args.data, args.validators, Ports(args.p2p_port, args.api_port, args.metrics_port),
                           params=params)
    if args.prepare_only:
        print(f"devnet: {args.validators} validator homes ready in {args.data.absolute()}")
        return 0
    stop = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    deadline = time.monotonic() + args.seconds if args.seconds else float("inf")
    print(f"devnet: {args.validators} validators, data in {args.data.absolute()}; Ctrl-C stops it")
    print(f"dashboard of venue-0: {homes[0].dashboard_url}")
    with Devnet(homes) as devnet:
        devnet.start_all()
        while not stop and time.monotonic() < deadline:
            time.sleep(1.0)
            if devnet.exited():
                print(f"devnet: nodes exited by themselves: {devnet.exited()} (see node<i>/node.log)")
                return 1
            line = []
            for home in homes:
                status = node_status(home)
                line.append(f"node{home.index} h={status['height']} {str(status['state_hash'])[:8]}" if status
                            else f"node{home.index} starting")
            print("  ".join(line), flush=True)
        codes = devnet.stop_all()
    print(f"devnet stopped: exit codes {codes}")
    return 0 if all(code == 0 for code in codes.values()) else 1
