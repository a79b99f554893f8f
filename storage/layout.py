"""The LevelDB key layout: one keyspace per structure, fixed-width big-endian numbers.

Big-endian heights and positions make LevelDB's byte order equal numeric order,
so range scans (blocks, a wallet's history) need no sorting. No prefix is a
prefix of another, so a scan of one structure never sees another's keys.
"""

from __future__ import annotations

from dataclasses import dataclass

STATE = b"s/"  # s/<state key>             -> state value
BLOCK = b"b/"  # b/<height 8>              -> block bytes
BLOCK_HASH = b"k/"  # k/<height 8>         -> block hash
HEIGHT_BY_HASH = b"h/"  # h/<block hash>   -> height 8
CERTIFICATE = b"c/"  # c/<height 8>        -> certificate bytes
TX = b"t/"  # t/<txid>                     -> height 8 + position 4
HISTORY = b"w/"  # history_prefix(wallet id) + <height 8><position 4> -> txid
META = b"m/"  # m/<key>                    -> node-local bytes (not state)
COUNTER = b"x/"  # x/<opaque key>          -> count 8 + amount 8 (signed): node-local totals, not state
GENESIS_DOC = b"g/doc"
GENESIS_HASH = b"g/hash"
HEAD = b"head"  # height 8 + block hash 32 + state hash 32

HEIGHT_BYTES = 8
POSITION_BYTES = 4
HASH_BYTES = 32
LOCATION_BYTES = HEIGHT_BYTES + POSITION_BYTES
COUNTER_BYTES = 16
MAX_WALLET_ID_BYTES = 255


@dataclass(frozen=True)
class Head:
    """The last committed height and what it committed (height 0 = genesis)."""

    height: int
    block_hash: bytes
    state_hash: bytes

    def encode(self) -> bytes:
        return encode_height(self.height) + self.block_hash + self.state_hash

    @classmethod
    def decode(cls, raw: bytes) -> Head:
        if len(raw) != HEIGHT_BYTES + 2 * HASH_BYTES:
            raise ValueError(f"head record has {len(raw)} bytes")
        return cls(
            height=decode_height(raw[:HEIGHT_BYTES]),
            block_hash=raw[HEIGHT_BYTES : HEIGHT_BYTES + HASH_BYTES],
            state_hash=raw[HEIGHT_BYTES + HASH_BYTES :],
        )


def encode_height(height: int) -> bytes:
    return height.to_bytes(HEIGHT_BYTES, "big")


def decode_height(raw: bytes) -> int:
    return int.from_bytes(raw, "big")


def encode_location(height: int, position: int) -> bytes:
    """Where a transaction sits; also the opaque history cursor."""
    return encode_height(height) + position.to_bytes(POSITION_BYTES, "big")


def decode_location(raw: bytes) -> tuple[int, int]:
    return decode_height(raw[:HEIGHT_BYTES]), int.from_bytes(raw[HEIGHT_BYTES:], "big")


def history_prefix(wallet_id: bytes) -> bytes:
    """Length-prefixed so that one wallet id is never a prefix of another's keys."""
    return HISTORY + bytes([len(wallet_id)]) + wallet_id



def encode_counter(count: int, amount: int) -> bytes:
    return count.to_bytes(8, "big", signed=True) + amount.to_bytes(8, "big", signed=True)


def decode_counter(raw: bytes) -> tuple[int, int]:
    return int.from_bytes(raw[:8], "big", signed=True), int.from_bytes(raw[8:], "big", signed=True)
