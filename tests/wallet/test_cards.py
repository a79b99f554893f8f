"""Card registration, linking (fusion), loss, voiding and primary cards."""

from __future__ import annotations

import pytest
from ledger_world import (ALICE, BAR, BOB, CAFE, Chain, card_uid, card_wallet, rejected_code)

from wallet import layout
from wallet.invariants import check_full
from wallet.records import Card
from wallet.state import read_one


def card(chain: Chain, n: int) -> Card:
    record = read_one(chain.state, layout.card(card_uid(n)), Card)
    assert record is not None
    return record


@pytest.fixture
def chain() -> Chain:
    chain = Chain.start()
    chain.register(1, 2, 3)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 2000),
                chain.tx(BAR, "cash_refill", card_wallet(1), "BARCOIN", 70))
    return chain


def test_register_cards_in_batch(chain: Chain) -> None:
    registered = card(chain, 2)
    assert (registered.number, registered.origin_place, registered.state) == ("00000002", "bar", "active")
    assert registered.wallet == card_wallet(2) and registered.owner is None


@pytest.mark.parametrize("cards, code", [
    ([[card_uid(1), "00000099", bytes(16)]], "duplicate_card"),        # uid taken
    ([[card_uid(99), "00000001", bytes(16)]], "duplicate_card"),       # number taken
    ([[card_uid(99), "00000099", (1).to_bytes(16, "big")]], "duplicate_card"),  # QR taken
    ([[card_uid(98), "00000098", bytes(16)], [card_uid(98), "00000097", b"\1" * 16]], "duplicate_card"),
    ([[b"\1\2\3", "00000099", bytes(16)]], "bad_field"),               # 3-byte UID
    ([[card_uid(99), "0000009", bytes(16)]], "bad_field"),             # 7-char number
])
def test_register_rejections(chain: Chain, cards, code) -> None:  # type: ignore[no-untyped-def]
    from wallet.errors import Rejected
    try:
        tx = chain.tx(BAR, "register_cards", cards)
    except Rejected as exc:  # stateless shape checks already refuse it
        assert exc.code == code
        return
    assert rejected_code(chain, tx) == code


def test_register_needs_a_place_key(chain: Chain) -> None:
    assert rejected_code(chain, chain.tx(ALICE, "register_cards", [[card_uid(50), "00000050", b"5" * 16]])) \
        == "not_place"


def test_link_by_qr_fuses_every_balance_into_the_user_wallet(chain: Chain) -> None:
    chain.block(chain.tx(BOB, "link_card", (1).to_bytes(16, "big")))
    assert chain.balance(card_wallet(1), "FED") == 0
    assert chain.balance(BOB.public_key, "FED") == 2000
    assert chain.balance(BOB.public_key, "BARCOIN") == 70
    assert card(chain, 1).owner == BOB.public_key
    chain.block(chain.tx(BAR, "sale", card_uid(1), "FED", 100))
    assert chain.balance(BOB.public_key, "FED") == 1900
    check_full(chain.state)


def test_link_by_number_and_rejections(chain: Chain) -> None:
    chain.block(chain.tx(ALICE, "link_card", "00000002"))
    assert card(chain, 2).owner == ALICE.public_key
    assert rejected_code(chain, chain.tx(BOB, "link_card", "00000002")) == "card_owned"
    assert rejected_code(chain, chain.tx(BOB, "link_card", "00000077")) == "unknown_card"
    assert rejected_code(chain, chain.tx(BOB, "link_card", b"\7" * 16)) == "unknown_card"


def test_lost_card_by_owner_keeps_the_balance_in_the_user_wallet(chain: Chain) -> None:
    chain.block(chain.tx(BOB, "link_card", "00000001"))
    chain.block(chain.tx(BOB, "lost_card", card_uid(1)))
    lost = card(chain, 1)
    assert (lost.state, lost.owner, lost.primary_places) == ("lost", None, ())
    assert chain.balance(BOB.public_key, "FED") == 2000
    assert rejected_code(chain, chain.tx(BOB, "lost_card", card_uid(1))) == "card_lost"
    assert rejected_code(chain, chain.tx(BOB, "link_card", "00000001")) == "card_lost"


def test_lost_card_signer_rules(chain: Chain) -> None:
    assert rejected_code(chain, chain.tx(CAFE, "lost_card", card_uid(2))) == "wrong_signer"
    assert rejected_code(chain, chain.tx(ALICE, "lost_card", card_uid(2))) == "not_place"
    chain.block(chain.tx(BAR, "lost_card", card_uid(2)))
    assert card(chain, 2).state == "lost"


def test_void_card_refunds_then_detaches(chain: Chain) -> None:
    chain.block(chain.tx(CAFE, "set_primary_card", card_uid(1), True))
    assert card(chain, 1).primary_places == ("cafe",)
    chain.block(chain.tx(CAFE, "void_card", card_uid(1)))
    voided = card(chain, 1)
    assert (voided.state, voided.owner, voided.primary_places) == ("voided", None, ())
    assert chain.balance(card_wallet(1), "FED") == 0 and chain.balance(card_wallet(1), "BARCOIN") == 0
    check_full(chain.state)
    assert rejected_code(chain, chain.tx(BAR, "void_card", card_uid(1))) == "card_voided"
    assert rejected_code(chain, chain.tx(CAFE, "void_card", card_uid(2))) == "wrong_signer"


def test_primary_card_toggle(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "set_primary_card", card_uid(3), True))
    chain.block(chain.tx(CAFE, "set_primary_card", card_uid(3), True))
    assert card(chain, 3).primary_places == ("bar", "cafe")
    assert rejected_code(chain, chain.tx(BAR, "set_primary_card", card_uid(3), True)) == "no_change"
    chain.block(chain.tx(BAR, "set_primary_card", card_uid(3), False))
    assert card(chain, 3).primary_places == ("cafe",)
