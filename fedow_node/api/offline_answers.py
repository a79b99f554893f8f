"""The POS API while the node is cut off, and what tills and the operator read of the offline mode (docs/offline.md).

While the node sells offline (its status says ``offline.selling``: cut off, ``[offline] enabled``,
a place key), ``POST /v1/pos/sales``, ``/refills`` and ``/badges`` are answered by the node's
:class:`~fedow_node.offline.OfflineTill`: 202 with ``status: offline``, the operation's journal
and number, the card's provisional balance and the venue's exposure, once the signed operation is
synced in the journal. Every other POS action answers 503 ``offline_unavailable``. A retried
request (same ``Idempotency-Key``) gets its first answer, from the journal, online or not, and
``GET /v1/txs/{txid}`` shows a journalled transaction as ``offline`` until it is on chain.
"""

from __future__ import annotations

from typing import Any, Callable

import structlog
from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.context import context, json_response
from fedow_node.api.errors import ApiError
from fedow_node.api.numbers import query_int
from fedow_node.api.routes import Param, Route
from fedow_node.offline import COMMITTED, PENDING, REFUSED, Accepted, Entry, OfflineJournal, OfflineTill, Origin
from wallet import queries
from wallet.errors import Rejected
from wallet.state import StateReader

__all__ = ["CARD_OFFLINE_SCHEMA", "OFFLINE_RESULT", "OfflineAction", "ROUTES", "answer_offline", "card_offline_view",
           "offline_entry", "offline_retry", "offline_tx_status"]

log = structlog.get_logger(__name__)

OfflineAction = Callable[[dict[str, Any], StateReader, OfflineTill, Origin], Accepted]
"""What a POS action does offline: the request's payload, the committed state, the till, who asked."""

OFFLINE_RESULT = {
    "journal": {**s.string("^[0-9a-f]{32}$"), "description": "offline answers: the node's offline journal"},
    "seq": {"type": "integer", "description": "offline answers: the operation's number in the journal"},
    "provisional_balance": {"type": ["integer", "null"], "description": "offline answers: FED the card (its "
                            "paying wallet) holds as far as this node knows: last committed balance, less this "
                            "venue's offline sales, plus its offline refills (null for a badge)"},
    "exposure": {"type": "integer", "description": "offline answers: FED of this venue's offline sales not yet "
                 "on chain, this one included"}}
CARD_OFFLINE_SCHEMA = s.shape({
    "sold": s.INT, "refilled": s.INT, "provisional_balance": s.INT},
    required=("sold", "refilled", "provisional_balance"))


def _till(request: web.Request) -> OfflineTill | None:
    offline = context(request).node.offline
    return None if offline is None else offline.till


def _journal(request: web.Request) -> OfflineJournal | None:
    till = _till(request)
    return None if till is None else till.journal


def _view(accepted: Accepted) -> dict[str, Any]:
    entry = accepted.entry
    return {"txid": entry.txid.hex(), "status": "offline", "status_url": f"/v1/txs/{entry.txid.hex()}",
            "journal": entry.journal.hex(), "seq": entry.seq, "provisional_balance": accepted.provisional_balance,
            "exposure": accepted.exposure}


def answer_offline(request: web.Request, name: str, action: OfflineAction | None, payload: dict[str, Any],
                   origin: Origin) -> web.Response:
    """A POS request while the node sells offline: journalled (202 ``offline``) or refused with its code."""
    node = context(request).node
    offline = node.offline
    assert offline is not None and offline.till is not None, "only called while the node sells offline"
    if action is None:
        raise ApiError("offline_unavailable", f"this node is cut off from the network ({offline.connectivity.reason}):"
                       f" {name} wait until it is back online; sales, cash refills and badge check-ins go on "
                       "offline", 503)
    try:
        accepted = action(payload, node.reader, offline.till, origin)
    except Rejected as exc:
        raise ApiError(exc.code, exc.detail) from None
    node.note_signed(accepted.entry.txid, origin.token_id)
    log.info("pos_offline_journalled", token=origin.token_id, op=accepted.entry.op, seq=accepted.entry.seq,
             txid=accepted.entry.txid.hex(), retry_key=origin.retry_key)
    return json_response(_view(accepted), status=202)


