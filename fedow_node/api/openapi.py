"""The OpenAPI 3 document, built from the same route table the router uses."""

from __future__ import annotations

import re
from typing import Any, Sequence

from fedow_node.api import schema as s
from fedow_node.api.routes import Route

__all__ = ["ERROR_SCHEMA", "openapi_document"]

ERROR_SCHEMA: dict[str, Any] = {"type": "object", "required": ["error", "detail"], "properties": {
    "error": {"type": "string", "description": "stable code: overdraft, replay, unknown_card..."},
    "detail": {"type": "string", "description": "a sentence naming the field and the reason"}}}
_REASONS = {400: "malformed request", 401: "missing or unknown API token", 403: "token of another role or "
            "place, or no place key", 429: "too many failed attempts: wait a minute", 404: "unknown card, wallet, place, asset, block or transaction",
            409: "replay or conflict (already applied, reference used, duplicate card, idempotency key reused)",
            413: "request body or transaction too large", 422: "refused by a ledger rule (overdraft...)",
            503: "mempool full or node unavailable"}
_PATH_PARAM = re.compile(r"{(\w+)}")
_PATH_SCHEMAS: dict[str, s.Schema] = {
    "uid": s.UID, "number": s.CARD_NUMBER, "qr_id": s.QR_ID, "wallet": s.WALLET, "asset": s.ASSET_ID,
    "asset_id": s.ASSET_ID, "place_id": s.PLACE_ID, "txid": s.HEX32, "hash": s.HEX32,
    "height": s.integer(1, 2**63 - 1, "block height"), "token_id": s.string("^[0-9a-f]{8}$", "API token id"),
    "file": s.string("^[a-z]+\\.[a-z]+$", "index.html, app.js or style.css"),
}


def _operation(route: Route) -> dict[str, Any]:
    parameters = [{"name": name, "in": "path", "required": True, "schema": _PATH_SCHEMAS[name]}
                  for name in _PATH_PARAM.findall(route.path)]
    parameters += [{"name": param.name, "in": param.where, "required": False, "description": param.description,
                    "schema": param.schema} for param in route.params]
    success: dict[str, Any] = {"description": "success"}
    if route.response is not None or route.content_type != "application/json":
        success["content"] = {route.content_type: {"schema": route.response or {"type": "string"}}}
    responses: dict[str, Any] = {str(route.success): success}
    if route.success == 202:
        responses["200"] = {**success, "description": "committed (with ?wait=commit)"}
    errors = set(route.errors) | ({401, 403, 503} if route.access != "public" else set())
    for status in sorted(errors):
        responses[str(status)] = {"description": _REASONS[status],
                                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    operation: dict[str, Any] = {"summary": route.summary, "tags": [route.tag],
                                 "operationId": route.handler.__name__, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    if route.request is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": route.request}}}
    if route.access != "public":
        operation["security"] = [{"apiToken": []}]
    operation["x-fedow-access"] = route.access
    return operation


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    """OpenAPI 3.1 (JSON Schema 2020-12) for ``routes``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "fedow-node POS API", "version": "1",
                 "description": "The venue's local HTTP port: card look-ups, POS requests signed by the node's "
                                "place key, client-signed transactions, ledger queries and an event stream."},
        "servers": [{"url": "http://127.0.0.1:8442"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"apiToken": {
                "type": "http", "scheme": "bearer",
                "description": "an API token (`fedow-node api-token create`, or a pairing code exchanged at "
                               "POST /v1/pairing). x-fedow-access says which role a route needs: read (any "
                               "token, or none when the node sets [api] public_reads), pos (a pos token of the "
                               "node's place), operator (an operator token)."}},
        },
    }
