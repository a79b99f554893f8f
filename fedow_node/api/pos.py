"""POS requests: the node signs a ledger transaction with its place key for a POS holding a token.

Every action is ``POST /v1/pos/<action>`` with a JSON body; the token must be
one of the node's place (401 without a valid token, 403 for another place's).
The token is checked before the body is read (``Route.access``, see app.py).
The signed transaction then follows the same path as a client-signed one
(``submit_and_reply``), including ``?wait=commit``. A random 16-byte nonce per
request lets any number of terminals sign at once with no shared counter.
Each signed request is logged with the id of the token (the terminal) behind it.
An ``Idempotency-Key`` header makes a retried request answer the first one's
transaction instead of signing a second (:mod:`fedow_node.api.idempotency`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Any, Callable

import structlog
from aiohttp import web

from fedow_node.api import idempotency, ids, schema as s
from fedow_node.api.idempotency import Remembered
from fedow_node.api.offline_answers import OfflineAction, answer_offline, offline_entry, offline_retry
from fedow_node.api.context import POS_TOKEN_ID, context, json_response, read_json
from fedow_node.api.errors import ApiError
from fedow_node.api.routes import Param, Route
from fedow_node.api.submit import RESULT_SCHEMA, WAIT_PARAMS, outcome, outcome_again, submit, wait_ms
from fedow_node.api.views import wallet_view
from fedow_node.offline import Origin
from fedow_node.api.wallets import WALLET_SCHEMA
from wallet import queries
from wallet.bodies import (BadgeCheckIn, Body, CashRefill, GrantMembership, LostCard, Mint, OfflineBond,
                           OfflineUnbond, RegisterCards, Refund, Sale, SetPrimaryCard, Settlement, VoidCard)
from wallet.fields import MAX_CARDS_PER_TX, MAX_PERIOD_COUNT, PERIOD_UNITS
from wallet.state import StateReader
from wallet.tx import NONCE_BYTES, sign_tx, unsigned_bytes

__all__ = ["ACTIONS", "PosAction", "ROUTES"]

log = structlog.get_logger(__name__)

Payload = dict[str, Any]


@dataclass(frozen=True)
class PosAction:
    name: str
    summary: str
    schema: dict[str, Any]
    build: Callable[[Payload, StateReader], Body]
    receipt: Callable[[Payload, StateReader], bytes] | None = None
    """The wallet whose balances a committed answer shows (the card's, for a receipt); None: no receipt."""
    offline: OfflineAction | None = None
    """What the node's offline till does for it while the node is cut off; None: it waits for the network."""


def _target_wallet(payload: Payload, reader: StateReader) -> bytes:
    """The wallet named by ``wallet``, or the wallet a card named by ``uid`` pays from."""
    if "wallet" in payload:
        return ids.wallet_id(payload["wallet"])
    uid = ids.uid(payload["uid"])
    card = queries.card(reader, uid)
    if card is None:
        raise ApiError("unknown_card", f"card {uid.hex()} is not registered")
    return card.paying_wallet


_PAYMENT = {"uid": s.UID, "asset": s.ASSET_ID, "amount": s.AMOUNT}
_TARGET = {"uid": s.UID, "wallet": s.WALLET}
_ONE_TARGET = (("uid",), ("wallet",))
_OPERATOR = {"operator": {**s.UID, "description": "UID of the operator's card (a primary card of the place); "
                          "required when the place's policy says so"}}


def _uid(payload: Payload) -> bytes:
    return ids.uid(payload["uid"])


def _card_wallet(payload: Payload, reader: StateReader) -> bytes:
    return _target_wallet({"uid": payload["uid"]}, reader)


def _operator(payload: Payload) -> bytes | None:
    return ids.uid(payload["operator"]) if "operator" in payload else None


ACTIONS = (
    PosAction("sales", "Sale: a card pays the place", s.obj(_PAYMENT, _OPERATOR),
              lambda p, r: Sale(_uid(p), p["asset"], p["amount"], _operator(p)), _card_wallet,
              lambda p, r, till, origin: till.sell(_uid(p), p["asset"], p["amount"], _operator(p), origin)),
    PosAction("refills", "Cash refill of a card or wallet: FED from the place's float, or its own asset",
              s.obj({"asset": s.ASSET_ID, "amount": s.AMOUNT}, _TARGET, _ONE_TARGET),
              lambda p, r: CashRefill(_target_wallet(p, r), p["asset"], p["amount"]), _target_wallet,
              lambda p, r, till, origin: till.refill(_target_wallet(p, r), p["asset"], p["amount"], origin)),
    PosAction("refunds", "Refund part of a card's balance in cash (FED goes to the place's float, its own "
              "tokens are burnt)", s.obj(_PAYMENT, _OPERATOR),
              lambda p, r: Refund(_uid(p), p["asset"], p["amount"], _operator(p)), _card_wallet),
    PosAction("voids", "Void a card: refund all it holds, detach it from user and places",
              s.obj({"uid": s.UID}, _OPERATOR), lambda p, r: VoidCard(_uid(p), _operator(p))),
    PosAction("lost-cards", "Declare a card lost (its balance stays with its owner)",
              s.obj({"uid": s.UID}), lambda p, r: LostCard(_uid(p))),
    PosAction("primary-cards", "Make a card a primary (operator) card of the place, or stop it",
              s.obj({"uid": s.UID, "primary": s.BOOLEAN}), lambda p, r: SetPrimaryCard(_uid(p), p["primary"])),
    PosAction("cards", "Register a batch of new cards of the place",
              s.obj({"cards": s.array(s.obj({"uid": s.UID, "number": s.CARD_NUMBER, "qr_id": s.QR_ID}),
                                      MAX_CARDS_PER_TX)}),
              lambda p, r: RegisterCards(tuple((ids.uid(c["uid"]), c["number"], ids.qr_id(c["qr_id"]))
                                               for c in p["cards"]))),
    PosAction("memberships", "Grant or renew a membership (SUB asset) for a period",
              s.obj({"asset": s.ASSET_ID, "unit": {"type": "string", "enum": list(PERIOD_UNITS)},
                     "count": s.integer(1, MAX_PERIOD_COUNT)}, _TARGET, _ONE_TARGET),
              lambda p, r: GrantMembership(_target_wallet(p, r), p["asset"], p["unit"], p["count"])),
    PosAction("badges", "Badge check-in of a card (BDG asset)", s.obj({"uid": s.UID, "asset": s.ASSET_ID}),
              lambda p, r: BadgeCheckIn(_uid(p), p["asset"]),
              offline=lambda p, r, till, origin: till.badge(_uid(p), p["asset"], origin)),
    PosAction("settlements", "Place-to-place transfer", s.obj(
              {"to_place": s.PLACE_ID, "asset": s.ASSET_ID, "amount": s.AMOUNT}),
              lambda p, r: Settlement(p["to_place"], p["asset"], p["amount"])),
    PosAction("mints", "Issue the place's own local asset into its wallet",
              s.obj({"asset": s.ASSET_ID, "amount": s.AMOUNT}), lambda p, r: Mint(p["asset"], p["amount"])),
    PosAction("offline-bonds", "Lock FED of the place's float as its offline bond (it carries the risk of its "
              "offline sales, docs/offline.md)", s.obj({"amount": s.AMOUNT}), lambda p, r: OfflineBond(p["amount"])),
    PosAction("offline-unbonds", "Give notice on part of the offline bond: it goes back to the place's wallet "
              "after the chain's offline_bond_notice_ms", s.obj({"amount": s.AMOUNT}),
              lambda p, r: OfflineUnbond(p["amount"])),
)


def _handler(action: PosAction) -> Callable[[web.Request], Any]:
    async def handle(request: web.Request) -> web.Response:
        wait_ms(request)  # a malformed query is refused before anything is signed
        retry_key = idempotency.key_of(request.headers)
        payload = await read_json(request, action.schema)
        ctx = context(request)
        node, token_id = ctx.node, request[POS_TOKEN_ID]
        request_fingerprint = idempotency.fingerprint(action.name, payload)
        if retry_key is not None:
            known = ctx.idempotency.recall(token_id, retry_key, request_fingerprint)
            if known is not None:
                return _with_receipt(request, action, payload, *await _resumed(request, known))
            journalled = offline_retry(request, token_id, retry_key, request_fingerprint)
            if journalled is not None:
                return journalled
        if node.offline is not None and node.offline.selling_offline:
            return answer_offline(request, action.name, action.offline, payload,
                                  Origin(token_id, retry_key, request_fingerprint))
        key = node.place_key
        assert key is not None, "the route's access check (Route.access 'pos') checked the place key"
        body = action.build(payload, node.reader)
        nonce, expires_at = os.urandom(NONCE_BYTES), node.next_expiry()
        tx = sign_tx(key, node.chain_id, body.KIND, body, nonce, expires_at)
        txid = hashlib.sha256(unsigned_bytes(body.KIND, key.public_key, nonce, expires_at, body)).digest()
        log.info("pos_request_signed", token=token_id, kind=body.KIND, txid=txid.hex(), retry_key=retry_key)
        if retry_key is not None:  # durable, and before the await: a concurrent retry or a restart finds it
            ctx.idempotency.remember(token_id, retry_key, request_fingerprint, txid, tx)
        node.note_signed(txid, token_id)
        try:
            await submit(request, tx)
        except ApiError:
            if retry_key is not None:
                ctx.idempotency.forget(token_id, retry_key)
            raise
        return _with_receipt(request, action, payload, *await outcome(request, txid))
    handle.__name__ = f"pos_{action.name.replace('-', '_')}"
    return handle


async def _resumed(request: web.Request, known: Remembered) -> tuple[dict[str, Any], int]:
    """The outcome of a retried request; its transaction is submitted again if a restart lost it.

    Not committed, not pending, not dropped: the node restarted between accepting it
    and committing it. The same signed bytes can be committed once at most.
    """
    node = context(request).node
    journalled = offline_entry(request, known.txid)
    if journalled is not None:
        return journalled
    if not node.is_pending(known.txid) and node.store.tx_location(known.txid) is None \
            and node.dropped(known.txid) is None:  # the mempool first: a commit is stored before it lets go
        log.info("pos_request_resubmitted", txid=known.txid.hex())
        await submit(request, known.tx)
    return await outcome_again(request, known.txid)


def _with_receipt(request: web.Request, action: PosAction, payload: Payload, data: dict[str, Any],
                  status: int) -> web.Response:
    """A committed sale, refill or refund also answers the wallet's balances as of the committed height."""
    if action.receipt is not None and data["status"] == "committed":
        ctx = context(request)
        committed = ctx.node.reader  # one snapshot: the balances and their height agree
        data = {**data, "wallet": wallet_view(committed, action.receipt(payload, committed), ctx.clock()),
                "as_of_height": committed.height}
    return json_response(data, status=status)


RECEIPT_SCHEMA = s.shape({
    **RESULT_SCHEMA["properties"],
    "wallet": {**WALLET_SCHEMA, "description": "committed answers of sales, refills and refunds: the card's (or "
               "wallet's) balances, memberships and passages as of as_of_height, for the receipt"},
    "as_of_height": {"type": "integer", "description": "the committed height the wallet was read at"}},
    required=tuple(RESULT_SCHEMA["required"]))

RETRY_KEY_PARAM = Param(idempotency.HEADER, "a key per request (1-128 of A-Za-z0-9_.:-): a retry with the "
                        "same key answers the first request's transaction instead of signing another",
                        s.string("^[A-Za-z0-9_.:-]{1,128}$"), where="header")

ROUTES = tuple(
    Route("POST", f"/v1/pos/{action.name}", _handler(action), action.summary, "pos", request=action.schema,
          response=RESULT_SCHEMA if action.receipt is None else RECEIPT_SCHEMA, params=(*WAIT_PARAMS, RETRY_KEY_PARAM), access="pos", success=202,
          errors=(400, 401, 403, 404, 409, 413, 422, 503))
    for action in ACTIONS
)
