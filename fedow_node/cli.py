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
                             "audit", "export", "backup", "restore", "import_fedow", "simulate", "bench")
"""Names of the modules in fedow_node/commands, in the order of ``--help``."""


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-format", choices=("auto", "json", "console"), default="auto",
                        help="structlog renderer (auto: console on a terminal, JSON otherwise)")
    parser.add_argument("--log-level", default="info", help="debug, info, warning or error")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of the command module ``only`` alone."""
    parser = argparse.ArgumentParser(prog="fedow-node", description=__doc__.splitlines()[0])
    _global_options(parser)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        importlib.import_module(f"fedow_node.commands.{name}").add_parser(subparsers)
    return parser


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The command module ``argv`` names, if any: only that one is imported (``fedow-node status``, the
    image's health check, starts in a fraction of a second instead of importing libp2p for every command)."""
    first = argparse.ArgumentParser(add_help=False)
    _global_options(first)
    first.add_argument("command", nargs="?")
    known, _rest = first.parse_known_args(argv)
    name = (known.command or "").replace("-", "_")
    return name if name in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(_chosen_command(argv)).parse_args(argv)
    configure_logging(args.log_format, args.log_level)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
