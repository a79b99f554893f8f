"""Memberships with calendar periods, and badge check-ins."""

from __future__ import annotations

import pytest
from ledger_world import ALICE, BAR, CAFE, DAY, Chain, card_uid, card_wallet, rejected_code

from wallet import layout
from wallet.records import Badge, Membership
from wallet.rules.passes import add_period
from wallet.state import read_one

JAN_31_2026 = 1_769_817_600_000  # 2026-01-31T00:00:00Z


@pytest.mark.parametrize("unit, count, expected", [
    ("hour", 2, JAN_31_2026 + 7_200_000),
    ("day", 1, JAN_31_2026 + DAY),
    ("week", 2, JAN_31_2026 + 14 * DAY),
    ("month", 1, JAN_31_2026 + 28 * DAY),          # to 2026-02-28 (clamped)
    ("month", 13, 1_803_772_800_000),             # 2027-02-28
    ("year", 2, JAN_31_2026 + 730 * DAY),           # 2028-01-31 (2027 is not a leap year)
])
def test_add_period_golden(unit: str, count: int, expected: int) -> None:
    assert add_period(JAN_31_2026, unit, count) == expected


def test_membership_grant_then_renewal_extends_from_expiry() -> None:
    chain = Chain.start()
    chain.block(chain.tx(BAR, "membership", ALICE.public_key, "MEMBER", "day", 3))
    first = read_one(chain.state, layout.membership(ALICE.public_key, "MEMBER"), Membership)
    assert first == Membership(chain.time_ms, chain.time_ms + 3 * DAY)
    chain.block(chain.tx(BAR, "membership", ALICE.public_key, "MEMBER", "week", 1))
    renewed = read_one(chain.state, layout.membership(ALICE.public_key, "MEMBER"), Membership)
    assert renewed == Membership(first.start_ms, first.expiry_ms + 7 * DAY)
    chain.block(advance_ms=30 * DAY)
    chain.block(chain.tx(BAR, "membership", ALICE.public_key, "MEMBER", "hour", 1))
    lapsed = read_one(chain.state, layout.membership(ALICE.public_key, "MEMBER"), Membership)
    assert lapsed == Membership(chain.time_ms, chain.time_ms + 3_600_000)


def test_membership_rejections() -> None:
    chain = Chain.start()
    assert rejected_code(chain, chain.tx(CAFE, "membership", ALICE.public_key, "MEMBER", "day", 1)) \
        == "asset_not_accepted"
    assert rejected_code(chain, chain.tx(BAR, "membership", ALICE.public_key, "BARCOIN", "day", 1)) \
        == "wrong_category"
    assert rejected_code(chain, chain.tx(ALICE, "membership", ALICE.public_key, "MEMBER", "day", 1)) == "not_place"


def test_badge_records_passages_without_money() -> None:
    chain = Chain.start()
    chain.register(1)
    outcome = chain.block(chain.tx(BAR, "badge", card_uid(1), "BADGE"), chain.tx(BAR, "badge", card_uid(1), "BADGE"))
    assert outcome.results[0].touched == (card_wallet(1),)
    assert read_one(chain.state, layout.badge(card_wallet(1), "BADGE"), Badge) == Badge(2, chain.time_ms)
    assert rejected_code(chain, chain.tx(BAR, "badge", card_uid(1), "FED")) == "wrong_category"
    assert rejected_code(chain, chain.tx(CAFE, "badge", card_uid(1), "BADGE")) == "asset_not_accepted"
    chain.block(chain.tx(BAR, "lost_card", card_uid(1)))
    assert rejected_code(chain, chain.tx(BAR, "badge", card_uid(1), "BADGE")) == "card_lost"
