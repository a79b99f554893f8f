"""Demurrage: golden vectors (changing any is a hard fork), shares, the due index and its cap."""

from __future__ import annotations

import pytest
from ledger_world import BAR, BAR_WALLET, CAFE, CAFE_WALLET, DAY, VAL1, VAL2, Chain, card_uid, card_wallet

from wallet import demurrage, layout
from wallet.invariants import check_full
from wallet.melting import Shares, melt, periods_due, split
from wallet.records import Amount, Supply
from wallet.state import read_one

IDLE, PERIOD = 90 * DAY, 30 * DAY


@pytest.mark.parametrize("amount, rate_ppm, periods, left", [
    (100_000, 10_000, 0, 100_000),
    (100_000, 10_000, 1, 99_000),
    (100_000, 10_000, 3, 97_030),          # 1000, then 990, then floor(980.1) = 980
    (99, 10_000, 5, 99),                   # 0.99 floors to 0: a small balance never melts
    (12_345, 25_000, 2, 11_737),           # floor(308.625) = 308, then floor(300.925) = 300
    (10**12, 1_000_000, 1, 0),
    (10**12, 1, 2, 10**12 - 2_000_000 + 1),  # 1_000_000, then floor(999_999.000...) = 999_999
])
def test_melt_golden(amount: int, rate_ppm: int, periods: int, left: int) -> None:
    assert melt(amount, rate_ppm, periods) == left


@pytest.mark.parametrize("now_offset, expected", [
    (IDLE, 0), (IDLE + PERIOD - 1, 0), (IDLE + PERIOD, 1), (IDLE + 3 * PERIOD + 5, 3), (-5, 0),
])
def test_periods_due_golden(now_offset: int, expected: int) -> None:
    assert periods_due(1_000_000 + now_offset, 1_000_000, IDLE, PERIOD) == expected


@pytest.mark.parametrize("charge, has_place, shares", [
    (1000, True, Shares(place=333, common=334, dev=0, validators=333)),
    (1000, False, Shares(place=0, common=667, dev=0, validators=333)),
    (1, True, Shares(place=0, common=1, dev=0, validators=0)),
    (7, True, Shares(place=2, common=3, dev=0, validators=2)),
])
def test_split_golden(charge: int, has_place: bool, shares: Shares) -> None:
    assert split(charge, 333_333, 0, 333_334, has_place) == shares


def test_idle_balance_melts_and_shares_go_to_place_funds_and_validators() -> None:
    """The place share goes to the card's place (the bar issued it), not to a place it operates for."""
    chain = Chain.start()
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "MELT", 100_000),
                chain.tx(CAFE, "set_primary_card", card_uid(1), True))
    chain.block(advance_ms=IDLE + PERIOD - 1)    # one ms before the first period is due
    assert chain.balance(card_wallet(1), "MELT") == 100_000
    chain.block(advance_ms=1)
    assert chain.balance(card_wallet(1), "MELT") == 99_000
    assert chain.balance(BAR_WALLET, "MELT") == 333 and chain.balance(CAFE_WALLET, "MELT") == 0
    assert read_one(chain.state, layout.pool(layout.POOL_COMMON, "MELT"), Amount) == Amount(334)
    # the validators' 333 are paid in the same block, pro rata 3:1, the remainder waits
    assert (chain.balance(VAL1.public_key, "MELT"), chain.balance(VAL2.public_key, "MELT")) == (249, 83)
    assert read_one(chain.state, layout.pool(layout.POOL_VALIDATORS, "MELT"), Amount) == Amount(1)
    check_full(chain.state)
    chain.block(advance_ms=2 * PERIOD)
    assert chain.balance(card_wallet(1), "MELT") == 97_030


def test_activity_resets_the_idle_clock_after_settling_what_is_due() -> None:
    chain = Chain.start()
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "MELT", 100_000))
    demurrage.MAX_CHARGES_PER_BLOCK, saved = 0, demurrage.MAX_CHARGES_PER_BLOCK   # nothing charged by the index
    try:
        chain.block(chain.tx(BAR, "sale", card_uid(1), "MELT", 10_000), advance_ms=IDLE + 2 * PERIOD)
    finally:
        demurrage.MAX_CHARGES_PER_BLOCK = saved
    assert chain.balance(card_wallet(1), "MELT") == 98_010 - 10_000   # two periods settled, then the sale
    assert chain.balance(BAR_WALLET, "MELT") == 10_000 + 663              # the sale + the card's place share of 1990
    chain.block(advance_ms=IDLE + PERIOD - 1)
    assert chain.balance(card_wallet(1), "MELT") == 88_010            # the idle clock restarted at the sale
    check_full(chain.state)


def run_with_cap(cap: int, cards: int) -> Chain:
    saved = demurrage.MAX_CHARGES_PER_BLOCK
    demurrage.MAX_CHARGES_PER_BLOCK = cap
    try:
        chain = Chain.start()
        chain.register(*range(1, cards + 1))
        chain.block(*[chain.tx(BAR, "cash_refill", card_wallet(n), "MELT", 10_000 * n) for n in range(1, cards + 1)])
        chain.block(advance_ms=IDLE + PERIOD)
        chain.block(chain.tx(BAR, "sale", card_uid(cards), "MELT", 5))
        for _ in range(cards):
            chain.block()
        return chain
    finally:
        demurrage.MAX_CHARGES_PER_BLOCK = saved


