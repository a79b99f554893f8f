"""``fedow-node genesis``: write, edit, check and show a genesis document.

Each edit re-validates the whole document and refuses (exit 2) to write an
invalid one. Documents on disk may be drafts (no authority or validator yet);
``genesis validate`` checks that one is complete, as a node does at start.
Keys are given as 64 hex characters or as ``fedow1...`` addresses.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Any, Callable

from config import ChainParams, ConfigError, GenesisDoc, load_genesis, parse_genesis, read_genesis_json, write_atomically
from wallet.errors import Rejected
from wallet.keys import ADDRESS_PREFIX, decode_address, encode_address

FED_ASSET = {"id": "FED", "name": "Euro fédéré", "category": "FED", "origin_place": None, "melting": False}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("genesis", help="write, edit, validate or show a genesis document",
                                   description=__doc__)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    new = actions.add_parser("new", help="start a draft with the FED asset and default parameters")
    new.add_argument("--out", required=True, type=Path)
    new.add_argument("--chain-id", required=True)
    new.add_argument("--devnet", action="store_true", help="millisecond timeouts (ChainParams.devnet())")
    new.add_argument("--time-ms", type=int, help="genesis time in ms since the epoch (default: now)")
    new.add_argument("--authority-threshold", type=int, default=1,
                     help="how many authority keys must co-sign each governance action (default 1; "
                          "set it once the keys are added, see set-authority-threshold)")
    new.add_argument("--treasury-threshold", type=int, default=1,
                     help="how many treasury keys must co-sign each FED mint and burn (default 1; see "
                          "set-treasury-threshold)")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    new.set_defaults(func=_new)

    def edit(name: str, help_text: str, section: str, build: Callable[[argparse.Namespace], dict[str, Any]],
             *options: tuple[str, dict[str, Any]]) -> None:
        action = actions.add_parser(name, help=help_text)
        action.add_argument("file", type=Path)
        for flag, settings in options:
            action.add_argument(flag, **settings)
        action.set_defaults(func=lambda args: _edit(args.file, section, build(args)))

    required: dict[str, Any] = {"required": True}
    key = {"required": True, "type": _key_hex, "help": "64 hex characters or a fedow1 address"}
    edit("add-authority", "add a federation authority key", "authorities", lambda a: a.key, ("--key", key))
    edit("add-treasury-key", "add a treasury key (held by a treasury node: it co-signs FED mints and burns)",
         "treasury", lambda a: a.key, ("--key", key))
    edit("add-asset", "add an asset", "assets",
         lambda a: {"id": a.id, "name": a.name, "category": a.category,
                    "origin_place": a.origin_place, "melting": a.melting},
         ("--id", required), ("--name", required), ("--category", required),
         ("--origin-place", {"default": None}), ("--melting", {"action": "store_true"}))
    edit("add-place", "add a place (venue)", "places",
         lambda a: {"id": a.id, "name": a.name, "public_key": a.public_key},
         ("--id", required), ("--name", required), ("--public-key", key))
    edit("add-federation", "add a federation", "federations",
         lambda a: {"id": a.id, "name": a.name, "places": _split(a.places), "assets": _split(a.assets)},
         ("--id", required), ("--name", required),
         ("--places", {"required": True, "help": "comma-separated place ids"}),
         ("--assets", {"required": True, "help": "comma-separated asset ids"}))
    edit("add-validator", "add a validator", "validators",
         lambda a: {"public_key": a.public_key, "place": a.place, "stake": a.stake},
         ("--public-key", key), ("--place", required), ("--stake", {"required": True, "type": int}))
    edit("add-balance", "add an opening balance", "balances",
         lambda a: {"owner": a.owner, "asset": a.asset, "amount": a.amount},
         ("--owner", {**key, "help": "wallet id: 64 hex characters or a fedow1 address"}),
         ("--asset", required), ("--amount", {"required": True, "type": int}))

    for name, field, what in (("set-authority-threshold", "authority_threshold",
                               "authority keys must co-sign each governance action"),
                              ("set-treasury-threshold", "treasury_threshold",
                               "treasury keys must co-sign each FED mint and burn")):
        threshold = actions.add_parser(name, help=f"how many {what}")
        threshold.add_argument("file", type=Path)
        threshold.add_argument("--threshold", required=True, type=int)
        threshold.set_defaults(func=lambda args, field=field: _set(args.file, field, args.threshold))

    validate = actions.add_parser("validate", help="check that a document is complete and valid")
    validate.add_argument("file", type=Path)
    validate.set_defaults(func=_validate)
    show = actions.add_parser("show", help="print a summary of a document")
    show.add_argument("file", type=Path)
    show.set_defaults(func=_show)


def _key_hex(text: str) -> str:
    """Addresses become hex; anything else is left for the document validation to judge."""
    if not text.startswith(ADDRESS_PREFIX):
        return text
    try:
        return decode_address(text).hex()
    except Rejected as exc:
        raise argparse.ArgumentTypeError(exc.detail) from None


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _fail(exc: ConfigError) -> int:
    print(exc.describe(), file=sys.stderr)
    return 2


def _new(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        print(f"refusing to overwrite {args.out}: pass --force to replace it", file=sys.stderr)
        return 1
    params = ChainParams.devnet() if args.devnet else ChainParams()
    data = {"chain_id": args.chain_id,
            "genesis_time_ms": time.time_ns() // 1_000_000 if args.time_ms is None else args.time_ms,
            "authorities": [], "authority_threshold": args.authority_threshold, "treasury": [],
            "treasury_threshold": args.treasury_threshold, "params": params.to_dict(), "assets": [dict(FED_ASSET)],
            "places": [],
            "federations": [], "validators": [], "balances": []}
    return _write(args.out, data)


def _edit(path: Path, section: str, entry: Any) -> int:
    return _change(path, lambda data: data.setdefault(section, []).append(entry))


def _set(path: Path, field: str, value: Any) -> int:
    return _change(path, lambda data: data.__setitem__(field, value))


def _change(path: Path, change: Callable[[dict[str, Any]], None]) -> int:
    """Apply ``change`` to a valid draft on disk and write it back if it stays valid."""
    try:
        data = read_genesis_json(path)
        parse_genesis(data, draft=True)  # refuse to build on a broken document
    except ConfigError as exc:
        return _fail(exc)
    change(data)
    return _write(path, data)


def _write(path: Path, data: dict[str, Any]) -> int:
    try:
        doc = parse_genesis(data, draft=True)
    except ConfigError as exc:
        return _fail(exc)
    write_atomically(path, doc.to_json(), mode=0o644)
    print(f"wrote {path} ({_completeness(doc)})")
    return 0


def _completeness(doc: GenesisDoc) -> str:
    try:
        parse_genesis(doc.to_dict())
    except ConfigError as exc:
        return "draft: " + "; ".join(str(problem) for problem in exc.problems)
    return "complete"


def _validate(args: argparse.Namespace) -> int:
    try:
        doc = load_genesis(args.file)
    except ConfigError as exc:
        return _fail(exc)
    print(f"{args.file}: valid genesis of chain {doc.chain_id}, "
          f"document sha256 {hashlib.sha256(doc.canonical_bytes()).hexdigest()}")
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        doc = load_genesis(args.file, draft=True)
    except ConfigError as exc:
        return _fail(exc)
    defaults = ChainParams().to_dict()
    changed = {name: value for name, value in doc.params.to_dict().items() if defaults[name] != value}
    lines = [
        f"chain {doc.chain_id}, genesis time {doc.genesis_time_ms} ms ({_completeness(doc)})",
        f"document sha256 {hashlib.sha256(doc.canonical_bytes()).hexdigest()}",
        "params differing from production defaults: "
        + (", ".join(f"{name}={value}" for name, value in changed.items()) or "none"),
        f"authorities ({len(doc.authorities)}, {doc.authority_threshold} must co-sign):",
        *(f"  {encode_address(key)}" for key in doc.authorities),
        f"treasury ({doc.treasury_threshold} of {len(doc.treasury)} keys co-sign each FED mint and burn):",
        *(f"  {encode_address(key)}" for key in doc.treasury),
        f"assets ({len(doc.assets)}):",
        *(f"  {a.id} {a.category} {a.name!r} origin={a.origin_place} melting={a.melting}" for a in doc.assets),
        f"places ({len(doc.places)}):",
        *(f"  {p.id} {p.name!r} {encode_address(p.public_key)}" for p in doc.places),
        f"federations ({len(doc.federations)}):",
        *(f"  {f.id} {f.name!r} places={','.join(f.places)} assets={','.join(f.assets)}" for f in doc.federations),
        f"validators ({len(doc.validators)}, total stake {sum(v.stake for v in doc.validators)}):",
        *(f"  {encode_address(v.public_key)} place={v.place} stake={v.stake}" for v in doc.validators),
        f"balances ({len(doc.balances)}):",
        *(f"  {encode_address(b.owner)} {b.amount} {b.asset}" for b in doc.balances),
    ]
    print("\n".join(lines))
    return 0
