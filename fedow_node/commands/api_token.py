"""``fedow-node api-token``: create, list and revoke the POS API tokens of a node home.

A token is bound to one place and shown once, at creation; the node keeps only
its SHA-256 (in ``<home>/api-tokens.json``, mode 0600). The running node
notices changes to the file, so a revoked token stops working at once.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from fedow_node.api.tokens import TokenFileError, create_token, list_tokens, revoke_token, tokens_path

_PLACE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api-token", help="create, list or revoke POS API tokens",
                                   description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a token for a place (printed once)")
    create.add_argument("--home", required=True, type=Path, help="the node's folder")
    create.add_argument("--place", required=True, help="the place id the token acts for")
    create.set_defaults(func=_create)
    listing = actions.add_parser("list", help="list token ids and their places (never the tokens)")
    listing.add_argument("--home", required=True, type=Path)
    listing.set_defaults(func=_list)
    revoke = actions.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("--home", required=True, type=Path)
    revoke.add_argument("--id", required=True, dest="token_id")
    revoke.set_defaults(func=_revoke)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 2


def _create(args: argparse.Namespace) -> int:
    if not _PLACE_ID.fullmatch(args.place):
        return _fail(f"--place must be a place id ([a-z0-9][a-z0-9-]*, at most 50), got {args.place!r}")
    if not args.home.is_dir():
        return _fail(f"{args.home} is not a node home folder (run fedow-node init first)")
    try:
        entry, token = create_token(tokens_path(args.home), args.place, time.time_ns() // 1_000_000)
    except TokenFileError as exc:
        return _fail(exc.detail)
    print(f"token {entry.id} for place {entry.place} (store it now; it is not shown again):\n{token}")
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        entries = list_tokens(tokens_path(args.home))
    except TokenFileError as exc:
        return _fail(exc.detail)
    for entry in entries:
        print(f"{entry.id}  place={entry.place}  created_ms={entry.created_ms}")
    if not entries:
        print("no API tokens")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    try:
        removed = revoke_token(tokens_path(args.home), args.token_id)
    except TokenFileError as exc:
        return _fail(exc.detail)
    if not removed:
        return _fail(f"no token has id {args.token_id!r}")
    print(f"revoked token {args.token_id}")
    return 0
