"""Offline sales on the ledger: the bond and its notice, the one rule a forwarded sale is applied by,
late sales, replays (docs/offline.md)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from ledger_world import (BAR, BAR_WALLET, CAFE, CAFE_WALLET, DAY, FLOAT, Chain, card_uid, card_wallet,
                          rejected_code)

from wallet import layout, queries
from wallet.invariants import check_full, recount
from wallet.records import OfflineBondRecord, OfflineRecord
from wallet.tx import Tx

JOURNAL = bytes(range(16))
OTHER_JOURNAL = bytes(range(1, 17))
NOTICE = 7 * DAY
"""offline_bond_notice_ms of the ledger tests' chain."""


def offline(chain: Chain, seq: int, op: str, *fields: Any, journal: bytes = JOURNAL, place: Any = BAR,
            expires_in: int = 10) -> Tx:
    return chain.tx(place, "offline", journal, seq, [op, list(fields)], expires_in=expires_in)


def sale(chain: Chain, seq: int, card: int, amount: int, **kwargs: Any) -> Tx:
    return offline(chain, seq, "sale", card_uid(card), "FED", amount, **kwargs)


def bond(chain: Chain) -> OfflineBondRecord | None:
    return queries.offline_bond(chain.state, BAR_WALLET)


def record(chain: Chain, seq: int, journal: bytes = JOURNAL) -> OfflineRecord | None:
    return queries.offline_record(chain.state, BAR_WALLET, journal, seq)


@pytest.fixture
def chain() -> Chain:
    """The bar locked 500.00 FED of its float as its offline bond; cards 1 and 2 hold 100.00 FED each."""
    chain = Chain.start()
    chain.register(1, 2)
    chain.block(chain.tx(BAR, "cash_refill", card_wallet(1), "FED", 10_000),
                chain.tx(BAR, "cash_refill", card_wallet(2), "FED", 10_000),
                chain.tx(BAR, "offline_bond", 50_000))
    return chain


def test_a_bond_moves_fed_from_the_float_into_the_bond_and_stays_in_circulation(chain: Chain) -> None:
    assert bond(chain) == OfflineBondRecord(50_000, 0, 0)
    assert chain.balance(BAR_WALLET, "FED") == FLOAT - 20_000 - 50_000
    assert recount(chain.state)["FED"] == recount(Chain.start().state)["FED"]   # moved, not created
    check_full(chain.state)
    assert rejected_code(chain, chain.tx(BAR, "offline_bond", FLOAT)) == "insufficient_float"
    assert rejected_code(chain, chain.tx(CAFE, "offline_bond", 1)) == "insufficient_float"   # no float at all


def test_a_forwarded_sale_the_card_covers_is_a_sale(chain: Chain) -> None:
    chain.block(sale(chain, 1, 1, 4_000))
    assert chain.balance(card_wallet(1), "FED") == 6_000
    assert chain.balance(BAR_WALLET, "FED") == FLOAT - 70_000 + 4_000
    assert record(chain, 1) == OfflineRecord(chain.outcomes[-1].results[0].txid, "sale", card_uid(1), 4_000, 0, 0)
    assert bond(chain) == OfflineBondRecord(50_000, 0, 0)
    check_full(chain.state)


def test_the_card_pays_what_it_still_holds_and_the_bond_pays_the_shortfall(chain: Chain) -> None:
    """During the cut-off card 1 was spent at the café until it held 15.00; the bar sold it 40.00 offline."""
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "FED", 8_500))
    float_before = chain.balance(BAR_WALLET, "FED")
    chain.block(sale(chain, 1, 1, 4_000))
    assert chain.balance(card_wallet(1), "FED") == 0                 # never negative
    assert chain.balance(BAR_WALLET, "FED") == float_before + 4_000  # 15.00 from the card, 25.00 from its own bond
    assert bond(chain) == OfflineBondRecord(50_000 - 2_500, 0, 0)
    assert chain.balance(CAFE_WALLET, "FED") == 8_500                # the other venue keeps what it took
    found = record(chain, 1)
    assert found is not None and (found.subject, found.amount, found.from_bond, found.uncovered) == \
        (card_uid(1), 4_000, 2_500, 0)
    shortfalls = queries.offline_records(chain.state, BAR_WALLET, shortfalls_only=True)
    assert [(entry.journal, entry.seq, entry.record.from_bond) for entry in shortfalls] == [(JOURNAL, 1, 2_500)]
    check_full(chain.state)


