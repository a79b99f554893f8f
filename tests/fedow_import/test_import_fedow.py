"""fedow-node import-fedow on a synthetic Fedow database: everything carried over, reconciled to the cent,
completed into a genesis a node starts from, and every row it cannot carry refused by name."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from fedow_fixture import Fixture, build_fixture

from config import load_genesis
from fedow_node.cli import main
from fedow_node.fedow_import import person_wallet_id
from wallet import queries
from wallet.genesis import genesis_state
from wallet.keys import SigningKey
from wallet.layout import card_wallet_id, place_wallet_id
from wallet.state import DictReader

TIME_MS = 1_767_225_600_000
PLACES = ("bar-du-coin", "cafe-culturel", "ferme-solidaire", "la-scene")
KEYS = {place: SigningKey(hashlib.sha256(place.encode()).digest()) for place in PLACES}
GOLDEN_SHA256 = "286053452aa67dab4c0009ddac9dd8922f7292ba2d09c369bf6da6103c873f89"
"""sha256 of the canonical draft genesis of the fixture (fixed UUIDs, keys and time), chain parameters left
out: they are the release's defaults, pinned by their own tests."""


@pytest.fixture
def fixture(tmp_path: Path) -> Fixture:
    return build_fixture(tmp_path / "fedow.sqlite3")


@pytest.fixture
def place_keys(tmp_path: Path) -> Path:
    path = tmp_path / "place-keys.json"
    path.write_text(json.dumps({place: key.public_key.hex() for place, key in KEYS.items()}))
    return path


def run_import(fixture: Fixture, out: Path, *extra: str) -> int:
    return main(["import-fedow", "--db", str(fixture.path), "--out", str(out), "--time-ms", str(TIME_MS), *extra])


def money(fixture: Fixture) -> dict[str, int]:
    return {name: total for name, total in fixture.sums.items() if name not in ("SUB", "BDG")}


