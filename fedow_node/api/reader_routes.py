"""The card reader for POS software: ``GET /v1/reader/status`` and the ``GET /v1/reader/events`` stream.

A till that has no reader of its own listens to the node's: each card tap
arrives as a server-sent event carrying the card and the wallet it pays from
(balances, memberships), or ``"known": false`` for a card the chain does not
know. The stream opens with the current status and then sends, numbered by
``id:``, ``tap``, ``unreadable``, ``removed``, ``attached``, ``detached`` and
``status`` events; a comment line every ``KEEPALIVE_S`` keeps proxies from
closing it. A stream that falls ``MAX_BACKLOG`` events behind is closed (the
client reconnects and reads the status). The node exposes its
:class:`~fedow_node.reader.CardReaderHub` as ``card_reader`` on the facade;
None, or a facade without it, means the reader is disabled.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from fedow_node.api import schema as s
from fedow_node.api.context import context, json_response
from fedow_node.api.errors import ApiError
from fedow_node.api.facade import NodeFacade
from fedow_node.api.routes import Route
from fedow_node.api.views import card_view
from fedow_node.reader import CardReaderHub, ReaderNotice, ReaderStatus
from hardware import CardRemoved, CardTapped, CardUnreadable, ReaderAttached, ReaderDetached, ReaderServiceStatus

__all__ = ["KEEPALIVE_S", "MAX_BACKLOG", "ROUTES", "STATUS_SCHEMA"]

KEEPALIVE_S = 15.0
MAX_BACKLOG = 256

Json = dict[str, Any]

STATUS_SCHEMA = s.shape({
    "enabled": {"type": "boolean", "description": "false: [reader] enabled is off, nothing is watched"},
    "state": {"type": "string", "enum": ["disabled", "starting", "ok", "pcscd_unavailable", "pcsc_error",
                                         "pyscard_missing"]},
    "detail": {"type": "string", "description": "what the state means here, e.g. pcscd's error"},
    "readers": s.list_of(s.shape({"name": s.TEXT, "card": {"type": ["string", "null"],
                                                           "description": "UID (hex) of the card on it"}}))},
    required=("enabled", "state", "detail", "readers"))

_DISABLED: Json = {"enabled": False, "state": "disabled",
                   "detail": "this node watches no card reader ([reader] enabled = false)", "readers": []}


def _hub(node: NodeFacade) -> CardReaderHub | None:
    return getattr(node, "card_reader", None)


def _status_view(status: ReaderStatus) -> Json:
    return {"enabled": True, "state": status.state, "detail": status.detail,
            "readers": [{"name": slot.name, "card": None if slot.card_uid is None else slot.card_uid.hex()}
                        for slot in status.readers]}


def _tap_view(request: web.Request, event: CardTapped, notice: ReaderNotice) -> Json:
    view: Json = {"reader": event.reader, "uid": event.uid.hex(), "atr": event.atr.hex()}
    if notice.card is None:
        return {**view, "known": False, "card": None, "error": "unknown_card",
                "detail": f"no card is registered with UID {event.uid.hex()}"}
    ctx = context(request)
    return {**view, "known": True, "card": card_view(ctx.node.reader, notice.card, ctx.clock())}


def _event_view(request: web.Request, notice: ReaderNotice) -> tuple[str, Json]:
    """The SSE event name and JSON data of ``notice``."""
    event = notice.event
    if isinstance(event, CardTapped):
        return "tap", _tap_view(request, event, notice)
    if isinstance(event, CardUnreadable):
        return "unreadable", {"reader": event.reader, "atr": event.atr.hex(), "error": event.code,
                              "detail": event.detail}
    if isinstance(event, CardRemoved):
        return "removed", {"reader": event.reader}
    if isinstance(event, ReaderAttached):
        return "attached", {"reader": event.name}
    if isinstance(event, ReaderDetached):
        return "detached", {"reader": event.name}
    assert isinstance(event, ReaderServiceStatus)
    return "status", _status_view(notice.status)


def _sse(name: str, data: Json, event_id: int | None = None) -> bytes:
    head = "" if event_id is None else f"id: {event_id}\n"
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class _Backlog:
    """One stream's queue of notices; overflowing it ends the stream instead of growing memory."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[ReaderNotice | None] = asyncio.Queue(MAX_BACKLOG + 1)

    def __call__(self, notice: ReaderNotice) -> None:
        if self.queue.qsize() < MAX_BACKLOG:
            self.queue.put_nowait(notice)
        elif self.queue.qsize() == MAX_BACKLOG:
            self.queue.put_nowait(None)  # the one slot kept free: ends the stream


async def reader_status(request: web.Request) -> web.Response:
    hub = _hub(context(request).node)
    return json_response(_DISABLED if hub is None else _status_view(hub.status))


async def reader_events(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    hub = _hub(ctx.node)
    if hub is None:
        raise ApiError("unavailable", _DISABLED["detail"])
    async with ctx.event_streams.hold(request) as end:
        backlog = _Backlog()
        unsubscribe = hub.subscribe(backlog)
        try:
            return await _stream(request, hub, backlog, end)
        finally:
            unsubscribe()


async def _stream(request: web.Request, hub: CardReaderHub, backlog: _Backlog,
                  end: asyncio.Future[None]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    try:
        await response.write(_sse("status", _status_view(hub.status)))
        while True:
            upcoming = asyncio.ensure_future(backlog.queue.get())
            done, _ = await asyncio.wait({upcoming, end}, timeout=KEEPALIVE_S, return_when=asyncio.FIRST_COMPLETED)
            if upcoming not in done:
                upcoming.cancel()
                if end.done():
                    break  # the client left, or the server stops
                await response.write(b": keepalive\n\n")
                continue
            notice = upcoming.result()
            if notice is None:
                break  # fell too far behind: the client reconnects and reads the status again
            name, data = _event_view(request, notice)
            await response.write(_sse(name, data, notice.seq))
    except ConnectionResetError:
        pass  # the client went away
    return response


ROUTES = (
    Route("GET", "/v1/reader/status", reader_status, "Card reader service: link to pcscd, readers, cards on them",
          "reader", response=STATUS_SCHEMA, access="read"),
    Route("GET", "/v1/reader/events", reader_events,
          "Server-sent events of the node's card reader: tap (with the card and its wallet), unreadable, "
          "removed, attached, detached, status", "reader", errors=(503,), content_type="text/event-stream", access="read"),
)
