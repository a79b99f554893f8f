"""``fedow-node api-token``: create, list and revoke the API tokens of a node home; pairing codes for tills.

A token has a role (``pos``: a till, bound to the place it sells for;
``read``: private reads; ``operator``: the dashboard) and is shown once, at
creation; the node keeps only its SHA-256 (in ``<home>/api-tokens.json``, mode
0600). The running node notices changes to the file, so a revoked token stops
working at once. ``pair`` prints a one-time code that a till exchanges at
``POST /v1/pairing`` for a token of its own (docs/api.md).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from fedow_node.api.pairing import DEFAULT_TTL_MS, create_pairing_code
from fedow_node.api.tokens import ROLES, TokenFileError, create_token, list_tokens, revoke_token, tokens_path

_PLACE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api-token", help="create, list or revoke POS API tokens",
                                   description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a token (printed once)")
    create.add_argument("--home", required=True, type=Path, help="the node's folder")
    create.add_argument("--role", choices=ROLES, default="pos", help="pos (a till, default), read, operator")
    create.add_argument("--place", default="", help="the place id a pos token sells for")
    create.add_argument("--label", default="", help="the till's or person's name")
    create.set_defaults(func=_create)
    pair = actions.add_parser("pair", help="print a one-time pairing code that a till exchanges for its token")
    pair.add_argument("--home", required=True, type=Path, help="the node's folder")
    pair.add_argument("--role", choices=("pos", "read"), default="pos")
    pair.add_argument("--place", default="", help="the place id the till sells for (pos)")
    pair.add_argument("--label", default="", help="the till's name")
    pair.add_argument("--ttl-minutes", type=int, default=DEFAULT_TTL_MS // 60_000)
    pair.set_defaults(func=_pair)
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


def _checked(args: argparse.Namespace) -> str | None:
    """What is wrong with --place and --home, or None."""
    if args.role == "pos" and not _PLACE_ID.fullmatch(args.place):
        return f"--place must be a place id ([a-z0-9][a-z0-9-]*, at most 50), got {args.place!r}"
    if not args.home.is_dir():
        return f"{args.home} is not a node home folder (run fedow-node init first)"
    return None


def _create(args: argparse.Namespace) -> int:
    problem = _checked(args)
    if problem:
        return _fail(problem)
    try:
        entry, token = create_token(tokens_path(args.home), args.place, time.time_ns() // 1_000_000, args.role,
                                    args.label)
    except TokenFileError as exc:
        return _fail(exc.detail)
    except ValueError as exc:
        return _fail(str(exc))
    where = f" for place {entry.place}" if entry.place else ""
    print(f"{entry.role} token {entry.id}{where} (store it now; it is not shown again):\n{token}")
    return 0


def _pair(args: argparse.Namespace) -> int:
    problem = _checked(args)
    if problem:
        return _fail(problem)
    try:
        code, pending = create_pairing_code(tokens_path(args.home), args.place, time.time_ns() // 1_000_000,
                                            args.role, args.label, args.ttl_minutes * 60_000)
    except TokenFileError as exc:
        return _fail(exc.detail)
    except ValueError as exc:
        return _fail(str(exc))
    print(f"pairing code for a {pending.role} token{f' of place {pending.place}' if pending.place else ''}, "
          f"valid once for {args.ttl_minutes} min: enter it in the till (POST /v1/pairing)\n{code}")
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        entries = list_tokens(tokens_path(args.home))
    except TokenFileError as exc:
        return _fail(exc.detail)
    for entry in entries:
        print(f"{entry.id}  role={entry.role}  place={entry.place or '-'}  label={entry.label!r}  "
              f"created_ms={entry.created_ms}")
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