def offline_entry(request: web.Request, txid: bytes) -> tuple[dict[str, Any], int] | None:
    """The offline answer of a journalled transaction not yet on chain (its forwarding is the journal's job)."""
    journal, till = _journal(request), _till(request)
    entry = None if journal is None else journal.by_txid(txid)
    if till is None or entry is None or entry.state != PENDING:
        return None
    return _view(till.accepted(entry)), 202


def offline_retry(request: web.Request, token_id: str, retry_key: str, fingerprint: bytes) -> web.Response | None:
    """A till's retry of a request the offline till journalled: the first answer, not a second sale."""
    journal, till = _journal(request), _till(request)
    entry = None if journal is None else journal.by_retry(token_id, retry_key)
    if till is None or entry is None:
        return None
    if entry.origin.fingerprint != fingerprint:
        raise ApiError("idempotency_conflict", f"Idempotency-Key {retry_key!r} was already used by this token for "
                       "another request; use a new key for a new request")
    if entry.state == REFUSED:
        raise ApiError(entry.code or "refused", entry.detail or "the ledger refused this offline operation")
    if entry.state == COMMITTED:
        location = context(request).node.store.tx_location(entry.txid)
        if location is not None:
            return json_response({"txid": entry.txid.hex(), "status": "committed",
                                  "status_url": f"/v1/txs/{entry.txid.hex()}", "height": location.height,
                                  "position": location.position})
    return json_response(_view(till.accepted(entry)), status=202)


def offline_tx_status(request: web.Request, txid: bytes) -> dict[str, Any] | None:
    """``GET /v1/txs/{txid}`` of a journalled transaction not on chain: ``offline``, or ``dropped`` if refused."""
    journal = _journal(request)
    entry = None if journal is None else journal.by_txid(txid)
    if entry is None or entry.state == COMMITTED:
        return None
    if entry.state == REFUSED:
        return {"txid": txid.hex(), "status": "dropped", "error": entry.code, "detail": entry.detail}
    return {"txid": txid.hex(), "status": "offline", "status_url": f"/v1/txs/{txid.hex()}",
            "journal": entry.journal.hex(), "seq": entry.seq}


def card_offline_view(request: web.Request, wallet: bytes) -> dict[str, int] | None:
    """What this venue did offline to a card's paying wallet that is not on chain yet (None: no journal)."""
    till = _till(request)
    if till is None:
        return None
    journal = till.journal
    return {"sold": journal.sold_to(wallet), "refilled": journal.refilled(wallet),
            "provisional_balance": till.provisional_balance(wallet)}


# -- what the operator reads ---------------------------------------------------------------
ENTRY_SCHEMA = s.shape({
    "journal": s.TEXT, "seq": s.INT, "txid": s.HEX32, "op": {"type": "string", "enum": ["sale", "cash_refill", "badge"]},
    "wallet": s.HEX32, "asset": s.ASSET_ID, "amount": s.INT, "created_ms": s.INT, "till": s.TEXT,
    "state": {"type": "string", "enum": [PENDING, COMMITTED, REFUSED]}, "code": s.NULLABLE_TEXT,
    "detail": s.NULLABLE_TEXT, "height": {"type": ["integer", "null"]}})
JOURNAL_SCHEMA = s.shape({"journal": {**s.TEXT, "description": "the journal id of this run of the node (each "
                                      "start draws a new one)"}, "entries": s.list_of(ENTRY_SCHEMA)},
                         required=("journal", "entries"))
RECORD_SCHEMA = s.shape({
    "journal": s.TEXT, "seq": s.INT, "txid": s.HEX32, "op": s.TEXT, "subject": s.TEXT, "amount": s.INT,
    "from_bond": {"type": "integer", "description": "the shortfall the place's bond paid (the card held too little)"},
    "uncovered": {"type": "integer", "description": "the shortfall past what the bond held: nobody paid it"}})
