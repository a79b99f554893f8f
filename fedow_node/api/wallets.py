"""Cards and wallets: look-ups by UID, printed number or QR id; balances, memberships, history.

What a POS asks on every tap, so each answer is one or a few point reads of
committed state. History pages are bounded and resumable by cursor.
"""

from __future__ import annotations

from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.context import context, json_response
from fedow_node.api.numbers import query_int
from fedow_node.api.offline_answers import CARD_OFFLINE_SCHEMA, card_offline_view
from fedow_node.api.errors import ApiError
from fedow_node.api.routes import Param, Route
from fedow_node.iso_time import iso_time
from fedow_node.api.views import card_view, membership_view, wallet_view
from wallet import queries
from wallet.records import Card

__all__ = ["ROUTES", "CARD_SCHEMA", "WALLET_SCHEMA"]

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
    "owner": s.NULLABLE_TEXT, "card_wallet": s.HEX32, "paying_wallet": WALLET_SCHEMA,
    "offline": {**CARD_OFFLINE_SCHEMA, "description": "on a node with an offline journal: FED this venue sold to "
                "and refilled into the paying wallet offline that is not on chain yet, and the balance that "
                "leaves (last committed balance less those sales, plus those refills)"}},
    required=("uid", "number", "qr_id", "state", "paying_wallet"))
def _card_reply(request: web.Request, card: Card | None, named: str) -> web.Response:
    if card is None:
        raise ApiError("unknown_card", f"no card is registered with {named}")
    ctx = context(request)
    view = card_view(ctx.node.reader, card, ctx.clock())
    offline = card_offline_view(request, card.paying_wallet)
    return json_response(view if offline is None else {**view, "offline": offline})


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


MAX_DUE = 200
DUE_SCHEMA = s.shape({"due": s.list_of(s.shape({
    "due_ms": s.INT, "due": s.ISO_TIME, "wallet": s.HEX32, "asset": s.ASSET_ID, "amount": s.INT,
    "amount_after": {"type": "integer", "description": "the balance once charged at due_ms (if untouched)"}}))},
    required=("due",))


async def demurrage_due(request: web.Request) -> web.Response:
    """The melting balances that will be charged next, soonest first (display only)."""
    limit = query_int(request, "limit", 50, 1, MAX_DUE)
    reader = context(request).node.reader
    due = []
    for due_ms, wallet_id, asset_id in queries.demurrage_due(reader, limit):
        amount = next((entry.balance.amount for entry in queries.balances(reader, wallet_id)
                       if entry.asset_id == asset_id), 0)
        due.append({"due_ms": due_ms, "due": iso_time(due_ms), "wallet": wallet_id.hex(), "asset": asset_id,
                    "amount": amount, "amount_after": queries.projected_amount(reader, wallet_id, asset_id, due_ms)})
    return json_response({"due": due})


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
    Route("GET", "/v1/demurrage/due", demurrage_due, "Melting balances to be charged next (soonest first)",
          "wallets", response=DUE_SCHEMA, params=(Param("limit", "how many, default 50", s.integer(1, MAX_DUE)),),
          errors=(400,), access="read"),
)
