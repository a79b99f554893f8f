"""Hundreds of seeded runs of the whole engine under faults: safety, liveness, certificates, evidence."""

from __future__ import annotations

from dataclasses import replace

import pytest
from consensus_testkit import CHAIN, make_keys, precommit

from consensus import BlockContext, Certificate, Evidence, block_id_of
from consensus.messages import sign_vote, VoteType
from consensus.simulation import Scenario, SimApplication, Simulation, run_scenario, run_seeds, stake_tx


@pytest.mark.parametrize("validators, byzantine, seeds, seed_start", [
    (4, 1, 100, 0),
    (4, 0, 20, 1000),
    (7, 1, 20, 2000),
    (7, 2, 12, 3000),
    (10, 1, 8, 4000),
    (10, 3, 6, 5000),
])
def test_seeded_runs_hold_every_check(validators: int, byzantine: int, seeds: int, seed_start: int) -> None:
    summary = run_seeds(Scenario(validators=validators, byzantine=byzantine), seeds, seed_start, jobs=2)
    assert summary.failures == ()
    assert summary.safety_violations == 0 and summary.liveness_failures == 0
    assert summary.certificate_failures == 0
    assert summary.evidence_committed == summary.evidence_expected == (seeds if byzantine else 0)
    assert summary.min_heights >= Scenario().liveness_heights


def test_same_seed_same_run() -> None:
    scenario = Scenario(validators=4, byzantine=1, seed=7)
    assert run_scenario(scenario) == run_scenario(scenario)


def test_fault_free_network_decides_every_height_in_round_zero() -> None:
    calm = Scenario(validators=7, seed=3, drop_ppm=0, duplicate_ppm=0, max_partitions=0, max_crashes=0)
    result = run_scenario(calm)
    assert result.ok and result.max_round == 0 and result.heights >= 10


def test_the_checks_catch_a_fork_and_a_forged_certificate() -> None:
    simulation = Simulation(Scenario(validators=4, seed=11, max_partitions=0, max_crashes=0))
    assert simulation.run().ok
    honest_app = simulation.nodes[0].app
    block, certificate = honest_app.blocks[2]
    forged = Certificate(2, 0, block_id_of(b"other"), certificate.signatures)
    honest_app.blocks[2] = (b"other", forged)
    result = simulation._result(None)
    assert result.safety_violations == ("height 2: honest nodes committed 2 different blocks",)
    assert result.certificate_failures and "node 0 height 2" in result.certificate_failures[0]
    assert not result.ok


def test_stake_changes_and_slashing_take_effect_two_heights_later() -> None:
    keys = make_keys(4)
    app = SimApplication(CHAIN, {k.public_key: 10 for k in keys}, 0, evidence_max_age_blocks=100)
    last: Certificate | None = None
    offender = keys[3]
    for height in (1, 2):
        txs = [stake_tx(keys[0].public_key, 25)] if height == 1 else []
        evidence = []
        if height == 2:
            votes = [sign_vote(offender, CHAIN, VoteType.PREVOTE, 1, 0, block_id, 5) for block_id in (None, b"\1" * 32)]
            evidence = [Evidence.of(*votes)]
        built = app.build_block(BlockContext(height, 0, keys[0].public_key), last, txs, evidence)
        assert app.verify_block(BlockContext(height, 0, keys[0].public_key), built.block) == built.time_ms
        bid = block_id_of(built.block)
        last = Certificate.from_precommits(height, 0, bid, [precommit(k, height, 0, bid) for k in keys[:3]])
        app.commit_block(built.block, last)
    assert app.validator_powers(2)[keys[0].public_key] == 10
    assert app.validator_powers(3)[keys[0].public_key] == 25  # committed at 1, effective at 3
    assert app.validator_powers(3)[offender.public_key] == 10
    assert app.validator_powers(4)[offender.public_key] == 0  # evidence committed at 2: jailed from 4
    assert app.slashed == {offender.public_key: 2} and app.common_fund == 1


def test_scenario_refuses_a_third_of_byzantine_validators() -> None:
    with pytest.raises(ValueError, match="fewer than a third"):
        Simulation(replace(Scenario(), validators=6, byzantine=2))
