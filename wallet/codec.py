"""Canonical msgpack encoding of every signed or hashed object.

One encoding per value, so that two nodes hash and sign the very same bytes:

* arrays only (fixed field order); maps are refused, because msgpack keeps
  insertion order and two encoders could disagree on it;
* integers, byte strings, UTF-8 strings, booleans and nil as leaves; no floats
  (amounts are integers in minor units) and no extension types;
* the shortest form of every length and integer, which is what msgpack-python
  writes, so ``pack(unpack(b)) == b`` is the canonicity test.

Signatures cover ``domain tag + chain id + canonical bytes`` (see
:func:`signing_bytes`), so a vote can never be replayed as a transaction, nor
anything on another chain.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import msgpack

from wallet.errors import Rejected

MAX_OBJECT_BYTES = 4 * 1024 * 1024
"""Hard upper bound for one decoded object (a block); callers pass smaller limits."""

_LEAF_TYPES = (int, bytes, str, bool, type(None))
_ARRAY_ITEM_TYPES = frozenset((*_LEAF_TYPES, list))
"""Exact types msgpack decodes to that an array may hold (it never makes subclasses)."""


class _ThreadPacker(threading.local):
    """One msgpack Packer per thread: ``msgpack.packb`` builds a new Packer at every call, and packing
    is on every transaction's path several times (decoding's canonicity check, signing bytes, state values)."""

    def __init__(self) -> None:
        self.pack = msgpack.Packer(use_bin_type=True).pack


_packer = _ThreadPacker()


def pack(obj: Any) -> bytes:
    """Encode ``obj`` (nested lists/tuples of ints, bytes, str, bool, None) canonically."""
    return _packer.pack(obj)


def _refuse_map(_pairs: Any) -> Any:
    raise Rejected("non_canonical", "msgpack maps are not allowed: use arrays with a fixed field order")


def _refuse_ext(code: int, _data: bytes) -> Any:
    raise Rejected("non_canonical", f"msgpack extension type {code} is not allowed")


def _check_array(items: list[Any]) -> list[Any]:
    for item in items:
        if type(item) not in _ARRAY_ITEM_TYPES:
            raise Rejected("non_canonical", f"value of type {type(item).__name__} is not allowed (no floats)")
    return items


def unpack(data: bytes, max_bytes: int = MAX_OBJECT_BYTES) -> Any:
    """Decode canonical bytes; raise :class:`Rejected` for anything else.

    Rejected: oversize input, malformed msgpack, trailing bytes, maps, floats,
    extension types, and any encoding that is not the shortest one.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise Rejected("malformed", f"expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise Rejected("oversize", f"{len(data)} bytes exceeds the limit of {max_bytes}")
    try:
        obj = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            object_pairs_hook=_refuse_map,
            list_hook=_check_array,
            ext_hook=_refuse_ext,
        )
    except Rejected:
        raise
    except UnicodeDecodeError as exc:
        raise Rejected("malformed", f"string is not valid UTF-8: {exc.reason}") from None
    except msgpack.ExtraData:
        raise Rejected("malformed", "trailing bytes after the encoded object") from None
    except (ValueError, msgpack.UnpackException, TypeError) as exc:
        raise Rejected("malformed", f"not valid msgpack: {exc}") from None
    if not isinstance(obj, _LEAF_TYPES) and not isinstance(obj, list):
        raise Rejected("non_canonical", f"value of type {type(obj).__name__} is not allowed (no floats)")
    if pack(obj) != bytes(data):
        raise Rejected("non_canonical", "encoding is not canonical (not the shortest msgpack form)")
    return obj


def signing_bytes(domain: str, chain_id: str, body: bytes) -> bytes:
    """What an Ed25519 signature covers: domain tag, chain id, canonical body."""
    return pack([domain, chain_id, body])


def unpack_trusted(data: bytes) -> Any:
    """Decode bytes this node wrote itself (committed state): no canonicity re-check.

    State values were encoded by :func:`pack` before the block that wrote them
    was committed, so checking them again on every read would only cost time.
    """
    return msgpack.unpackb(data, raw=False, use_list=True)


def batch_packer() -> Callable[[Any], bytes]:
    """A :func:`pack` for encoding many values in a row (one msgpack Packer, same bytes).

    Not thread-safe: make one per batch.
    """
    return msgpack.Packer(use_bin_type=True).pack
