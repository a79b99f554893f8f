"""Transaction listings: a wallet's history and ``GET /v1/txs`` filtered by asset, kind, place, wallet and time.

Both are newest first, in pages resumable by an opaque cursor (the location
of the last transaction looked at: the next page is strictly older). Every
entry carries its block time. A wallet filter walks the wallet's history
index; otherwise the blocks of the time range are read backwards (block times
never decrease, so the range is found by bisection). One page reads at most
``MAX_SCAN_BLOCKS`` blocks: a page may then hold fewer entries than asked
while ``next_cursor`` is not null (keep following it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import msgpack
from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.chain import committed_block
from fedow_node.api.context import context, json_response
from fedow_node.api.numbers import query_int
from fedow_node.api.errors import ApiError
from fedow_node.api.facade import NodeFacade
from fedow_node.api.routes import Param, Route
from fedow_node.api.views import block_time_view, body_view
from fedow_node.iso_time import parse_time_ms
from storage import MAX_HISTORY_PAGE, InvalidInput, Store
from storage.layout import LOCATION_BYTES, decode_location, encode_location
from wallet import queries
from wallet.block import Block
from wallet.tx import Tx, decode_tx
from wallet.tx_summary import Summariser

__all__ = ["ENTRY_SCHEMA", "ROUTES", "entry_view"]

DEFAULT_PAGE = 50
MAX_SCAN_BLOCKS = 2_000

ENTRY_SCHEMA = s.shape({
    "txid": s.HEX32, "height": s.INT, "position": s.INT, "time_ms": s.INT, "time": s.ISO_TIME, "kind": s.TEXT,
    "signer": s.HEX32, "place": {"type": ["string", "null"], "description": "the place that did it, if any"},
    "body": {"type": "object"}},
    required=("txid", "height", "position", "time_ms", "time", "kind", "signer", "body"))
PAGE_SCHEMA = s.shape({
    "entries": s.list_of(ENTRY_SCHEMA),
    "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor= for the next (older) page"}},
    required=("entries", "next_cursor"))
PAGE_PARAMS = (Param("cursor", "next_cursor of the previous page"),
               Param("limit", f"page size, default {DEFAULT_PAGE}", s.integer(1, MAX_HISTORY_PAGE)))


def entry_view(summariser: Summariser, tx: Tx, height: int, position: int, time_ms: int) -> dict[str, Any]:
    """A committed transaction in a listing: where, when, what, who."""
    return {"txid": tx.txid.hex(), "height": height, "position": position, **block_time_view(time_ms),
            "kind": tx.kind, "signer": tx.signer.hex(), "place": summariser.summarise(tx).place,
            "body": body_view(tx)}


class _Blocks:
    """Committed blocks decoded once per request."""

    def __init__(self, node: NodeFacade) -> None:
        self.node = node
        self._cache: dict[int, Block] = {}

    def get(self, height: int) -> Block:
        block = self._cache.get(height)
        if block is None:
            block = committed_block(self.node, height)
            assert block is not None, f"the store names block {height} but does not hold it"
            self._cache[height] = block
        return block

    def tx(self, height: int, position: int) -> Tx:
        raw = self.get(height).txs[position]
        return decode_tx(raw, len(raw))

    def kind(self, height: int, position: int) -> str:
        """The kind of a committed transaction, read without decoding and checking the whole envelope."""
        return str(msgpack.unpackb(self.get(height).txs[position])[1])

    def first_height_at_or_after(self, time_ms: int) -> int:
        """The lowest height whose block time is >= ``time_ms`` (tip + 1 if none)."""
        low, high = 1, self.node.store.height + 1
        while low < high:
            middle = (low + high) // 2
            if self.get(middle).header.time_ms >= time_ms:
                high = middle
            else:
                low = middle + 1
        return low


def _limit(request: web.Request) -> int:
    return query_int(request, "limit", DEFAULT_PAGE, 1, MAX_HISTORY_PAGE)


def _cursor(request: web.Request) -> tuple[int, int] | None:
    text = request.query.get("cursor")
    if text is None:
        return None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != LOCATION_BYTES:
        raise ApiError("bad_cursor", "query parameter cursor must be the next_cursor of a previous page")
    return decode_location(raw)


def _time(request: web.Request, name: str) -> int | None:
    text = request.query.get(name)
    if text is None:
        return None
    try:
        return parse_time_ms(text)
    except ValueError as exc:
        raise ApiError("bad_request", f"query parameter {name} must be milliseconds since the epoch or an ISO 8601 "
                       f"date-time with an offset: {exc}") from None


@dataclass(frozen=True)
class _Filter:
    kinds: frozenset[str]
    asset: str | None
    place: str | None
    place_wallet: bytes | None
    wallet: bytes | None
    from_ms: int | None
    to_ms: int | None

    def matches(self, store: Store, summariser: Summariser, tx: Tx, height: int, position: int,
                time_ms: int) -> bool:
        """Does the decoded ``tx`` pass the filters? (the caller has checked the kind already)"""
        if (self.from_ms is not None and time_ms < self.from_ms) or (self.to_ms is not None and time_ms >= self.to_ms):
            return False
        if self.asset is None and self.place is None:
            return True
        summary = summariser.summarise(tx)
        if self.asset is not None and self.asset not in summary.assets:
            return False
        return self.place is None or summary.place == self.place or _touched(store, self.place_wallet, height,
                                                                              position)


def _touched(store: Store, wallet: bytes | None, height: int, position: int) -> bool:
    """Did the transaction at (height, position) change ``wallet``? (the newest history entry before the next one)"""
    if wallet is None:
        return False
    entries, _next = store.wallet_history(wallet, encode_location(height, position + 1), 1)
    return bool(entries) and (entries[0].height, entries[0].position) == (height, position)


def _filter(request: web.Request) -> _Filter:
    query, reader = request.query, context(request).node.reader
    kinds = frozenset(kind for kind in query.get("kind", "").split(",") if kind)
    asset = None if query.get("asset") is None else ids.asset_id(query["asset"])
    place = None if query.get("place") is None else ids.place_id(query["place"])
    place_wallet = None
    if place is not None:
        found = queries.place(reader, place)
        if found is None:
            raise ApiError("unknown_place", f"place {place[:60]!r} does not exist")
        place_wallet = found.wallet
    wallet = None if query.get("wallet") is None else ids.wallet_id(query["wallet"])
    return _Filter(kinds, asset, place, place_wallet, wallet, _time(request, "from"), _time(request, "to"))


def _wallet_locations(store: Store, wallet: bytes, before: tuple[int, int] | None) -> Iterator[tuple[int, int]]:
    cursor = None if before is None else encode_location(*before)
    while True:
        entries, cursor = store.wallet_history(wallet, cursor, MAX_HISTORY_PAGE)
        for entry in entries:
            yield entry.height, entry.position
        if cursor is None:
            return


def _page(node: NodeFacade, chosen: _Filter, before: tuple[int, int] | None, limit: int) -> dict[str, Any]:
    """Up to ``limit`` matching entries older than ``before``, newest first, reading at most MAX_SCAN_BLOCKS."""
    store, blocks, summariser = node.store, _Blocks(node), Summariser(node.store)
    low = 1 if chosen.from_ms is None else blocks.first_height_at_or_after(chosen.from_ms)
    top = store.height if chosen.to_ms is None else blocks.first_height_at_or_after(chosen.to_ms) - 1
    if before is not None and before[0] <= top:
        top, start_position = before[0], before[1]
    else:
        start_position = None
    if chosen.wallet is not None:
        locations: Iterator[tuple[int, int]] = _wallet_locations(store, chosen.wallet, (top, start_position)
                                                                  if start_position is not None else (top + 1, 0))
    else:
        locations = _block_locations(blocks, top, start_position)
    entries: list[dict[str, Any]] = []
    seen_heights: set[int] = set()
    last: tuple[int, int] | None = None
    for height, position in locations:
        if height < low:
            return {"entries": entries, "next_cursor": None}
        if height not in seen_heights and len(seen_heights) == MAX_SCAN_BLOCKS:
            break  # the scan budget is spent: the client continues from ``last``
        seen_heights.add(height)
        last = (height, position)
        if position < 0 or (chosen.kinds and blocks.kind(height, position) not in chosen.kinds):
            continue  # an empty block, read to move on; or another kind
        tx = blocks.tx(height, position)
        time_ms = blocks.get(height).header.time_ms
        if chosen.matches(store, summariser, tx, height, position, time_ms):
            entries.append(entry_view(summariser, tx, height, position, time_ms))
            if len(entries) == limit:
                break
    else:
        return {"entries": entries, "next_cursor": None}
    assert last is not None
    return {"entries": entries, "next_cursor": encode_location(last[0], max(last[1], 0)).hex()}


def _block_locations(blocks: _Blocks, top: int, start_position: int | None) -> Iterator[tuple[int, int]]:
    """(height, position) from ``top`` down, newest first; (height, -1) for a block without transactions."""
    for height in range(top, 0, -1):
        count = len(blocks.get(height).txs)
        first = count - 1 if start_position is None or height != top else min(start_position, count) - 1
        if first < 0:
            yield height, -1
        for position in range(first, -1, -1):
            yield height, position


async def list_transactions(request: web.Request) -> web.Response:
    """Committed transactions, newest first, filtered; each with its block time."""
    chosen, limit, before = _filter(request), _limit(request), _cursor(request)
    try:
        return json_response(_page(context(request).node, chosen, before, limit))
    except InvalidInput:
        raise ApiError("bad_cursor", "query parameter cursor must be the next_cursor of a previous page") from None


async def wallet_history(request: web.Request) -> web.Response:
    """A page of a wallet's transactions, newest first, each decoded, with its block time."""
    wallet = ids.wallet_id(request.match_info["wallet"])
    chosen = _Filter(frozenset(), None, None, None, wallet, None, None)
    return json_response(_page(context(request).node, chosen, _cursor(request), _limit(request)))


ROUTES = (
    Route("GET", "/v1/txs", list_transactions, "Committed transactions, newest first, filtered (cursor pagination)",
          "transactions", response=PAGE_SCHEMA, access="read", errors=(400, 404), params=(
              Param("kind", "one kind or several separated by commas (sale,refund...)"),
              Param("asset", "only transactions moving this asset"),
              Param("place", "only transactions of this place: signed by it, paying it, or touching its wallet"),
              Param("wallet", "only transactions that changed this wallet (hex or fedow1 address)"),
              Param("from", "block time at or after: ms since the epoch or ISO 8601 with an offset"),
              Param("to", "block time before: ms since the epoch or ISO 8601 with an offset"),
              *PAGE_PARAMS)),
    Route("GET", "/v1/wallets/{wallet}/history", wallet_history,
          "Wallet history, newest first, by pages (cursor pagination)", "wallets", response=PAGE_SCHEMA,
          params=PAGE_PARAMS, errors=(400,), access="read"),
)
