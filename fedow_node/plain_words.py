"""Transactions for people: a body from JSON by field name, and what a body does, in plain words.

A co-signer reads :func:`describe` before signing, so it names every object and
amount the transaction touches. Keys and wallets are shown as ``fedow1``
addresses; amounts in the asset's minor unit, with FED also in euros. Kinds
without a sentence of their own are shown field by field (never hidden).
JSON in: bytes fields take hex or a ``fedow1`` address (a QR id also a UUID);
the body's own checks (``Body.from_list``) then judge the values.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Callable

from wallet.bodies import BODY_TYPES, Body
from wallet.errors import Rejected
from wallet.keys import ADDRESS_PREFIX, decode_address, encode_address

__all__ = ["body_from_json", "body_to_json", "describe"]

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _to_bytes(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise Rejected("bad_field", f"field {where} must be hex or a fedow1 address, got {type(value).__name__}")
    if value.startswith(ADDRESS_PREFIX):
        return decode_address(value)
    if _UUID.fullmatch(value):
        return bytes.fromhex(value.replace("-", ""))
    if not _HEX.fullmatch(value):
        raise Rejected("bad_field", f"field {where} must be hex or a fedow1 address, got {value[:80]!r}")
    return bytes.fromhex(value)


def _looks_binary(value: Any) -> bool:
    """For ``bytes | str`` fields (a wallet or a place, a QR id or a number): a key, an address, a UUID."""
    return isinstance(value, str) and (value.startswith(ADDRESS_PREFIX) or bool(_UUID.fullmatch(value))
                                       or (len(value) in (32, 64) and bool(_HEX.fullmatch(value))))


def _wire(value: Any, hint: Any, where: str) -> Any:
    """A JSON value as the body's wire form, guided by the field's type hint."""
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if hint is bytes:
        return _to_bytes(value, where)
    if origin is tuple and isinstance(value, list):
        hints = [args[0]] * len(value) if len(args) == 2 and args[1] is Ellipsis else list(args)
        if len(hints) != len(value):
            return value  # the body's check names the wrong count
        return [_wire(item, item_hint, f"{where}[{index}]")
                for index, (item, item_hint) in enumerate(zip(value, hints))]
    if args and origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        choices = [arg for arg in args if arg is not type(None)]
        if bytes in choices and (len(choices) == 1 or _looks_binary(value)):
            return _to_bytes(value, where)
        return value
    return value


def body_from_json(kind: str, fields: Any) -> Body:
    """The body of ``kind`` from a JSON object keyed by field name; Rejected names what is wrong."""
    body_type = BODY_TYPES.get(kind)
    if body_type is None:
        raise Rejected("unknown_kind", f"{kind!r} is not a transaction kind; kinds: {', '.join(sorted(BODY_TYPES))}")
    if not isinstance(fields, dict):
        raise Rejected("bad_body", f"the body of {kind} is a JSON object with the fields "
                       f"{', '.join(name for name, _ in body_type.SCHEMA)}")
    names = [name for name, _check in body_type.SCHEMA]
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise Rejected("bad_body", f"{kind} has no field {unknown[0]!r}; its fields: {', '.join(names)}")
    hints = typing.get_type_hints(body_type)
    required = names[:len(names) - body_type.OPTIONAL_TAIL]
    missing = [name for name in required if name not in fields]
    if missing:
        raise Rejected("bad_body", f"{kind} needs the field {missing[0]!r}; its fields: {', '.join(names)}")
    given = [names.index(name) + 1 for name, value in fields.items() if value is not None]
    present = names[:max(given + [len(required)])]  # an optional field left out or null is absent
    return body_type.from_list([_wire(fields.get(name), hints[name], name) for name in present])


def body_to_json(body: Body) -> dict[str, Any]:
    """The body by field name, bytes as hex (what :func:`body_from_json` reads back)."""
    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return value.hex()
        if isinstance(value, tuple):
            return [plain(item) for item in value]
        if isinstance(value, Body):  # an offline operation's own body
            return {"op": value.KIND, **body_to_json(value)}
        return value
    optional = {name for name, _check in body.SCHEMA[len(body.SCHEMA) - body.OPTIONAL_TAIL:]}
    return {name: plain(getattr(body, name)) for name, _check in body.SCHEMA
            if name not in optional or getattr(body, name) is not None}


def _address(key: bytes) -> str:
    return encode_address(key)


def _target(value: bytes | str) -> str:
    return f"place {value}" if isinstance(value, str) else f"wallet {_address(value)}"


def _amount(amount: int, asset_id: str) -> str:
    if asset_id == "FED":
        return f"{amount // 100}.{amount % 100:02d} FED"
    return f"{amount} {asset_id} (minor units)"


def _archive(body: Any) -> str:
    if not body.destinations:
        return f"archive place {body.place_id} (refused if it still holds money); its key stops signing"
    moves = "; ".join(f"its {asset} goes to {_target(to)}" for asset, to in body.destinations)
    return f"archive place {body.place_id}: {moves}; its key stops signing"


_SENTENCES: dict[str, Callable[[Any], str]] = {
    "create_place": lambda b: f"create place {b.place_id} ({b.name!r}), signing with key {_address(b.public_key)}",
    "archive_place": _archive,
    "replace_place_key": lambda b: f"give place {b.place_id} the new key {_address(b.public_key)} "
                                   "(its current key stops signing for it)",
    "rotate_place_key": lambda b: f"place {b.place_id} replaces its key with {_address(b.public_key)}",
    "set_keys": lambda b: f"make the {b.key_set} key set: {b.threshold} of these {len(b.keys)} keys must co-sign "
                          + ", ".join(_address(key) for key in b.keys),
    "create_asset": lambda b: f"create asset {b.asset_id} ({b.name!r}), category {b.category}, issued by "
                              f"{b.origin_place or 'the federation'}, {'melting' if b.melting else 'not melting'}",
    "archive_asset": lambda b: f"archive asset {b.asset_id} (it can no longer be used)",
    "create_federation": lambda b: f"create federation {b.federation_id} ({b.name!r}), with no place yet",
    "federation_place": lambda b: (f"add place {b.place_id} to federation {b.federation_id}" if b.include
                                   else f"remove place {b.place_id} from federation {b.federation_id}"),
    "federation_asset": lambda b: (f"federation {b.federation_id}'s places accept asset {b.asset_id}" if b.include
                                   else f"federation {b.federation_id}'s places stop accepting asset {b.asset_id}"),
    "admit_validator": lambda b: f"admit validator {_address(b.public_key)}, run by place {b.place_id}",
    "remove_validator": lambda b: f"remove validator {_address(b.public_key)} (its whole stake starts unbonding)",
    "set_params": lambda b: "change chain parameters: " + ", ".join(f"{name} = {value}" for name, value in b.changes),
    "fund_payout": lambda b: f"pay {_amount(b.amount, b.asset_id)} from the {b.fund} fund to wallet "
                             f"{_address(b.to_wallet)}",
    "place_policy": lambda b: ("require an operator card (one of the place's primary cards) on sales, refunds "
                               "and voids" if b.require_operator else "stop requiring an operator card"),
    "register_cards": lambda b: f"register {len(b.cards)} new cards of the signing place",
    "offline_bond": lambda b: f"lock {_amount(b.amount, 'FED')} of the signing place's float as its offline bond "
                              "(it carries the risk of its offline sales)",
    "offline_unbond": lambda b: f"give notice: {_amount(b.amount, 'FED')} of the signing place's offline bond goes "
                                "back to its wallet after the notice period (it keeps covering offline sales until then)",
    "offline": lambda b: f"forward operation {b.seq} of offline journal {b.journal.hex()}: {describe(b.operation)}",
}


def describe(body: Body) -> str:
    """What ``body`` does, in one sentence (or its fields by name for a kind without one)."""
    sentence = _SENTENCES.get(body.KIND)
    if sentence is not None:
        return sentence(body)
    return f"{body.KIND}: " + ", ".join(f"{name} = {value}" for name, value in body_to_json(body).items())
