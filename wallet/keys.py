"""Ed25519 keys (libsodium through PyNaCl), addresses and key files.

One library everywhere: libraries disagree on edge cases of Ed25519 validity,
so every signature in fedow-node is made and checked by libsodium.

Addresses are what people copy between screens: ``fedow1`` followed by the
base32 (lower case, unpadded) of the 32 raw bytes and a 4-byte checksum, so a
mistyped character is caught before any money moves.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing

from wallet.codec import signing_bytes
from wallet.errors import Rejected

ADDRESS_PREFIX = "fedow1"
SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


def _checksum(raw: bytes) -> bytes:
    return hashlib.sha256(b"fedow-address" + raw).digest()[:4]


def encode_address(raw: bytes) -> str:
    """Human-friendly form of a 32-byte public key or wallet id."""
    if len(raw) != PUBLIC_KEY_BYTES:
        raise ValueError(f"an address encodes 32 bytes, got {len(raw)}")
    body = base64.b32encode(raw + _checksum(raw)).decode("ascii").rstrip("=").lower()
    return ADDRESS_PREFIX + body


def decode_address(text: str) -> bytes:
    """Inverse of :func:`encode_address`; :class:`Rejected` on a bad prefix, length or checksum."""
    if not isinstance(text, str) or not text.startswith(ADDRESS_PREFIX):
        raise Rejected("bad_address", f"address must start with {ADDRESS_PREFIX!r}")
    body = text[len(ADDRESS_PREFIX):].upper()
    try:
        decoded = base64.b32decode(body + "=" * (-len(body) % 8))
    except (ValueError, base64.binascii.Error):
        raise Rejected("bad_address", "address is not valid base32") from None
    if len(decoded) != PUBLIC_KEY_BYTES + 4:
        raise Rejected("bad_address", f"address decodes to {len(decoded)} bytes, expected 36")
    raw, check = decoded[:PUBLIC_KEY_BYTES], decoded[PUBLIC_KEY_BYTES:]
    if _checksum(raw) != check:
        raise Rejected("bad_address", "address checksum does not match (mistyped?)")
    return raw


def verify(public_key: bytes, domain: str, chain_id: str, body: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of (domain, chain id, body)."""
    return verify_signed(public_key, signing_bytes(domain, chain_id, body), signature)


def verify_signed(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature of ``message`` (the signing bytes themselves)."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key, kept as its 32-byte seed (the source of truth)."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != SEED_BYTES:
            raise ValueError(f"an Ed25519 seed is 32 bytes, got {len(self.seed)}")
        object.__setattr__(self, "_nacl", nacl.signing.SigningKey(self.seed))

    def __repr__(self) -> str:  # never print the seed
        return f"SigningKey(public={encode_address(self.public_key)})"

    @classmethod
    def generate(cls) -> "SigningKey":
        return cls(os.urandom(SEED_BYTES))

    @property
    def public_key(self) -> bytes:
        return bytes(self._nacl.verify_key)  # type: ignore[attr-defined]

    @property
    def address(self) -> str:
        return encode_address(self.public_key)

    def sign(self, domain: str, chain_id: str, body: bytes) -> bytes:
        """Sign (domain tag, chain id, canonical body); returns the 64-byte signature."""
        return self._nacl.sign(signing_bytes(domain, chain_id, body)).signature  # type: ignore[attr-defined]


def write_key_file(path: Path, key: SigningKey) -> None:
    """Write the seed as hex to a new file readable by its owner only (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.seed.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_key_file(path: Path) -> SigningKey:
    """Read a key file; refuse one that others can read, as ssh does."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise Rejected("insecure_key_file", f"{path} has mode {mode:04o}; run chmod 600 {path}")
    text = path.read_text().strip()
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        raise Rejected("bad_key_file", f"{path} does not hold a hex Ed25519 seed") from None
    if len(seed) != SEED_BYTES:
        raise Rejected("bad_key_file", f"{path} holds {len(seed)} bytes, expected a 32-byte seed")
    return SigningKey(seed)
