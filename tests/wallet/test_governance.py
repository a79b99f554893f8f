"""Governance by authority keys: places, assets, federations, validators, parameters."""

from __future__ import annotations

import pytest
from ledger_world import ALICE, AUTHORITY, BAR, CAFE, Chain, card_uid, card_wallet, key, rejected_code

from wallet import layout
from wallet.params import LedgerParams
from wallet.records import Asset, Federation, Place
from wallet.state import read_one

NEW_PLACE = key("new-place")


@pytest.fixture
def chain() -> Chain:
    return Chain.start()


def test_every_governance_kind_needs_an_authority(chain: Chain) -> None:
    for kind, fields in [("create_place", ("shop", "Shop", NEW_PLACE.public_key)), ("archive_place", ("bar",)),
                         ("create_asset", ("SHOP", "Shop", "TNF", "bar", False)), ("archive_asset", ("BARCOIN",)),
                         ("create_federation", ("north", "North")), ("federation_place", ("festival", "bar", False)),
                         ("federation_asset", ("festival", "FED", False)),
                         ("admit_validator", (ALICE.public_key, "bar")),
                         ("remove_validator", (ALICE.public_key,)),
                         ("set_params", ([["tx_ttl_blocks", 5]],)),
                         ("fund_payout", ("common", "FED", ALICE.public_key, 1))]:
        assert rejected_code(chain, chain.tx(BAR, kind, *fields)) == "not_authority", kind


def test_create_place_with_wallet_and_key(chain: Chain) -> None:
    chain.block(chain.tx(AUTHORITY, "create_place", "shop", "Shop", NEW_PLACE.public_key))
    place = read_one(chain.state, layout.place("shop"), Place)
    assert place is not None and place.wallet == layout.place_wallet_id("shop") and not place.archived
    assert rejected_code(chain, chain.tx(AUTHORITY, "create_place", "shop", "X", key("x").public_key)) \
        == "duplicate_place"
    assert rejected_code(chain, chain.tx(AUTHORITY, "create_place", "shop2", "X", BAR.public_key)) == "duplicate_key"


def test_archived_place_key_stops_working(chain: Chain) -> None:
    chain.register(1)
    chain.block(chain.tx(AUTHORITY, "archive_place", "cafe"))
    assert rejected_code(chain, chain.tx(CAFE, "sale", card_uid(1), "FED", 1)) == "not_place"
    assert rejected_code(chain, chain.tx(ALICE, "qr_sale", "cafe", "FED", 1)) == "archived_place"


def test_create_and_archive_asset(chain: Chain) -> None:
    chain.block(chain.tx(AUTHORITY, "create_asset", "SHOP", "Shop voucher", "TNF", "cafe", False))
    asset = read_one(chain.state, layout.asset("SHOP"), Asset)
    assert asset == Asset("SHOP", "Shop voucher", "TNF", "cafe", False, False)
    assert rejected_code(chain, chain.tx(AUTHORITY, "create_asset", "SHOP", "x", "TNF", "cafe", False)) \
        == "duplicate_asset"
    assert rejected_code(chain, chain.tx(AUTHORITY, "create_asset", "EUR2", "x", "FED", None, False)) \
        == "duplicate_fed"
    assert rejected_code(chain, chain.tx(AUTHORITY, "create_asset", "X", "x", "TNF", None, False)) == "bad_field"
    assert rejected_code(chain, chain.tx(AUTHORITY, "create_asset", "X", "x", "TNF", "nowhere", False)) \
        == "unknown_place"
    assert rejected_code(chain, chain.tx(AUTHORITY, "archive_asset", "FED")) == "archive_fed"
    chain.block(chain.tx(AUTHORITY, "archive_asset", "SHOP"))
    assert rejected_code(chain, chain.tx(AUTHORITY, "archive_asset", "SHOP")) == "archived_asset"


def test_federation_membership_decides_acceptance(chain: Chain) -> None:
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "BARCOIN", 100))
    assert rejected_code(chain, chain.tx(CAFE, "sale", card_uid(1), "BARCOIN", 10)) == "asset_not_accepted"
    chain.block(chain.tx(AUTHORITY, "create_federation", "north", "North"),
                chain.tx(AUTHORITY, "federation_place", "north", "cafe", True),
                chain.tx(AUTHORITY, "federation_asset", "north", "BARCOIN", True))
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "BARCOIN", 10))
    federation = read_one(chain.state, layout.federation("north"), Federation)
    assert federation == Federation("north", "North", ("cafe",), ("BARCOIN",))
    place = read_one(chain.state, layout.place("cafe"), Place)
    assert place is not None and place.federations == ("festival", "north")
    assert rejected_code(chain, chain.tx(AUTHORITY, "federation_place", "north", "cafe", True)) == "no_change"
    assert rejected_code(chain, chain.tx(AUTHORITY, "federation_asset", "south", "FED", True)) \
        == "unknown_federation"
    assert rejected_code(chain, chain.tx(AUTHORITY, "create_federation", "north", "N")) == "duplicate_federation"
    chain.block(chain.tx(AUTHORITY, "federation_place", "north", "cafe", False))
    assert rejected_code(chain, chain.tx(CAFE, "sale", card_uid(1), "BARCOIN", 10)) == "asset_not_accepted"


def test_set_params_changes_rules_and_is_checked(chain: Chain) -> None:
    chain.block(chain.tx(AUTHORITY, "set_params", [["tx_ttl_blocks", 3]]))
    params = read_one(chain.state, layout.PARAMS, LedgerParams)
    assert params is not None and params.tx_ttl_blocks == 3
    assert rejected_code(chain, chain.tx(ALICE, "transfer", key("z").public_key, "FED", 1, expires_in=4)) \
        == "expiry_too_far"
    assert rejected_code(chain, chain.tx(AUTHORITY, "set_params", [["nope", 1]], expires_in=2)) == "bad_params"
    assert rejected_code(chain, chain.tx(AUTHORITY, "set_params", [["demurrage_share_dev_ppm", 1]], expires_in=2)) \
        == "bad_params"
    for change in (["max_tx_bytes", 0], ["timeout_cap_ms", 1], ["max_tx_bytes", 10**9], ["demurrage_rate_ppm", 10**6 + 1]):
        assert rejected_code(chain, chain.tx(AUTHORITY, "set_params", [change], expires_in=2)) == "bad_params"