def test_beyond_the_bond_the_shortfall_is_recorded_as_uncovered_and_nothing_is_created(chain: Chain) -> None:
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "FED", 10_000))   # card 1 is empty
    float_before = chain.balance(BAR_WALLET, "FED")
    chain.block(sale(chain, 1, 1, 30_000), sale(chain, 2, 1, 30_000))
    assert chain.balance(BAR_WALLET, "FED") == float_before + 50_000   # the whole bond, no more
    assert bond(chain) is None and not list(chain.state.iter_prefix(layout.OFFLINE_BOND))
    second = record(chain, 2)
    assert second is not None and (second.from_bond, second.uncovered) == (20_000, 10_000)
    check_full(chain.state)


def test_a_card_lost_or_voided_meanwhile_pays_nothing_the_bond_pays(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "lost_card", card_uid(1)), chain.tx(BAR, "void_card", card_uid(2)))
    chain.block(sale(chain, 1, 1, 1_000), sale(chain, 2, 2, 2_000))
    assert chain.balance(card_wallet(1), "FED") == 10_000              # a lost card's money stays frozen
    assert bond(chain) == OfflineBondRecord(50_000 - 3_000, 0, 0)
    check_full(chain.state)


def test_a_late_sale_is_applied_all_the_same_and_once(chain: Chain) -> None:
    """Signed with an expiry long past when it arrives (and one far ahead): no window, the record guards it."""
    late = sale(chain, 1, 1, 1_000, expires_in=0)
    far = sale(chain, 2, 1, 1_000, expires_in=10**9)
    for _ in range(150):                                                 # beyond tx_ttl_blocks (100)
        chain.block()
    chain.block(late, far)
    assert record(chain, 1) is not None and record(chain, 2) is not None
    assert chain.balance(card_wallet(1), "FED") == 8_000
    assert rejected_code(chain, late) == "replay"                       # the same transaction again
    assert rejected_code(chain, sale(chain, 1, 2, 500)) == "replay"     # another one under the same number
    chain.block(sale(chain, 1, 2, 500, journal=OTHER_JOURNAL))         # another journal numbers on its own
    assert chain.balance(card_wallet(2), "FED") == 9_500
    assert not list(chain.state.iter_prefix(layout.TXID + late.txid))   # nothing kept in the txid window
    check_full(chain.state)


def test_a_replay_within_one_block_is_refused(chain: Chain) -> None:
    from wallet.errors import BlockTxRejected
    from wallet.execute import execute_block
    first = sale(chain, 1, 1, 100)
    with pytest.raises(BlockTxRejected) as caught:
        execute_block(chain.state, chain.ctx(), [first, sale(chain, 1, 1, 100)])
    assert caught.value.code == "replay"


def test_offline_sales_are_in_fed_only_and_signed_by_a_place(chain: Chain) -> None:
    assert rejected_code(chain, offline(chain, 1, "sale", card_uid(1), "MELT", 100)) == "offline_fed_only"
    from ledger_world import ALICE
    assert rejected_code(chain, sale(chain, 1, 1, 100, place=ALICE)) == "not_place"
    assert rejected_code(chain, sale(chain, 1, 99, 100)) == "unknown_card"


def test_offline_refills_come_from_the_float_and_badges_are_recorded(chain: Chain) -> None:
    float_before = chain.balance(BAR_WALLET, "FED")
    chain.block(offline(chain, 1, "cash_refill", card_wallet(1), "FED", 2_000),
                offline(chain, 2, "badge", card_uid(2), "BADGE"))
    assert chain.balance(card_wallet(1), "FED") == 12_000
    assert chain.balance(BAR_WALLET, "FED") == float_before - 2_000
    assert record(chain, 2) is not None and record(chain, 2).op == "badge"   # type: ignore[union-attr]
    chain.block(chain.tx(BAR, "void_card", card_uid(1)))
    assert rejected_code(chain, offline(chain, 3, "cash_refill", card_wallet(1), "FED", 100)) == "card_voided"
    check_full(chain.state)


def test_notice_keeps_the_bond_covering_until_its_release(chain: Chain) -> None:
    assert rejected_code(chain, chain.tx(CAFE, "offline_unbond", 1)) == "no_bond"
    assert rejected_code(chain, chain.tx(BAR, "offline_unbond", 50_001)) == "overdraft"
    chain.block(chain.tx(BAR, "offline_unbond", 30_000))
    given_at = chain.time_ms
    assert bond(chain) == OfflineBondRecord(20_000, 30_000, given_at + NOTICE)
    chain.block(chain.tx(CAFE, "sale", card_uid(1), "FED", 10_000))
    chain.block(sale(chain, 1, 1, 25_000))                             # locked first, then what is under notice
    assert bond(chain) == OfflineBondRecord(0, 25_000, given_at + NOTICE)
    float_before = chain.balance(BAR_WALLET, "FED")
    chain.block(advance_ms=given_at + NOTICE - chain.time_ms - 1)
    assert bond(chain) == OfflineBondRecord(0, 25_000, given_at + NOTICE)
    chain.block(advance_ms=1)
    assert bond(chain) is None and chain.balance(BAR_WALLET, "FED") == float_before + 25_000
    assert not list(chain.state.iter_prefix(layout.OFFLINE_RELEASE))
    check_full(chain.state)