PLACE_OFFLINE_SCHEMA = s.shape({
    "place": s.PLACE_ID, "bond": s.shape({"locked": s.INT, "unbonding": s.INT, "release_ms": s.INT}),
    "records": s.list_of(RECORD_SCHEMA)}, required=("place", "bond", "records"))
MAX_LISTED = 1000


def _entry_view(entry: Entry) -> dict[str, Any]:
    return {"journal": entry.journal.hex(), "seq": entry.seq, "txid": entry.txid.hex(), "op": entry.op, "wallet": entry.wallet.hex(),
            "asset": entry.asset, "amount": entry.amount, "created_ms": entry.created_ms,
            "till": entry.origin.token_id, "state": entry.state, "code": entry.code, "detail": entry.detail,
            "height": entry.height}


async def get_journal(request: web.Request) -> web.Response:
    """This node's offline journal: the entries not yet on chain (``state=pending``, the default), those the
    ledger refused (``refused``, newest first: what the operator must settle with the customer) or all."""
    journal = _journal(request)
    if journal is None:
        raise ApiError("not_found", "this node keeps no offline journal ([offline] enabled and a place key)")
    state = request.query.get("state", PENDING)
    limit = query_int(request, "limit", 100, 1, MAX_LISTED)
    if state == PENDING:
        entries = journal.pending(limit)
    elif state == REFUSED:
        entries = journal.refused(limit)
    elif state == "all":
        entries = [entry for _, entry in zip(range(limit), journal.entries())]
    else:
        raise ApiError("bad_request", f"query parameter state must be pending, refused or all, got {state[:20]!r}")
    return json_response({"journal": journal.journal_id.hex(), "entries": [_entry_view(e) for e in entries]})


async def get_place_offline(request: web.Request) -> web.Response:
    """A place's offline bond and its offline operations on chain (``shortfalls=true``: only the sales whose
    card could not pay it all, with the card: what the venue follows up)."""
    reader = context(request).node.reader
    place_id = ids.place_id(request.match_info["place_id"], "place_id")
    place = queries.place(reader, place_id)
    if place is None:
        raise ApiError("unknown_place", f"place {place_id[:60]!r} does not exist")
    limit = query_int(request, "limit", 100, 1, MAX_LISTED)
    shortfalls = request.query.get("shortfalls", "false")
    if shortfalls not in ("true", "false"):
        raise ApiError("bad_request", "query parameter shortfalls must be true or false")
    bond = queries.offline_bond(reader, place.wallet)
    records = queries.offline_records(reader, place.wallet, limit, shortfalls_only=shortfalls == "true")
    return json_response({
        "place": place.id,
        "bond": {"locked": bond.locked if bond else 0, "unbonding": bond.unbonding if bond else 0,
                 "release_ms": bond.release_ms if bond else 0},
        "records": [{"journal": r.journal.hex(), "seq": r.seq, "txid": r.record.txid.hex(), "op": r.record.op,
                     "subject": r.record.subject.hex(), "amount": r.record.amount, "from_bond": r.record.from_bond,
                     "uncovered": r.record.uncovered} for r in records]})


ROUTES = (
    Route("GET", "/v1/offline/journal", get_journal, "This node's offline journal (what its tills did while it "
          "was cut off)", "offline", response=JOURNAL_SCHEMA,
          params=(Param("state", "pending (default), refused or all", {"type": "string",
                                                                      "enum": [PENDING, REFUSED, "all"]}),
                  Param("limit", f"at most this many (default 100, at most {MAX_LISTED})", s.integer(1, MAX_LISTED))),
          errors=(400, 404), access="read"),
    Route("GET", "/v1/places/{place_id}/offline", get_place_offline, "A place's offline bond and its forwarded "
          "offline operations (shortfalls)", "offline", response=PLACE_OFFLINE_SCHEMA,
          params=(Param("shortfalls", "true: only sales the card could not pay in full",
                        {"type": "string", "enum": ["true", "false"]}),
                  Param("limit", f"at most this many (default 100, at most {MAX_LISTED})", s.integer(1, MAX_LISTED))),
          errors=(400, 404), access="read"),
)
