"""Stake, unstake, unbonding, validator sets at H+2, rewards and slashing."""

from __future__ import annotations

import pytest
from ledger_world import ALICE, DAY, VAL1, VAL2, Chain, key, rejected_code

from wallet import layout
from wallet.invariants import check_full
from wallet.records import Amount, Validator
from wallet.state import read_one
from wallet.validators import validator_set

NEW = key("validator-3")


def validator(chain: Chain, public_key: bytes) -> Validator:
    record = read_one(chain.state, layout.validator(public_key), Validator)
    assert record is not None
    return record


def test_genesis_set_holds_for_heights_1_and_2() -> None:
    chain = Chain.start()
    expected = sorted([(VAL1.public_key, 300_000), (VAL2.public_key, 100_000)])
    assert validator_set(chain.state, 1) == expected
    assert validator_set(chain.state, 2) == expected


def test_admit_stake_takes_effect_two_blocks_later() -> None:
    chain = Chain.start()
    chain.block(chain.govern("admit_validator", NEW.public_key, "bar"),
                chain.tx(ALICE, "transfer", NEW.public_key, "FED", 5000))
    outcome = chain.block(chain.tx(NEW, "stake", 4000))          # height 2
    assert outcome.validator_updates == ((NEW.public_key, 4000),)
    assert (NEW.public_key, 4000) not in validator_set(chain.state, 3)
    assert (NEW.public_key, 4000) in validator_set(chain.state, 4)
    assert validator(chain, NEW.public_key).stake == 4000
    assert chain.balance(NEW.public_key, "FED") == 1000
    check_full(chain.state)


def test_stake_rejections() -> None:
    chain = Chain.start()
    assert rejected_code(chain, chain.tx(ALICE, "stake", 10)) == "not_validator"
    assert rejected_code(chain, chain.tx(VAL1, "stake", 10)) == "overdraft"
    assert rejected_code(chain, chain.tx(VAL1, "unstake", 300_001)) == "overdraft"
    assert rejected_code(chain, chain.govern("admit_validator", VAL1.public_key, "bar")) == "no_change"


def test_unstake_unbonds_then_releases_at_the_first_block_past_the_period() -> None:
    chain = Chain.start()
    outcome = chain.block(chain.tx(VAL2, "unstake", 40_000))
    release_ms = chain.time_ms + 21 * DAY
    assert outcome.validator_updates == ((VAL2.public_key, 60_000),)
    assert validator(chain, VAL2.public_key).unbonding == 40_000
    assert read_one(chain.state, layout.unbonding(release_ms, VAL2.public_key), Amount) == Amount(40_000)
    chain.block(advance_ms=21 * DAY - 1)
    assert chain.balance(VAL2.public_key, "FED") == 0
    chain.block(advance_ms=1)
    assert chain.balance(VAL2.public_key, "FED") == 40_000
    assert validator(chain, VAL2.public_key).unbonding == 0
    check_full(chain.state)


def test_remove_validator_drops_power_and_unbonds_all() -> None:
    chain = Chain.start()
    outcome = chain.block(chain.govern("remove_validator", VAL2.public_key))
    assert outcome.validator_updates == ((VAL2.public_key, 0),)
    assert (VAL2.public_key, 0) in validator_set(chain.state, 3)
    removed = validator(chain, VAL2.public_key)
    assert (removed.active, removed.stake, removed.unbonding) == (False, 0, 100_000)
    assert rejected_code(chain, chain.tx(VAL2, "stake", 1)) == "not_validator"
    check_full(chain.state)


def test_slashing_jails_and_moves_the_penalty_to_the_common_fund() -> None:
    chain = Chain.start()
    outcome = chain.block(slash=(VAL1.public_key,))
    slashed = validator(chain, VAL1.public_key)
    assert (slashed.stake, slashed.jailed) == (285_000, True)
    assert read_one(chain.state, layout.pool(layout.POOL_COMMON, "FED"), Amount) == Amount(15_000)
    assert outcome.validator_updates == ((VAL1.public_key, 0),)
    check_full(chain.state)
    chain.block(chain.govern("admit_validator", VAL1.public_key, "bar"))
    assert (VAL1.public_key, 285_000) in validator_set(chain.state, chain.height + 2)


