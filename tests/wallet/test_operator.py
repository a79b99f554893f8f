"""Operator trail: a place may require one of its primary cards on sales, refunds and voids."""

from __future__ import annotations

import pytest
from ledger_world import BAR, BAR_WALLET, CAFE, FLOAT, MAX_TX, Chain, card_uid, card_wallet, rejected_code

from wallet.bodies import Sale
from wallet.tx import decode_tx, sign_tx

OPERATOR = card_uid(9)


@pytest.fixture
def chain() -> Chain:
    """Cards 1-3 of the bar, funded; card 9 is a primary (operator) card of the bar; card 8 of the café."""
    chain = Chain.start()
    chain.register(1, 2, 3, 8, 9)
    chain.block(*[chain.tx(BAR, "cash_refill", card_wallet(n), "FED", 1000) for n in (1, 2, 3)],
                chain.tx(BAR, "set_primary_card", OPERATOR, True), chain.tx(CAFE, "set_primary_card", card_uid(8), True))
    return chain


def test_without_a_policy_the_operator_is_optional_but_checked_and_recorded(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "sale", card_uid(1), "FED", 100))
    sale = chain.tx(BAR, "sale", card_uid(1), "FED", 100, OPERATOR)
    assert sale.body.operator == OPERATOR
    chain.block(sale)
    assert chain.balance(BAR_WALLET, "FED") == FLOAT - 3000 + 200  # its float, less the cash refills, plus sales
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "FED", 1, card_uid(8))) == "not_operator"
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "FED", 1, card_uid(2))) == "not_operator"
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "FED", 1, card_uid(77))) == "not_operator"


def test_a_required_operator_guards_sales_refunds_and_voids(chain: Chain) -> None:
    assert rejected_code(chain, chain.tx(CAFE, "place_policy", False)) == "no_change"
    chain.block(chain.tx(BAR, "place_policy", True))
    for kind, fields in (("sale", (card_uid(1), "FED", 10)), ("refund", (card_uid(1), "FED", 10)),
                         ("void_card", (card_uid(2),))):
        assert rejected_code(chain, chain.tx(BAR, kind, *fields)) == "operator_required", kind
        assert rejected_code(chain, chain.tx(BAR, kind, *fields, card_uid(8))) == "not_operator", kind
        chain.block(chain.tx(BAR, kind, *fields, OPERATOR))
    chain.block(chain.tx(CAFE, "sale", card_uid(3), "FED", 10))  # the café has no such policy
    chain.block(chain.tx(BAR, "lost_card", OPERATOR))             # a lost operator card operates no more
    assert rejected_code(chain, chain.tx(BAR, "sale", card_uid(1), "FED", 1, OPERATOR)) == "not_operator"
    chain.block(chain.tx(BAR, "place_policy", False))
    chain.block(chain.tx(BAR, "sale", card_uid(1), "FED", 1))


def test_a_sale_without_operator_keeps_its_old_bytes() -> None:
    """The operator is an optional trailing field: a sale without it encodes as before (same txid)."""
    raw = sign_tx(BAR, "fedow-test", "sale", Sale(card_uid(1), "FED", 5), b"\0" * 16, 5)
    assert decode_tx(raw, MAX_TX).body.to_list() == [card_uid(1), "FED", 5]
    with_operator = sign_tx(BAR, "fedow-test", "sale", Sale(card_uid(1), "FED", 5, OPERATOR), b"\0" * 16, 5)
    assert decode_tx(with_operator, MAX_TX).body.operator == OPERATOR
