"""The transaction envelope (docs/contracts.md): decode, identify, sign, verify.

``[version=1, kind, signer: bytes32, nonce: bytes16, expires_at, body, signature: bytes64]``,
canonical msgpack. :func:`decode_tx` does every stateless check; the signature
is checked separately by :meth:`Tx.verify_signature`, so the mempool can
verify once and cache the answer; the rules (which read state) come later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from wallet.bodies import BODY_TYPES, Body
from wallet.codec import pack, unpack
from wallet.errors import Rejected
from wallet.keys import SigningKey, verify

TX_DOMAIN = "fedow/tx/v1"
TX_VERSION = 1
NONCE_BYTES = 16
MAX_HEIGHT = 2**63 - 1
_SIGNATURE_TAIL = 66
"""A 64-byte bin in canonical msgpack: 0xc4, 0x40, then the 64 bytes."""


@dataclass(frozen=True, slots=True)
class Tx:
    """A decoded, shape-checked transaction. ``unsigned`` is what txid and signature cover."""

    kind: str
    signer: bytes
    nonce: bytes
    expires_at: int
    body: Body
    signature: bytes
    unsigned: bytes
    txid: bytes
    size: int

    def verify_signature(self, chain_id: str) -> bool:
        """True when ``signer`` signed this transaction for ``chain_id``."""
        return verify(self.signer, TX_DOMAIN, chain_id, self.unsigned, self.signature)


def _field(name: str, value: Any, kind: type, size: int | None = None) -> Any:
    if type(value) is not kind:
        raise Rejected("bad_envelope", f"envelope field {name} must be {kind.__name__}, got {type(value).__name__}")
    if size is not None and len(value) != size:
        raise Rejected("bad_envelope", f"envelope field {name} must be {size} bytes, got {len(value)}")
    return value


def decode_tx(data: bytes, max_bytes: int) -> Tx:
    """Decode and check a transaction without reading state; Rejected says what is wrong."""
    items = unpack(data, max_bytes)
    if not isinstance(items, list) or len(items) != 7:
        raise Rejected("bad_envelope", "a transaction is an array of 7 fields "
                       "(version, kind, signer, nonce, expires_at, body, signature)")
    version, kind, signer, nonce, expires_at, body, signature = items
    if version != TX_VERSION or type(version) is not int:
        raise Rejected("bad_version", f"envelope field version must be {TX_VERSION}, got {version!r}")
    _field("kind", kind, str)
    body_type = BODY_TYPES.get(kind)
    if body_type is None:
        raise Rejected("unknown_kind", f"envelope field kind {kind[:40]!r} is not a known transaction kind")
    _field("signer", signer, bytes, 32)
    _field("nonce", nonce, bytes, NONCE_BYTES)
    _field("expires_at", expires_at, int)
    if not 0 <= expires_at <= MAX_HEIGHT:
        raise Rejected("bad_envelope", f"envelope field expires_at must be a height in [0, 2**63-1], got {expires_at}")
    _field("signature", signature, bytes, 64)
    typed_body = body_type.from_list(body)
    unsigned = b"\x96" + bytes(data[1:-_SIGNATURE_TAIL])
    return Tx(kind, signer, nonce, expires_at, typed_body, signature, unsigned,
              hashlib.sha256(unsigned).digest(), len(data))


def unsigned_bytes(kind: str, signer: bytes, nonce: bytes, expires_at: int, body: Body) -> bytes:
    return pack([TX_VERSION, kind, signer, nonce, expires_at, body.to_list()])


def sign_tx(key: SigningKey, chain_id: str, kind: str, body: Body, nonce: bytes, expires_at: int) -> bytes:
    """Encode and sign a transaction; ``body`` must be the body type of ``kind``."""
    if BODY_TYPES.get(kind) is not type(body):
        raise ValueError(f"body {type(body).__name__} is not the body of kind {kind!r}")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    unsigned = unsigned_bytes(kind, key.public_key, nonce, expires_at, body)
    signature = key.sign(TX_DOMAIN, chain_id, unsigned)
    return pack([TX_VERSION, kind, key.public_key, nonce, expires_at, body.to_list(), signature])
