"""Duplicate-vote evidence: each rule of validity, and the pool's life cycle."""

from __future__ import annotations

import pytest
from consensus_testkit import CHAIN, make_keys, make_set, precommit, prevote

from consensus import Evidence, Rejected, block_id_of
from consensus.evidence import EvidencePool, verify_evidence

KEYS = make_keys(4)
SET = make_set(KEYS, [10, 10, 10, 10])
A, B = block_id_of(b"a"), block_id_of(b"b")
GOOD = Evidence.of(prevote(KEYS[0], 5, 1, A), prevote(KEYS[0], 5, 1, B))


def test_valid_evidence_passes() -> None:
    verify_evidence(GOOD, SET, CHAIN, block_height=6, max_age_blocks=10)


@pytest.mark.parametrize("evidence, validators, chain, height, code", [
    (Evidence.of(prevote(KEYS[0], 5, 1, A), prevote(KEYS[1], 5, 1, B)), SET, CHAIN, 6, "bad_evidence"),
    (Evidence.of(prevote(KEYS[0], 5, 1, A), precommit(KEYS[0], 5, 1, B)), SET, CHAIN, 6, "bad_evidence"),
    (Evidence(prevote(KEYS[0], 5, 1, A), prevote(KEYS[0], 5, 1, A)), SET, CHAIN, 6, "bad_evidence"),
    (GOOD, make_set(KEYS, [0, 10, 10, 10]), CHAIN, 6, "no_voting_power"),
    (GOOD, SET, CHAIN, 5, "evidence_from_future"),
    (GOOD, SET, CHAIN, 16, "evidence_expired"),
    (Evidence.of(prevote(KEYS[0], 5, 1, A, "other"), prevote(KEYS[0], 5, 1, B, "other")), SET, CHAIN, 6,
     "bad_signature"),
])
def test_invalid_evidence_is_rejected(evidence: Evidence, validators: object, chain: str, height: int,
                                      code: str) -> None:
    with pytest.raises(Rejected) as info:
        verify_evidence(evidence, validators, chain, block_height=height, max_age_blocks=10)  # type: ignore[arg-type]
    assert info.value.code == code


def test_pool_offers_pending_evidence_until_committed_and_forgets_it_when_expired() -> None:
    pool = EvidencePool(max_age_blocks=10)
    assert pool.add(GOOD) and not pool.add(GOOD)
    assert pool.pending(5) == [] and pool.pending(6) == [GOOD]
    pool.mark_committed((GOOD.hash,), 6)
    assert pool.pending(7) == [] and not pool.add(GOOD) and pool.knows(GOOD)
    pool.prune(16)
    assert not pool.knows(GOOD)


def test_a_block_carries_one_piece_of_evidence_per_offender_and_a_bounded_number() -> None:
    pool = EvidencePool(max_age_blocks=10)
    for round_ in range(3):  # a persistent equivocator: new evidence every round
        pool.add(Evidence.of(prevote(KEYS[0], 5, round_, A), prevote(KEYS[0], 5, round_, B)))
    other = Evidence.of(prevote(KEYS[1], 5, 0, A), prevote(KEYS[1], 5, 0, B))
    pool.add(other)
    chosen = pool.pending(6)
    assert sorted(ev.validator for ev in chosen) == sorted([KEYS[0].public_key, KEYS[1].public_key])
    assert len(pool.pending(6, limit=1)) == 1
