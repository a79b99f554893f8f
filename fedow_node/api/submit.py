"""Submitting transactions and following them: POST /v1/txs, GET /v1/txs/{txid}.

A submission answers once the mempool took the transaction (202, pending),
or with ``?wait=commit`` once it is committed (200, with height and position);
if the wait times out it still answers 202 with the status URL to poll, and
if the node drops the transaction first it answers why (e.g. 422 overdraft).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.chain import committed_block
from fedow_node.api.context import context, json_response, may_read, read_json
from fedow_node.api.numbers import query_int
from fedow_node.api.offline_answers import OFFLINE_RESULT, offline_tx_status
from fedow_node.api.errors import ApiError
from fedow_node.api.facade import REFUSALS, refusal_of
from fedow_node.api.routes import Param, Route
from fedow_node.api.views import tx_view
from storage import TxLocation
from wallet.tx import decode_tx

__all__ = ["ROUTES", "WAIT_PARAMS", "RESULT_SCHEMA", "answer", "outcome", "outcome_again", "submit",
           "submit_and_reply", "wait_ms"]

DEFAULT_WAIT_MS = 5_000
MAX_WAIT_MS = 60_000

WAIT_PARAMS = (
    Param("wait", "'commit': answer when the transaction is committed (or 202 after timeout_ms)",
          {"type": "string", "enum": ["commit"]}),
    Param("timeout_ms", f"how long wait=commit waits (default {DEFAULT_WAIT_MS}, at most {MAX_WAIT_MS})",
          s.integer(1, MAX_WAIT_MS)),
)
RESULT_SCHEMA = s.shape({
    "txid": s.HEX32, "status": {"type": "string", "enum": ["pending", "committed", "offline"],
                                "description": "offline: the node is cut off, the operation is in its offline "
                                "journal and will be forwarded (docs/offline.md)"},
    "status_url": s.TEXT, "height": s.INT, "position": s.INT, "block_hash": s.HEX32, **OFFLINE_RESULT},
    required=("txid", "status", "status_url"))
TX_STATUS_SCHEMA = s.shape({**RESULT_SCHEMA["properties"],
                            "status": {"type": "string", "enum": ["pending", "committed", "dropped", "offline"]},
                            "error": {"type": "string", "description": "dropped: why (e.g. overdraft)"},
                            "detail": {"type": "string", "description": "dropped: the sentence"},
                            "tx": {"type": "object", "description": "the decoded transaction (with a token, or "
                                   "when [api] public_reads is set)"}},
                           required=("txid", "status"))
SIGNED_TX_REQUEST = s.obj({"tx": s.string(description="the signed transaction (canonical msgpack) "
                                          "in hex or base64")})
MAX_BATCH_TXS = 500
BATCH_REQUEST = s.obj({"txs": s.array(s.string(description="a signed transaction in hex or base64"), MAX_BATCH_TXS)})
BATCH_RESULT_SCHEMA = s.shape({"results": s.list_of(s.shape({
    "txid": s.HEX32, "status": {"type": "string", "enum": ["pending"]},
    "error": {"type": "string"}, "detail": {"type": "string"}}))}, required=("results",))


def wait_ms(request: web.Request) -> int | None:
    """The ``?wait=commit&timeout_ms=`` of a submission (None: no wait); 400 if malformed."""
    wait = request.query.get("wait")
    if wait is None:
        return None
    if wait != "commit":
        raise ApiError("bad_request", f"query parameter wait must be 'commit', got {wait[:40]!r}")
    return query_int(request, "timeout_ms", DEFAULT_WAIT_MS, 1, MAX_WAIT_MS)


def _pending(txid: bytes) -> dict[str, Any]:
    return {"txid": txid.hex(), "status": "pending", "status_url": f"/v1/txs/{txid.hex()}"}


def _committed(request: web.Request, txid: bytes, location: TxLocation) -> dict[str, Any]:
    block_hash = context(request).node.store.block_hash(location.height)
    return {"txid": txid.hex(), "status": "committed", "status_url": f"/v1/txs/{txid.hex()}",
            "height": location.height, "position": location.position,
            "block_hash": None if block_hash is None else block_hash.hex()}


@contextmanager
def _node_refusals() -> Iterator[None]:
    """The node's refusals (:data:`REFUSALS`) become ApiErrors; any other fault passes on to be a 500."""
    try:
        yield
    except REFUSALS as exc:
        refusal = refusal_of(exc)
        assert refusal is not None
        raise ApiError(refusal.code, refusal.detail) from None


async def submit(request: web.Request, tx: bytes) -> bytes:
    """Hand ``tx`` to the node; its txid, or the node's refusal as an ApiError."""
    with _node_refusals():
        return await context(request).node.submit(tx)