def test_everything_is_carried_over_and_reconciles_to_the_cent(fixture: Fixture, place_keys: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "genesis.json"
    assert run_import(fixture, out, "--place-keys", str(place_keys)) == 0
    report = capsys.readouterr().out
    genesis = load_genesis(out, draft=True)
    assert genesis.chain_id == "festival-des-possibles" and genesis.genesis_time_ms == TIME_MS
    assert sorted(p.id for p in genesis.places) == list(PLACES)
    assert {p.id: p.public_key for p in genesis.places} == {p: k.public_key for p, k in KEYS.items()}
    ids = dict(zip(("FED", "TLF", "TNF", "TIM", "FID", "BDG", "SUB", "old"),
                   ("FED", "MLC", "BRP", "HEU", "PTS", "BDG", "ADH", "ANC")))
    assert sorted(a.id for a in genesis.assets) == sorted(ids.values())
    assert {a.id: a.category for a in genesis.assets}["ANC"] == "TLF"
    assert {a.id: a.origin_place for a in genesis.assets} == {
        "FED": None, "MLC": "bar-du-coin", "BRP": "cafe-culturel", "HEU": "la-scene", "PTS": "bar-du-coin",
        "BDG": "la-scene", "ADH": "cafe-culturel", "ANC": "ferme-solidaire"}
    (federation,) = genesis.federations
    assert federation.places == ("bar-du-coin", "cafe-culturel", "la-scene")
    assert federation.assets == ("ADH", "BDG", "FED", "MLC")
    for name, total in money(fixture).items():  # the reconciliation, to the cent
        carried = sum(b.amount for b in genesis.balances if b.asset == ids[name])
        assert carried == total, name
        assert f"fedow {total:>12}  genesis {total:>12}  equal" in report
    assert "ADH      SUB  fedow         2000  genesis            -  2 membership(s)" in report

    alice, bob = (person_wallet_id(fixture.ids[f"{who}_wallet"]) for who in ("alice", "bob"))
    cards = {card.number: card for card in genesis.cards}
    assert sorted(cards) == ["A1B2C3D4", "C1D2E3F4", "E5F6A7B8", "G5H6J7K8", "L9M0N1P2", "OPER0001"]
    assert cards["A1B2C3D4"].uid == bytes.fromhex("04a1b2c3") and cards["A1B2C3D4"].owner is None
    assert cards["C1D2E3F4"].owner == cards["G5H6J7K8"].owner == alice and cards["L9M0N1P2"].owner == bob
    assert cards["OPER0001"].primary_places == ("bar-du-coin", "cafe-culturel")
    assert cards["E5F6A7B8"].origin_place == "cafe-culturel"
    memberships = {(m.wallet, m.asset): m for m in genesis.memberships}
    assert memberships[(alice, "ADH")].start_ms == 1_736_931_600_000  # the latest of her two (2025-01-15 09:00)
    assert memberships[(alice, "ADH")].expiry_ms == 1_768_467_600_000  # one calendar year on
    anonymous = memberships[(card_wallet_id(bytes.fromhex("04d5e6f7")), "ADH")]
    assert anonymous.expiry_ms - anonymous.start_ms == 30 * 86_400_000  # 31 March + 1 month = 30 April


def test_the_completed_genesis_holds_the_cards_and_money_a_node_will_serve(fixture: Fixture, place_keys: Path,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "genesis.json"
    assert run_import(fixture, out, "--place-keys", str(place_keys)) == 0
    authority, treasury, validator = (SigningKey(bytes([n]) * 32) for n in (1, 2, 3))
    for command in (["add-authority", "--key", authority.public_key.hex()],
                    ["add-treasury-key", "--key", treasury.public_key.hex()],
                    ["add-validator", "--public-key", validator.public_key.hex(), "--place", "bar-du-coin",
                     "--stake", "100000"]):
        assert main(["genesis", command[0], str(out), *command[1:]]) == 0
    assert main(["genesis", "validate", str(out)]) == 0
    state = DictReader(genesis_state(load_genesis(out)))  # the ledger's own checks and invariants pass

    alice = person_wallet_id(fixture.ids["alice_wallet"])
    card = queries.card_by_number(state, "G5H6J7K8")
    assert card is not None and card.paying_wallet == alice and card.state == "active"
    assert {b.asset_id: b.balance.amount for b in queries.balances(state, alice)} == {"FED": 12_345, "HEU": 300, "PTS": 75}
    anonymous = queries.card(state, bytes.fromhex("04a1b2c3"))
    assert anonymous is not None and anonymous.paying_wallet == card_wallet_id(anonymous.uid)
    assert {b.asset_id: b.balance.amount for b in queries.balances(state, anonymous.wallet)} == {"FED": 4_550, "MLC": 1_200}
    assert {b.asset_id: b.balance.amount for b in queries.balances(state, place_wallet_id("bar-du-coin"))} == \
        {"FED": 38_010, "MLC": 800}
    assert queries.supply(state, "FED").minted == fixture.sums["FED"] + 100_000  # balances + the validator's stake
    assert queries.fed_backing(state).attested_minted == fixture.sums["FED"] + 100_000
    assert queries.membership(state, alice, "ADH") is not None
    assert queries.card_by_qr(state, card.qr_id) == card


def test_the_draft_genesis_is_pinned(fixture: Fixture, place_keys: Path, tmp_path: Path) -> None:
    out = tmp_path / "genesis.json"
    assert run_import(fixture, out, "--place-keys", str(place_keys)) == 0
    imported = {key: value for key, value in load_genesis(out, draft=True).to_dict().items() if key != "params"}
    canonical = json.dumps(imported, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert hashlib.sha256(canonical).hexdigest() == GOLDEN_SHA256


def test_missing_place_keys_are_made_once_or_refused(fixture: Fixture, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "genesis.json"
    assert run_import(fixture, out) == 1
    assert "no key for place 'bar-du-coin' (Bar du Coin)" in capsys.readouterr().err and not out.exists()
    keys = tmp_path / "keys"
    assert run_import(fixture, out, "--new-place-keys", str(keys)) == 0
    made = {path.stem: path.read_bytes() for path in keys.iterdir()}
    assert sorted(made) == list(PLACES)
    assert run_import(fixture, out, "--new-place-keys", str(keys), "--force") == 0
    assert {path.stem: path.read_bytes() for path in keys.iterdir()} == made  # a rerun keeps them


def _break(fixture: Fixture, sql: str, *params: object) -> None:
    with closing(sqlite3.connect(fixture.path)) as db:
        db.execute(sql, params)
        db.commit()


@pytest.mark.parametrize("damage, row, reason", [
    ("UPDATE fedow_core_token SET value = -5 WHERE uuid = ?", "t_bob_fed", "value -5 is not a balance in cents"),
    ("UPDATE fedow_core_asset SET category = 'XYZ' WHERE uuid = ?", "TIM", "unknown category 'XYZ'"),
    ("UPDATE fedow_core_card SET first_tag_id = '04a1b2c3' WHERE uuid = ?", "card_anon2",
     "same tag as card"),
    ("UPDATE fedow_core_token SET value = 700 WHERE uuid = ?", "t_primary_fed", "held by the primary wallet"),
    ("UPDATE fedow_core_transaction SET subscription_type = 'Q' WHERE uuid = ?", "sub_alice",
     "unknown subscription_type 'Q'"),
    ("UPDATE fedow_core_card SET number_printed = 'abc' WHERE uuid = ?", "card_bob", "number_printed 'abc'"),
])
def test_what_cannot_be_carried_is_refused_by_row_and_nothing_is_written(
        fixture: Fixture, place_keys: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        damage: str, row: str, reason: str) -> None:
    _break(fixture, damage, fixture.ids[row])
    out = tmp_path / "genesis.json"
    assert run_import(fixture, out, "--place-keys", str(place_keys)) == 1
    err = capsys.readouterr().err
    assert "nothing written" in err and not out.exists()
    (line,) = [line for line in err.splitlines() if fixture.ids[row] in line]
    assert reason in line


def test_several_problems_are_all_named_at_once(fixture: Fixture, place_keys: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _break(fixture, "UPDATE fedow_core_token SET value = -1 WHERE uuid = ?", fixture.ids["t_alice_fed"])
    _break(fixture, "UPDATE fedow_core_token SET value = -2 WHERE uuid = ?", fixture.ids["t_bar_fed"])
    assert run_import(fixture, tmp_path / "genesis.json", "--place-keys", str(place_keys)) == 1
    err = capsys.readouterr().err
    assert fixture.ids["t_alice_fed"] in err and fixture.ids["t_bar_fed"] in err


def test_a_file_that_is_not_fedow_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE t (x)")
    assert main(["import-fedow", "--db", str(other), "--out", str(tmp_path / "g.json")]) == 1
    assert "fedow_core_token: table missing" in capsys.readouterr().err
