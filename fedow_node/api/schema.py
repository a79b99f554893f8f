"""Request schemas: one JSON Schema per body, used both to validate and to document.

The OpenAPI document shows the same dictionaries that :func:`validate` checks,
so the documentation cannot drift from what the API accepts. Only the subset
of JSON Schema used here is supported: object (properties, required,
additionalProperties false), string (pattern, minLength, maxLength, enum), integer
(minimum, maximum), boolean, array (items, minItems, maxItems), oneOf of
required-field groups.
"""

from __future__ import annotations

import re
from typing import Any

from fedow_node.api.errors import ApiError

__all__ = ["AMOUNT", "ASSET_ID", "BOOLEAN", "CARD_NUMBER", "HEX32", "INT", "ISO_TIME", "NULLABLE_TEXT", "PLACE_ID", "QR_ID",
           "Schema", "TEXT", "UID", "WALLET", "array", "integer", "list_of", "obj", "shape", "string", "validate"]

Schema = dict[str, Any]


def string(pattern: str | None = None, description: str = "", max_length: int | None = None) -> Schema:
    schema: Schema = {"type": "string", "minLength": 1}
    if pattern is not None:
        schema["pattern"] = pattern
    if max_length is not None:
        schema["maxLength"] = max_length
    if description:
        schema["description"] = description
    return schema


def integer(minimum: int, maximum: int, description: str = "") -> Schema:
    schema: Schema = {"type": "integer", "minimum": minimum, "maximum": maximum}
    if description:
        schema["description"] = description
    return schema


def array(items: Schema, max_items: int) -> Schema:
    return {"type": "array", "items": items, "minItems": 1, "maxItems": max_items}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None,
        one_of: tuple[tuple[str, ...], ...] = ()) -> Schema:
    """An object with exactly these fields; ``one_of`` lists groups of which exactly one is present."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})},
                      "required": sorted(required), "additionalProperties": False}
    if one_of:
        schema["oneOf"] = [{"required": list(group)} for group in one_of]
    return schema


def shape(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    """A response object, for the documentation (responses are built by code, not validated)."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def list_of(item: Schema) -> Schema:
    return {"type": "array", "items": item}


BOOLEAN: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
TEXT: Schema = {"type": "string"}
NULLABLE_TEXT: Schema = {"type": ["string", "null"]}
HEX32 = string("^[0-9a-f]{64}$", "32 bytes in lower-case hex")
WALLET = string("^([0-9a-f]{64}|fedow1[a-z2-7]{58})$", "a wallet id: 64 hex characters or a fedow1 address")
UID = string("^([0-9a-fA-F]{8}|[0-9a-fA-F]{14})$", "NFC card UID: 4 or 7 bytes in hex")
QR_ID = string("^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$",
               "QR code id: 16 bytes as hex or as a UUID")
CARD_NUMBER = string("^[0-9A-Z]{8}$", "number printed on the card")
ASSET_ID = string("^[A-Z0-9_-]{1,16}$", "asset id")
PLACE_ID = string("^[a-z0-9][a-z0-9-]{0,49}$", "place id")
ISO_TIME = string(description="the same instant in UTC ISO 8601, e.g. 2026-01-01T14:03:07.250Z")
AMOUNT = integer(1, 10**12, "amount in the asset's minor unit (cents for euros)")

_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "string": (str,), "integer": (int,),
                                       "boolean": (bool,), "array": (list,)}


def validate(value: Any, schema: Schema, where: str = "body") -> Any:
    """Return ``value`` if it matches ``schema``; ApiError ``bad_request`` names the field otherwise."""
    kind = schema["type"]
    checked: Any = value
    if not isinstance(value, _TYPES[kind]) or (kind == "integer" and isinstance(value, bool)):
        raise ApiError("bad_request", f"{where} must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}, "
                       f"got {_json_type(value)}")
    if kind == "object":
        _validate_object(checked, schema, where)
    elif kind == "string":
        _validate_string(checked, schema, where)
    elif kind == "integer":
        if not schema["minimum"] <= checked <= schema["maximum"]:
            raise ApiError("bad_request", f"{where} must be from {schema['minimum']} to {schema['maximum']}, "
                           f"got {checked}")
    elif kind == "array":
        if not schema["minItems"] <= len(checked) <= schema["maxItems"]:
            raise ApiError("bad_request", f"{where} must hold {schema['minItems']} to {schema['maxItems']} "
                           f"items, got {len(checked)}")
        for index, item in enumerate(checked):
            validate(item, schema["items"], f"{where}[{index}]")
    return checked


def _validate_object(value: dict[str, Any], schema: Schema, where: str) -> None:
    properties = schema["properties"]
    unknown = sorted(set(value) - set(properties))
    if unknown:
        raise ApiError("bad_request", f"{where} has unknown field {unknown[0]!r} "
                       f"(known: {', '.join(sorted(properties))})")
    for name in schema["required"]:
        if name not in value:
            raise ApiError("bad_request", f"{where} lacks required field {name!r}")
    groups = [option["required"] for option in schema.get("oneOf", ())]
    if groups and sum(all(name in value for name in group) for group in groups) != 1:
        choices = " or ".join("+".join(group) for group in groups)
        raise ApiError("bad_request", f"{where} must have exactly one of {choices}")
    for name, item in value.items():
        validate(item, properties[name], f"field {name}" if where == "body" else f"{where}.{name}")


def _validate_string(value: str, schema: Schema, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError("bad_request", f"{where} must be valid Unicode text (no lone surrogates)") from None
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
        raise ApiError("bad_request", f"{where} has {len(value)} characters, "
                       f"allowed {schema.get('minLength', 0)} to {schema.get('maxLength', 'any')}")
    if "enum" in schema and value not in schema["enum"]:
        raise ApiError("bad_request", f"{where} must be one of {', '.join(schema['enum'])}, got {value[:40]!r}")
    pattern = schema.get("pattern")
    if pattern is not None and not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value):
        what = schema.get("description") or f"a string matching {pattern}"
        raise ApiError("bad_request", f"{where} must be {what}, got {value[:80]!r}")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
