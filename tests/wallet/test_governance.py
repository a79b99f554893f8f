"""Governance by a threshold of authority keys: places, assets, federations, validators, parameters, key sets."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_world import (ALICE, AUTHORITIES, BAR, BAR_WALLET, CAFE, CAFE_WALLET, CHAIN, FLOAT, MAX_TX, VAL2,
                          Chain, card_uid, card_wallet, key, rejected_code)

from wallet import layout
from wallet.bodies import BODY_TYPES
from wallet.codec import pack
from wallet.errors import BlockTxRejected, Rejected
from wallet.execute import execute_block
from wallet.invariants import check_full
from wallet.keys import SigningKey
from wallet.params import LedgerParams
from wallet.records import Asset, Federation, KeySet, Place
from wallet.state import read_one
from wallet.tx import TX_DOMAIN, decode_tx

NEW_PLACE = key("new-place")


@pytest.fixture
def chain() -> Chain:
    return Chain.start()


GOVERNANCE = [("create_place", ("shop", "Shop", NEW_PLACE.public_key)), ("archive_place", ("cafe", [])),
              ("replace_place_key", ("bar", NEW_PLACE.public_key)),
              ("set_keys", ("authority", sorted([ALICE.public_key, BAR.public_key]), 1)),
              ("create_asset", ("SHOP", "Shop", "TNF", "bar", False)), ("archive_asset", ("BARCOIN",)),
              ("create_federation", ("north", "North")), ("federation_place", ("festival", "bar", False)),
              ("federation_asset", ("festival", "FED", False)),
              ("admit_validator", (ALICE.public_key, "bar")),
              ("remove_validator", (VAL2.public_key,)),
              ("set_params", ([["tx_ttl_blocks", 5]],)),
              ("fund_payout", ("common", "FED", ALICE.public_key, 1))]
GOVERNANCE_IDS = [kind for kind, _fields in GOVERNANCE]
ONE, TWO, THREE = AUTHORITIES


def single_signed(signer: SigningKey, kind: str, fields: tuple[Any, ...]) -> bytes:
    """A version 1 envelope of a governance kind: the single-authority path that no longer exists."""
    body = BODY_TYPES[kind].from_list(list(fields)).to_list()
    unsigned = pack([1, kind, signer.public_key, b"\1" * 16, 5, body])
    return pack([1, kind, signer.public_key, b"\1" * 16, 5, body, signer.sign(TX_DOMAIN, CHAIN, unsigned)])


@pytest.mark.parametrize("kind, fields", GOVERNANCE, ids=GOVERNANCE_IDS)
def test_a_single_authority_cannot_govern(chain: Chain, kind: str, fields: tuple[Any, ...]) -> None:
    """One authority key: refused as a version 1 envelope, and below the threshold when co-signed alone."""
    with pytest.raises(Rejected) as caught:
        decode_tx(single_signed(ONE, kind, fields), MAX_TX)
    assert caught.value.code == "bad_version"
    chain.block(slash=(VAL2.public_key,))  # the common fund gets slashed stake, for fund_payout
    for alone in AUTHORITIES:
        assert rejected_code(chain, chain.cosigned((alone,), kind, *fields)) == "below_threshold", kind
    chain.block(chain.cosigned((ONE, THREE), kind, *fields))  # any two of the three may act


@pytest.mark.parametrize("kind, fields", GOVERNANCE, ids=GOVERNANCE_IDS)
def test_a_stranger_among_the_signers_is_refused(chain: Chain, kind: str, fields: tuple[Any, ...]) -> None:
    assert rejected_code(chain, chain.cosigned((ONE, TWO, BAR), kind, *fields)) == "not_authority"
    assert rejected_code(chain, chain.cosigned((ONE, key("stranger")), kind, *fields)) == "not_authority"


def test_a_repeated_signer_is_refused_before_any_state_is_read(chain: Chain) -> None:
    tx = chain.cosigned((ONE,), "create_federation", "north", "North")
    (pair,) = tx.signatures
    repeated = pack([2, tx.kind, tx.nonce, tx.expires_at, tx.body.to_list(), [list(pair), list(pair)]])
    with pytest.raises(Rejected) as caught:
        decode_tx(repeated, MAX_TX)
    assert caught.value.code == "duplicate_signer"


def test_a_signature_over_another_body_does_not_count(chain: Chain) -> None:
    """Signatures over "create north" pasted onto "create south": the block is invalid, nothing changes."""
    signed = chain.govern("create_federation", "north", "North")
    forged = decode_tx(pack([2, signed.kind, signed.nonce, signed.expires_at, ["south", "South"],
                             [list(pair) for pair in signed.signatures]]), MAX_TX)
    assert not forged.verify_signature(CHAIN)
    before = chain.state.snapshot()
    with pytest.raises(BlockTxRejected) as caught:
        execute_block(chain.state, chain.ctx(), [forged])
    assert caught.value.code == "bad_signature" and chain.state.snapshot() == before


def test_the_authorities_change_themselves_by_their_threshold(chain: Chain) -> None:
    new_set = tuple(sorted((ONE, key("authority-4")), key=lambda k: k.public_key))
    chain.block(chain.govern("set_keys", "authority", [k.public_key for k in new_set], 2))
    assert read_one(chain.state, layout.key_set("authority"), KeySet) == KeySet(tuple(k.public_key for k in new_set), 2)
    assert rejected_code(chain, chain.govern("create_federation", "north", "North")) == "not_authority"
    chain.block(chain.cosigned(new_set, "create_federation", "north", "North"))
    assert rejected_code(chain, chain.cosigned(new_set, "set_keys", "authority", [ONE.public_key], 2)) \
        == "bad_key_set"
    with pytest.raises(Rejected) as caught:  # one encoding per set: sorted, distinct keys
        chain.cosigned(new_set, "set_keys", "authority", [k.public_key for k in reversed(new_set)], 1)
    assert caught.value.code == "bad_field"


def test_archiving_a_place_that_holds_money_needs_a_destination_for_each_asset(chain: Chain) -> None:
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 700),
                chain.tx(BAR, "cash_refill", card_wallet(1), "BARCOIN", 50))
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "FED", 300))
    chain.block(chain.govern("federation_asset", "festival", "BARCOIN", True))
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "BARCOIN", 20))
    assert rejected_code(chain, chain.govern("archive_place", "cafe", [])) == "place_not_empty"
    assert rejected_code(chain, chain.govern("archive_place", "cafe", [["FED", "bar"]])) == "place_not_empty"
    assert rejected_code(chain, chain.govern("archive_place", "cafe", [["FED", "bar"], ["BARCOIN", "cafe"]])) \
        == "bad_destination"
    assert rejected_code(chain, chain.govern("archive_place", "cafe", [["FED", "bar"], ["BARCOIN", BAR_WALLET]])) \
        == "place_wallet"
    chain.block(chain.govern("archive_place", "cafe", [["FED", "bar"], ["BARCOIN", ALICE.public_key]]))
    assert chain.balance(CAFE_WALLET, "FED") == 0 and chain.balance(CAFE_WALLET, "BARCOIN") == 0
    assert chain.balance(BAR_WALLET, "FED") == FLOAT - 700 + 300  # its float, less the cash refill, plus the café's
    assert chain.balance(ALICE.public_key, "BARCOIN") == 20
    check_full(chain.state)


def test_a_place_rotates_its_own_key_and_the_authorities_replace_a_lost_one(chain: Chain) -> None:
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 100))
    assert rejected_code(chain, chain.tx(CAFE, "rotate_place_key", "bar", NEW_PLACE.public_key)) == "wrong_signer"
    assert rejected_code(chain, chain.tx(ALICE, "rotate_place_key", "bar", NEW_PLACE.public_key)) == "wrong_signer"
    assert rejected_code(chain, chain.tx(BAR, "rotate_place_key", "bar", CAFE.public_key)) == "duplicate_key"
    chain.block(chain.tx(BAR, "rotate_place_key", "bar", NEW_PLACE.public_key))
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "FED", 1)) == "not_place"
    chain.block(chain.tx(NEW_PLACE, "sale", card_uid(1), "FED", 1))
    lost_again = key("bar-3")
    assert rejected_code(chain, chain.cosigned((TWO,), "replace_place_key", "bar", lost_again.public_key)) \
        == "below_threshold"
    chain.block(chain.govern("replace_place_key", "bar", lost_again.public_key))
    assert rejected_code(chain, chain.tx(NEW_PLACE, "sale", card_uid(1), "FED", 1)) == "not_place"
    chain.block(chain.tx(lost_again, "sale", card_uid(1), "FED", 1))
    place = read_one(chain.state, layout.place("bar"), Place)
    assert place is not None and place.public_key == lost_again.public_key


def test_create_place_with_wallet_and_key(chain: Chain) -> None:
    chain.block(chain.govern("create_place", "shop", "Shop", NEW_PLACE.public_key))
    place = read_one(chain.state, layout.place("shop"), Place)
    assert place is not None and place.wallet == layout.place_wallet_id("shop") and not place.archived
    assert rejected_code(chain, chain.govern("create_place", "shop", "X", key("x").public_key)) \
        == "duplicate_place"
    assert rejected_code(chain, chain.govern("create_place", "shop2", "X", BAR.public_key)) == "duplicate_key"


def test_archived_place_key_stops_working(chain: Chain) -> None:
    chain.register(1)
    chain.block(chain.govern("archive_place", "cafe", []))
    assert rejected_code(chain, chain.tx(CAFE, "sale", card_uid(1), "FED", 1)) == "not_place"
    assert rejected_code(chain, chain.tx(ALICE, "qr_sale", "cafe", "FED", 1)) == "archived_place"


def test_create_and_archive_asset(chain: Chain) -> None:
    chain.block(chain.govern("create_asset", "SHOP", "Shop voucher", "TNF", "cafe", False))
    asset = read_one(chain.state, layout.asset("SHOP"), Asset)
    assert asset == Asset("SHOP", "Shop voucher", "TNF", "cafe", False, False)
    assert rejected_code(chain, chain.govern("create_asset", "SHOP", "x", "TNF", "cafe", False)) \
        == "duplicate_asset"
    assert rejected_code(chain, chain.govern("create_asset", "EUR2", "x", "FED", None, False)) \
        == "duplicate_fed"
    assert rejected_code(chain, chain.govern("create_asset", "X", "x", "TNF", None, False)) == "bad_field"
    assert rejected_code(chain, chain.govern("create_asset", "X", "x", "TNF", "nowhere", False)) \
        == "unknown_place"
    assert rejected_code(chain, chain.govern("archive_asset", "FED")) == "archive_fed"
    chain.block(chain.govern("archive_asset", "SHOP"))
    assert rejected_code(chain, chain.govern("archive_asset", "SHOP")) == "archived_asset"


def test_federation_membership_decides_acceptance(chain: Chain) -> None:
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "BARCOIN", 100))
    assert rejected_code(chain, chain.tx(CAFE, "sale", card_uid(1), "BARCOIN", 10)) == "asset_not_accepted"
    chain.block(chain.govern("create_federation", "north", "North"),
                chain.govern("federation_place", "north", "cafe", True),
                chain.govern("federation_asset", "north", "BARCOIN", True))
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "BARCOIN", 10))
    federation = read_one(chain.state, layout.federation("north"), Federation)
    assert federation == Federation("north", "North", ("cafe",), ("BARCOIN",))
    place = read_one(chain.state, layout.place("cafe"), Place)
    assert place is not None and place.federations == ("festival", "north")
    assert rejected_code(chain, chain.govern("federation_place", "north", "cafe", True)) == "no_change"
    assert rejected_code(chain, chain.govern("federation_asset", "south", "FED", True)) \
        == "unknown_federation"
    assert rejected_code(chain, chain.govern("create_federation", "north", "N")) == "duplicate_federation"
    chain.block(chain.govern("federation_place", "north", "cafe", False))
    assert rejected_code(chain, chain.tx(CAFE, "sale", card_uid(1), "BARCOIN", 10)) == "asset_not_accepted"


def test_set_params_changes_rules_and_is_checked(chain: Chain) -> None:
    chain.block(chain.govern("set_params", [["tx_ttl_blocks", 3]]))
    params = read_one(chain.state, layout.PARAMS, LedgerParams)
    assert params is not None and params.tx_ttl_blocks == 3
    assert rejected_code(chain, chain.tx(ALICE, "transfer", key("z").public_key, "FED", 1, expires_in=4)) \
        == "expiry_too_far"
    assert rejected_code(chain, chain.govern("set_params", [["nope", 1]], expires_in=2)) == "bad_params"
    assert rejected_code(chain, chain.govern("set_params", [["demurrage_share_dev_ppm", 1]], expires_in=2)) \
        == "bad_params"
    for change in (["max_tx_bytes", 0], ["timeout_cap_ms", 1], ["max_tx_bytes", 10**9], ["demurrage_rate_ppm", 10**6 + 1]):
        assert rejected_code(chain, chain.govern("set_params", [change], expires_in=2)) == "bad_params"
