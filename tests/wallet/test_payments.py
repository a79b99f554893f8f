"""Cash refills, sales, transfers, settlements and cash refunds: success and each rejection.

FED in and out with the treasury: test_treasury.py."""

from __future__ import annotations

import pytest
from ledger_world import (ALICE, AUTHORITY, BAR, BAR_WALLET, BOB, CAFE, CAFE_WALLET, FLOAT, Chain, card_uid,
                          card_wallet, rejected_code)

from wallet.invariants import check_full


@pytest.fixture
def chain() -> Chain:
    chain = Chain.start()
    chain.register(1, 2)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 2000),
                chain.tx(BAR, "mint", "BARCOIN", 10_000))
    return chain


def test_cash_refill_of_fed_or_own_asset_only(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(2), "BARCOIN", 300))
    assert chain.balance(card_wallet(2), "BARCOIN") == 300
    assert rejected_code(chain, chain.tx(CAFE, "cash_refill", card_wallet(2), "BARCOIN", 1)) == "not_origin"
    assert rejected_code(chain, chain.tx(BAR, "cash_refill", card_wallet(2), "MEMBER", 1)) == "not_money"
    assert rejected_code(chain, chain.tx(BAR, "cash_refill", card_wallet(2), "NOPE", 1)) == "unknown_asset"


def test_mint_only_by_origin_place(chain: Chain) -> None:
    assert chain.balance(BAR_WALLET, "BARCOIN") == 10_000
    assert rejected_code(chain, chain.tx(CAFE, "mint", "BARCOIN", 5)) == "not_origin"
    assert rejected_code(chain, chain.tx(BAR, "mint", "FED", 5)) == "not_origin"


def test_sale_by_card_pays_the_place(chain: Chain) -> None:
    outcome = chain.block(chain.tx(CAFE, "sale", card_uid(1), "FED", 500))
    assert chain.balance(card_wallet(1), "FED") == 1500
    assert chain.balance(CAFE_WALLET, "FED") == 500
    assert outcome.results[0].touched == (card_wallet(1), CAFE_WALLET)


@pytest.mark.parametrize("signer, uid, asset, amount, code", [
    (BAR, 1, "FED", 2001, "overdraft"),
    (ALICE, 1, "FED", 1, "not_place"),
    (BAR, 9, "FED", 1, "unknown_card"),
    (BAR, 1, "NOPE", 1, "unknown_asset"),
    (CAFE, 1, "BARCOIN", 1, "asset_not_accepted"),
    (BAR, 1, "MEMBER", 1, "not_money"),
])
def test_sale_rejections(chain: Chain, signer, uid, asset, amount, code) -> None:  # type: ignore[no-untyped-def]
    assert rejected_code(chain, chain.tx(signer, "sale", card_uid(uid), asset, amount)) == code


def test_sale_refused_for_lost_voided_card_and_archived_asset(chain: Chain) -> None:
    chain.block(chain.govern("archive_asset", "BARCOIN"))
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "BARCOIN", 1)) == "archived_asset"
    chain.block(chain.tx(BAR, "lost_card", card_uid(1)))
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "FED", 1)) == "card_lost"
    chain.block(chain.tx(BAR, "void_card", card_uid(1)))
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "FED", 1)) == "card_voided"


def test_qr_sale_and_transfer_signed_by_the_user(chain: Chain) -> None:
    chain.block(chain.tx(ALICE, "qr_sale", "cafe", "FED", 1000),
                chain.tx(ALICE, "transfer", BOB.public_key, "FED", 2000),
                chain.tx(BOB, "transfer", card_wallet(2), "FED", 500))
    assert chain.balance(ALICE.public_key, "FED") == 47_000
    assert chain.balance(CAFE_WALLET, "FED") == 1000
    assert chain.balance(BOB.public_key, "FED") == 1500
    assert chain.balance(card_wallet(2), "FED") == 500
    assert rejected_code(chain, chain.tx(BOB, "transfer", BOB.public_key, "FED", 1)) == "self_transfer"
    assert rejected_code(chain, chain.tx(BOB, "transfer", BAR_WALLET, "FED", 1)) == "place_wallet"
    assert rejected_code(chain, chain.tx(BOB, "qr_sale", "cafe", "FED", 1501)) == "overdraft"
    assert rejected_code(chain, chain.tx(BOB, "qr_sale", "nowhere", "FED", 1)) == "unknown_place"


def test_settlement_between_places(chain: Chain) -> None:
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "FED", 800))
    chain.block(chain.tx(CAFE, "settlement", "bar", "FED", 300))
    assert chain.balance(CAFE_WALLET, "FED") == 500
    assert chain.balance(BAR_WALLET, "FED") == FLOAT - 2000 + 300  # its float, less the fixture's cash refill
    assert rejected_code(chain, chain.tx(BAR, "settlement", "cafe", "BARCOIN", 1)) == "asset_not_accepted"
    assert rejected_code(chain, chain.tx(CAFE, "settlement", "cafe", "FED", 1)) == "self_transfer"
    assert rejected_code(chain, chain.tx(CAFE, "settlement", "bar", "FED", 501)) == "overdraft"


def test_cash_refund_of_fed_goes_into_the_float(chain: Chain) -> None:
    chain.block(chain.tx(CAFE, "refund", card_uid(1), "FED", 700))
    assert chain.balance(card_wallet(1), "FED") == 1300 and chain.balance(CAFE_WALLET, "FED") == 700
    check_full(chain.state)
    assert rejected_code(chain, chain.tx(CAFE, "refund", card_uid(1), "FED", 1301)) == "overdraft"


@pytest.mark.parametrize("amount, code", [(0, "bad_amount"), (-5, "bad_amount"), (10**12 + 1, "bad_amount"),
                                          (True, "bad_amount"), ("12", "bad_amount")])
def test_amount_must_be_positive_bounded_integer(amount, code) -> None:  # type: ignore[no-untyped-def]
    from wallet.bodies import Sale
    from wallet.errors import Rejected
    with pytest.raises(Rejected) as caught:
        Sale.from_list([card_uid(1), "FED", amount])
    assert caught.value.code == code and "amount" in caught.value.detail
