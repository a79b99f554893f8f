"""Cards from a CSV file in Fedow's ``import_cards`` layout, as batches of ``register_cards``.

One card a line, no header, as the card factory delivers them to Fedow::

    https://example.org/qr/<QR uuid>,<printed number: 8 characters>,<NFC tag id: 8 hex>

The first column may also be the bare UUID; the tag id may be 14 hex characters
(a 7-byte UID). Like Fedow, numbers and tag ids are read in upper case, and a tag
id, number or QR code repeated within the file refuses the whole file, naming
both lines. The ledger checks the rest (a card already registered anywhere).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass

from wallet import fields as f
from wallet.bodies import RegisterCards
from wallet.errors import Rejected

__all__ = ["CardLine", "CsvError", "batches", "read_cards"]

_TAG_ID = re.compile(r"[0-9A-F]{8}|[0-9A-F]{14}")


class CsvError(ValueError):
    """A line of the file is wrong; the message names the line and the field."""


@dataclass(frozen=True)
class CardLine:
    line: int
    uid: bytes
    number: str
    qr_id: bytes


def _qr_id(text: str) -> bytes:
    """The UUID after ``/qr/`` in a URL, or a bare UUID."""
    _scheme, found, after = text.partition("/qr/")
    candidate = after.strip("/") if found else text
    return uuid.UUID(candidate).bytes  # ValueError if it is not one


def read_cards(text: str) -> list[CardLine]:
    """Every card of the file, checked line by line; CsvError at the first bad line."""
    cards: list[CardLine] = []
    seen: dict[tuple[str, bytes | str], int] = {}
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 3:
            raise CsvError(f"line {line}: expected 3 columns (QR url, printed number, tag id), got {len(row)}")
        url, number, tag_id = (cell.strip() for cell in row)
        try:
            qr_id = _qr_id(url)
        except ValueError:
            raise CsvError(f"line {line}: column 1 must be a QR url ending in /qr/<uuid> or a uuid, "
                           f"got {url[:80]!r}") from None
        number, tag_id = number.upper(), tag_id.upper()
        if not _TAG_ID.fullmatch(tag_id):
            raise CsvError(f"line {line}: column 3 must be an NFC tag id of 8 or 14 hex characters, got {tag_id!r}")
        try:
            f.card_number("number", number)
        except Rejected:
            raise CsvError(f"line {line}: column 2 must be a printed number of 8 characters 0-9 A-Z, "
                           f"got {number!r}") from None
        card = CardLine(line, bytes.fromhex(tag_id), number, qr_id)
        for what, value in (("tag id", card.uid), ("number", card.number), ("QR code", card.qr_id)):
            if (what, value) in seen:
                raise CsvError(f"line {line}: {what} already on line {seen[what, value]}")
            seen[what, value] = line
        cards.append(card)
    if not cards:
        raise CsvError("the file holds no card")
    return cards


def batches(cards: list[CardLine]) -> list[RegisterCards]:
    """``register_cards`` bodies of at most ``MAX_CARDS_PER_TX`` cards, in file order."""
    size = f.MAX_CARDS_PER_TX
    return [RegisterCards(tuple((card.uid, card.number, card.qr_id) for card in cards[start:start + size]))
            for start in range(0, len(cards), size)]
