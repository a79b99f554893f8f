"""Stateless checks of transaction body fields: type, size and syntax.

Each checker takes the field name and the decoded value and returns the value
(tuples for arrays) or raises :class:`Rejected` naming the field and the reason.
"""

from __future__ import annotations

import re
from typing import Any, Callable

import nacl.bindings

from wallet.errors import Rejected
from wallet.records import CATEGORIES

MAX_AMOUNT = 10**12
MAX_NAME_CHARS = 100
MAX_REFERENCE_CHARS = 128
MAX_CARDS_PER_TX = 100
"""About 34 bytes per card: 100 cards fit the default max_tx_bytes (4096)."""
MAX_PARAM_CHANGES = 32
MAX_DESTINATIONS = 32
"""Assets an archived place can still hold, each sent to a named wallet."""
MAX_COSIGNERS = 16
"""Most signatures a co-signed transaction carries, and most keys a key set holds."""
PERIOD_UNITS = ("hour", "day", "week", "month", "year")
MAX_PERIOD_COUNT = 1000

Check = Callable[[str, Any], Any]

_PLACE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,49}")
_ASSET_ID = re.compile(r"[A-Z0-9_-]{1,16}")
_CARD_NUMBER = re.compile(r"[0-9A-Z]{8}")
_PARAM_NAME = re.compile(r"[a-z_]{1,40}")


def _bad(name: str, reason: str) -> Rejected:
    return Rejected("bad_field", f"field {name} {reason}")


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is an int subclass: refuse it


def amount(name: str, value: Any) -> int:
    """A positive amount of at most 10**12 minor units."""
    if not _is_int(value):
        raise Rejected("bad_amount", f"field {name} must be an integer amount, got {type(value).__name__}")
    if value <= 0:
        raise Rejected("bad_amount", f"field {name} must be positive, got {value}")
    if value > MAX_AMOUNT:
        raise Rejected("bad_amount", f"field {name} must be at most {MAX_AMOUNT}, got {value}")
    return value


def bytes_of(*sizes: int) -> Check:
    def check(name: str, value: Any) -> bytes:
        if not isinstance(value, bytes) or len(value) not in sizes:
            got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
            raise _bad(name, f"must be {' or '.join(map(str, sizes))} bytes, got {got}")
        return value
    return check


key32 = bytes_of(32)
journal_id = bytes_of(16)


card_uid = bytes_of(4, 7)
qr_id = bytes_of(16)


_MAX_REMEMBERED_IDS = 4096


def _text(pattern: re.Pattern[str] | None, max_chars: int, what: str) -> Check:
    valid: set[str] = set()
    """Values that passed: a chain uses a handful of asset and place ids in every transaction."""

    def check(name: str, value: Any) -> str:
        if type(value) is str and value in valid:
            return value
        if not isinstance(value, str) or not 1 <= len(value) <= max_chars:
            raise _bad(name, f"must be {what} of 1 to {max_chars} characters")
        if pattern is not None and not pattern.fullmatch(value):
            raise _bad(name, f"must be {what}, got {value!r}")
        if pattern is not None and len(valid) < _MAX_REMEMBERED_IDS:
            valid.add(value)
        return value
    return check


place_id = _text(_PLACE_ID, 50, "a place id ([a-z0-9][a-z0-9-]*)")
federation_id = _text(_PLACE_ID, 50, "a federation id ([a-z0-9][a-z0-9-]*)")
asset_id = _text(_ASSET_ID, 16, "an asset id ([A-Z0-9_-])")
card_number = _text(_CARD_NUMBER, 8, "a printed card number (8 of [0-9A-Z])")
display_name = _text(None, MAX_NAME_CHARS, "a name")
reference = _text(None, MAX_REFERENCE_CHARS, "a payment reference")
param_name = _text(_PARAM_NAME, 40, "a parameter name")


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(name, f"must be a boolean, got {type(value).__name__}")
    return value


def one_of(values: tuple[str, ...]) -> Check:
    def check(name: str, value: Any) -> str:
        if value not in values:
            raise _bad(name, f"must be one of {' '.join(values)}, got {value!r}")
        return value
    return check


OFFLINE_OPS = ("sale", "cash_refill", "badge")
"""What a till does while its node is cut off, each forwarded later as an ``offline`` transaction."""
FUNDS = ("common", "dev")
KEY_SETS = ("authority", "treasury")
"""Names of the key sets whose thresholds authorise co-signed kinds."""
category = one_of(CATEGORIES)
period_unit = one_of(PERIOD_UNITS)
fund_name = one_of(FUNDS)
offline_op = one_of(OFFLINE_OPS)
key_set_name = one_of(KEY_SETS)


def _int_between(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> int:
        if not _is_int(value) or not low <= value <= high:
            raise _bad(name, f"must be an integer from {low} to {high}, got {value!r}")
        return value
    return check


period_count = _int_between(1, MAX_PERIOD_COUNT)
protocol_version = _int_between(2, 2**16)
block_height = _int_between(1, 2**62)
sequence = _int_between(1, 2**63 - 1)
threshold = _int_between(1, MAX_COSIGNERS)


def public_key(name: str, value: Any) -> bytes:
    """A key that will sign: 32 bytes and a valid Ed25519 point (else nobody could ever sign with it)."""
    key = key32(name, value)
    if not nacl.bindings.crypto_core_ed25519_is_valid_point(key):
        raise _bad(name, f"is not a valid Ed25519 public key: {key.hex()}")
    return key


def sorted_keys(name: str, value: Any) -> tuple[bytes, ...]:
    """A key set: 1 to MAX_COSIGNERS public keys, sorted and distinct (one encoding per set)."""
    keys = array_of(public_key, MAX_COSIGNERS)(name, value)
    if any(left >= right for left, right in zip(keys, keys[1:])):
        raise _bad(name, "must list distinct keys sorted in increasing byte order")
    return keys


def param_value(name: str, value: Any) -> int:
    if not _is_int(value) or not 0 <= value < 2**63:
        raise _bad(name, f"must be an integer from 0 to 2**63-1, got {value!r}")
    return value


def optional(check: Check) -> Check:
    def maybe(name: str, value: Any) -> Any:
        return None if value is None else check(name, value)
    return maybe


def card_lookup(name: str, value: Any) -> bytes | str:
    """How a user names a card: its 16-byte QR id or its printed number."""
    if isinstance(value, bytes):
        return qr_id(name, value)
    return card_number(name, value)


def wallet_or_place(name: str, value: Any) -> bytes | str:
    """Where money goes: a wallet id (32 bytes) or a place id (its wallet)."""
    if isinstance(value, bytes):
        return key32(name, value)
    return place_id(name, value)


def any_array(name: str, value: Any) -> tuple[Any, ...]:
    """An array whose items another check judges (the body of a nested operation)."""
    if not isinstance(value, list):
        raise _bad(name, "must be an array")
    return tuple(value)


def array_of(item: Check, max_items: int, min_items: int = 1) -> Check:
    def check(name: str, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or not min_items <= len(value) <= max_items:
            raise _bad(name, f"must be an array of {min_items} to {max_items} items")
        return tuple(item(f"{name}[{index}]", element) for index, element in enumerate(value))
    return check


def row(*checks: tuple[str, Check]) -> Check:
    """A fixed-size array whose items have their own names and checks."""
    def check(name: str, value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or len(value) != len(checks):
            raise _bad(name, f"must be an array of {len(checks)} items")
        return tuple(part(f"{name}.{part_name}", element)
                     for (part_name, part), element in zip(checks, value))
    return check
