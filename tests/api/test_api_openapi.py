"""The OpenAPI document matches the router exactly, and documents the main flows' schemas.

Plain synchronous tests running asyncio scenarios (see api_world).
"""

from __future__ import annotations

import re

import aiohttp

from api_world import World, card_uid, run_world
from config import ApiSection
from fedow_node.api import ROUTES, build_app, create_token, status_of, tokens_path
from fedow_node.api.schema import validate

MAIN_FLOWS = ("/v1/pos/sales", "/v1/pos/refills", "/v1/pos/refunds", "/v1/pos/voids", "/v1/pos/lost-cards",
              "/v1/pos/memberships", "/v1/pos/badges", "/v1/txs")


def test_every_route_is_documented_and_every_documented_route_exists(tmp_path):
    async def scenario(world: World) -> None:
        document = await world.client.openapi()
        documented = {(method.upper(), path) for path, operations in document["paths"].items()
                      for method in operations}
        status, _ = await world.raw("GET", "/v1/openapi.json")
        assert status == 200
        app_routes = set()
        for path, operations in document["paths"].items():
            for method in operations:
                concrete = re.sub(r"{\w+}", "00000001", path)
                if path == "/v1/events":
                    concrete += "?place=nowhere"  # an answer, not an endless stream
                got, body = await world.raw(method.upper(), concrete, json={}, token=None)
                assert (got, body.get("error") if isinstance(body, dict) else None) not in (
                    (404, "not_found"), (405, "method_not_allowed")), (method, path)
                app_routes.add((method.upper(), path))
        assert documented == app_routes == {(route.method, route.path) for route in ROUTES}
        assert len(documented) >= 30
    run_world(tmp_path, scenario)


def test_router_has_no_route_outside_the_document(tmp_path):
    async def scenario(world: World) -> None:
        app = build_app(world.node, ApiSection())
        registered = {(resource.method, resource.resource.canonical) for resource in app.router.routes()
                      if resource.method != "HEAD"}
        document = await world.client.openapi()
        documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
        assert registered == documented
    run_world(tmp_path, scenario)


def test_main_flows_have_request_and_response_schemas_and_errors(tmp_path):
    async def scenario(world: World) -> None:
        document = await world.client.openapi()
        assert document["openapi"].startswith("3.")
        for path in MAIN_FLOWS:
            operation = document["paths"][path]["post"]
            schema = operation["requestBody"]["content"]["application/json"]["schema"]
            assert schema["type"] == "object" and schema["properties"], path
            assert operation["responses"]["202"]["content"]["application/json"]["schema"]["properties"]["txid"]
            assert {"400", "409", "413", "422", "503"} <= set(operation["responses"]), path
            if path.startswith("/v1/pos/"):
                assert operation["security"] == [{"apiToken": []}]
                assert {"401", "403"} <= set(operation["responses"])
        for path in ("/v1/cards/{uid}", "/v1/wallets/{wallet}", "/v1/wallets/{wallet}/history", "/v1/status"):
            assert document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        error = document["components"]["schemas"]["Error"]
        assert error["required"] == ["error", "detail"]
    run_world(tmp_path, scenario)


def test_documented_request_schemas_are_the_validators():
    """A documented example body passes validation; the same body with a wrong field does not."""
    sale = next(route for route in ROUTES if route.path == "/v1/pos/sales")
    assert validate({"uid": "0a0b0c0d", "asset": "FED", "amount": 5}, sale.request)
    for bad in ({"uid": "0a0b0c0d", "asset": "FED", "amount": "5"}, {"uid": "0a0b0c0d\n", "asset": "FED", "amount": 5}):
        try:
            validate(bad, sale.request)
        except Exception as exc:  # ApiError
            assert status_of(exc.code) == 400  # type: ignore[attr-defined]
        else:
            raise AssertionError(f"{bad} should be refused")


def test_the_dashboard_files_are_served_with_a_strict_policy(tmp_path):
    async def scenario(world: World) -> None:
        status, page = await world.raw("GET", "/ui/", token=None)
        assert status == 200 and '<script src="/ui/app.js" defer></script>' in page
        for name in ("app.js", "style.css"):
            status, text = await world.raw("GET", f"/ui/{name}", token=None)
            assert status == 200 and len(text) > 1000
        status, body = await world.raw("GET", "/ui/secrets.txt", token=None)
        assert (status, body["error"]) == (404, "not_found")
        async with aiohttp.ClientSession() as session:
            for name, media in (("app.js", "text/javascript"), ("style.css", "text/css")):
                async with session.get(f"{world.base_url}/ui/{name}") as response:
                    assert response.content_type == media
            async with session.get(world.base_url + "/ui", allow_redirects=False) as response:
                assert response.status == 302 and response.headers["Location"] == "/ui/"
            async with session.get(world.base_url + "/ui/") as response:
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
                assert response.content_type == "text/html"
    run_world(tmp_path, scenario)


def _missing(schema: dict, value: object, where: str) -> list[str]:
    """Required fields of ``schema`` absent from ``value``, recursively through objects and arrays."""
    if schema.get("type") == "object" and isinstance(value, dict):
        missing = [f"{where}.{name}" for name in schema.get("required", ()) if name not in value]
        for name, item in schema.get("properties", {}).items():
            if name in value:
                missing += _missing(item, value[name], f"{where}.{name}")
        return missing
    if schema.get("type") == "array" and isinstance(value, list):
        return [gap for index, item in enumerate(value) for gap in _missing(schema["items"], item, f"{where}[{index}]")]
    return []


def test_documented_answers_hold_their_required_fields(tmp_path):
    """Real answers of the listing, totals, history, status, demurrage and admin routes match their schemas."""
    async def scenario(world: World) -> None:
        await world.register(1)
        await world.client.refill("FED", 500, uid=card_uid(1))
        sale = await world.client.sale(card_uid(1), "FED", 120)
        _entry, operator = create_token(tokens_path(world.home), "", 0, role="operator")
        document = await world.client.openapi()
        wallet = sale.wallet["wallet"]
        for path, concrete, token in (("/v1/txs", "/v1/txs", "default"), ("/v1/totals", "/v1/totals?date=2026-01-01",
                                       "default"), ("/v1/status", "/v1/status", None),
                                      ("/v1/wallets/{wallet}/history", f"/v1/wallets/{wallet}/history", "default"),
                                      ("/v1/demurrage/due", "/v1/demurrage/due", "default"),
                                      ("/v1/admin/tokens", "/v1/admin/tokens", operator),
                                      ("/v1/blocks/{height}", "/v1/blocks/2", None)):
            status, body = await world.raw("GET", concrete, token=token)
            assert status == 200, (path, body)
            schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            assert not _missing(schema, body, path), _missing(schema, body, path)
            assert body, path
        status, body = await world.raw("POST", "/v1/pos/sales?wait=commit",
                                       json={"uid": card_uid(1).hex(), "asset": "FED", "amount": 1})
        schema = document["paths"]["/v1/pos/sales"]["post"]["responses"]["202"]["content"]["application/json"]["schema"]
        assert status == 200 and "wallet" in schema["properties"] and not _missing(schema, body, "sale")
        assert not _missing(schema["properties"]["wallet"], body["wallet"], "sale.wallet")
    run_world(tmp_path, scenario)
