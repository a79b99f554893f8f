"""Server-sent events: committed transactions as they happen, filtered by wallet, card or place.

``GET /v1/events?wallet=...&card=...&place=...``: every filter given must
match (none: every transaction). Each event is ``event: tx`` with
``id: <height>:<position>`` and the transaction as JSON; a comment line every
``KEEPALIVE_S`` keeps proxies from closing an idle stream. The stream starts
at the next commit: to catch up after a reconnection, read the wallet history.
Every stream also gets ``event: network`` when the node is cut off from the
network or back online (the ``offline`` object of ``/v1/status``, docs/offline.md),
whatever its filters: a till shows it.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiohttp import web

from fedow_node.api import ids
from fedow_node.api.context import context
from fedow_node.api.errors import ApiError
from fedow_node.api.facade import CommittedTx, NodeFacade
from fedow_node.api.routes import Param, Route
from fedow_node.api.views import block_time_view, body_view
from wallet import queries
from wallet.state import StateReader
from wallet.tx import decode_tx

__all__ = ["ROUTES", "EventFilter", "KEEPALIVE_S"]

KEEPALIVE_S = 15.0


@dataclass(frozen=True)
class EventFilter:
    """The query's filters; an event must match every one given."""

    wallet: bytes | None
    card: bytes | None
    place: str | None

    def matches(self, reader: StateReader, event: CommittedTx, body: dict[str, object]) -> bool:
        if self.wallet is not None and self.wallet not in event.touched:
            return False
        if self.card is not None and not self._card_matches(reader, event, body):
            return False
        return self.place is None or self._place_matches(reader, event)

    def _card_matches(self, reader: StateReader, event: CommittedTx, body: dict[str, object]) -> bool:
        assert self.card is not None
        if body.get("uid") == self.card.hex():
            return True
        card = queries.card(reader, self.card)
        return card is not None and (card.wallet in event.touched or card.paying_wallet in event.touched)

    def _place_matches(self, reader: StateReader, event: CommittedTx) -> bool:
        assert self.place is not None
        place = queries.place(reader, self.place)
        return place is not None and (event.signer == place.public_key or place.wallet in event.touched)


def _filter(request: web.Request) -> EventFilter:
    query = request.query
    wallet = query.get("wallet")
    card = query.get("card")
    place = None if query.get("place") is None else ids.place_id(query["place"])
    if place is not None and queries.place(context(request).node.reader, place) is None:
        raise ApiError("unknown_place", f"place {place[:60]!r} does not exist")
    return EventFilter(None if wallet is None else ids.wallet_id(wallet, "wallet"),
                       None if card is None else ids.uid(card, "card"), place)


def _event_data(event: CommittedTx) -> tuple[str, dict[str, object]]:
    tx = decode_tx(event.tx, len(event.tx))
    body = body_view(tx)
    data = {"txid": event.txid.hex(), "height": event.height, "position": event.position,
            **block_time_view(event.time_ms), "kind": event.kind,
            "signer": event.signer.hex(), "touched": [wallet.hex() for wallet in event.touched], "body": body}
    return f"id: {event.height}:{event.position}\nevent: tx\ndata: {json.dumps(data, separators=(',', ':'))}\n\n", body


async def events(request: web.Request) -> web.StreamResponse:
    chosen = _filter(request)
    ctx = context(request)
    async with ctx.event_streams.hold(request) as end:
        return await _stream(request, chosen, ctx.node, end)


async def _stream(request: web.Request, chosen: EventFilter, node: NodeFacade,
                  end: asyncio.Future[None]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    stream = aiter(node.subscribe_commits())
    upcoming: asyncio.Future[CommittedTx] | None = None
    network: asyncio.Queue[dict[str, object]] = asyncio.Queue(16)
    listeners = [] if node.offline is None else node.offline.listeners

    def listener(change: dict[str, object]) -> None:
        if not network.full():  # a client that lags 16 changes behind has the gist of them
            network.put_nowait(change)
    listeners.append(listener)
    changed: asyncio.Future[dict[str, object]] | None = None
    try:
        await response.write(b": connected\n\n")
        while True:
            if upcoming is None:
                upcoming = asyncio.ensure_future(anext(stream))
            if changed is None:
                changed = asyncio.ensure_future(network.get())
            done, _ = await asyncio.wait({upcoming, changed, end}, timeout=KEEPALIVE_S,
                                         return_when=asyncio.FIRST_COMPLETED)
            if end.done():
                break  # the client left, or the server stops
            if not done:
                await response.write(b": keepalive\n\n")  # also finds out when the client is gone
                continue
            if changed.done():
                data = json.dumps(changed.result(), separators=(",", ":"))
                changed = None
                await response.write(f"event: network\ndata: {data}\n\n".encode())
                if not upcoming.done():
                    continue
            finished, upcoming = upcoming, None
            try:
                event = finished.result()
            except StopAsyncIteration:
                break  # the node ended the subscription (e.g. a slow consumer): the client reconnects
            text, body = _event_data(event)
            if chosen.matches(node.reader, event, body):
                await response.write(text.encode())
    except ConnectionResetError:
        pass  # the client went away
    finally:
        listeners.remove(listener)
        for pending in (upcoming, changed):
            if pending is not None:
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
    return response


ROUTES = (
    Route("GET", "/v1/events", events, "Server-sent events: committed transactions (filtered)", "events",
          params=(Param("wallet", "only transactions that touched this wallet (hex or fedow1 address)"),
                 Param("card", "only transactions of this card (UID hex) or its paying wallet"),
                 Param("place", "only transactions signed by this place or touching its wallet")),
          errors=(400, 404, 503), content_type="text/event-stream", access="read"),
)