def test_per_block_cap_carries_over_without_changing_what_anyone_pays() -> None:
    unlimited, capped = run_with_cap(1000, 6), run_with_cap(2, 6)
    for n in range(1, 7):
        assert capped.balance(card_wallet(n), "MELT") == unlimited.balance(card_wallet(n), "MELT")
        assert unlimited.balance(card_wallet(n), "MELT") < 10_000 * n
    due_now = [key for key, _ in capped.state.iter_prefix(layout.DEMURRAGE_DUE)
               if layout.split_demurrage_due(key)[0] <= capped.time_ms]
    assert due_now == []
    check_full(capped.state)
    check_full(unlimited.state)


def test_link_and_void_settle_demurrage_before_moving_or_burning() -> None:
    chain = Chain.start()
    chain.register(1, 2)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "MELT", 100_000),
                chain.tx(BAR, "cash_refill", card_wallet(2), "MELT", 100_000))
    saved, demurrage.MAX_CHARGES_PER_BLOCK = demurrage.MAX_CHARGES_PER_BLOCK, 0   # only the txs settle
    try:
        chain.block(chain.tx(VAL1, "link_card", "00000001"), chain.tx(BAR, "void_card", card_uid(2)),
                    advance_ms=IDLE + PERIOD)
    finally:
        demurrage.MAX_CHARGES_PER_BLOCK = saved
    assert chain.balance(VAL1.public_key, "MELT") == 99_000 + 499     # fused after one period + 3/4 of 666
    assert chain.balance(card_wallet(2), "MELT") == 0
    assert read_one(chain.state, layout.pool(layout.POOL_COMMON, "MELT"), Amount) == Amount(2 * 334)
    assert chain.balance(BAR_WALLET, "MELT") == 2 * 333                # the cards' place: the bar issued both
    check_full(chain.state)


FED_IDLE, FED_PERIOD = 365 * DAY, 30 * DAY


def test_fed_melts_on_its_own_schedule_and_splits_four_ways_golden() -> None:
    """Golden vector (a hard fork to change): a FED card left unused for a year and a month gives
    1% back, split between the card's place, the common fund, the tool's maintenance (dev fund)
    and the validators in proportion to stake (3:1). FED moves, none is burnt: the backing holds."""
    chain = Chain.start(fed_melts=True, demurrage_share_place_ppm=300_000, demurrage_share_common_ppm=200_000,
                        demurrage_share_dev_ppm=100_000, demurrage_share_validators_ppm=400_000)
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 100_000),
                chain.tx(BAR, "cash_refill", card_wallet(1), "MELT", 100_000))
    supply_before = read_one(chain.state, layout.supply("FED"), Supply)
    chain.block(advance_ms=FED_IDLE + FED_PERIOD - 1)
    assert chain.balance(card_wallet(1), "FED") == 100_000            # not yet: FED's own year, not 90 days
    assert chain.balance(card_wallet(1), "MELT") < 100_000             # the local currency's schedule
    before = fed_holdings(chain)  # Alice's genesis FED (no card: no place share) melted in that block
    chain.block(advance_ms=1)
    assert chain.balance(card_wallet(1), "FED") == 99_000              # charge 1000
    after = fed_holdings(chain)
    gained = {who: after[who] - before[who] for who in after}
    assert gained == {"place": 300, "common": 200, "dev": 100, "validator 1": 300, "validator 2": 100}
    assert read_one(chain.state, layout.supply("FED"), Supply) == supply_before
    check_full(chain.state)


def fed_holdings(chain: Chain) -> dict[str, int]:
    def pool(kind: bytes) -> int:
        found = read_one(chain.state, layout.pool(kind, "FED"), Amount)
        return 0 if found is None else found.value
    return {"place": chain.balance(BAR_WALLET, "FED"), "common": pool(layout.POOL_COMMON),
            "dev": pool(layout.POOL_DEV), "validator 1": chain.balance(VAL1.public_key, "FED"),
            "validator 2": chain.balance(VAL2.public_key, "FED")}


def test_fed_does_not_melt_unless_the_genesis_says_so() -> None:
    chain = Chain.start()
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 100_000))
    chain.block(advance_ms=3 * FED_IDLE)
    assert chain.balance(card_wallet(1), "FED") == 100_000


def test_a_place_wallet_never_melts_its_float_nor_its_takings() -> None:
    """A venue's balances are its till (the FED float it sells for cash, what it takes in sales and in
    demurrage shares): they never melt, and no place wallet is ever in the due index; the card's do."""
    chain = Chain.start(fed_melts=True)
    chain.register(1)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 100_000),
                chain.tx(BAR, "cash_refill", card_wallet(1), "MELT", 100_000))
    chain.block(chain.tx(BAR, "sale", card_uid(1), "MELT", 10_000))
    float_before, takings_before = chain.balance(BAR_WALLET, "FED"), chain.balance(BAR_WALLET, "MELT")
    chain.block(advance_ms=FED_IDLE + 3 * FED_PERIOD)
    assert chain.balance(card_wallet(1), "FED") == 97_030                    # three FED periods melted
    assert chain.balance(card_wallet(1), "MELT") < 90_000
    assert chain.balance(BAR_WALLET, "FED") == float_before + 2_970 * 333_333 // 10**6  # its place share only
    assert chain.balance(BAR_WALLET, "MELT") > takings_before                 # its share of the card's MELT
    indexed = {layout.split_demurrage_due(key)[1] for key, _ in chain.state.iter_prefix(layout.DEMURRAGE_DUE)}
    assert BAR_WALLET not in indexed and CAFE_WALLET not in indexed and card_wallet(1) in indexed
    check_full(chain.state)
