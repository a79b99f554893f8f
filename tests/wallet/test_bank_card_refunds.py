"""FED refunds to the bank card (``fed_refund``) and bank deposits naming their transfer.

Both burn FED against a reference usable once network-wide (one namespace with payment
references); the FED invariant counts them. A ``bank_deposit`` encoded before the optional
``stripe_transfer_id`` existed keeps its bytes, txid and meaning.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, strategies as st
from ledger_world import (ALICE, AUTHORITY, BAR, BAR_WALLET, CAFE, MAX_TX, Chain, card_uid, card_wallet, key,
                          rejected_code)

from wallet import layout, queries
from wallet.bodies import BankDeposit, FedRefund
from wallet.codec import pack
from wallet.errors import Rejected
from wallet.invariants import check_full
from wallet.records import FedTotals, Pointer
from wallet.state import read_one
from wallet.tx import decode_tx, sign_tx


@pytest.fixture
def chain() -> Chain:
    chain = Chain.start()
    chain.register(1, 2)
    chain.block(chain.tx(BAR, "fed_refill", card_wallet(1), 2000, "cs_paid_1"))
    return chain


def fed_totals(chain: Chain) -> FedTotals:
    return queries.fed_totals(chain.state)


def test_fed_refund_burns_the_wallet_fed_and_spends_its_reference(chain: Chain) -> None:
    refunded_before = fed_totals(chain).refunded
    tx = chain.tx(BAR, "fed_refund", card_wallet(1), 700, "fedow-refund-r1", "re_123")
    chain.block(tx)
    assert chain.balance(card_wallet(1), "FED") == 1300
    assert fed_totals(chain).refunded == refunded_before + 700
    pointer = read_one(chain.state, layout.payment_ref("fedow-refund-r1"), Pointer)
    assert pointer is not None and pointer.target == tx.txid
    check_full(chain.state)


def test_fed_refund_by_an_authority_from_a_user_wallet(chain: Chain) -> None:
    chain.block(chain.tx(AUTHORITY, "fed_refund", ALICE.public_key, 50_000, "fedow-refund-all", "re_9"))
    assert chain.balance(ALICE.public_key, "FED") == 0
    check_full(chain.state)


def test_fed_refund_of_a_lost_card_wallet_is_allowed(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "lost_card", card_uid(1)))
    chain.block(chain.tx(CAFE, "fed_refund", card_wallet(1), 2000, "fedow-refund-lost", "re_lost"))
    assert chain.balance(card_wallet(1), "FED") == 0
    check_full(chain.state)


@pytest.mark.parametrize("signer, fields, code", [
    (BAR, (card_wallet(1), 700, "cs_paid_1", "re_1"), "reference_used"),       # a refill's reference
    (BAR, (card_wallet(1), 700, "genesis", "re_1"), "reference_used"),
    (BAR, (card_wallet(1), 2001, "fedow-refund-r2", "re_2"), "overdraft"),
    (BAR, (card_wallet(2), 1, "fedow-refund-r3", "re_3"), "overdraft"),        # empty card wallet
    (BAR, (BAR_WALLET, 1, "fedow-refund-r4", "re_4"), "place_wallet"),
    (ALICE, (ALICE.public_key, 1, "fedow-refund-r5", "re_5"), "not_place"),   # a user refunds herself
    (key("stranger"), (card_wallet(1), 1, "fedow-refund-r6", "re_6"), "not_place"),
])
def test_fed_refund_rejections(chain: Chain, signer: Any, fields: tuple[Any, ...], code: str) -> None:
    assert rejected_code(chain, chain.tx(signer, "fed_refund", *fields)) == code


def test_fed_refund_reference_is_usable_once(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "fed_refund", card_wallet(1), 100, "fedow-refund-once", "re_a"))
    replayed = chain.tx(CAFE, "fed_refund", card_wallet(1), 100, "fedow-refund-once", "re_a")
    assert rejected_code(chain, replayed) == "reference_used"
    as_payout = chain.tx(BAR, "bank_deposit", 1, "fedow-refund-once", "tr_x")
    assert rejected_code(chain, as_payout) == "reference_used"
    assert chain.balance(card_wallet(1), "FED") == 1900


@pytest.mark.parametrize("fields, code", [
    ((b"\x01" * 31, 1, "r", "re"), "bad_field"),
    ((b"\x01" * 32, 0, "r", "re"), "bad_amount"),
    ((b"\x01" * 32, 1, "", "re"), "bad_field"),
    ((b"\x01" * 32, 1, "r", "x" * 129), "bad_field"),
    ((b"\x01" * 32, 1, "r"), "bad_body"),
    ((b"\x01" * 32, 1, "r", "re", "extra"), "bad_body"),
])
def test_fed_refund_body_shape(fields: tuple[Any, ...], code: str) -> None:
    with pytest.raises(Rejected) as caught:
        FedRefund.from_list(list(fields))
    assert caught.value.code == code
    assert len(caught.value.detail) > 10


def test_bank_deposit_records_the_transfer_id(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "sale", card_uid(1), "FED", 1000))
    tx = chain.tx(BAR, "bank_deposit", 600, "fedow-payout-p1", "tr_123")
    assert tx.body == BankDeposit(600, "fedow-payout-p1", "tr_123")
    chain.block(tx)
    assert chain.balance(BAR_WALLET, "FED") == 400
    assert fed_totals(chain).deposited == 600
    assert rejected_code(chain, chain.tx(BAR, "bank_deposit", 1, "fedow-payout-p1", "tr_other")) == "reference_used"
    assert rejected_code(chain, chain.tx(BAR, "bank_deposit", 401, "fedow-payout-p2", "tr_2")) == "overdraft"
    assert rejected_code(chain, chain.tx(ALICE, "bank_deposit", 1, "fedow-payout-p3", "tr_3")) == "not_place"
    check_full(chain.state)


def test_bank_deposit_without_transfer_id_keeps_its_old_encoding() -> None:
    """The two-field body encodes as before: existing transactions keep their bytes and txids."""
    old = BankDeposit(600, "po_1")
    assert old.to_list() == [600, "po_1"]
    assert BankDeposit.from_list([600, "po_1"]) == old
    raw = sign_tx(BAR, "fedow-test", "bank_deposit", old, b"\x00" * 16, 5)
    assert raw == pack([1, "bank_deposit", BAR.public_key, b"\x00" * 16, 5, [600, "po_1"],
                        decode_tx(raw, MAX_TX).signatures[0][1]])
    assert decode_tx(raw, MAX_TX).body == old


def test_bank_deposit_transfer_id_is_never_an_explicit_nil() -> None:
    """A third field, when present, must be a reference: [amount, ref, nil] would be a second encoding."""
    with pytest.raises(Rejected) as caught:
        BankDeposit.from_list([600, "po_1", None])
    assert caught.value.code == "bad_field" and "stripe_transfer_id" in caught.value.detail
    with pytest.raises(Rejected) as too_many:
        BankDeposit.from_list([600, "po_1", "tr_1", "more"])
    assert too_many.value.code == "bad_body" and "2 to 3 fields" in too_many.value.detail


@given(st.integers(1, 10**12), st.text(min_size=1, max_size=128), st.one_of(st.none(), st.text(min_size=1, max_size=128)))
def test_bank_deposit_round_trips(amount: int, payout_ref: str, transfer_id: str | None) -> None:
    body = BankDeposit(amount, payout_ref, transfer_id)
    assert len(body.to_list()) == (2 if transfer_id is None else 3)
    assert BankDeposit.from_list(body.to_list()) == body


def test_fed_invariant_holds_through_refills_refunds_and_deposits(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "sale", card_uid(1), "FED", 500),
                chain.tx(AUTHORITY, "fed_refill", ALICE.public_key, 300, "cs_paid_2"))
    chain.block(chain.tx(BAR, "fed_refund", card_wallet(1), 1500, "fedow-refund-x", "re_x"),
                chain.tx(BAR, "bank_deposit", 500, "fedow-payout-x", "tr_x"),
                chain.tx(CAFE, "fed_refund", ALICE.public_key, 300, "fedow-refund-y", "re_y"))
    totals = fed_totals(chain)
    assert (totals.refunded, totals.deposited) == (1800, 500)
    check_full(chain.state)
