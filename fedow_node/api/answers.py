"""The one place where anything that goes wrong during a request becomes an HTTP answer.

Every answer that is not a success is ``{"error": code, "detail": sentence}`` with
its status (docs/api.md lists them):

* a refusal of the request (:class:`ApiError`, aiohttp's 404/405/413): its 4xx;
* what aiohttp's HTTP parser refuses before any handler runs (a bad request line,
  a header too long or not UTF-8, a bad chunk): 400 ``bad_http`` (431 for
  oversized headers), answered by :func:`parser_refusal` from the server's
  protocol (``api/server.py``) instead of aiohttp's ``text/plain``;
* a client that hung up mid-request: logged at debug, nothing to answer;
* anything else is the node's fault: 500 ``internal``, logged with its
  traceback, never a 4xx (a storage fault is not the client's mistake); a
  corrupt store or a broken money invariant (:data:`FATAL_FAULTS`) also calls
  the app's ``on_fatal`` hook, with which ``fedow-node run`` stops the node loudly.

Client mistakes are logged at info through :class:`ClientMistakeLog`, a few per
second at most, so no client can flood the log; internal faults are always logged.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable, TypeVar

import structlog
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong

from fedow_node.api.context import CONTEXT, json_response
from fedow_node.api.errors import ApiError
from storage import StoreCorrupted
from wallet.errors import InvariantBroken

__all__ = ["FATAL_FAULTS", "ON_FATAL", "ClientMistakeLog", "error_response", "fatal_fault", "find_fault", "json_errors",
           "parser_refusal"]

FATAL_FAULTS: tuple[type[Exception], ...] = (StoreCorrupted, InvariantBroken)
"""Faults after which the node must not go on serving: its data cannot be trusted."""
E = TypeVar("E", bound=BaseException)
ON_FATAL: web.AppKey[Callable[[str], None]] = web.AppKey("fedow_api_on_fatal", Callable[[str], None])  # type: ignore[arg-type]
"""Called with the reason when a request meets a fatal fault (``fedow-node run`` stops the node)."""


def fatal_fault(error: BaseException) -> Exception | None:
    """The first of :data:`FATAL_FAULTS` in ``error`` (exception groups searched), if any."""
    return find_fault(error, FATAL_FAULTS)


def find_fault(error: BaseException, kinds: tuple[type[E], ...]) -> E | None:
    """The first exception of ``kinds`` in ``error``, its exception groups and its cause or context.

    Each exception is looked at once: a context chain can loop (an exception raised while handling
    one that is already in its own context), which recursed without end.
    """
    seen: set[int] = set()
    todo: list[BaseException] = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kinds):
            return current
        cause = current.__cause__ or current.__context__
        if cause is not None:
            todo.append(cause)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(reversed(current.exceptions))  # the group's members first, in order, then its cause
    return None

log = structlog.get_logger(__name__)

MISTAKES_PER_WINDOW = 20
MISTAKE_WINDOW_S = 10.0


class ClientMistakeLog:
    """At most ``limit`` client-mistake lines per ``window_s``; the rest are counted and summed up once."""

    def __init__(self, limit: int = MISTAKES_PER_WINDOW, window_s: float = MISTAKE_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._window_start = clock()
        self._logged = 0
        self._suppressed = 0

    def refused(self, **fields: Any) -> bool:
        """Log one refusal (``api_refused``) unless over the limit; True when it was logged."""
        now = self._clock()
        if now - self._window_start >= self.window_s:
            if self._suppressed:
                log.info("api_refusals_suppressed", count=self._suppressed, window_s=self.window_s)
            self._window_start, self._logged, self._suppressed = now, 0, 0
        if self._logged >= self.limit:
            self._suppressed += 1
            return False
        self._logged += 1
        log.info("api_refused", **fields)
        return True


MISTAKES = ClientMistakeLog()
"""One per process: the limit is on what the log receives, whatever the number of apps."""


def error_response(code: str, detail: str, status: int) -> web.Response:
    return json_response({"error": code, "detail": detail}, status=status)


def _aiohttp_refusal(request: web.Request, exc: web.HTTPException) -> tuple[str, str]:
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        limit = request.app[CONTEXT].config.max_body_bytes
        return "body_too_large", f"request body exceeds the limit of {limit} bytes ([api] max_body_bytes)"
    if isinstance(exc, web.HTTPNotFound):
        return "not_found", f"no endpoint at {request.path[:120]} (see /v1/openapi.json)"
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return "method_not_allowed", (f"{request.method} is not allowed on {request.path[:120]}; "
                                      f"allowed: {', '.join(sorted(exc.allowed_methods))}")
    return "bad_request", exc.reason


@web.middleware
async def json_errors(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Turn whatever a handler raises into its JSON answer (see the module's docstring)."""
    try:
        return await handler(request)
    except ApiError as exc:
        MISTAKES.refused(method=request.method, path=request.path[:120], status=exc.status, code=exc.code)
        return error_response(exc.code, exc.detail, exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.status >= 500:
            log.error("api_internal_error", method=request.method, path=request.path[:120], status=exc.status,
                      reason=exc.reason)
            return error_response("internal", "the node failed to answer this request; see its log", 500)
        code, detail = _aiohttp_refusal(request, exc)
        MISTAKES.refused(method=request.method, path=request.path[:120], status=exc.status, code=code)
        return error_response(code, detail, exc.status)
    except ConnectionResetError:  # the client hung up (mid-body, or while we answered): not our fault
        log.debug("api_client_disconnected", method=request.method, path=request.path[:120])
        return error_response("client_disconnected", "the client closed the connection", 400)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        log.exception("api_internal_error", method=request.method, path=request.path[:120])
        fatal = fatal_fault(exc)
        if fatal is not None and ON_FATAL in request.app:
            request.app[ON_FATAL](f"{type(fatal).__name__}: {fatal}")
        return error_response("internal", "the node failed to answer this request; see its log", 500)


def parser_refusal(status: int, exc: BaseException | None, message: str | None) -> web.Response:
    """The answer to a request aiohttp's HTTP parser refused (or, status 500, to a fault it caught)."""
    if status >= 500:
        log.error("api_internal_error", status=status, error=repr(exc), exc_info=exc)
        response = error_response("internal", "the node failed to answer this request; see its log", status)
    else:
        if isinstance(exc, LineTooLong) or (isinstance(exc, HttpProcessingError) and exc.code == 431):
            status = 431
        MISTAKES.refused(status=status, code="bad_http", error=repr(exc)[:200])
        response = error_response("bad_http", f"the HTTP request is malformed: {(message or repr(exc))[:200]}",
                                  status)
    response.force_close()
    return response
