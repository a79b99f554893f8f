"""Route descriptions: one table drives both the aiohttp router and the OpenAPI document.

Each handler module exposes ``ROUTES``; :func:`fedow_node.api.app.build_app`
registers them and :mod:`fedow_node.api.openapi` documents exactly them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

__all__ = ["Handler", "Param", "Route"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Param:
    """A query or header parameter, documented in OpenAPI (handlers parse it themselves)."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    where: str = "query"
    """OpenAPI's ``in``: "query" or "header"."""


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    request: dict[str, Any] | None = None
    """JSON Schema of the request body (validated before the handler runs)."""
    response: dict[str, Any] | None = None
    """JSON Schema of the success response, for the documentation."""
    params: tuple[Param, ...] = ()
    token: bool = False
    """True: a POS API token of the node's place is required."""
    errors: tuple[int, ...] = ()
    """Error statuses this route can answer, for the documentation."""
    success: int = 200
    content_type: str = "application/json"
