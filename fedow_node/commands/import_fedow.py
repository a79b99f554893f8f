"""``fedow-node import-fedow``: a Fedow (v1.5.x) database as the draft genesis of a new chain.

Carries over places, assets, federations, cards (tag id, printed number, QR id, owner,
primary places), every non-zero balance (Fedow's tokens) and memberships, then prints
the reconciliation: per asset, Fedow's sum of tokens and the genesis' sum, equal to the
cent. Anything it cannot carry over (negative balances, duplicate tag ids, unknown
categories, tokens nobody holds...) is refused, naming the rows, and nothing is written.

Each place needs the public key its venue's node will sign with: give them in
``--place-keys`` (JSON: place id -> hex or fedow1 key, e.g. from each venue's
``fedow-node init --place-key``), or let ``--new-place-keys DIR`` create the missing
ones (DIR/<place id>.key, mode 0600, to hand over to each venue). The draft has no
authority, treasury key or validator yet: add them with ``fedow-node genesis add-...``,
then ``fedow-node genesis validate`` (docs/install.md, "Moving from Fedow").
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from config import write_atomically
from fedow_node.fedow_import import ImportRefused, Refusal, convert, place_ids, read_fedow, slug
from wallet.errors import Rejected
from wallet.keys import ADDRESS_PREFIX, SigningKey, decode_address, read_key_file, write_key_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import-fedow", help="a Fedow database as the draft genesis of a new chain",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, type=Path, help="Fedow's SQLite database (read only)")
    parser.add_argument("--out", required=True, type=Path, help="the draft genesis to write")
    parser.add_argument("--chain-id", help="the new chain's id (default: from Fedow's configured name)")
    parser.add_argument("--time-ms", type=int, help="genesis time in ms since the epoch (default: now)")
    parser.add_argument("--place-keys", type=Path, help="JSON object: place id -> the venue's public place key")
    parser.add_argument("--new-place-keys", type=Path, metavar="DIR",
                        help="create the place keys not given in --place-keys, as DIR/<place id>.key")
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.force:
        print(f"refusing to overwrite {args.out}: pass --force to replace it", file=sys.stderr)
        return 1
    try:
        data = read_fedow(args.db)
        keys, made = _place_keys(args, sorted(place_ids(data).values()))
        config = data.rows("configuration")
        chain_id = args.chain_id or slug(config[0]["name"] if config else "", "fedow-import")
        converted = convert(data, chain_id, time.time_ns() // 1_000_000 if args.time_ms is None else args.time_ms,
                            keys)
    except ImportRefused as exc:
        print(f"import refused: {len(exc.refusals)} thing(s) cannot be carried over, nothing written:",
              file=sys.stderr)
        for refusal in exc.refusals:
            print(f"  {refusal}", file=sys.stderr)
        return 1
    write_atomically(args.out, converted.genesis.to_json(), mode=0o644)
    genesis = converted.genesis
    print(f"draft genesis of chain {genesis.chain_id} written to {args.out}")
    for name, place_id in sorted(converted.place_ids.items(), key=lambda item: item[1]):
        source = f"key made in {args.new_place_keys / (place_id + '.key')}" if place_id in made else "key given"
        print(f"  place {place_id:<24} {name} ({source})")
    print(f"  {len(genesis.assets)} assets, {len(genesis.federations)} federation(s), {len(genesis.cards)} cards "
          f"({sum(c.owner is not None for c in genesis.cards)} linked, to {converted.people} people), "
          f"{len(genesis.balances)} balances, {len(genesis.memberships)} memberships")
    print("reconciliation per asset, in cents (Fedow's sum of tokens = the genesis' sum):")
    for line in converted.reconciliation:
        carried = "-" if line.genesis_cents is None else str(line.genesis_cents)
        print(f"  {line.asset:<8} {line.category}  fedow {line.fedow_cents:>12}  genesis {carried:>12}  "
              f"{line.note}  ({line.name})")
    print("not carried: the transaction history, place admins, Stripe accounts and checkouts, e-mail addresses, "
          "RSA keys\nnext: fedow-node genesis add-authority / add-treasury-key / add-validator "
          f"{args.out}, then fedow-node genesis validate {args.out}")
    return 0


def _place_keys(args: argparse.Namespace, ids: list[str]) -> tuple[dict[str, bytes], set[str]]:
    """The place keys given, plus those made for the places without one; the ids of the made ones."""
    keys: dict[str, bytes] = {}
    if args.place_keys is not None:
        try:
            given = json.loads(args.place_keys.read_text(encoding="utf-8"))
            if not isinstance(given, dict):
                raise ValueError("not a JSON object of place id -> key")
            for place_id, text in given.items():
                keys[place_id] = decode_address(text) if text.startswith(ADDRESS_PREFIX) else bytes.fromhex(text)
        except (OSError, ValueError, AttributeError, Rejected) as exc:
            raise ImportRefused([Refusal(str(args.place_keys), "", f"cannot be read: {exc}")]) from None
    made = set()
    if args.new_place_keys is not None:
        args.new_place_keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        for place_id in ids:
            if place_id not in keys:
                path = args.new_place_keys / f"{place_id}.key"
                if not path.exists():  # a rerun keeps the keys it made
                    write_key_file(path, SigningKey.generate())
                keys[place_id] = read_key_file(path).public_key
                made.add(place_id)
    return keys, made
