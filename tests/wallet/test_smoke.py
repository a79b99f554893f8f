from ledger_world import ALICE, BAR, BAR_WALLET, Chain, card_uid, card_wallet
from wallet.invariants import check_full


def test_refill_then_sale_moves_money_from_card_to_place() -> None:
    chain = Chain.start()
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 2000))
    outcome = chain.block(chain.tx(BAR, "sale", card_uid(1), "FED", 750))
    assert chain.balance(card_wallet(1), "FED") == 1250
    assert chain.balance(BAR_WALLET, "FED") == 750
    assert outcome.results[0].touched == (card_wallet(1), BAR_WALLET)
    check_full(chain.state)
    assert chain.balance(ALICE.public_key, "FED") == 50_000
