"""Cards and wallets: look-ups by UID, printed number or QR id; balances, memberships, history.

What a POS asks on every tap, so each answer is one or a few point reads of
committed state. History pages are bounded and resumable by cursor.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.chain import committed_block
from fedow_node.api.context import context, json_response
from fedow_node.api.errors import ApiError
from fedow_node.api.routes import Param, Route
from fedow_node.api.views import body_view, card_view, membership_view, wallet_view
from storage import MAX_HISTORY_PAGE, InvalidInput
from wallet import queries
from wallet.records import Card
from wallet.tx import decode_tx

__all__ = ["ROUTES", "CARD_SCHEMA", "WALLET_SCHEMA", "HISTORY_SCHEMA"]

DEFAULT_PAGE = 50

BALANCE_SCHEMA = s.shape({
    "asset": s.ASSET_ID, "amount": s.INT, "last_activity_ms": s.INT,
    "amount_now": {"type": "integer", "description": "after the demurrage a melting asset would pay now"}})
MEMBERSHIP_SCHEMA = s.shape({"asset": s.ASSET_ID, "start_ms": s.INT, "expiry_ms": s.INT, "active": s.BOOLEAN})
WALLET_SCHEMA = s.shape({
    "wallet": s.HEX32, "address": s.TEXT, "kind": {"type": ["string", "null"], "enum": ["user", "card", "place", None]},
    "balances": s.list_of(BALANCE_SCHEMA), "memberships": s.list_of(MEMBERSHIP_SCHEMA),
    "badges": s.list_of(s.shape({"asset": s.ASSET_ID, "count": s.INT, "last_ms": s.INT}))},
    required=("wallet", "balances", "memberships", "badges"))
CARD_SCHEMA = s.shape({
    "uid": s.UID, "number": s.CARD_NUMBER, "qr_id": s.TEXT, "origin_place": s.PLACE_ID,
    "primary_places": s.list_of(s.PLACE_ID), "state": {"type": "string", "enum": ["active", "lost", "voided"]},
    "owner": s.NULLABLE_TEXT, "card_wallet": s.HEX32, "paying_wallet": WALLET_SCHEMA},
    required=("uid", "number", "qr_id", "state", "paying_wallet"))
HISTORY_SCHEMA = s.shape({
    "entries": s.list_of(s.shape({"txid": s.HEX32, "height": s.INT, "position": s.INT, "kind": s.TEXT,
                                  "signer": s.HEX32, "body": {"type": "object"}})),
    "next_cursor": {"type": ["string", "null"], "description": "pass as ?cursor= for the next (older) page"}},
    required=("entries", "next_cursor"))


def _card_reply(request: web.Request, card: Card | None, named: str) -> web.Response:
    if card is None:
        raise ApiError("unknown_card", f"no card is registered with {named}")
    ctx = context(request)
    return json_response(card_view(ctx.node.reader, card, ctx.clock()))


async def card_by_uid(request: web.Request) -> web.Response:
    uid = ids.uid(request.match_info["uid"])
    return _card_reply(request, queries.card(context(request).node.reader, uid), f"UID {uid.hex()}")


async def card_by_number(request: web.Request) -> web.Response:
    number = ids.card_number(request.match_info["number"])
    return _card_reply(request, queries.card_by_number(context(request).node.reader, number), f"number {number}")


async def card_by_qr(request: web.Request) -> web.Response:
    qr_id = ids.qr_id(request.match_info["qr_id"])
    return _card_reply(request, queries.card_by_qr(context(request).node.reader, qr_id), f"QR id {qr_id.hex()}")


async def get_wallet(request: web.Request) -> web.Response:
    ctx = context(request)
    return json_response(wallet_view(ctx.node.reader, ids.wallet_id(request.match_info["wallet"]), ctx.clock()))


async def check_membership(request: web.Request) -> web.Response:
    ctx = context(request)
    wallet_id = ids.wallet_id(request.match_info["wallet"])
    asset_id = ids.asset_id(request.match_info["asset"])
    asset = queries.asset(ctx.node.reader, asset_id)
    if asset is None or asset.category != "SUB":
        raise ApiError("unknown_asset", f"asset {asset_id[:40]!r} is not a membership (SUB) asset")
    found = queries.membership(ctx.node.reader, wallet_id, asset_id)
    if found is None:
        return json_response({"asset": asset_id, "start_ms": None, "expiry_ms": None, "active": False})
    return json_response(membership_view(asset_id, found, ctx.clock()))


def _limit(request: web.Request) -> int:
    text = request.query.get("limit", str(DEFAULT_PAGE))
    if not text.isdigit() or not 1 <= int(text) <= MAX_HISTORY_PAGE:
        raise ApiError("bad_request", f"query parameter limit must be an integer from 1 to {MAX_HISTORY_PAGE}")
    return int(text)


def _cursor(request: web.Request) -> bytes | None:
    text = request.query.get("cursor")
    if text is None:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ApiError("bad_cursor", "query parameter cursor must be the next_cursor of a previous page") from None


async def wallet_history(request: web.Request) -> web.Response:
    """A page of a wallet's transactions, newest first, each decoded."""
    ctx = context(request)
    node = ctx.node
    wallet_id = ids.wallet_id(request.match_info["wallet"])
    try:
        entries, next_cursor = node.store.wallet_history(wallet_id, _cursor(request), _limit(request))
    except InvalidInput:
        raise ApiError("bad_cursor", "query parameter cursor must be the next_cursor of a previous page") from None
    blocks: dict[int, tuple[bytes, ...]] = {}
    items: list[dict[str, Any]] = []
    for entry in entries:
        if entry.height not in blocks:
            block = committed_block(node, entry.height)
            assert block is not None, "a history entry names a block the store does not hold"
            blocks[entry.height] = block.txs
        raw_tx = blocks[entry.height][entry.position]
        tx = decode_tx(raw_tx, len(raw_tx))
        items.append({"txid": entry.txid.hex(), "height": entry.height, "position": entry.position,
                      "kind": tx.kind, "signer": tx.signer.hex(),
                      "body": body_view(tx)})
    return json_response({"entries": items, "next_cursor": None if next_cursor is None else next_cursor.hex()})


