"""Identifiers as they travel in URLs and JSON, and back to bytes.

Binary ids are lower-case hex on the way out; on the way in, UIDs and hashes
are hex, QR ids hex or UUID, wallets hex or ``fedow1`` addresses, and a signed
transaction hex or base64. A bad id is a 400 that names the field.
"""

from __future__ import annotations

import base64
import binascii
import re

from fedow_node.api.errors import ApiError
from fedow_node.api.schema import ASSET_ID, PLACE_ID, validate
from wallet.errors import Rejected
from wallet.keys import ADDRESS_PREFIX, decode_address

__all__ = ["asset_id", "card_number", "hash32", "place_id", "qr_id", "signed_tx", "uid", "wallet_id"]

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_NUMBER = re.compile(r"[0-9A-Z]{8}")


def _hex(text: str, sizes: tuple[int, ...], field: str, what: str) -> bytes:
    if not _HEX.fullmatch(text) or len(text) // 2 not in sizes:
        raise ApiError("bad_request", f"{field} must be {what}, got {text[:80]!r}")
    return bytes.fromhex(text)


def uid(text: str, field: str = "uid") -> bytes:
    """An NFC card UID: 4 or 7 bytes in hex."""
    return _hex(text, (4, 7), field, "a card UID (8 or 14 hex characters)")


def hash32(text: str, field: str) -> bytes:
    """A txid, block hash or public key: 64 hex characters."""
    return _hex(text, (32,), field, "32 bytes in hex (64 characters)")


def qr_id(text: str, field: str = "qr_id") -> bytes:
    """A QR code id: 16 bytes, as 32 hex characters or a UUID with dashes."""
    return _hex(text.replace("-", ""), (16,), field, "a QR id (16 bytes as hex or a UUID)")


def card_number(text: str, field: str = "number") -> str:
    if not _NUMBER.fullmatch(text):
        raise ApiError("bad_request", f"{field} must be a printed card number (8 of 0-9 A-Z), got {text[:80]!r}")
    return text


def place_id(text: str, field: str = "place") -> str:
    return validate(text, PLACE_ID, field)


def asset_id(text: str, field: str = "asset") -> str:
    return validate(text, ASSET_ID, field)


def wallet_id(text: str, field: str = "wallet") -> bytes:
    """A wallet id or public key: 64 hex characters or a ``fedow1`` address."""
    if text.startswith(ADDRESS_PREFIX):
        try:
            return decode_address(text)
        except Rejected as exc:
            raise ApiError("bad_request", f"{field}: {exc.detail}") from None
    return hash32(text, field)


def signed_tx(text: str, field: str = "tx") -> bytes:
    """A signed transaction as hex or as standard base64."""
    if _HEX.fullmatch(text):
        return bytes.fromhex(text)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("bad_request", f"field {field} must be the signed transaction in hex or base64") from None
