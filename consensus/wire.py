"""Field readers shared by every decoder: each refusal names the field and the reason."""

from __future__ import annotations

from typing import Any

from consensus.errors import Rejected

HASH_BYTES = 32
MAX_ROUND = 2**31 - 1
MAX_INT = 2**63 - 1


def expect_list(value: Any, length: int, what: str) -> list[Any]:
    if not isinstance(value, list) or len(value) != length:
        raise Rejected("malformed", f"{what} must be an array of {length} fields")
    return value


def expect_int(value: Any, field: str, low: int, high: int = MAX_INT) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Rejected("malformed", f"{field} must be an integer in [{low}, {high}], got {value!r}")
    return value


def expect_bytes(value: Any, field: str, length: int | None = None) -> bytes:
    if not isinstance(value, bytes) or (length is not None and len(value) != length):
        size = f"{length} " if length is not None else ""
        raise Rejected("malformed", f"{field} must be {size}bytes")
    return value
