"""Route descriptions: one table drives both the aiohttp router and the OpenAPI document.

Each handler module exposes ``ROUTES``; :func:`fedow_node.api.app.build_app`
registers them and :mod:`fedow_node.api.openapi` documents exactly them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aiohttp import web

__all__ = ["ACCESS_LEVELS", "Handler", "Param", "Route"]

ACCESS_LEVELS = ("public", "read", "pos", "operator")
"""Who may call a route: anyone; a read, pos or operator token (or anyone when ``[api] public_reads``);
a pos token of the node's place; an operator token."""

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
    access: str = "public"
    """One of :data:`ACCESS_LEVELS`, checked before the handler runs (see app.py)."""
    errors: tuple[int, ...] = ()
    """Error statuses this route can answer, for the documentation."""
    success: int = 200
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        assert self.access in ACCESS_LEVELS, f"{self.path}: access {self.access!r} is not one of {ACCESS_LEVELS}"
