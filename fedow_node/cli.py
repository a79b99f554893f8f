"""The ``fedow-node`` command line: one sub-command per module of :mod:`fedow_node.commands`.

Each command module exposes ``add_parser(subparsers)``, which registers its
parser and sets ``func`` (a callable taking the parsed namespace and returning
an exit code). Adding a command is adding a module and its name below.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from fedow_node.logs import configure_logging

COMMANDS: tuple[str, ...] = ("demo", "devnet", "run", "status", "init", "genesis", "tx", "import_cards", "api_token",
                             "audit", "export", "simulate", "bench")
"""Names of the modules in fedow_node/commands, in the order of ``--help``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fedow-node", description=__doc__.splitlines()[0])
    parser.add_argument("--log-format", choices=("auto", "json", "console"), default="auto",
                        help="structlog renderer (auto: console on a terminal, JSON otherwise)")
    parser.add_argument("--log-level", default="info", help="debug, info, warning or error")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"fedow_node.commands.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_format, args.log_level)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
