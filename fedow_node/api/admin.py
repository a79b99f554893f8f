"""The operator's administration over the API: tokens, pairing codes, and a till's pairing.

An operator token (``fedow-node api-token create --role operator``) lists and
revokes the node's API tokens and creates one-time pairing codes; a till
exchanges such a code once at ``POST /v1/pairing`` for a token of its own
(:mod:`fedow_node.api.pairing`). Tokens themselves are never listed: only ids,
roles, places and labels.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedow_node.api import schema as s
from fedow_node.api.context import TOKEN, context, json_response, read_json
from fedow_node.api.errors import ApiError
from fedow_node.api.pairing import (DEFAULT_TTL_MS, MAX_TTL_MS, create_pairing_code, pending_codes,
                                    redeem_pairing_code)
from fedow_node.api.routes import Route
from fedow_node.api.tokens import MAX_LABEL_CHARS, TokenEntry, TokenFileError, list_tokens, revoke_token
from wallet import queries

__all__ = ["ROUTES"]

_LABEL = {"type": "string", "maxLength": MAX_LABEL_CHARS, "minLength": 0,
          "description": "the till's or person's name, shown in the per-till figures"}
TOKEN_SCHEMA = s.shape({"id": s.TEXT, "role": {"type": "string", "enum": ["pos", "read", "operator"]},
                        "place": s.TEXT, "label": s.TEXT, "created_ms": s.INT, "current": s.BOOLEAN})
PAIRING_REQUEST = s.obj({"role": {"type": "string", "enum": ["pos", "read"]}},
                        {"label": _LABEL, "ttl_ms": s.integer(1, MAX_TTL_MS, f"default {DEFAULT_TTL_MS}")})
PAIRING_CODE = s.shape({"code": {"type": "string", "description": "XXXXX-XXXXX, shown once"}, "role": s.TEXT,
                        "place": s.TEXT, "label": s.TEXT, "expires_ms": s.INT},
                       required=("code", "expires_ms"))
REDEEM_REQUEST = s.obj({"code": s.string("^[0-9A-Za-z -]{10,16}$", "the pairing code")}, {"label": _LABEL})
REDEEMED = s.shape({"token": {"type": "string", "description": "the till's own token: keep it secret"},
                    "id": s.TEXT, "role": s.TEXT, "place": s.TEXT, "label": s.TEXT},
                   required=("token", "id", "role"))


def _token_view(entry: TokenEntry, current: TokenEntry | None) -> dict[str, Any]:
    return {"id": entry.id, "role": entry.role, "place": entry.place, "label": entry.label,
            "created_ms": entry.created_ms, "current": current is not None and current.id == entry.id}


def _file_errors(exc: TokenFileError) -> ApiError:
    return ApiError("unavailable", f"API tokens cannot be read or written: {exc.detail}")


async def list_api_tokens(request: web.Request) -> web.Response:
    ctx = context(request)
    try:
        entries = list_tokens(ctx.node.api_tokens_path)
        pending = pending_codes(ctx.node.api_tokens_path, ctx.clock())
    except TokenFileError as exc:
        raise _file_errors(exc) from None
    return json_response({"tokens": [_token_view(entry, request.get(TOKEN)) for entry in entries],
                          "pending_pairing_codes": len(pending)})


async def revoke_api_token(request: web.Request) -> web.Response:
    ctx = context(request)
    token_id = request.match_info["token_id"]
    current = request.get(TOKEN)
    if current is not None and current.id == token_id:
        raise ApiError("bad_request", "an operator cannot revoke the token it is signed in with "
                       "(use another operator token, or fedow-node api-token revoke)")
    try:
        removed = revoke_token(ctx.node.api_tokens_path, token_id)
    except TokenFileError as exc:
        raise _file_errors(exc) from None
    if not removed:
        raise ApiError("not_found", f"no API token has id {token_id[:40]!r}")
    return json_response({"revoked": token_id})


def _node_place(request: web.Request) -> str:
    key = context(request).node.place_key
    place = None if key is None else queries.place_by_key(context(request).node.reader, key.public_key)
    return "" if place is None else place.id


async def new_pairing_code(request: web.Request) -> web.Response:
    ctx = context(request)
    payload = await read_json(request, PAIRING_REQUEST)
    place = _node_place(request)
    if payload["role"] == "pos" and not place:
        raise ApiError("no_place_key", "this node signs for no place: it can pair read-only clients, not tills")
    try:
        code, pending = create_pairing_code(ctx.node.api_tokens_path, place, ctx.clock(), payload["role"],
                                            payload.get("label", ""), payload.get("ttl_ms", DEFAULT_TTL_MS))
    except TokenFileError as exc:
        raise _file_errors(exc) from None
    except ValueError as exc:
        raise ApiError("bad_request", str(exc)) from None
    return json_response({"code": code, "role": pending.role, "place": pending.place, "label": pending.label,
                          "expires_ms": pending.expires_ms}, status=201)


async def redeem_pairing(request: web.Request) -> web.Response:
    """A till exchanges a pairing code for its own token (once)."""
    ctx = context(request)
    now = ctx.clock()
    if not ctx.pairing.allowed(now):
        raise ApiError("too_many_attempts", "too many wrong pairing codes in the last minute; wait and retry")
    payload = await read_json(request, REDEEM_REQUEST)
    try:
        redeemed = redeem_pairing_code(ctx.node.api_tokens_path, payload["code"], now, payload.get("label", ""))
    except TokenFileError as exc:
        raise _file_errors(exc) from None
    except ValueError as exc:
        raise ApiError("bad_request", str(exc)) from None
    if redeemed is None:
        ctx.pairing.failed(now)
        raise ApiError("bad_token", "the pairing code is unknown, already used or expired: ask the operator for "
                       "a new one")
    entry, token = redeemed
    return json_response({"token": token, "id": entry.id, "role": entry.role, "place": entry.place,
                          "label": entry.label}, status=201)


ROUTES = (
    Route("GET", "/v1/admin/tokens", list_api_tokens, "The node's API tokens (ids, roles, places, labels; never "
          "the tokens)", "admin", response=s.shape({"tokens": s.list_of(TOKEN_SCHEMA),
                                                    "pending_pairing_codes": s.INT}), access="operator"),
    Route("DELETE", "/v1/admin/tokens/{token_id}", revoke_api_token, "Revoke an API token (it stops working at once)",
          "admin", response=s.shape({"revoked": s.TEXT}), access="operator", errors=(400, 404)),
    Route("POST", "/v1/admin/pairing-codes", new_pairing_code, "A one-time pairing code for a till (pos) or a "
          "read-only client", "admin", request=PAIRING_REQUEST, response=PAIRING_CODE, access="operator",
          success=201, errors=(400, 413)),
    Route("POST", "/v1/pairing", redeem_pairing, "Exchange a pairing code, once, for this till's own token",
          "admin", request=REDEEM_REQUEST, response=REDEEMED, success=201, errors=(400, 401, 413, 429)),
)
