"""Genesis document: typed parsing, round trips, canonical bytes, and every validation rule."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import ChainParams, ConfigError, load_genesis, parse_genesis
from genesis_samples import KEYS, sample_genesis

GOLDEN_SHA256 = "8e39619269dbc6be748d9ca3fab877db39deb87128da365f4a1e3f9c1b66bd8e"
"""Changed deliberately with the genesis format (last: the chain parameters gained offline_bond_notice_ms)."""
SMALL_ORDER_POINT = "01" + "00" * 31
"""The identity point: 32 bytes that PyNaCl's VerifyKey takes but libsodium's point check refuses."""


def test_sample_parses_into_typed_specs() -> None:
    doc = parse_genesis(sample_genesis())
    assert doc.chain_id == "fedow-devnet"
    assert doc.params == ChainParams.devnet()
    assert doc.authorities == (bytes.fromhex(KEYS[0]),)
    assert doc.treasury == (bytes.fromhex(KEYS[5]), bytes.fromhex(KEYS[6])) and doc.treasury_threshold == 2
    assert doc.places[0].public_key == bytes.fromhex(KEYS[1])
    assert doc.federations[0].places == ("bar-du-coin", "la-scene")
    assert doc.validators[1].stake == 50000
    assert doc.balances[0].owner == b"\xab" * 32
    assert doc.assets[1].origin_place == "bar-du-coin" and doc.assets[1].melting is True


def test_to_json_parses_back_equal() -> None:
    doc = parse_genesis(sample_genesis())
    assert parse_genesis(json.loads(doc.to_json())) == doc


def test_canonical_bytes_are_sorted_compact_and_independent_of_input_key_order() -> None:
    data = sample_genesis()
    reordered = json.loads(json.dumps(data, sort_keys=True))
    reordered = {key: reordered[key] for key in reversed(list(reordered))}
    canonical = parse_genesis(data).canonical_bytes()
    assert canonical == parse_genesis(reordered).canonical_bytes()
    assert canonical == json.dumps(json.loads(canonical), sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=False).encode()
    assert canonical.startswith(b'{"assets":[{"category":"FED","id":"FED","melting":false,"name":"Euro f\xc3\xa9d')


def test_canonical_bytes_are_pinned() -> None:
    """A change here changes every chain's genesis hash: it must be deliberate."""
    canonical = parse_genesis(sample_genesis()).canonical_bytes()
    assert hashlib.sha256(canonical).hexdigest() == GOLDEN_SHA256


