"""``fedow-node status``: what a running node says of itself (GET /v1/status on its API port)."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from config import ConfigError, load_node_config


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("status", help="status of a running node", description=__doc__)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--home", type=Path, help="the node's folder (its [api] bind is used)")
    where.add_argument("--api", help="base URL of the node's API, e.g. http://127.0.0.1:8442")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.api:
        base = args.api.rstrip("/")
    else:
        try:
            base = f"http://{load_node_config(args.home / 'config.toml').api.bind}"
        except ConfigError as exc:
            print(exc.describe(), file=sys.stderr)
            return 2
    try:
        with urllib.request.urlopen(f"{base}/v1/status", timeout=5) as response:
            status = json.loads(response.read())
    except (urllib.error.URLError, OSError) as exc:
        print(f"no node answers at {base}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(status, indent=2))
    return 0
