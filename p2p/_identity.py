"""Peer identity from a validator's 32-byte Ed25519 seed.

The validator's consensus key is its libp2p identity: the Noise handshake
authenticates the peer id, so a peer id proves which validator is on the
other end of a connection. The seed stays the source of truth.
"""

from __future__ import annotations

import nacl.signing
from libp2p.crypto.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from libp2p.crypto.keys import KeyPair
from libp2p.peer.id import ID

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32


def key_pair_from_seed(seed: bytes) -> KeyPair:
    """libp2p key pair over the PyNaCl signing key of ``seed``."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes, got {len(seed)}")
    private = Ed25519PrivateKey(nacl.signing.SigningKey(seed))
    return KeyPair(private, private.get_public_key())


def peer_id_from_public_key(public_key: bytes) -> str:
    """Base58 peer id of the validator whose Ed25519 public key is ``public_key``."""
    if len(public_key) != PUBLIC_KEY_BYTES:
        raise ValueError(f"public key must be {PUBLIC_KEY_BYTES} bytes, got {len(public_key)}")
    return ID.from_pubkey(Ed25519PublicKey.from_bytes(public_key)).to_base58()


def peer_multiaddr(host: str, port: int, public_key: bytes) -> str:
    """``/ip4/<host>/tcp/<port>/p2p/<peer id>``: a dialable address built from the key alone."""
    if not 0 < port < 65536:
        raise ValueError(f"port must be in 1..65535, got {port}")
    return f"/ip4/{host}/tcp/{port}/p2p/{peer_id_from_public_key(public_key)}"
