"""The chain itself: node status, blocks by height or hash."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.context import context, json_response
from fedow_node.api.numbers import path_int
from fedow_node.api.errors import ApiError
from fedow_node.api.facade import NodeFacade
from fedow_node.api.routes import Route
from fedow_node.api.views import block_view
from fedow_node.iso_time import iso_time
from wallet import queries
from wallet.block import Block, block_id, decode_block
from wallet.records import KeySet
from wallet.tx import decode_tx

__all__ = ["ROUTES", "STATUS_SCHEMA", "committed_block"]

STATUS_SCHEMA = s.shape({
    "chain_id": s.TEXT, "height": s.INT, "state_hash": s.HEX32, "block_hash": s.NULLABLE_TEXT,
    "time_ms": {"type": ["integer", "null"]}, "time": {"type": ["string", "null"]}, "tx_ttl_blocks": s.INT, "max_tx_bytes": s.INT,
    "cosigned_tx_ttl_blocks": {**s.INT, "description": "how far ahead a co-signed transaction may expire"},
    "place": {"type": ["string", "null"], "description": "the place this node signs POS requests for"},
    "place_key": s.NULLABLE_TEXT,
    "key_sets": {"type": "object", "description": "key sets in force by name (authority, treasury): "
                 "{threshold, keys}: threshold of the keys must co-sign each of their transactions"},
    "treasury": {"type": "object", "description": "how FED is minted and burnt: single_key (true on a 1-of-1 "
                 "test chain: one key can mint) and a note saying it in words"},
    "node": {"type": "object", "description": "peers, mempool, validator... as the node reports them"},
    "offline": {"type": ["object", "null"], "description": "is the node cut off from the network (state online/"
                "offline, reason no_quorum/stalled, since_ms), and, when its tills sell offline ([offline] enabled): "
                "its journal (pending, committed, refused), exposure and exposure_cap, the place's bond, the limits "
                "(docs/offline.md)"}},
    required=("chain_id", "height", "state_hash"))
BLOCK_SCHEMA = s.shape({
    "height": s.INT, "hash": s.HEX32, "chain_id": s.TEXT, "time_ms": s.INT, "time": s.ISO_TIME,
    "prev_block_hash": s.HEX32,
    "proposer": s.HEX32, "txs_root": s.HEX32, "state_hash": s.HEX32, "last_commit_hash": s.HEX32,
    "evidence_hash": s.HEX32, "txids": s.list_of(s.HEX32), "evidence": s.INT,
    "version": {"type": "integer", "description": "the protocol version the block follows (docs/contracts.md)"},
    "certificate": {"type": ["string", "null"], "description": "commit certificate, hex"}},
    required=("height", "hash", "txids"))


def committed_block(node: NodeFacade, height: int) -> Block | None:
    raw = node.store.block(height)
    return None if raw is None else decode_block(raw, chain_id=node.chain_id, max_bytes=len(raw))


async def status(request: web.Request) -> web.Response:
    ctx = context(request)
    node = ctx.node
    committed = node.reader  # one snapshot: height, state hash, parameters and key sets of one commit
    height = committed.height
    params = queries.params(committed)
    tip = committed_block(node, height) if height else None
    key = node.place_key
    place = None if key is None else queries.place_by_key(committed, key.public_key)
    block_hash = node.store.block_hash(height) if height else None
    key_sets = queries.key_sets(committed)
    return json_response({
        "chain_id": node.chain_id, "height": height, "state_hash": committed.state_hash.hex(),
        "block_hash": None if block_hash is None else block_hash.hex(),
        "time_ms": None if tip is None else tip.header.time_ms,
        "time": None if tip is None else iso_time(tip.header.time_ms),
        "tx_ttl_blocks": params.tx_ttl_blocks, "cosigned_tx_ttl_blocks": params.cosigned_tx_ttl_blocks,
        "max_tx_bytes": params.max_tx_bytes,
        "place": None if place is None else place.id,
        "place_key": None if key is None else key.public_key.hex(),
        "key_sets": {name: {"threshold": keys.threshold, "keys": [k.hex() for k in keys.keys]}
                     for name, keys in key_sets.items()},
        "treasury": _treasury_view(key_sets.get("treasury")),
        "node": dict(node.status()),
        "offline": None if node.offline is None else node.offline.status(),
    })


def _treasury_view(treasury: KeySet | None) -> dict[str, Any]:
    """How FED is minted; a single-key treasury (a test chain) is said plainly: one key can mint FED."""
    if treasury is None:
        return {"single_key": False, "note": "no treasury: FED can be neither minted nor paid out"}
    single = treasury.threshold == 1
    return {"single_key": single,
            "note": f"{treasury.threshold}-of-{len(treasury.keys)} treasury: one key mints and burns FED (test chains "
                    "only)" if single else f"{treasury.threshold} of {len(treasury.keys)} treasury keys co-sign every "
                    "FED mint and burn"}


def _block_reply(node: NodeFacade, raw: bytes | None, named: str) -> web.Response:
    if raw is None:
        raise ApiError("unknown_block", f"no committed block has {named}")
    block = decode_block(raw, chain_id=node.chain_id, max_bytes=len(raw))
    certificate = node.store.certificate(block.height)
    txids = [decode_tx(tx, len(tx)).txid.hex() for tx in block.txs]
    return json_response({**block_view(block, block_id(raw), txids),
                          "certificate": None if certificate is None else certificate.hex()})


async def block_by_height(request: web.Request) -> web.Response:
    height = path_int(request, "height", 1, 2**63 - 1)
    node = context(request).node
    return _block_reply(node, node.store.block(height), f"height {height}")


async def block_by_hash(request: web.Request) -> web.Response:
    block_hash = ids.hash32(request.match_info["hash"], "hash")
    node = context(request).node
    return _block_reply(node, node.store.block_by_hash(block_hash), f"hash {block_hash.hex()}")


ROUTES = (
    Route("GET", "/v1/status", status, "Node status: chain, height, state hash, place, peers, mempool", "chain",
          response=STATUS_SCHEMA),
    Route("GET", "/v1/blocks/{height}", block_by_height, "Committed block by height", "chain",
          response=BLOCK_SCHEMA, errors=(400, 404)),
    Route("GET", "/v1/blocks/by-hash/{hash}", block_by_hash, "Committed block by hash", "chain",
          response=BLOCK_SCHEMA, errors=(400, 404)),
)
