"""The state key layout: one function per kind of key, so no other module spells a prefix.

Every key starts with a short ASCII tag and a slash. Fixed-size parts (32-byte
ids, 8-byte big-endian times and heights) come first so that prefix scans are
ordered by them; variable-length text ids come last, so no separator is needed.
"""

from __future__ import annotations

import hashlib

PARAMS = b"params"
PROTOCOL = b"protocol"
FED_BACKING = b"fedbacking"

KEY_SET = b"keyset/"
PLACE = b"place/"
PLACE_BY_KEY = b"placekey/"
PLACE_POLICY = b"placepolicy/"
WALLET = b"wallet/"
CARD = b"card/"
CARD_BY_NUMBER = b"cardnum/"
CARD_BY_QR = b"cardqr/"
ASSET = b"asset/"
FEDERATION = b"fed/"
VALIDATOR = b"val/"
VALIDATOR_SET = b"vset/"
VALIDATOR_SET_LATEST = b"vsetlatest"
UNBONDING = b"unbond/"
MEMBERSHIP = b"memb/"
BADGE = b"badge/"
BALANCE = b"bal/"
DEMURRAGE_DUE = b"due/"
SUPPLY = b"supply/"
POOL = b"pool/"
PAYMENT_REF = b"payref/"
HOLD = b"hold/"
ON_HOLD = b"onhold/"
OFFLINE_BOND = b"obond/"
OFFLINE_RELEASE = b"obondrel/"
OFFLINE = b"offline/"
TXID = b"tx/"
TX_EXPIRY = b"txexp/"

POOL_COMMON = b"c"
POOL_DEV = b"d"
POOL_VALIDATORS = b"v"


def be8(value: int) -> bytes:
    """Big-endian 8 bytes, so byte order is numeric order in prefix scans."""
    return value.to_bytes(8, "big")


def key_set(name: str) -> bytes:
    """A key set by name: ``authority``, ``treasury``."""
    return KEY_SET + name.encode()


def place(place_id: str) -> bytes:
    return PLACE + place_id.encode()


def place_policy(place_id: str) -> bytes:
    return PLACE_POLICY + place_id.encode()


def place_by_key(public_key: bytes) -> bytes:
    return PLACE_BY_KEY + public_key


def wallet(wallet_id: bytes) -> bytes:
    return WALLET + wallet_id


def card(uid: bytes) -> bytes:
    return CARD + uid


def card_by_number(number: str) -> bytes:
    return CARD_BY_NUMBER + number.encode()


def card_by_qr(qr_id: bytes) -> bytes:
    return CARD_BY_QR + qr_id


def asset(asset_id: str) -> bytes:
    return ASSET + asset_id.encode()


def federation(federation_id: str) -> bytes:
    return FEDERATION + federation_id.encode()


def validator(public_key: bytes) -> bytes:
    return VALIDATOR + public_key


def validator_set(effective_height: int) -> bytes:
    return VALIDATOR_SET + be8(effective_height)


def unbonding(release_ms: int, public_key: bytes) -> bytes:
    return UNBONDING + be8(release_ms) + public_key


def membership(wallet_id: bytes, asset_id: str) -> bytes:
    return MEMBERSHIP + wallet_id + asset_id.encode()


def badge(wallet_id: bytes, asset_id: str) -> bytes:
    return BADGE + wallet_id + asset_id.encode()


def balance(wallet_id: bytes, asset_id: str) -> bytes:
    return BALANCE + wallet_id + asset_id.encode()


def balances_of(wallet_id: bytes) -> bytes:
    """Prefix of every balance of one wallet."""
    return BALANCE + wallet_id


def split_balance(key: bytes) -> tuple[bytes, str]:
    """(wallet id, asset id) of a balance key."""
    start = len(BALANCE)
    return key[start:start + 32], key[start + 32:].decode()


def demurrage_due(due_ms: int, wallet_id: bytes, asset_id: str) -> bytes:
    return DEMURRAGE_DUE + be8(due_ms) + wallet_id + asset_id.encode()


def split_demurrage_due(key: bytes) -> tuple[int, bytes, str]:
    """(due time, wallet id, asset id) of a demurrage index key."""
    due, rest = split_ordered(DEMURRAGE_DUE, key)
    return due, rest[:32], rest[32:].decode()


def split_ordered(prefix: bytes, key: bytes) -> tuple[int, bytes]:
    """(the 8-byte number after ``prefix``, the rest) of an ordered index key."""
    start = len(prefix)
    return int.from_bytes(key[start:start + 8], "big"), key[start + 8:]


def asset_of(prefix: bytes, key: bytes) -> str:
    """The asset id that ends a per-asset key (``supply/``, ``pool/<kind>``)."""
    return key[len(prefix):].decode()


def supply(asset_id: str) -> bytes:
    return SUPPLY + asset_id.encode()


def pool(kind: bytes, asset_id: str) -> bytes:
    return POOL + kind + asset_id.encode()


def payment_ref(reference: str) -> bytes:
    """Payment and payout references are kept forever, hashed to a fixed size."""
    return PAYMENT_REF + hashlib.sha256(reference.encode()).digest()


def hold(reference: str) -> bytes:
    """A payout or bank-card refund hold, by its reference (hashed, like payment references)."""
    return HOLD + hashlib.sha256(reference.encode()).digest()


def on_hold(wallet_id: bytes) -> bytes:
    """What a wallet has on hold in total (absent when nothing)."""
    return ON_HOLD + wallet_id


def offline_bond(place_wallet: bytes) -> bytes:
    """A place's offline bond, by its wallet id (fixed size)."""
    return OFFLINE_BOND + place_wallet


def offline_release(release_ms: int, place_wallet: bytes) -> bytes:
    """Index of bonds under notice, by the time they go back to the place."""
    return OFFLINE_RELEASE + be8(release_ms) + place_wallet


def offline_record(place_wallet: bytes, journal: bytes, seq: int) -> bytes:
    """What one offline operation did, by place wallet, journal (16 bytes) and number: kept for ever."""
    return OFFLINE + place_wallet + journal + be8(seq)


def offline_records_of(place_wallet: bytes, journal: bytes = b"") -> bytes:
    """Prefix of a place's offline records (of one journal when given), in journal then number order."""
    return OFFLINE + place_wallet + journal


def split_offline_record(key: bytes) -> tuple[bytes, bytes, int]:
    """(place wallet, journal, seq) of an offline record key."""
    start = len(OFFLINE)
    return key[start:start + 32], key[start + 32:start + 48], int.from_bytes(key[start + 48:], "big")


def txid(tx_id: bytes) -> bytes:
    return TXID + tx_id


def tx_expiry(expires_at: int, tx_id: bytes) -> bytes:
    return TX_EXPIRY + be8(expires_at) + tx_id


def card_wallet_id(uid: bytes) -> bytes:
    """The anonymous wallet behind an NFC card, derived from its UID."""
    return hashlib.sha256(b"fedow/card-wallet" + uid).digest()


def place_wallet_id(place_id: str) -> bytes:
    """The wallet of a place, derived from its id (not its key, which may rotate)."""
    return hashlib.sha256(b"fedow/place-wallet" + place_id.encode()).digest()


FED_ASSET = b"fedasset"
"""Pointer to the id of the one FED asset."""
