"""What every handler shares: the node, the limits, the clock, the tokens; JSON in and out."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable

from aiohttp import web

from config import ApiSection
from fedow_node.api.errors import ApiError
from fedow_node.api.facade import NodeFacade
from fedow_node.api.idempotency import IdempotencyKeys
from fedow_node.api.schema import validate
from fedow_node.api.pairing import PairingThrottle
from fedow_node.api.tokens import TokenEntry, TokenFile, TokenFileError
from wallet import queries

__all__ = ["ApiContext", "CONTEXT", "POS_TOKEN_ID", "StreamSlots", "TOKEN", "context", "json_response", "read_json",
           "may_read", "require_access", "require_place_token", "wall_clock_ms"]


def wall_clock_ms() -> int:
    """Now, for display only (membership 'active' flags, demurrage estimates); never decides state."""
    return time.time_ns() // 1_000_000


class StreamSlots:
    """Bounds on concurrently open event streams, in all and per client, freed the moment a stream ends.

    A client is its token (its id) when the route needed one, else its address. A
    stream ends when its client hangs up (the server's protocol reports it at once,
    see ``api/server.py``) or when the server shuts down (:meth:`close_all`).
    """

    def __init__(self, limit: int, per_client: int) -> None:
        self.limit = limit
        self.per_client = per_client
        self.open = 0
        self._by_client: Counter[str] = Counter()
        self._ends: set[asyncio.Future[None]] = set()

    @asynccontextmanager
    async def hold(self, request: web.Request) -> AsyncIterator[asyncio.Future[None]]:
        """Take a slot for the stream of ``request``; yields a future done when the stream must end."""
        entry = request.get(TOKEN)
        client = f"token {entry.id}" if entry is not None else f"address {request.remote}"
        if self.open >= self.limit:
            raise ApiError("unavailable", f"this node already serves {self.limit} event streams; retry later")
        if self._by_client[client] >= self.per_client:
            raise ApiError("too_many_streams", f"{client} already holds {self.per_client} event streams; "
                           "close one first")
        end: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lost: asyncio.Event | None = getattr(request.protocol, "lost", None)
        watcher = None if lost is None else asyncio.ensure_future(lost.wait())
        if watcher is not None:
            watcher.add_done_callback(lambda _: end.done() or end.set_result(None))
        self.open += 1
        self._by_client[client] += 1
        self._ends.add(end)
        try:
            yield end
        finally:
            self.open -= 1
            self._by_client[client] -= 1
            if not self._by_client[client]:
                del self._by_client[client]
            self._ends.discard(end)
            if watcher is not None:
                watcher.cancel()

    def close_all(self) -> None:
        """End every open stream now (server shutdown)."""
        for end in self._ends:
            if not end.done():
                end.set_result(None)


@dataclass(frozen=True)
class ApiContext:
    node: NodeFacade
    config: ApiSection
    tokens: TokenFile
    clock: Callable[[], int]
    event_streams: StreamSlots
    idempotency: IdempotencyKeys
    pairing: PairingThrottle


CONTEXT: web.AppKey[ApiContext] = web.AppKey("fedow_api_context", ApiContext)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


async def read_json(request: web.Request, schema: dict[str, Any]) -> dict[str, Any]:
    """The request body as JSON, checked against ``schema`` (aiohttp enforces the size limit)."""
    raw = await request.read()
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError("bad_json", f"request body is not valid JSON: {str(exc)[:120]}") from None
    return validate(payload, schema)


def _bearer(request: web.Request, what: str) -> str:
    header = request.headers.get("Authorization")
    if header is None:
        raise ApiError("missing_token", f"this request needs {what}: send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not (token.isascii() and token.isprintable()):
        raise ApiError("bad_token", "the Authorization header must be 'Bearer <token>'")
    return token.strip()


POS_TOKEN_ID: web.RequestKey[str] = web.RequestKey("fedow_pos_token_id", str)
"""Request key: the id of the token that authenticated a POS request (for the audit log)."""
TOKEN: web.RequestKey[TokenEntry] = web.RequestKey("fedow_token", TokenEntry)
"""Request key: the token entry that authenticated the request (absent on public routes)."""

_ROLES_FOR = {"read": ("read", "pos", "operator"), "pos": ("pos",), "operator": ("operator",)}
_NEEDS = {"read": "an API token (read, pos or operator)", "pos": "a POS API token of this node's place",
          "operator": "an operator token"}


def _token(request: web.Request, access: str) -> TokenEntry:
    """The request's token entry, of a role that ``access`` admits; else 401, 403 or 503."""
    ctx = context(request)
    token = _bearer(request, _NEEDS[access])
    try:
        entry = ctx.tokens.lookup(token)
    except TokenFileError as exc:
        raise ApiError("unavailable", f"API tokens cannot be checked: {exc.detail}") from None
    if entry is None:
        raise ApiError("bad_token", "the API token is unknown or revoked")
    if entry.role not in _ROLES_FOR[access]:
        raise ApiError("wrong_role", f"this request needs {_NEEDS[access]}; token {entry.id} is a "
                       f"{entry.role} token")
    request[TOKEN] = entry
    return entry


def require_access(request: web.Request, access: str) -> None:
    """Check a route's access level (``Route.access``) before its handler runs."""
    if access == "public" or (access == "read" and context(request).config.public_reads):
        return
    if access == "pos":
        require_place_token(request)
    else:
        _token(request, access)


def may_read(request: web.Request) -> bool:
    """Would a ``read`` route admit this request? False for an anonymous one; a bad token is still a 401."""
    if context(request).config.public_reads:
        return True
    if "Authorization" not in request.headers:
        return False
    _token(request, "read")
    return True


def require_place_token(request: web.Request) -> str:
    """The node's place id, once the request's token is a pos token of that place; else 401, 403 or 503."""
    ctx = context(request)
    entry = _token(request, "pos")
    key = ctx.node.place_key
    if key is None:
        raise ApiError("no_place_key", "this node has no place key: it cannot sign POS requests; "
                       "submit client-signed transactions to POST /v1/txs instead")
    node_place = queries.place_by_key(ctx.node.reader, key.public_key)
    if node_place is None:
        raise ApiError("no_place_key", "this node's place key is not the key of any place on the chain")
    if node_place.id != entry.place:
        raise ApiError("wrong_place", f"the token belongs to place {entry.place!r}, but this node signs "
                       f"for place {node_place.id!r}")
    request[POS_TOKEN_ID] = entry.id
    return node_place.id
