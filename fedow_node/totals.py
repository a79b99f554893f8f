"""The node's daily totals: per hour, place, asset, kind and till, maintained at each commit.

A cash desk closes its day from these counters, on a running node, without
scanning the chain. Each committed transaction adds (1, amount) to the counter
``hour | place | asset | kind | till`` where ``hour`` is the block time in whole
UTC hours since the epoch (so any time zone's days and hours are ranges of
keys), the place and amounts come from :func:`wallet.tx_summary.summarise`,
and ``till`` is the id of the API token that had this node sign the
transaction (empty for everything else: other nodes' tills, client-signed
transactions). The counters are node-local (storage ``x/`` keys), written in
the block's own commit batch, never in the ledger state or its hash.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from storage import Store
from wallet.execute import TxResult
from wallet.state import StateReader
from wallet.tx import Tx
from wallet.tx_summary import Summariser

__all__ = ["HOUR_MS", "Total", "TillAttribution", "block_totals", "read_totals", "totals_key"]

HOUR_MS = 3_600_000
MAX_REMEMBERED_TILLS = 100_000


def _field(text: str) -> bytes:
    raw = text.encode()
    return bytes([len(raw)]) + raw


def totals_key(hour: int, place: str, asset: str, kind: str, till: str) -> bytes:
    """``hour`` (4 bytes, big-endian) then each text length-prefixed: byte order is hour order."""
    return hour.to_bytes(4, "big") + _field(place) + _field(asset) + _field(kind) + _field(till)


@dataclass(frozen=True)
class Total:
    """One counter: what ``count`` transactions of ``kind`` moved at ``place`` in one UTC hour."""

    hour_ms: int
    place: str
    asset: str
    kind: str
    till: str
    count: int
    amount: int


def _split(key: bytes, count: int, amount: int) -> Total:
    texts, at = [], 4
    for _ in range(4):
        size = key[at]
        texts.append(key[at + 1:at + 1 + size].decode())
        at += 1 + size
    return Total(int.from_bytes(key[:4], "big") * HOUR_MS, *texts, count, amount)


def block_totals(reader: StateReader, time_ms: int, txs: Sequence[Tx], results: Sequence[TxResult],
                 tills: Mapping[bytes, str]) -> dict[bytes, tuple[int, int]]:
    """Counter deltas of one block, against ``reader`` (the state before the commit: places, FED id)."""
    deltas: dict[bytes, tuple[int, int]] = {}
    hour = time_ms // HOUR_MS
    summariser = Summariser(reader)
    for tx, result in zip(txs, results):
        summary = summariser.summarise(tx, result.moves)
        if summary.place is None:
            continue  # a user's own transaction (transfer, card link): no venue's books
        till = tills.get(tx.txid, "")
        for asset, amount in summary.lines:
            key = totals_key(hour, summary.place, asset, summary.kind, till)
            count, total = deltas.get(key, (0, 0))
            deltas[key] = (count + 1, total + amount)
    return deltas


def read_totals(store: Store, from_ms: int, to_ms: int) -> Iterator[Total]:
    """The counters of the UTC hours that start in ``[from_ms, to_ms)``, in hour order."""
    first = -(-from_ms // HOUR_MS)
    last = -(-to_ms // HOUR_MS)
    if last <= first:
        return
    for key, count, amount in store.counters(first.to_bytes(4, "big"), last.to_bytes(4, "big")):
        yield _split(key, count, amount)


class TillAttribution:
    """txid -> id of the token whose POS request this node signed, until the transaction commits.

    Written by the API when it signs, read once by the commit that holds the
    transaction. Bounded: the oldest entries (transactions that never
    committed) are forgotten first.
    """

    def __init__(self, capacity: int = MAX_REMEMBERED_TILLS) -> None:
        self.capacity = capacity
        self._tills: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()
        """The API notes (event loop), the commit takes (execution worker)."""

    def note(self, txid: bytes, till: str) -> None:
        with self._lock:
            self._tills[txid] = till
            while len(self._tills) > self.capacity:
                self._tills.popitem(last=False)

    def take(self, txids: Iterable[bytes]) -> dict[bytes, str]:
        """The tills of these transactions (those known), forgetting them."""
        found = {}
        with self._lock:
            for txid in txids:
                till = self._tills.pop(txid, None)
                if till is not None:
                    found[txid] = till
        return found