async def outcome(request: web.Request, txid: bytes) -> tuple[dict[str, Any], int]:
    """(answer, status): pending (202) or, with wait=commit, committed (200) as soon as it is.

    With wait=commit, a transaction the node drops before it is committed (an
    earlier one made it invalid) answers that refusal, e.g. 422 ``overdraft``.
    """
    wait = wait_ms(request)
    if wait is not None:
        with _node_refusals():
            location = await context(request).node.wait_committed(txid, wait / 1000)
        if location is not None:
            return _committed(request, txid, location), 200
    return _pending(txid), 202


async def outcome_again(request: web.Request, txid: bytes) -> tuple[dict[str, Any], int]:
    """The outcome of a transaction submitted before (a retry): committed, dropped, or as :func:`outcome`."""
    node = context(request).node
    location = node.store.tx_location(txid)
    if location is not None:
        return _committed(request, txid, location), 200
    dropped = node.dropped(txid)
    if dropped is not None:
        raise ApiError(dropped.code, dropped.detail)
    return await outcome(request, txid)


async def answer(request: web.Request, txid: bytes) -> web.Response:
    """:func:`outcome` as a response."""
    data, status = await outcome(request, txid)
    return json_response(data, status=status)


async def submit_and_reply(request: web.Request, tx: bytes) -> web.Response:
    """:func:`submit` then :func:`answer` (the request's ``wait`` is checked first)."""
    wait_ms(request)
    return await answer(request, await submit(request, tx))


async def post_tx(request: web.Request) -> web.Response:
    payload = await read_json(request, SIGNED_TX_REQUEST)
    return await submit_and_reply(request, ids.signed_tx(payload["tx"]))


async def post_tx_batch(request: web.Request) -> web.Response:
    """Several client-signed transactions at once (a till back online, a load generator).

    Each is admitted or refused on its own, in order; the answer lists, per
    transaction, its txid (pending) or the refusal. No ``wait``: follow them
    with GET /v1/txs/{txid} or the event stream.
    """
    payload = await read_json(request, BATCH_REQUEST)
    parsed: list[bytes | ApiError] = []
    for text in payload["txs"]:
        try:
            parsed.append(ids.signed_tx(text))
        except ApiError as exc:
            parsed.append(exc)
    admitted = iter(await context(request).node.submit_batch([tx for tx in parsed if isinstance(tx, bytes)]))
    results = []
    for item in parsed:
        result = next(admitted) if isinstance(item, bytes) else item
        results.append(_pending(result) if isinstance(result, bytes) else
                       {"error": result.code, "detail": result.detail})
    return json_response({"results": results})


async def get_tx(request: web.Request) -> web.Response:
    txid = ids.hash32(request.match_info["txid"], "txid")
    node = context(request).node
    pending = node.is_pending(txid)  # before the store: a commit is written before the mempool lets go of it
    location = node.store.tx_location(txid)
    if location is None:
        if pending:
            return json_response(_pending(txid))
        dropped = node.dropped(txid)
        if dropped is not None:
            return json_response({"txid": txid.hex(), "status": "dropped", "error": dropped.code,
                                  "detail": dropped.detail})
        journalled = offline_tx_status(request, txid)
        if journalled is not None:
            return json_response(journalled)
        raise ApiError("unknown_tx", f"transaction {txid.hex()} is neither committed nor pending on this node")
    if not may_read(request):  # the status is public; what the transaction says (cards, amounts) is not
        return json_response(_committed(request, txid, location))
    block = committed_block(node, location.height)
    assert block is not None, "the txid index names a block the store does not hold"
    raw_tx = block.txs[location.position]
    return json_response({**_committed(request, txid, location), "tx": tx_view(decode_tx(raw_tx, len(raw_tx)))})


ROUTES = (
    Route("POST", "/v1/txs", post_tx, "Submit a transaction signed by the client", "transactions",
          request=SIGNED_TX_REQUEST, response=RESULT_SCHEMA, params=WAIT_PARAMS, success=202,
          errors=(400, 404, 409, 413, 422, 503)),
    Route("POST", "/v1/txs/batch", post_tx_batch, f"Submit up to {MAX_BATCH_TXS} client-signed transactions",
          "transactions", request=BATCH_REQUEST, response=BATCH_RESULT_SCHEMA, errors=(400, 413)),
    Route("GET", "/v1/txs/{txid}", get_tx, "A transaction: committed (with its location), pending or dropped",
          "transactions", response=TX_STATUS_SCHEMA, errors=(400, 404)),
)
