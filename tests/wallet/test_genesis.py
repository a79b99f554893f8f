"""Genesis: state from the parsed document, invariants from height 0, refusal of inconsistent input."""

from __future__ import annotations

import pytest
from ledger_world import ALICE, AUTHORITY, BAR, CAFE, FLOAT, TREASURY, VAL1, VAL2, genesis_doc

from wallet import layout
from wallet.errors import Rejected
from wallet.genesis import genesis_state
from wallet.invariants import check_full
from wallet.records import FedBacking, KeySet, Supply
from wallet.state import DictReader, read_one
from wallet.validators import validator_set


def test_genesis_fed_counts_as_attested_by_the_genesis() -> None:
    state = DictReader(genesis_state(genesis_doc()))
    check_full(state)
    total = 450_000 + FLOAT  # stakes + Alice + the bar's float
    assert read_one(state, layout.FED_BACKING, FedBacking) == FedBacking(total, 0)
    assert read_one(state, layout.supply("FED"), Supply) == Supply(total, 0, total)
    assert read_one(state, layout.key_set("treasury"), KeySet) == \
        KeySet(tuple(sorted(k.public_key for k in TREASURY)), 2)
    assert state.get(layout.payment_ref("genesis")) is not None
    assert validator_set(state, 1) == sorted([(VAL1.public_key, 300_000), (VAL2.public_key, 100_000)])


def test_genesis_from_the_config_parser() -> None:
    from config.genesis import parse_genesis
    from config.params import ChainParams
    document = {
        "chain_id": "fedow-devnet", "genesis_time_ms": 1767225600000,
        "authorities": [AUTHORITY.public_key.hex()], "authority_threshold": 1, "params": ChainParams.devnet().to_dict(),
        "treasury": [TREASURY[0].public_key.hex()], "treasury_threshold": 1,
        "assets": [{"id": "FED", "name": "Euro", "category": "FED", "origin_place": None, "melting": False},
                   {"id": "TLF-BAR", "name": "Bar", "category": "TLF", "origin_place": "bar", "melting": True}],
        "places": [{"id": "bar", "name": "Bar", "public_key": BAR.public_key.hex()},
                   {"id": "cafe", "name": "Café", "public_key": CAFE.public_key.hex()}],
        "federations": [{"id": "festival", "name": "Festival", "places": ["bar", "cafe"],
                         "assets": ["FED", "TLF-BAR"]}],
        "validators": [{"public_key": VAL1.public_key.hex(), "place": "bar", "stake": 1000}],
        "balances": [{"owner": ALICE.public_key.hex(), "asset": "TLF-BAR", "amount": 70}],
    }
    state = DictReader(genesis_state(parse_genesis(document)))
    check_full(state)
    assert validator_set(state, 2) == [(VAL1.public_key, 1000)]


@pytest.mark.parametrize("mutate, code", [
    (lambda doc: doc.assets.pop(0), "bad_genesis"),                                  # no FED
    (lambda doc: doc.validators.append(doc.validators[0]), "bad_genesis"),           # twice
    (lambda doc: setattr(doc.validators[0], "place", "nowhere"), "unknown_place"),
    (lambda doc: doc.places.append(doc.places[0]), "duplicate_place"),
    (lambda doc: setattr(doc.params, "demurrage_share_dev_ppm", 5), "bad_params"),
    (lambda doc: setattr(doc, "treasury_threshold", 4), "bad_genesis"),            # 4 of 3 treasury keys
    (lambda doc: setattr(doc, "treasury", []), "bad_genesis"),                       # nobody could mint
])
def test_inconsistent_genesis_is_refused(mutate, code) -> None:  # type: ignore[no-untyped-def]
    doc = genesis_doc()
    mutate(doc)
    with pytest.raises(Rejected) as caught:
        genesis_state(doc)
    assert caught.value.code == code