def test_unknown_offender_is_ignored() -> None:
    chain = Chain.start()
    outcome = chain.block(slash=(key("stranger").public_key,))
    assert outcome.validator_updates == ()


def test_rewards_split_the_validators_pool_pro_rata_of_stake() -> None:
    chain = Chain.start()
    fed = layout.pool(layout.POOL_VALIDATORS, "FED")
    # Seed the pool as demurrage would (same accounting path): 1,001 FED cents.
    from wallet.book import Book
    from wallet.rules.common import params
    from wallet.state import Overlay
    overlay = Overlay(chain.state)
    book = Book(overlay, chain.time_ms, params(overlay))
    book.debit(ALICE.public_key, read_asset(overlay, "FED"), 1001)
    book.add_to_pool(layout.POOL_VALIDATORS, "FED", 1001)
    book.flush()
    chain.state.apply(overlay.changes())
    chain.block()
    assert chain.balance(VAL1.public_key, "FED") == 750    # 1001 * 3/4, floored
    assert chain.balance(VAL2.public_key, "FED") == 250
    assert read_one(chain.state, fed, Amount) == Amount(1)  # remainder waits for the next block
    check_full(chain.state)


def read_asset(overlay, asset_id):  # type: ignore[no-untyped-def]
    from wallet.rules.common import require_asset
    return require_asset(overlay, asset_id)


def test_fund_payout_from_the_common_fund() -> None:
    chain = Chain.start()
    chain.block(slash=(VAL1.public_key,))                      # 15,000 FED into the common fund
    chain.block(chain.govern("fund_payout", "common", "FED", ALICE.public_key, 10_000))
    assert chain.balance(ALICE.public_key, "FED") == 60_000
    assert read_one(chain.state, layout.pool(layout.POOL_COMMON, "FED"), Amount) == Amount(5_000)
    assert rejected_code(chain, chain.govern("fund_payout", "common", "FED", ALICE.public_key, 5_001)) \
        == "overdraft"
    assert rejected_code(chain, chain.govern("fund_payout", "dev", "FED", ALICE.public_key, 1)) == "overdraft"
    assert rejected_code(chain, chain.cosigned((VAL1,), "fund_payout", "common", "FED", ALICE.public_key, 1)) \
        == "not_authority"
    check_full(chain.state)


def test_slashing_reaches_unbonding_stake() -> None:
    chain = Chain.start()
    chain.block(chain.tx(VAL2, "unstake", 60_000))
    chain.block(slash=(VAL2.public_key,))
    slashed = validator(chain, VAL2.public_key)
    assert (slashed.stake, slashed.unbonding, slashed.jailed) == (38_000, 57_000, True)
    assert read_one(chain.state, layout.pool(layout.POOL_COMMON, "FED"), Amount) == Amount(5_000)
    chain.block(advance_ms=21 * DAY)
    assert chain.balance(VAL2.public_key, "FED") == 57_000
    check_full(chain.state)


def test_every_scheduled_set_answers_for_its_heights() -> None:
    chain = Chain.start()
    chain.block(chain.tx(VAL1, "unstake", 1000))                 # height 1 -> set for 3
    chain.block(chain.tx(VAL1, "unstake", 1000))                 # height 2 -> set for 4
    for _ in range(3):
        chain.block()
    stakes = [dict(validator_set(chain.state, height))[VAL1.public_key] for height in range(1, 8)]
    assert stakes == [300_000, 300_000, 299_000, 298_000, 298_000, 298_000, 298_000]
    kept = [key for key, _value in chain.state.iter_prefix(layout.VALIDATOR_SET)]
    assert kept == [layout.validator_set(1), layout.validator_set(3), layout.validator_set(4)]
    with pytest.raises(ValueError):
        validator_set(chain.state, 0)
