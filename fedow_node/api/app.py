"""The aiohttp application: the route table, the JSON error middleware, the server start-up."""

from __future__ import annotations

import ssl
from typing import Awaitable, Callable, Sequence

import structlog
from aiohttp import web

from config import ApiSection, ConfigError
from config.errors import Problem
from fedow_node.api import (admin, backup_routes, chain, directory, events, listings, pos, reader_routes, submit,
                            totals_routes, ui_routes, wallets)
from fedow_node.api.context import CONTEXT, ApiContext, StreamSlots, json_response, require_access, wall_clock_ms
from fedow_node.api.errors import ApiError
from fedow_node.api.facade import NodeFacade
from fedow_node.api.idempotency import IdempotencyKeys
from fedow_node.api.openapi import openapi_document
from fedow_node.api.pairing import PairingThrottle
from fedow_node.api.routes import Handler, Route
from fedow_node.api.tokens import TokenFile

__all__ = ["ROUTES", "build_app", "start_server", "tls_context"]

log = structlog.get_logger(__name__)

MAX_EVENT_STREAMS = 256
"""Event streams one node serves at once (each holds a queue of up to 10,000 commits)."""

OPENAPI_KEY: web.AppKey[dict[str, object]] = web.AppKey("fedow_api_openapi", dict)


async def get_openapi(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI_KEY])


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/openapi.json", get_openapi, "This OpenAPI 3.1 document", "meta",
          response={"type": "object"}),
    *chain.ROUTES, *wallets.ROUTES, *listings.ROUTES, *directory.ROUTES, *submit.ROUTES, *pos.ROUTES, *events.ROUTES,
    *reader_routes.ROUTES, *totals_routes.ROUTES, *admin.ROUTES, *backup_routes.ROUTES, *ui_routes.ROUTES,
)


def _error(code: str, detail: str, status: int) -> web.Response:
    return json_response({"error": code, "detail": detail}, status=status)


@web.middleware
async def json_errors(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Every refusal leaves as ``{error, detail}`` with its status; nothing else leaks."""
    try:
        return await handler(request)
    except ApiError as exc:
        log.debug("api_refused", path=request.path, code=exc.code, status=exc.status)
        return _error(exc.code, exc.detail, exc.status)
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[CONTEXT].config.max_body_bytes
        return _error("body_too_large", f"request body exceeds the limit of {limit} bytes ([api] max_body_bytes)",
                      413)
    except web.HTTPNotFound:
        return _error("not_found", f"no endpoint at {request.path[:120]} (see /v1/openapi.json)", 404)
    except web.HTTPMethodNotAllowed as exc:
        return _error("method_not_allowed", f"{request.method} is not allowed on {request.path[:120]}; "
                      f"allowed: {', '.join(sorted(exc.allowed_methods))}", 405)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _error("bad_request" if exc.status < 500 else "internal", exc.reason, exc.status)
    except Exception:
        log.exception("api_internal_error", path=request.path, method=request.method)
        return _error("internal", "the node failed to answer this request; see its log", 500)


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
              extra_routes: Sequence[Route] = ()) -> web.Application:
    """The POS API over ``node``, plus ``extra_routes`` (the Stripe routes when configured);
    ``clock`` (ms) only dates display fields such as membership 'active'."""
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[json_errors])
    app[CONTEXT] = ApiContext(node, config, TokenFile(node.api_tokens_path), clock, StreamSlots(MAX_EVENT_STREAMS),
                              IdempotencyKeys(), PairingThrottle())
    routes = (*ROUTES, *extra_routes)
    app[OPENAPI_KEY] = openapi_document(routes)
    for route in routes:
        app.router.add_route(route.method, route.path, _access_checked(route))
    return app


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


async def start_server(app: web.Application, bind: str, ssl_context: ssl.SSLContext | None = None) -> web.AppRunner:
    """Serve ``app`` on ``host:port`` (HTTPS with ``ssl_context``); ``await runner.cleanup()`` stops it."""
    host, _, port = bind.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]"), int(port), ssl_context=ssl_context).start()
    log.info("api_listening", bind=bind, https=ssl_context is not None)
    return runner
