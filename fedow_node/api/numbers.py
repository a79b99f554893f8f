"""Integers from URLs and headers: ASCII digits only, a bounded length, a range; else a 400 that names the field.

``str.isdigit()`` accepts ``²`` and ``٣``, which ``int()`` then refuses or reads as
another number, and ``int()`` raises past 4,300 digits: every path, query and header
integer goes through :func:`parse_int` instead.
"""

from __future__ import annotations

import re

from aiohttp import web

from fedow_node.api.errors import ApiError

__all__ = ["MAX_DIGITS", "parse_int", "path_int", "query_int"]

MAX_DIGITS = 19
"""Enough for any int64; longer digit strings are refused before int() sees them."""
_DIGITS = re.compile(r"[0-9]{1,%d}" % MAX_DIGITS, re.ASCII)


def parse_int(text: str, field: str, low: int, high: int) -> int:
    """``text`` as an integer from ``low`` to ``high``; ApiError bad_request naming ``field`` otherwise."""
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise ApiError("bad_request", f"{field} must be an integer from {low} to {high}, got {text[:40]!r}")
    return int(text)


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """The query parameter ``name`` as an integer (``default`` when absent)."""
    text = request.query.get(name)
    return default if text is None else parse_int(text, f"query parameter {name}", low, high)


def path_int(request: web.Request, name: str, low: int, high: int) -> int:
    """The path segment ``{name}`` as an integer."""
    return parse_int(request.match_info[name], name, low, high)