_CARD_ERRORS = (400, 404)

ROUTES = (
    Route("GET", "/v1/cards/{uid}", card_by_uid, "Card by NFC UID, with balances and memberships", "cards",
          response=CARD_SCHEMA, errors=_CARD_ERRORS, access="read"),
    Route("GET", "/v1/cards/by-number/{number}", card_by_number, "Card by printed number", "cards",
          response=CARD_SCHEMA, errors=_CARD_ERRORS, access="read"),
    Route("GET", "/v1/cards/by-qr/{qr_id}", card_by_qr, "Card by QR code id (hex or UUID)", "cards",
          response=CARD_SCHEMA, errors=_CARD_ERRORS, access="read"),
    Route("GET", "/v1/wallets/{wallet}", get_wallet, "Wallet balances, memberships and badge passages",
          "wallets", response=WALLET_SCHEMA, errors=(400,), access="read"),
    Route("GET", "/v1/wallets/{wallet}/memberships/{asset}", check_membership,
          "Membership check: is the wallet a member now?", "wallets", response=MEMBERSHIP_SCHEMA,
          errors=(400, 404), access="read"),
    Route("GET", "/v1/wallets/{wallet}/history", wallet_history,
          "Wallet history, newest first, by pages (cursor pagination)", "wallets", response=HISTORY_SCHEMA,
          params=(Param("cursor", "next_cursor of the previous page"),
                 Param("limit", f"page size, default {DEFAULT_PAGE}", s.integer(1, MAX_HISTORY_PAGE))),
          errors=(400,), access="read"),
)
