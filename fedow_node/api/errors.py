"""API errors: a stable code, a sentence, and the HTTP status that fits them.

Every error leaves the API as ``{"error": code, "detail": sentence}``. Ledger
and mempool codes keep their name; :func:`status_of` chooses the status.
"""

from __future__ import annotations

__all__ = ["ApiError", "status_of"]

_STATUS_BY_CODE: dict[str, int] = {
    # the request itself is malformed
    **dict.fromkeys(("bad_json", "bad_request", "bad_field", "bad_amount", "bad_body", "bad_envelope",
                     "bad_version", "unknown_kind", "malformed", "non_canonical", "bad_address",
                     "bad_signature", "bad_cursor", "duplicate_signer"), 400),
    **dict.fromkeys(("missing_token", "bad_token"), 401),
    **dict.fromkeys(("wrong_place", "no_place_key", "wrong_role"), 403),
    **dict.fromkeys(("not_found", "unknown_card", "unknown_place", "unknown_asset", "unknown_federation",
                     "unknown_tx", "unknown_block"), 404),
    "method_not_allowed": 405,
    **dict.fromkeys(("replay", "duplicate", "reference_used", "duplicate_card", "card_owned",
                     "no_change", "idempotency_conflict"), 409),
    **dict.fromkeys(("oversize", "body_too_large"), 413),
    **dict.fromkeys(("too_many_attempts", "too_many_streams"), 429),
    **dict.fromkeys(("mempool_full", "unavailable"), 503),
}
LEDGER_REJECTION = 422
"""Any other code is a ledger rule refusing a well-formed transaction (overdraft...)."""


def status_of(code: str) -> int:
    """The HTTP status of an error code (422 for ledger rules not listed)."""
    return _STATUS_BY_CODE.get(code, LEDGER_REJECTION)


class ApiError(Exception):
    """A refused request; the middleware turns it into a JSON error response."""

    def __init__(self, code: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status_of(code) if status is None else status
