"""The transaction envelope (docs/contracts.md): decode, identify, sign, co-sign, verify.

Two envelopes, canonical msgpack arrays:

* version 1, one signer: ``[1, kind, signer: bytes32, nonce: bytes16, expires_at, body, signature: bytes64]``;
* version 2, co-signed by a key set (authorities, treasury):
  ``[2, kind, nonce: bytes16, expires_at, body, [[public_key, signature], ...]]``, the pairs
  sorted by key, each key once, 1 to :data:`MAX_COSIGNERS` of them.

Both ids and all signatures cover the unsigned part (the envelope without its
signatures), so each co-signer signs on their own machine, in any order, and
the txid is known before anyone signs. A kind's body says which envelope it
takes (``Body.KEY_SET``): a co-signed kind is never accepted with one signer.
:func:`decode_tx` does every stateless check; signatures are checked separately
by :meth:`Tx.verify_signature`, so the mempool can verify once and cache the
answer; the rules (which read state, including the key set's threshold) come later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Iterable

from wallet.bodies import BODY_TYPES, Body
from wallet.codec import pack, signing_bytes, unpack
from wallet.errors import Rejected
from wallet.fields import MAX_COSIGNERS
from wallet.keys import PUBLIC_KEY_BYTES, SIGNATURE_BYTES, SigningKey, verify
from wallet.verify_pool import SignedItem, VerifyPool

TX_DOMAIN = "fedow/tx/v1"
"""Domain tag of every transaction signature (the version inside the signed bytes tells the envelopes apart)."""
TX_VERSION = 1
COSIGNED_VERSION = 2
NONCE_BYTES = 16
MAX_HEIGHT = 2**63 - 1
_SIGNATURE_TAIL = 66
"""A 64-byte bin in canonical msgpack: 0xc4, 0x40, then the 64 bytes."""

Signature = tuple[bytes, bytes]
"""(public key, Ed25519 signature of the unsigned part)."""


@dataclass(frozen=True, slots=True)
class Tx:
    """A decoded, shape-checked transaction. ``unsigned`` is what txid and every signature cover."""

    version: int
    kind: str
    signer: bytes
    """The one signer (version 1); the first co-signer, lowest key (version 2)."""
    nonce: bytes
    expires_at: int
    body: Body
    signatures: tuple[Signature, ...]
    """(key, signature) pairs: one for version 1; sorted by key, distinct, for version 2."""
    unsigned: bytes
    txid: bytes
    size: int

    @property
    def signers(self) -> tuple[bytes, ...]:
        return tuple(key for key, _signature in self.signatures)

    @property
    def cosigned(self) -> bool:
        return self.version == COSIGNED_VERSION

    def verify_signature(self, chain_id: str) -> bool:
        """True when every listed key signed this transaction for ``chain_id``."""
        return signatures_verify(chain_id, self.unsigned, self.signatures)


def signatures_verify(chain_id: str, unsigned: bytes, signatures: Iterable[Signature]) -> bool:
    """True when every (key, signature) pair signs ``unsigned`` for ``chain_id`` (what an audit's
    workers check, given only these bytes)."""
    return all(verify(key, TX_DOMAIN, chain_id, unsigned, signature) for key, signature in signatures)


def verified_txids(chain_id: str, txs: Sequence[Tx], pool: VerifyPool) -> frozenset[bytes]:
    """The txids whose every transaction among ``txs`` has every signature verifying, checked on ``pool``.

    A txid does not cover the signatures: two transactions of one txid (one forged) leave
    it out, so a caller that skips the check for these txids skips it only for good ones.
    """
    items: list[SignedItem] = []
    owners: list[bytes] = []
    for tx in txs:
        message = signing_bytes(TX_DOMAIN, chain_id, tx.unsigned)
        for key, signature in tx.signatures:
            items.append((key, message, signature))
            owners.append(tx.txid)
    bad = {owners[index] for index in pool.failed(items)}
    return frozenset(tx.txid for tx in txs if tx.txid not in bad)


@dataclass(frozen=True, slots=True)
class Draft:
    """The unsigned part of a co-signed transaction, decoded: what each co-signer reads and signs."""

    kind: str
    nonce: bytes
    expires_at: int
    body: Body
    unsigned: bytes
    txid: bytes


def _field(name: str, value: Any, kind: type, size: int | None = None) -> Any:
    if type(value) is not kind:
        raise Rejected("bad_envelope", f"envelope field {name} must be {kind.__name__}, got {type(value).__name__}")
    if size is not None and len(value) != size:
        raise Rejected("bad_envelope", f"envelope field {name} must be {size} bytes, got {len(value)}")
    return value


def _body_type(kind: Any, version: int) -> type[Body]:
    _field("kind", kind, str)
    body_type = BODY_TYPES.get(kind)
    if body_type is None:
        raise Rejected("unknown_kind", f"envelope field kind {kind[:40]!r} is not a known transaction kind")
    if body_type.KEY_SET is not None and version != COSIGNED_VERSION:
        raise Rejected("bad_version", f"kind {kind} needs signatures of the {body_type.KEY_SET} key set: "
                       f"envelope version {COSIGNED_VERSION} (co-signed), not {version}")
    if body_type.KEY_SET is None and version != TX_VERSION:
        raise Rejected("bad_version", f"kind {kind} has one signer: envelope version {TX_VERSION}, not {version}")
    return body_type


def _expiry(expires_at: Any) -> int:
    _field("expires_at", expires_at, int)
    if not 0 <= expires_at <= MAX_HEIGHT:
        raise Rejected("bad_envelope", f"envelope field expires_at must be a height in [0, 2**63-1], got {expires_at}")
    return expires_at


def decode_tx(data: bytes, max_bytes: int) -> Tx:
    """Decode and check a transaction without reading state; Rejected says what is wrong."""
    items = unpack(data, max_bytes)
    if not isinstance(items, list) or not items:
        raise Rejected("bad_envelope", "a transaction is an array: [version, kind, ...]")
    version = items[0]
    if type(version) is int and version == TX_VERSION:
        return _decode_single(items, data)
    if type(version) is int and version == COSIGNED_VERSION:
        return _decode_cosigned(items, data)
    raise Rejected("bad_version", f"envelope field version must be {TX_VERSION} (one signer) or "
                   f"{COSIGNED_VERSION} (co-signed), got {version!r}")


def _decode_single(items: list[Any], data: bytes) -> Tx:
    if len(items) != 7:
        raise Rejected("bad_envelope", "a version 1 transaction is an array of 7 fields "
                       "(version, kind, signer, nonce, expires_at, body, signature)")
    version, kind, signer, nonce, expires_at, body, signature = items
    body_type = _body_type(kind, version)
    _field("signer", signer, bytes, PUBLIC_KEY_BYTES)
    _field("nonce", nonce, bytes, NONCE_BYTES)
    _expiry(expires_at)
    _field("signature", signature, bytes, SIGNATURE_BYTES)
    typed_body = body_type.from_list(body)
    unsigned = b"\x96" + bytes(data[1:-_SIGNATURE_TAIL])
    return Tx(version, kind, signer, nonce, expires_at, typed_body, ((signer, signature),), unsigned,
              hashlib.sha256(unsigned).digest(), len(data))


def _signature_list(value: Any) -> tuple[Signature, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_COSIGNERS:
        raise Rejected("bad_envelope", f"envelope field signatures must be an array of 1 to {MAX_COSIGNERS} "
                       "[public_key, signature] pairs")
    pairs = []
    for index, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise Rejected("bad_envelope", f"envelope field signatures[{index}] must be [public_key, signature]")
        key, signature = pair
        _field(f"signatures[{index}].public_key", key, bytes, PUBLIC_KEY_BYTES)
        _field(f"signatures[{index}].signature", signature, bytes, SIGNATURE_BYTES)
        if pairs and key == pairs[-1][0]:
            raise Rejected("duplicate_signer", f"envelope field signatures lists key {key.hex()} twice")
        if pairs and key < pairs[-1][0]:
            raise Rejected("bad_envelope", f"envelope field signatures must be sorted by public key "
                           f"(signatures[{index}] is out of order)")
        pairs.append((key, signature))
    return tuple(pairs)


def _decode_cosigned(items: list[Any], data: bytes) -> Tx:
    if len(items) != 6:
        raise Rejected("bad_envelope", "a version 2 (co-signed) transaction is an array of 6 fields "
                       "(version, kind, nonce, expires_at, body, signatures)")
    version, kind, nonce, expires_at, body, signatures = items
    body_type = _body_type(kind, version)
    _field("nonce", nonce, bytes, NONCE_BYTES)
    _expiry(expires_at)
    pairs = _signature_list(signatures)
    typed_body = body_type.from_list(body)
    unsigned = b"\x95" + bytes(data[1:len(data) - len(pack(signatures))])
    return Tx(version, kind, pairs[0][0], nonce, expires_at, typed_body, pairs, unsigned,
              hashlib.sha256(unsigned).digest(), len(data))


def unsigned_bytes(kind: str, signer: bytes, nonce: bytes, expires_at: int, body: Body) -> bytes:
    """The unsigned part of a version 1 transaction (its sha256 is the txid)."""
    return pack([TX_VERSION, kind, signer, nonce, expires_at, body.to_list()])


def _check_body(kind: str, body: Body, nonce: bytes) -> type[Body]:
    body_type = BODY_TYPES.get(kind)
    if body_type is not type(body):
        raise ValueError(f"body {type(body).__name__} is not the body of kind {kind!r}")
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    return body_type


def sign_tx(key: SigningKey, chain_id: str, kind: str, body: Body, nonce: bytes, expires_at: int) -> bytes:
    """Encode and sign a single-signer transaction; ``body`` must be the body type of ``kind``."""
    if _check_body(kind, body, nonce).KEY_SET is not None:
        raise ValueError(f"kind {kind!r} is co-signed: use build_unsigned, cosign and combine")
    unsigned = unsigned_bytes(kind, key.public_key, nonce, expires_at, body)
    signature = key.sign(TX_DOMAIN, chain_id, unsigned)
    return pack([TX_VERSION, kind, key.public_key, nonce, expires_at, body.to_list(), signature])


# -- co-signed transactions ------------------------------------------------------------------
def build_unsigned(kind: str, body: Body, nonce: bytes, expires_at: int) -> bytes:
    """The unsigned part of a co-signed transaction: what every co-signer signs; sha256 of it is the txid."""
    if _check_body(kind, body, nonce).KEY_SET is None:
        raise ValueError(f"kind {kind!r} has one signer: use sign_tx")
    return pack([COSIGNED_VERSION, kind, nonce, expires_at, body.to_list()])


def read_unsigned(unsigned: bytes, max_bytes: int) -> Draft:
    """Decode and check the unsigned part of a co-signed transaction (before signing or showing it)."""
    items = unpack(unsigned, max_bytes)
    if not isinstance(items, list) or len(items) != 5 or items[0] != COSIGNED_VERSION \
            or type(items[0]) is not int:
        raise Rejected("bad_envelope", "the unsigned part of a co-signed transaction is an array of 5 fields "
                       f"({COSIGNED_VERSION}, kind, nonce, expires_at, body)")
    version, kind, nonce, expires_at, body = items
    body_type = _body_type(kind, version)
    _field("nonce", nonce, bytes, NONCE_BYTES)
    _expiry(expires_at)
    return Draft(kind, nonce, expires_at, body_type.from_list(body), bytes(unsigned),
                 hashlib.sha256(unsigned).digest())


def cosign(key: SigningKey, chain_id: str, unsigned: bytes) -> Signature:
    """``key``'s signature of a co-signed transaction's unsigned part, for ``chain_id``."""
    read_unsigned(unsigned, len(unsigned))
    return key.public_key, key.sign(TX_DOMAIN, chain_id, unsigned)


def combine(unsigned: bytes, signatures: Iterable[Signature]) -> bytes:
    """The co-signed envelope: the unsigned part and the signatures, sorted by key, each key once.

    Signatures are not verified here (that needs the chain id): the node
    verifies every one, and refuses the whole transaction if one is bad.
    """
    by_key = {key: signature for key, signature in signatures}
    if not 1 <= len(by_key) <= MAX_COSIGNERS:
        raise ValueError(f"a co-signed transaction carries 1 to {MAX_COSIGNERS} signatures, got {len(by_key)}")
    items = unpack(unsigned)
    return pack([*items, [[key, by_key[key]] for key in sorted(by_key)]])


def sign_cosigned(keys: Iterable[SigningKey], chain_id: str, kind: str, body: Body, nonce: bytes,
                  expires_at: int) -> bytes:
    """Build, co-sign with every key and combine, in one place (tests, 1-of-1 chains, one operator's keys)."""
    unsigned = build_unsigned(kind, body, nonce, expires_at)
    return combine(unsigned, [cosign(key, chain_id, unsigned) for key in keys])