def test_a_second_notice_restarts_the_period_for_the_whole_amount(chain: Chain) -> None:
    chain.block(chain.tx(BAR, "offline_unbond", 10_000))
    chain.block(chain.tx(BAR, "offline_unbond", 10_000), advance_ms=DAY)
    assert bond(chain) == OfflineBondRecord(30_000, 20_000, chain.time_ms + NOTICE)
    assert len(list(chain.state.iter_prefix(layout.OFFLINE_RELEASE))) == 1


def test_a_place_with_a_bond_cannot_be_archived(chain: Chain) -> None:
    tx = chain.govern("archive_place", "bar", [["FED", "cafe"], ["MELT", "cafe"]])
    assert rejected_code(chain, tx) == "offline_bond"


# -- the bond rule, for any history --------------------------------------------------------
CARDS = 3
steps = st.lists(st.one_of(
    st.tuples(st.just("spend"), st.integers(1, CARDS), st.integers(1, 12_000)),      # at the café, online
    st.tuples(st.just("refill"), st.integers(1, CARDS), st.integers(1, 12_000)),
    st.tuples(st.just("offline"), st.integers(1, CARDS), st.integers(1, 12_000)),    # the bar's, forwarded
    st.tuples(st.just("lose"), st.integers(1, CARDS), st.just(0)),
    st.tuples(st.just("unbond"), st.just(0), st.integers(1, 30_000)),
    st.tuples(st.just("later"), st.just(0), st.sampled_from([1000, 3 * DAY, 8 * DAY])),
), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(1, 60_000))
def test_the_bond_rule_conserves_money_and_never_takes_a_card_below_zero(plan: list[Any], bonded: int) -> None:
    chain = Chain.start()
    chain.register(*range(1, CARDS + 1))
    chain.block(*[chain.tx(BAR, "cash_refill", card_wallet(n), "FED", 5_000) for n in range(1, CARDS + 1)],
                chain.tx(BAR, "offline_bond", bonded))
    circulating = recount(chain.state)["FED"]
    seq = 0
    for what, card, amount in plan:
        if what == "offline":
            seq += 1
            before_card = chain.balance(card_wallet(card), "FED")
            before_place = chain.balance(BAR_WALLET, "FED")
            before_bond = (bond(chain) or OfflineBondRecord(0, 0, 0)).total
            lost = queries.card(chain.state, card_uid(card)).state != "active"  # type: ignore[union-attr]
            chain.block(sale(chain, seq, card, amount))
            done = record(chain, seq)
            assert done is not None
            paid_by_card = before_card - chain.balance(card_wallet(card), "FED")
            assert paid_by_card == (0 if lost else min(before_card, amount))
            assert paid_by_card + done.from_bond + done.uncovered == amount
            assert done.from_bond == min(amount - paid_by_card, before_bond)
            assert (bond(chain) or OfflineBondRecord(0, 0, 0)).total == before_bond - done.from_bond
            assert chain.balance(BAR_WALLET, "FED") - before_place >= paid_by_card + done.from_bond
        else:
            tx = {"spend": lambda: chain.tx(CAFE, "sale", card_uid(card), "FED", amount),
                  "refill": lambda: chain.tx(BAR, "cash_refill", card_wallet(card), "FED", amount),
                  "lose": lambda: chain.tx(BAR, "lost_card", card_uid(card)),
                  "unbond": lambda: chain.tx(BAR, "offline_unbond", amount),
                  "later": lambda: None}[what]()
            from wallet.execute import build_block
            ctx = chain.ctx(amount if what == "later" else 1000)
            built = build_block(chain.state, ctx, [tx] if tx else [], 10, 1 << 20)   # those that fail are left out
            chain.state.apply(built.outcome.changes)
            chain.height, chain.time_ms = ctx.height, ctx.time_ms
        assert all(chain.balance(card_wallet(n), "FED") >= 0 for n in range(1, CARDS + 1))
        assert recount(chain.state)["FED"] == circulating
        check_full(chain.state)
