"""Properties of the request schemas (pure, no server).

* Whatever JSON arrives, validation answers the value or a 400 ApiError, never a crash.
* What a POS action's schema accepts builds a body the ledger's own field checks
  accept too (``Body.from_list``), so the API never signs a transaction that is
  malformed for the ledger; also when one field of a valid payload is replaced
  by anything.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import wallet
from api_solo_node import genesis
from fedow_node.api import ApiError
from fedow_node.api.pos import ACTIONS
from fedow_node.api.schema import Schema, validate
from wallet import layout
from wallet.bodies import BODY_TYPES
from wallet.codec import pack
from wallet.records import CARD_ACTIVE, Card
from wallet.state import DictReader

class EveryCardReader(DictReader):
    """Genesis state in which every UID names an active anonymous card, so uid targets always build."""

    def get(self, key: bytes) -> bytes | None:
        uid = key[len(layout.CARD):]
        if key.startswith(layout.CARD) and len(uid) in (4, 7):
            return pack(Card(uid, "00000000", b"\0" * 16, "bar", (), None, CARD_ACTIVE,
                             layout.card_wallet_id(uid)).to_list())
        return super().get(key)


READER = EveryCardReader(wallet.genesis_state(genesis()))

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


def from_schema(schema: Schema) -> st.SearchStrategy[Any]:
    """Values that match one of our request schemas (the subset schema.validate knows)."""
    kind = schema["type"]
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(schema["minimum"], schema["maximum"])
    if kind == "string":
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        if "pattern" in schema:
            return st.from_regex(schema["pattern"].removeprefix("^").removesuffix("$"), fullmatch=True)
        return st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=schema.get("maxLength", 40))
    if kind == "array":
        return st.lists(from_schema(schema["items"]), min_size=1, max_size=min(3, schema["maxItems"]))
    groups = [option["required"] for option in schema.get("oneOf", ())] or [[]]
    return st.sampled_from(groups).flatmap(lambda group: st.fixed_dictionaries(
        {name: from_schema(schema["properties"][name]) for name in [*schema["required"], *group]}))


@settings(max_examples=300, deadline=None)
@given(action=st.sampled_from(ACTIONS), payload=JSON)
def test_any_json_is_validated_or_refused_with_400(action, payload):
    try:
        validate(payload, action.schema)
    except ApiError as exc:
        assert exc.status == 400 and exc.code == "bad_request" and exc.detail


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_accepted_payloads_build_bodies_the_ledger_accepts(data):
    action = data.draw(st.sampled_from(ACTIONS))
    payload = data.draw(from_schema(action.schema))
    validate(payload, action.schema)
    try:
        body = action.build(payload, READER)
    except ApiError as exc:  # a card or address that does not exist
        assert 400 <= exc.status < 500
        return
    assert BODY_TYPES[body.KIND].from_list(body.to_list()) == body


@pytest.mark.parametrize("action, field", [(action, field) for action in ACTIONS
                                           for field in sorted(action.schema["properties"])],
                         ids=lambda value: getattr(value, "name", value))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_a_field_replaced_by_anything_is_refused_or_still_fine_for_the_ledger(action, field, data):
    payload = data.draw(from_schema(action.schema))
    payload[field] = data.draw(st.text(max_size=20) | st.integers() | JSON)
    try:
        validate(payload, action.schema)
        body = action.build(payload, READER)
    except ApiError as exc:
        assert 400 <= exc.status < 500
        return
    assert BODY_TYPES[body.KIND].from_list(body.to_list()) == body


def test_lone_surrogates_are_refused():
    settlement = next(action for action in ACTIONS if action.name == "settlements")
    try:
        validate({"to_place": "\ud800", "asset": "FED", "amount": 1}, settlement.schema)
    except ApiError as exc:
        assert "Unicode" in exc.detail
    else:
        raise AssertionError("a lone surrogate cannot be encoded in a transaction")
