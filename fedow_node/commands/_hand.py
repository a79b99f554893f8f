"""What the commands people run by hand against a node share: how they refuse, and how they ask it.

Exit codes: 0 done; 1 refused by the node (or no node answers, or the user said
no); 2 bad input (a file, a body, a key), said before anything is signed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Callable

from fedow_node.client import ApiRefused, FedowClient
from wallet.errors import Rejected

Command = Callable[[argparse.Namespace], int]


class Refused(Exception):
    """The command cannot go on; the message says why (exit ``code``)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def guarded(run: Command, *input_errors: type[Exception]) -> Command:
    """``run``, with its refusals printed as one line on stderr and turned into the exit code."""
    def command(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except Refused as exc:
            print(exc, file=sys.stderr)
            return exc.code
        except (*input_errors, OSError) as exc:  # OSError: a file that cannot be read or written
            print(exc, file=sys.stderr)
            return 2
        except Rejected as exc:
            print(f"{exc.code}: {exc.detail}", file=sys.stderr)
            return 2
        except ApiRefused as exc:
            print(f"the node refused it: {exc.code}: {exc.detail}", file=sys.stderr)
            return 1
    return command


def ask_node(api: str, call: Callable[[FedowClient], Any], token: str | None = None) -> Any:
    """Run ``call(client)`` against the node at ``api``; Refused (exit 1) if no node answers."""
    async def run() -> Any:
        async with FedowClient(api, token) as client:
            return await call(client)
    try:
        return asyncio.run(run())
    except OSError as exc:  # aiohttp's connection errors are OSErrors
        raise Refused(f"no node answers at {api}: {exc}", 1) from None
