"""The aiohttp application: the route table, the JSON error middleware, the server start-up."""

from __future__ import annotations

import ssl
from typing import Callable, Sequence

import structlog
from aiohttp import web

from config import ApiSection, ConfigError
from config.errors import Problem
from fedow_node.api import (admin, backup_routes, chain, directory, events, listings, offline_answers, pos,
                            reader_routes, submit, totals_routes, ui_routes, wallets)
from fedow_node.api.answers import json_errors
from fedow_node.api.context import CONTEXT, ApiContext, StreamSlots, json_response, require_access, wall_clock_ms
from fedow_node.api.facade import NodeFacade
from fedow_node.api.idempotency import IdempotencyKeys
from fedow_node.api.openapi import openapi_document
from fedow_node.api.pairing import PairingThrottle
from fedow_node.api.routes import Handler, Route
from fedow_node.api.server import start_server
from fedow_node.api.tokens import TokenFile

__all__ = ["ROUTES", "build_app", "start_server", "tls_context"]

log = structlog.get_logger(__name__)

MAX_EVENT_STREAMS = 256
"""Event streams one node serves at once (each holds a queue of up to 10,000 commits)."""
MAX_EVENT_STREAMS_PER_CLIENT = 16
"""Event streams of one token (or, on public routes, one address): one client cannot take them all."""

OPENAPI_KEY: web.AppKey[dict[str, object]] = web.AppKey("fedow_api_openapi", dict)


async def get_openapi(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI_KEY])


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/openapi.json", get_openapi, "This OpenAPI 3.1 document", "meta",
          response={"type": "object"}),
    *chain.ROUTES, *wallets.ROUTES, *listings.ROUTES, *directory.ROUTES, *submit.ROUTES, *pos.ROUTES, *events.ROUTES,
    *reader_routes.ROUTES, *totals_routes.ROUTES, *admin.ROUTES, *backup_routes.ROUTES, *ui_routes.ROUTES,
    *offline_answers.ROUTES,
)


def _access_checked(route: Route) -> Handler:
    """The handler of a route that needs a token: the token is checked before anything else."""
    handler, access = route.handler, route.access
    if access == "public":
        return handler

    async def checked(request: web.Request) -> web.StreamResponse:
        require_access(request, access)
        return await handler(request)
    return checked


def build_app(node: NodeFacade, config: ApiSection, *, clock: Callable[[], int] = wall_clock_ms,
              extra_routes: Sequence[Route] = (), idempotency: IdempotencyKeys | None = None) -> web.Application:
    """The POS API over ``node``, plus ``extra_routes`` (the Stripe routes when configured);
    ``clock`` (ms) only dates display fields such as membership 'active'; ``idempotency``: the
    node's durable keys (:meth:`IdempotencyKeys.open`; default: in memory)."""
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[json_errors])
    app[CONTEXT] = ApiContext(node, config, TokenFile(node.api_tokens_path), clock, StreamSlots(MAX_EVENT_STREAMS, MAX_EVENT_STREAMS_PER_CLIENT),
                              idempotency or IdempotencyKeys(), PairingThrottle())
    app.on_shutdown.append(_end_streams)
    routes = (*ROUTES, *extra_routes)
    app[OPENAPI_KEY] = openapi_document(routes)
    for route in routes:
        app.router.add_route(route.method, route.path, _access_checked(route))
    return app


async def _end_streams(app: web.Application) -> None:
    app[CONTEXT].event_streams.close_all()


def tls_context(config: ApiSection) -> ssl.SSLContext | None:
    """The server's TLS context from ``[api] tls_cert`` and ``tls_key`` (None: plain HTTP).

    TLS 1.2 at least; an unreadable or mismatched pair fails at start-up with the file names.
    """
    if config.tls_cert is None or config.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError("bad_config", [Problem("api.tls_cert", f"cannot load {config.tls_cert} with key "
                                                                  f"{config.tls_key}: {exc}")]) from None
    return context
