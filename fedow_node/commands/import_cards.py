"""``fedow-node import-cards``: register the cards of a CSV file (Fedow's import_cards layout) for a place.

Each line: ``<QR url .../qr/<uuid>>,<printed number>,<NFC tag id>`` (see
fedow_node/card_import.py). The cards are registered for the place whose key
signs, in transactions of at most 100 cards, each submitted and committed in
turn. Cards the node already knows with the very same number and QR code, from
the same place, are skipped, so an interrupted import can simply be run again.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Awaitable

from fedow_node.card_import import CardLine, CsvError, batches, read_cards
from fedow_node.client import ApiRefused, FedowClient
from fedow_node.commands._hand import Refused, ask_node, guarded
from wallet.keys import SigningKey, read_key_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("import-cards", help="register the cards of a CSV file (Fedow's layout)",
                                   description=__doc__)
    parser.add_argument("file", type=Path, help="CSV: QR url, printed number, tag id; no header")
    parser.add_argument("--key", required=True, type=Path, help="the place's key file (hex seed, mode 0600)")
    parser.add_argument("--api", required=True, help="a node's API, e.g. http://127.0.0.1:8442")
    parser.add_argument("--token", default=os.environ.get("FEDOW_API_TOKEN"),
                        help="a read token of that node, to look the cards up (card reads are private; "
                             "default: $FEDOW_API_TOKEN; `fedow-node api-token create --role read`)")
    parser.add_argument("--dry-run", action="store_true", help="check the file and the node, register nothing")
    parser.set_defaults(func=guarded(run, CsvError))


def run(args: argparse.Namespace) -> int:
    cards = read_cards(args.file.read_text(encoding="utf-8"))
    key = read_key_file(args.key)
    return ask_node(args.api, lambda client: _import(client, args, cards, key), args.token)


async def _import(client: FedowClient, args: argparse.Namespace, cards: list[CardLine], key: SigningKey) -> int:
    place = next((p for p in await client.places() if p["public_key"] == key.public_key.hex()), None)
    if place is None:
        raise Refused(f"{key.address} is not the key of any place of this chain")
    new, conflicts = await _sort_out(client, cards, place["id"])
    if conflicts:
        raise Refused("\n".join(conflicts), 1)
    print(f"{len(cards)} cards in {args.file}: {len(cards) - len(new)} already registered for "
          f"{place['id']}, {len(new)} to register")
    if args.dry_run or not new:
        return 0
    for body in batches(new):
        result = await client.sign_and_submit(key, body)
        if not result.committed:
            result = await client.wait_committed(result.txid, 60.0)
        print(f"  {len(body.cards)} cards: transaction {result.txid} {result.status}"
              + (f" at height {result.height}" if result.height is not None else ""))
        if not result.committed:
            return 1
    return 0


async def _sort_out(client: FedowClient, cards: list[CardLine], place_id: str) -> tuple[list[CardLine], list[str]]:
    """(cards still to register, why others cannot be): a card known as the very same one is skipped."""
    new, conflicts = [], []
    for card in cards:
        known = await _known(client.card(card.uid))
        if known is None:
            taken = [found for found in [await _known(client.card_by_number(card.number)),
                                         await _known(client.card_by_qr(card.qr_id))] if found is not None]
            if not taken:
                new.append(card)
                continue
            known = taken[0]
        if (known["uid"], known["number"], known["qr_id"], known["origin_place"]) \
                != (card.uid.hex(), card.number, card.qr_id.hex(), place_id):
            conflicts.append(f"line {card.line}: tag id {card.uid.hex().upper()}, number {card.number} or its QR "
                             f"code is already card {known['uid'].upper()} / {known['number']} of place "
                             f"{known['origin_place']}")
    return new, conflicts


async def _known(lookup: Awaitable[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return await lookup
    except ApiRefused as exc:
        if exc.code != "unknown_card":
            raise
        return None
