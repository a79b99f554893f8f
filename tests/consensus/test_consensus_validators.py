"""Validator set: quorum arithmetic, CometBFT proposer rotation, power changes; certificates and block time."""

from __future__ import annotations

from collections import Counter

import pytest
from consensus_testkit import CHAIN, make_keys, make_set, precommit
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus import Certificate, CommitSig, Rejected, ValidatorSet, block_id_of, block_time_ms, verify_certificate

KEYS = make_keys(4)
BID = block_id_of(b"block")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=7))
def test_proposer_turns_are_proportional_to_stake(powers: list[int]) -> None:
    keys = make_keys(len(powers))
    validators = make_set(keys, powers)
    total = sum(powers)
    turns: Counter[bytes] = Counter()
    current = validators
    for _ in range(total * 3):
        turns[current.proposer] += 1
        current = current.next_height(current.powers())
    for key, power in zip(keys, powers):
        # over total*k heights, each validator proposes k*power times, give or take one turn per pass
        assert abs(turns[key.public_key] - 3 * power) <= 3


def test_rounds_rotate_the_proposer_too() -> None:
    validators = make_set(KEYS, [1, 1, 1, 1])
    assert len({validators.proposer_for_round(r) for r in range(4)}) == 4
    assert validators.proposer_for_round(0) == validators.proposer


def test_ties_go_to_the_lowest_key_and_the_result_is_independent_of_input_order() -> None:
    forward = ValidatorSet.from_powers({k.public_key: 5 for k in KEYS})
    backward = ValidatorSet.from_powers({k.public_key: 5 for k in reversed(KEYS)})
    assert forward == backward
    assert forward.proposer == KEYS[0].public_key


def test_zero_power_validators_are_not_members() -> None:
    validators = make_set(KEYS, [10, 0, 10, 10])
    assert KEYS[1].public_key not in validators and validators.power_of(KEYS[1].public_key) == 0
    assert validators.total_power == 30 and len(validators) == 3


def test_quorum_needs_strictly_more_than_two_thirds() -> None:
    validators = make_set(KEYS, [25, 25, 25, 25])
    assert not validators.is_quorum(66) and validators.is_quorum(67)
    assert not make_set(KEYS, [30, 30, 30, 0]).is_quorum(60)  # exactly 2/3 is not enough
    assert not validators.is_one_third(33) and validators.is_one_third(34)


def test_newcomer_starts_behind_and_set_hash_tracks_powers() -> None:
    validators = make_set(KEYS[:3], [10, 10, 10])
    grown = validators.with_powers({**validators.powers(), KEYS[3].public_key: 10})
    newcomer = next(v for v in grown.validators if v.public_key == KEYS[3].public_key)
    assert newcomer.priority == -(40 + (40 >> 3))
    assert grown.hash != validators.hash
    assert validators.next_height(validators.powers()).hash == validators.hash


# --- certificates ---------------------------------------------------------------------------------

def _cert(signers: list[int], height: int = 1, chain: str = CHAIN) -> Certificate:
    return Certificate.from_precommits(height, 0, BID, [precommit(KEYS[i], height, 0, BID, chain) for i in signers])


def test_valid_certificate_passes() -> None:
    verify_certificate(_cert([0, 1, 2]), make_set(KEYS, [10, 10, 10, 10]), CHAIN, height=1, block_id=BID)


def test_certificate_short_of_two_thirds_by_one_unit_of_stake() -> None:
    # total 300: signers must hold more than 200; 200 exactly is one unit short.
    validators = make_set(KEYS, [100, 60, 40, 100])
    with pytest.raises(Rejected) as info:
        verify_certificate(_cert([1, 2, 3]), validators, CHAIN)  # 60 + 40 + 100 = 200
    assert info.value.code == "insufficient_power" and "200 of 300" in info.value.detail
    verify_certificate(_cert([1, 2, 3]), make_set(KEYS, [99, 60, 40, 100]), CHAIN)  # 200 of 299 passes


@pytest.mark.parametrize("certificate, code", [
    (_cert([0, 1, 2], chain="other-chain"), "bad_signature"),
    (_cert([0, 1, 2], height=2), "wrong_height"),
    (Certificate(1, 0, BID, (CommitSig(b"\7" * 32, 1, b"\0" * 64),) + _cert([0, 1, 2]).signatures), "unknown_validator"),
    (Certificate(1, 0, BID, _cert([0]).signatures * 3), "duplicate_signer"),
    (Certificate(1, 0, block_id_of(b"other"), _cert([0, 1, 2]).signatures), "bad_signature"),
])
def test_bad_certificates_are_rejected(certificate: Certificate, code: str) -> None:
    with pytest.raises(Rejected) as info:
        verify_certificate(certificate, make_set(KEYS, [10, 10, 10, 10]), CHAIN, height=1)
    assert info.value.code == code


def test_certificate_of_a_jailed_validator_is_refused() -> None:
    with pytest.raises(Rejected) as info:
        verify_certificate(_cert([0, 1, 2, 3]), make_set(KEYS, [10, 10, 10, 0]), CHAIN)
    assert info.value.code == "unknown_validator" and "no voting power" in info.value.detail


def test_block_time_is_the_stake_weighted_median() -> None:
    sigs = tuple(CommitSig(k.public_key, t, b"\0" * 64) for k, t in zip(KEYS, [1000, 5000, 3000, 2000]))
    certificate = Certificate(1, 0, BID, tuple(sorted(sigs, key=lambda s: s.validator)))
    # sorted by time: 1000 (w10), 2000 (w10), 3000 (w10), 5000 (w70): the heavy validator decides
    assert block_time_ms(certificate, make_set(KEYS, [10, 70, 10, 10]), 0) == 5000
    assert block_time_ms(certificate, make_set(KEYS, [10, 10, 10, 10]), 0) == 2000
    assert block_time_ms(None, make_set(KEYS, [1, 1, 1, 1]), 42) == 42
