"""What a committed transaction means for a venue's books: which place did it, which assets, how much.

Read-only and for display and accounting (the node's daily totals, the
transaction listings, receipts): nothing here decides state. The place is
the one whose key signed, or the place a QR payment paid; the amounts come
from the body, except for a card void, whose refunded amounts are the card
wallet's debits (``TxResult.moves``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from wallet import layout, queries
from wallet.bodies import Offline
from wallet.records import Pointer
from wallet.state import StateReader, read_one
from wallet.tx import Tx

__all__ = ["Summariser", "TxSummary", "fed_asset_id", "summarise"]


@dataclass(frozen=True)
class TxSummary:
    place: str | None
    """The place that did it (the signer's place, or the place a QR sale paid); None for a user's own tx."""
    lines: tuple[tuple[str, int], ...]
    """(asset id, amount) moved; ("", 0) when the transaction moves no amount (cards, governance)."""
    kind: str
    """What the books call it: the transaction's kind; ``offline_<op>`` for an operation done offline."""

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(asset for asset, _amount in self.lines if asset)


def fed_asset_id(reader: StateReader) -> str:
    pointer = read_one(reader, layout.FED_ASSET, Pointer)
    return "" if pointer is None else str(pointer.target)


class Summariser:
    """:func:`summarise` over one reader, remembering each signer's place and the FED id (one block, one page)."""

    def __init__(self, reader: StateReader) -> None:
        self.reader = reader
        self._places: dict[bytes, str | None] = {}
        self._fed: str | None = None

    def place_of(self, signer: bytes) -> str | None:
        if signer not in self._places:
            found = queries.place_by_key(self.reader, signer)
            self._places[signer] = None if found is None else found.id
        return self._places[signer]

    def fed(self) -> str:
        if self._fed is None:
            self._fed = fed_asset_id(self.reader)
        return self._fed

    def summarise(self, tx: Tx, moves: Sequence[tuple[bytes, str, int]] = ()) -> TxSummary:
        body, kind = tx.body, tx.kind
        if isinstance(body, Offline):
            body, kind = body.operation, f"offline_{body.op}"  # the sale, refill or badge it forwards
        if tx.kind == "void_card":
            debits: dict[str, int] = {}
            for _wallet, asset_id, delta in moves:
                if delta < 0:
                    debits[asset_id] = debits.get(asset_id, 0) - delta
            lines = tuple(sorted(debits.items())) or (("", 0),)
        else:
            asset = getattr(body, "asset_id", None)
            amount = getattr(body, "amount", None)
            if asset is None and amount is not None:
                asset = self.fed()  # FED refills, refunds, bank deposits, stake
            lines = ((asset or "", amount or 0),)
        place = str(body.place_id) if tx.kind == "qr_sale" else self.place_of(tx.signer)  # type: ignore[attr-defined]
        return TxSummary(place, lines, kind)


def summarise(reader: StateReader, tx: Tx, moves: Sequence[tuple[bytes, str, int]] = ()) -> TxSummary:
    """The summary of ``tx`` against ``reader`` (committed state: places and the FED asset id)."""
    return Summariser(reader).summarise(tx, moves)
