"""The OpenAPI document matches the router exactly, and documents the main flows' schemas.

Plain synchronous tests running asyncio scenarios (see api_world).
"""

from __future__ import annotations

import re

import aiohttp

from api_world import World, run_world
from config import ApiSection
from fedow_node.api import ROUTES, build_app, status_of
from fedow_node.api.schema import validate

MAIN_FLOWS = ("/v1/pos/sales", "/v1/pos/refills", "/v1/pos/refunds", "/v1/pos/voids", "/v1/pos/lost-cards",
              "/v1/pos/memberships", "/v1/pos/badges", "/v1/pos/bank-deposits", "/v1/txs")


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
        assert (status, body["error"]) == (404, "unknown_file")
        async with aiohttp.ClientSession() as session:
            async with session.get(world.base_url + "/ui", allow_redirects=False) as response:
                assert response.status == 302 and response.headers["Location"] == "/ui/"
            async with session.get(world.base_url + "/ui/") as response:
                assert "default-src 'self'" in response.headers["Content-Security-Policy"]
                assert response.content_type == "text/html"
    run_world(tmp_path, scenario)