def test_balances_are_optional() -> None:
    data = sample_genesis()
    del data["balances"]
    assert parse_genesis(data).balances == ()


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A mutation that sets ``a.b[2].c`` style ``path`` in the document."""
    def mutate(doc: dict) -> None:
        *parents, last = path.replace("[", ".").replace("]", "").split(".")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return mutate


def _append(section: str, entry_from: Callable[[dict], Any]) -> Callable[[dict], None]:
    def mutate(doc: dict) -> None:
        doc[section].append(entry_from(doc))
    return mutate


def _delete(key: str) -> Callable[[dict], None]:
    return lambda doc: doc.pop(key)


CASES = [
    (_set("chain_id", "Fedow"), "chain_id", "does not have the form"),
    (_set("chain_id", "-x"), "chain_id", "does not have the form"),
    (_set("chain_id", 7), "chain_id", "must be a string"),
    (_set("genesis_time_ms", -1), "genesis_time_ms", "between 0 and"),
    (_set("genesis_time_ms", "now"), "genesis_time_ms", "must be an integer"),
    (_set("places[1].public_key", "abc"), "places[1].public_key", "not 64 lower-case hex characters"),
    (_set("places[1].public_key", KEYS[2].upper()), "places[1].public_key", "not 64 lower-case hex"),
    (_set("places[1].public_key", SMALL_ORDER_POINT), "places[1].public_key", "not a valid Ed25519 public key"),
    (_set("authorities[0]", "ff" * 32), "authorities[0]", "not a valid Ed25519 public key"),
    (_set("validators[0].public_key", None), "validators[0].public_key", "not 64 lower-case hex"),
    (_set("places[0].name", ""), "places[0].name", "1 to 100 characters"),
    (_set("places[0].name", "bar\n"), "places[0].name", "control characters"),
    (_set("places[0].id", "Bar du coin"), "places[0].id", "does not have the form"),
    (_set("places[0].colour", "red"), "places[0].colour", "unknown key"),
    (_delete("validators"), "validators", "missing"),
    (_set("surprise", 1), "surprise", "unknown key"),
    (_set("assets[1].category", "EUR"), "assets[1].category", "is not one of FED TLF"),
    (_set("assets[1].id", "tlf"), "assets[1].id", "does not have the form"),
    (_set("assets[1].melting", "yes"), "assets[1].melting", "true or false"),
    (_set("assets[1].origin_place", "nowhere"), "assets[1].origin_place", "no place has id 'nowhere'"),
    (_set("assets[0].origin_place", "bar-du-coin"), "assets[0].origin_place", "must be null"),
    (_set("assets[1].category", "FED"), "assets", "exactly one asset of category FED, holds 2"),
    (_set("assets[0].category", "TNF"), "assets", "exactly one asset of category FED, holds 0"),
    (_append("assets", lambda d: dict(d["assets"][1])), "assets[2].id", "duplicate TLF-BAR"),
    (_append("places", lambda d: {**d["places"][0], "id": "autre"}), "places[2].public_key", "duplicate"),
    (_append("places", lambda d: {**d["places"][0], "public_key": KEYS[0]}), "places[2].id", "duplicate bar-du-coin"),
    (_append("authorities", lambda d: d["authorities"][0]), "authorities[1]", "duplicate"),
    (_append("validators", lambda d: dict(d["validators"][0])), "validators[2].public_key", "duplicate"),
    (_append("federations", lambda d: dict(d["federations"][0])), "federations[1].id", "duplicate festival"),
    (_append("balances", lambda d: dict(d["balances"][0])), "balances[1]", "duplicate"),
    (_set("federations[0].places", ["bar-du-coin", "ailleurs"]), "federations[0].places[1]", "no place has id 'ailleurs'"),
    (_set("federations[0].places", ["la-scene", "la-scene"]), "federations[0].places[1]", "duplicate la-scene"),
    (_set("federations[0].places", []), "federations[0].places", "at least one place"),
    (_set("federations[0].assets", ["FED", "XYZ"]), "federations[0].assets[1]", "no asset has id 'XYZ'"),
    (_set("federations[0].assets", "FED"), "federations[0].assets", "must be a list"),
    (_set("validators[1].place", "ailleurs"), "validators[1].place", "no place has id 'ailleurs'"),
    (_set("validators[1].stake", 0), "validators[1].stake", "between 1 and 1000000000000"),
    (_set("validators[1].stake", 10**12 + 1), "validators[1].stake", "between 1 and"),
    (_set("validators[1].stake", 5.0), "validators[1].stake", "must be an integer"),
    (_set("params.min_validator_stake", 60000), "validators[1].stake", "below params.min_validator_stake"),
    (_set("params.timeout_cap_ms", 1), "params.timeout_cap_ms", "must be >= timeout_propose_ms"),
    (_set("params.colour", 1), "params.colour", "unknown parameter"),
    (_set("params", []), "params", "must be an object"),
    (_set("balances[0].asset", "XYZ"), "balances[0].asset", "no asset has id 'XYZ'"),
    (_set("balances[0].amount", 0), "balances[0].amount", "between 1 and"),
    (_set("balances[0].owner", "ab"), "balances[0].owner", "not 64 lower-case hex"),
    (_set("authorities", []), "authorities", "at least one key"),
    (_delete("authority_threshold"), "authority_threshold", "missing"),
    (_set("authority_threshold", 0), "authority_threshold", "between 1 and 16"),
    (_set("authority_threshold", 2), "authority_threshold", "2 signatures needed but authorities holds only 1"),
    (_set("authority_threshold", True), "authority_threshold", "must be an integer"),
    (_set("treasury", []), "treasury", "at least one key"),
    (_append("treasury", lambda d: d["treasury"][0]), "treasury[2]", "duplicate"),
    (_delete("treasury_threshold"), "treasury_threshold", "missing"),
    (_set("treasury_threshold", 3), "treasury_threshold", "3 signatures needed but treasury holds only 2"),
    (_set("treasury_threshold", 0), "treasury_threshold", "between 1 and 16"),
    (_set("validators", []), "validators", "at least one validator"),
]


@pytest.mark.parametrize(("mutate", "where", "reason"), CASES,
                         ids=[f"{where}:{reason}" for _, where, reason in CASES])
def test_each_rule_is_enforced_with_path_and_reason(mutate: Callable[[dict], None], where: str, reason: str) -> None:
    data = sample_genesis()
    mutate(data)
    with pytest.raises(ConfigError) as caught:
        parse_genesis(data)
    assert caught.value.code == "bad_genesis"
    assert any(problem.where == where and reason in problem.reason for problem in caught.value.problems), \
        caught.value


def test_several_problems_are_reported_at_once() -> None:
    data = sample_genesis()
    data["places"][0]["public_key"] = "zz"
    data["chain_id"] = "X"
    data["validators"][0]["stake"] = -5
    with pytest.raises(ConfigError) as caught:
        parse_genesis(data)
    assert {problem.where for problem in caught.value.problems} == {
        "chain_id", "places[0].public_key", "validators[0].stake"}


def test_a_draft_may_lack_authorities_and_validators_but_nothing_else() -> None:
    data = sample_genesis()
    data["authorities"], data["validators"] = [], []
    assert parse_genesis(data, draft=True).validators == ()
    data["balances"][0]["asset"] = "XYZ"
    with pytest.raises(ConfigError, match="balances.0..asset"):
        parse_genesis(data, draft=True)


def test_not_an_object() -> None:
    with pytest.raises(ConfigError, match=r"\(document\): must be an object, got a list"):
        parse_genesis([])


def test_load_genesis_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "genesis.json"
    path.write_text(json.dumps(sample_genesis()), encoding="utf-8")
    assert load_genesis(path) == parse_genesis(sample_genesis())


@pytest.mark.parametrize(("text", "reason"), [
    ('{"chain_id": "a", "chain_id": "b"}', "duplicate key 'chain_id'"),
    ('{"genesis_time_ms": 1.5}', "1.5 is not an integer"),
    ('{"genesis_time_ms": NaN}', "NaN is not an integer"),
    ('{"chain_id": ', "not valid JSON"),
    ("[" * 100_000, "not valid JSON"),
])
def test_load_genesis_refuses_ambiguous_json(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "genesis.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=reason) as caught:
        load_genesis(path)
    assert caught.value.problems[0].where == str(path)


def test_load_genesis_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_genesis(tmp_path / "absent.json")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indexes) inside a decoded JSON value."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    return [prefix] + [path for key, child in children for path in _paths(child, prefix + (key,))]


@settings(max_examples=300, deadline=None)
@given(st.data(), JSON_VALUES)
def test_any_replaced_value_is_accepted_or_refused_with_named_problems(data: st.DataObject, value: Any) -> None:
    document = sample_genesis()
    path = data.draw(st.sampled_from(_paths(document)[1:]))
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        doc = parse_genesis(document)
    except ConfigError as exc:
        assert exc.problems and all(problem.where and problem.reason for problem in exc.problems)
    else:
        assert parse_genesis(json.loads(doc.to_json())) == doc


def test_the_genesis_chooses_whether_fed_melts() -> None:
    """Melting FED is moved (to the card's place, the funds, the validators), never burnt: the backing holds."""
    data = sample_genesis()
    data["assets"][0]["melting"] = True
    assert parse_genesis(data).assets[0].melting is True
