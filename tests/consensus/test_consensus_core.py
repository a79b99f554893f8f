"""The pure state machine, step by step (Malachite style tables): input -> effects, round and step."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from consensus_testkit import PARAMS, make_keys, make_set, precommit, prevote, proposal

from consensus import Step, VoteType, block_id_of
from consensus.certificate import Certificate
from consensus.core import (
    BlockVerified,
    CastVote,
    CaughtUp,
    ConsensusState,
    Decide,
    DecidedBlockSeen,
    DecidedBlockVerified,
    Dropped,
    Effect,
    FoundEvidence,
    Input,
    Propose,
    ProposalReceived,
    ProposalSeen,
    ScheduleTimeout,
    TimeoutElapsed,
    VerifyBlock,
    VerifyDecidedBlock,
    VoteReceived,
    WorkReady,
    new_height,
    step,
)

KEYS = make_keys(4)
VALIDATORS = make_set(KEYS, [10, 10, 10, 10])
H = 1
V, W = b"value-v", b"value-w"
VID, WID = block_id_of(V), block_id_of(W)


def key_of(public_key: bytes):  # type: ignore[no-untyped-def]
    return next(k for k in KEYS if k.public_key == public_key)


PROPOSER = [key_of(VALIDATORS.proposer_for_round(r)) for r in range(6)]
ME = next(k for k in KEYS if k is not PROPOSER[0] and k is not PROPOSER[1] and k is not PROPOSER[2])
OTHERS = [k for k in KEYS if k is not ME]


@dataclass(frozen=True)
class Row:
    """One step of a table: feed ``input``, expect these effects (in order), then this round and step."""

    what: str
    input: Input
    effects: list[Effect] = field(default_factory=list)
    round: int | None = None
    step: Step | None = None


def start() -> ConsensusState:
    state, effects = new_height(PARAMS, ME.public_key, H, VALIDATORS)
    assert effects == [ScheduleTimeout(H, 0, Step.PROPOSE, 300)]
    return state


def idle() -> ConsensusState:
    """A height that began with no work: round 0 not started, nothing scheduled."""
    state, effects = new_height(PARAMS, ME.public_key, H, VALIDATORS, wait_for_work=True)
    assert effects == [] and state.step is Step.IDLE
    return state


def run_table(state: ConsensusState, rows: list[Row]) -> ConsensusState:
    for row in rows:
        state, effects = step(state, row.input)
        assert effects == row.effects, row.what
        if row.round is not None:
            assert state.round == row.round, row.what
        if row.step is not None:
            assert state.step is row.step, row.what
    return state


def prop_in(key, round_: int, block: bytes, pol: int = -1, valid: bool = True) -> ProposalReceived:  # type: ignore[no-untyped-def]
    return ProposalReceived(proposal(key, H, round_, block, pol), valid, 500)


def pv(key, round_: int, block_id: bytes | None) -> VoteReceived:  # type: ignore[no-untyped-def]
    return VoteReceived(prevote(key, H, round_, block_id))


def pc(key, round_: int, block_id: bytes | None) -> VoteReceived:  # type: ignore[no-untyped-def]
    return VoteReceived(precommit(key, H, round_, block_id))


def lock_on_v_in_round_0() -> ConsensusState:
    return run_table(start(), [
        Row("L22: valid proposal, not locked: prevote it", prop_in(PROPOSER[0], 0, V),
            [CastVote(VoteType.PREVOTE, H, 0, VID, 501)], 0, Step.PREVOTE),
        Row("own prevote comes back", pv(ME, 0, VID), [], 0, Step.PREVOTE),
        Row("second prevote", pv(OTHERS[0], 0, VID), []),
        Row("L36: third prevote makes a quorum: lock and precommit (L34 no longer applies: step moved on)",
            pv(OTHERS[1], 0, VID), [CastVote(VoteType.PRECOMMIT, H, 0, VID, 501)], 0, Step.PRECOMMIT),
    ])


def test_happy_path_decides_with_a_certificate() -> None:
    state = lock_on_v_in_round_0()
    assert (state.locked_round, state.locked_block_id, state.valid_round) == (0, VID, 0)
    state = run_table(state, [
        Row("own precommit", pc(ME, 0, VID), []),
        Row("second precommit", pc(OTHERS[0], 0, VID), []),
    ])
    state, effects = step(state, pc(OTHERS[1], 0, VID))
    assert len(effects) == 1 and isinstance(effects[0], Decide)
    decide = effects[0]
    assert decide.proposal.block == V and decide.certificate.block_id == VID
    assert {s.validator for s in decide.certificate.signatures} == {ME.public_key, OTHERS[0].public_key,
                                                                    OTHERS[1].public_key}
    assert state.decided
    assert step(state, pc(OTHERS[2], 0, VID)).effects == [Dropped("height_decided", "height 1 is already decided")]


@pytest.mark.parametrize("what, input_, code", [
    ("vote of another height", VoteReceived(prevote(KEYS[0], 2, 0, VID)), "wrong_height"),
    ("proposal of another height", ProposalReceived(proposal(PROPOSER[0], 5, 0, V), True, 0), "wrong_height"),
    ("vote far in the future", pv(OTHERS[0], 5000, VID), "round_too_far"),
    ("unknown validator", VoteReceived(prevote(make_keys(9)[8], H, 0, VID)), "no_voting_power"),
    ("proposal from someone else than the round's proposer", prop_in(ME, 0, V), "not_proposer"),
])
def test_rejections_change_nothing(what: str, input_: Input, code: str) -> None:
    state = start()
    after, effects = step(state, input_)
    assert [e.code for e in effects if isinstance(e, Dropped)] == [code], what
    assert after == state, what


def test_vote_of_a_jailed_or_zero_stake_validator_is_refused() -> None:
    jailed = make_set(KEYS, [10, 10, 10, 0])
    state, _ = new_height(PARAMS, KEYS[0].public_key, H, jailed)
    after, effects = step(state, VoteReceived(prevote(KEYS[3], H, 0, VID)))
    assert effects == [Dropped("no_voting_power", f"validator {KEYS[3].public_key.hex()} has no voting power at "
                                                  "height 1 (unknown, jailed or unstaked)")]
    assert after == state


def test_duplicate_vote_is_dropped_and_conflicting_vote_is_evidence() -> None:
    state = run_table(start(), [Row("first", pv(OTHERS[0], 0, VID), [])])
    state, effects = step(state, pv(OTHERS[0], 0, VID))
    assert effects == [Dropped("duplicate", "vote already counted")]
    state, effects = step(state, pv(OTHERS[0], 0, None))
    assert isinstance(effects[0], FoundEvidence)
    assert {effects[0].evidence.vote_a.block_id, effects[0].evidence.vote_b.block_id} == {VID, None}
    state, effects = step(state, pv(OTHERS[0], 0, block_id_of(b"never proposed")))
    assert isinstance(effects[0], FoundEvidence) and effects[1].code == "equivocation"


def test_locked_validator_prevotes_nil_for_another_value_then_unlocks_on_a_newer_proof_of_lock() -> None:
    state = lock_on_v_in_round_0()
    state = run_table(state, [
        Row("own precommit", pc(ME, 0, VID), []),
        Row("precommits for nothing in particular", pc(OTHERS[0], 0, None), []),
        Row("L47: any three precommits schedule the precommit timeout", pc(OTHERS[1], 0, None),
            [ScheduleTimeout(H, 0, Step.PRECOMMIT, 100)]),
        Row("L65: precommit timeout starts round 1", TimeoutElapsed(H, 0, Step.PRECOMMIT),
            [ScheduleTimeout(H, 1, Step.PROPOSE, 350)], 1, Step.PROPOSE),
        Row("L22-L26: locked on v, a fresh proposal of w gets a nil prevote", prop_in(PROPOSER[1], 1, W),
            [CastVote(VoteType.PREVOTE, H, 1, None, 0)], 1, Step.PREVOTE),
    ])
    assert state.locked_block_id == VID
    # the others prevoted w in round 1: a proof-of-lock for w newer than our lock
    state = run_table(state, [Row("", pv(k, 1, WID), []) for k in OTHERS[:2]])
    state = run_table(state, [
        Row("quorum for w in round 1 while we are in prevote step: L36 locks w", pv(OTHERS[2], 1, WID),
            [CastVote(VoteType.PRECOMMIT, H, 1, WID, 501)], 1, Step.PRECOMMIT),
    ])
    assert (state.locked_round, state.locked_block_id, state.valid_round) == (1, WID, 1)


def test_proof_of_lock_in_a_proposal_releases_an_older_lock() -> None:
    """L28-L30: locked on v at round 0; round 2 re-proposes w with a round-1 proof-of-lock: prevote w."""
    state = lock_on_v_in_round_0()
    state, effects = step(state, pv(OTHERS[0], 1, WID))
    assert effects == []
    state, effects = step(state, pv(OTHERS[1], 1, WID))
    assert state.round == 1 and effects == [ScheduleTimeout(H, 1, Step.PROPOSE, 350)], "L55: f+1 are in round 1"
    state, effects = step(state, pv(OTHERS[2], 1, WID))  # proof-of-lock for w at round 1 (we missed it)
    state, effects = step(state, pc(OTHERS[0], 2, None))
    assert effects == [] and state.round == 1
    state, effects = step(state, pc(OTHERS[1], 2, None))
    assert state.round == 2 and effects == [ScheduleTimeout(H, 2, Step.PROPOSE, 400)], "L55 again"
    assert state.locked_block_id == VID
    state, effects = step(state, prop_in(PROPOSER[2], 2, W, pol=1))
    assert effects[0] == CastVote(VoteType.PREVOTE, H, 2, WID, 501)


def test_proposal_with_unknown_proof_of_lock_waits_then_times_out() -> None:
    state = run_table(start(), [
        Row("L28 needs the proof-of-lock: no vote yet", TimeoutElapsed(H, 0, Step.PROPOSE),
            [CastVote(VoteType.PREVOTE, H, 0, None, 0)], 0, Step.PREVOTE),
    ])
    assert state.step is Step.PREVOTE


def test_invalid_proposal_gets_a_nil_prevote() -> None:
    run_table(start(), [Row("L26", prop_in(PROPOSER[0], 0, V, valid=False), [CastVote(VoteType.PREVOTE, H, 0, None, 0)])])


def test_nil_quorum_precommits_nil_and_stale_timeouts_are_ignored() -> None:
    state = run_table(start(), [
        Row("L57 propose timeout: prevote nil", TimeoutElapsed(H, 0, Step.PROPOSE),
            [CastVote(VoteType.PREVOTE, H, 0, None, 0)], 0, Step.PREVOTE),
        Row("", pv(ME, 0, None), []),
        Row("", pv(OTHERS[0], 0, None), []),
        Row("L44: nil quorum, precommit nil", pv(OTHERS[1], 0, None),
            [CastVote(VoteType.PRECOMMIT, H, 0, None, 0)], 0, Step.PRECOMMIT),
        Row("stale prevote timeout: nothing", TimeoutElapsed(H, 0, Step.PREVOTE), [], 0, Step.PRECOMMIT),
        Row("timeout of another round: nothing", TimeoutElapsed(H, 7, Step.PRECOMMIT), [], 0, Step.PRECOMMIT),
    ])
    assert state.locked_round == -1


def test_proposer_proposes_fresh_then_re_proposes_its_valid_value() -> None:
    proposer = PROPOSER[0]
    state, effects = new_height(PARAMS, proposer.public_key, H, VALIDATORS)
    assert effects == [Propose(H, 0, -1, None), ScheduleTimeout(H, 0, Step.PROPOSE, 300)]
    # v gets a proof-of-lock in round 0 (valid value), round 0 fails; we propose again in a later round
    state, _ = step(state, prop_in(proposer, 0, V))
    for key in KEYS[:3]:
        state, _ = step(state, pv(key, 0, VID))
    assert state.valid_round == 0
    own_round = next(r for r in range(1, 12) if VALIDATORS.proposer_for_round(r) == proposer.public_key)
    for key in [k for k in KEYS if k is not proposer][:2]:
        state, effects = step(state, pc(key, own_round, None))
    assert Propose(H, own_round, 0, V) in effects


def test_timeouts_grow_linearly_and_are_capped() -> None:
    assert [PARAMS.timeout_ms(Step.PROPOSE, r) for r in range(6)] == [300, 350, 400, 450, 500, 500]
    assert PARAMS.timeout_ms(Step.PREVOTE, 10**6) == 500
    state = start()
    delays = []
    for round_ in range(12):
        state, effects = step(state, TimeoutElapsed(H, round_, Step.PRECOMMIT))
        delays += [e.delay_ms for e in effects if isinstance(e, ScheduleTimeout)]
    assert delays == [350, 400, 450, 500] + [500] * 8


# --- an idle height: blocks only when there is work ---------------------------------------------

def test_idle_height_starts_round_0_when_the_host_has_work() -> None:
    run_table(idle(), [
        Row("work of another height is stale: nothing", WorkReady(H + 1), [], 0, Step.IDLE),
        Row("L10-L21: work for this height starts round 0; the proposer may get the work one gossip delay "
            "later: timeoutPropose is twice as long", WorkReady(H),
            [ScheduleTimeout(H, 0, Step.PROPOSE, 600)], 0, Step.PROPOSE),
        Row("the height already started: work changes nothing", WorkReady(H), [], 0, Step.PROPOSE),
    ])


def test_idle_proposer_proposes_when_work_arrives() -> None:
    state, _ = new_height(PARAMS, PROPOSER[0].public_key, H, VALIDATORS, wait_for_work=True)
    run_table(state, [Row("L14-L19", WorkReady(H), [Propose(H, 0, -1, None), ScheduleTimeout(H, 0, Step.PROPOSE, 600)],
                          0, Step.PROPOSE)])


def test_idle_height_joins_when_another_validator_started_it() -> None:
    run_table(idle(), [
        Row("a message of another height does not start ours", VoteReceived(prevote(OTHERS[0], H + 1, 0, None)),
            [Dropped("wrong_height", "vote is for height 2, this node is at 1")], 0, Step.IDLE),
        Row("their proposal: join round 0 and prevote it at once (L22)", prop_in(PROPOSER[0], 0, V),
            [ScheduleTimeout(H, 0, Step.PROPOSE, 300), CastVote(VoteType.PREVOTE, H, 0, VID, 501)], 0, Step.PREVOTE),
    ])
    run_table(idle(), [
        Row("a prevote of the height: join round 0", pv(OTHERS[0], 0, None),
            [ScheduleTimeout(H, 0, Step.PROPOSE, 300)], 0, Step.PROPOSE),
    ])
    run_table(idle(), [
        Row("one vote in round 2: join round 0", pv(OTHERS[0], 2, None),
            [ScheduleTimeout(H, 0, Step.PROPOSE, 300)], 0, Step.PROPOSE),
        Row("L55: a second one is f+1 in round 2: skip to it", pv(OTHERS[1], 2, None),
            [ScheduleTimeout(H, 2, Step.PROPOSE, 400)], 2, Step.PROPOSE),
    ])


def test_a_logged_timeout_of_an_idle_height_replays_as_started() -> None:
    """After a crash the log holds the height's timeouts: only a started height has them."""
    run_table(idle(), [
        Row("L57 after the implicit start", TimeoutElapsed(H, 0, Step.PROPOSE),
            [ScheduleTimeout(H, 0, Step.PROPOSE, 300), CastVote(VoteType.PREVOTE, H, 0, None, 0)], 0, Step.PREVOTE),
    ])


def test_a_stale_timeout_does_not_start_an_idle_height() -> None:
    """A timer of the last height may fire while the next one waits for work: it must not start it."""
    run_table(idle(), [
        Row("a timeout of the previous height", TimeoutElapsed(H - 1, 3, Step.PRECOMMIT), [], 0, Step.IDLE),
        Row("a timeout of a round not started", TimeoutElapsed(H, 2, Step.PROPOSE), [], 0, Step.IDLE),
    ])


# --- block verification and catch-up: effects whose answers come back as inputs -----------------

def test_a_proposal_counts_once_the_application_judged_its_block() -> None:
    p0 = proposal(PROPOSER[0], H, 0, V)
    state = run_table(start(), [
        Row("L22 reads valid(v): ask the Application, wait", ProposalSeen(p0), [VerifyBlock(p0)], 0, Step.PROPOSE),
        Row("the same proposal while it is judged", ProposalSeen(p0),
            [Dropped("duplicate", "proposal of round 0 already waits for its verdict")], 0, Step.PROPOSE),
        Row("a verdict nobody asked for", BlockVerified(WID, True, 500),
            [Dropped("not_awaited", f"no proposal of height 1 waits for block {WID.hex()}")], 0, Step.PROPOSE),
        Row("valid: L22 prevotes it, stamped after the block's time", BlockVerified(VID, True, 500),
            [CastVote(VoteType.PREVOTE, H, 0, VID, 501)], 0, Step.PREVOTE),
        Row("the same proposal once judged", ProposalSeen(p0),
            [Dropped("duplicate", "proposal of round 0 already received")], 0, Step.PREVOTE),
    ])
    assert state.awaiting == () and state.record(0, VID) is not None
    state = run_table(state, [Row("", pv(k, 0, VID), []) for k in (ME, OTHERS[0])])
    state = run_table(state, [Row("", pv(OTHERS[1], 0, VID), [CastVote(VoteType.PRECOMMIT, H, 0, VID, 501)])])
    state = run_table(state, [Row("", pc(k, 0, VID), []) for k in (ME, OTHERS[0])])
    _, effects = step(state, pc(OTHERS[1], 0, VID))
    assert [type(e) for e in effects] == [Decide] and effects[0].time_ms == 500, "the verdict's time is the block's"


def test_an_invalid_verdict_gets_a_nil_prevote() -> None:
    p0 = proposal(PROPOSER[0], H, 0, V)
    run_table(start(), [
        Row("ask", ProposalSeen(p0), [VerifyBlock(p0)]),
        Row("L26: invalid", BlockVerified(VID, False), [CastVote(VoteType.PREVOTE, H, 0, None, 0)], 0, Step.PREVOTE),
    ])


@pytest.mark.parametrize("what, input_, code", [
    ("proposal of another height", ProposalSeen(proposal(PROPOSER[0], 5, 0, V)), "wrong_height"),
    ("proposal far in the future", ProposalSeen(proposal(PROPOSER[0], H, 5000, V)), "round_too_far"),
    ("proposal from someone else than the round's proposer", ProposalSeen(proposal(ME, H, 0, V)), "not_proposer"),
])
def test_a_proposal_that_does_not_fit_is_refused_before_any_verification(what: str, input_: Input, code: str) -> None:
    state = start()
    after, effects = step(state, input_)
    assert [type(e) for e in effects] == [Dropped] and effects[0].code == code, what
    assert after == state, what


def test_an_idle_height_joins_on_a_proposal_and_asks_for_its_verdict() -> None:
    p0 = proposal(PROPOSER[0], H, 0, V)
    run_table(idle(), [
        Row("join round 0 (L10) and ask", ProposalSeen(p0), [VerifyBlock(p0), ScheduleTimeout(H, 0, Step.PROPOSE, 300)],
            0, Step.PROPOSE),
        Row("L22", BlockVerified(VID, True, 500), [CastVote(VoteType.PREVOTE, H, 0, VID, 501)], 0, Step.PREVOTE),
    ])


def test_an_equivocating_proposer_gets_two_blocks_judged_and_no_third() -> None:
    a, b = proposal(PROPOSER[0], H, 0, V), proposal(PROPOSER[0], H, 0, W)
    run_table(start(), [
        Row("first block", ProposalSeen(a), [VerifyBlock(a)]),
        Row("a second block for the round: judged too (either may be decided)", ProposalSeen(b), [VerifyBlock(b)]),
        Row("a third: refused before any work", ProposalSeen(proposal(PROPOSER[0], H, 0, b"value-x")),
            [Dropped("proposal_flood", "round 0 already has 2 proposals")]),
    ])


def test_one_verdict_per_block_for_every_round_that_proposes_it() -> None:
    """A block waiting for its verdict in one round and proposed again in another is judged once."""
    p0, p1 = proposal(PROPOSER[0], H, 0, V), proposal(PROPOSER[1], H, 1, V, 0)
    state = run_table(start(), [
        Row("ask", ProposalSeen(p0), [VerifyBlock(p0)]),
        Row("the same block in round 1: already asked", ProposalSeen(p1), []),
        Row("the verdict serves both; L22 for round 0", BlockVerified(VID, True, 500),
            [CastVote(VoteType.PREVOTE, H, 0, VID, 501)], 0, Step.PREVOTE),
    ])
    assert state.record(1, VID) is not None and state.record(1, VID).valid and state.awaiting == ()


def test_a_re_proposed_valid_value_keeps_its_verdict() -> None:
    """L28: round 1 re-proposes v (proof-of-lock in round 0); the Application is not asked again."""
    p0 = proposal(PROPOSER[0], H, 0, V)
    state = run_table(start(), [
        Row("ask", ProposalSeen(p0), [VerifyBlock(p0)]),
        Row("", BlockVerified(VID, True, 500), [CastVote(VoteType.PREVOTE, H, 0, VID, 501)]),
        Row("", pv(ME, 0, VID), []),
        Row("", pv(OTHERS[0], 0, VID), []),
        Row("L36: lock", pv(OTHERS[1], 0, VID), [CastVote(VoteType.PRECOMMIT, H, 0, VID, 501)]),
        Row("", pc(ME, 0, VID), []),
        Row("", pc(OTHERS[0], 0, None), []),
        Row("L47", pc(OTHERS[1], 0, None), [ScheduleTimeout(H, 0, Step.PRECOMMIT, 100)]),
        Row("L65", TimeoutElapsed(H, 0, Step.PRECOMMIT), [ScheduleTimeout(H, 1, Step.PROPOSE, 350)], 1, Step.PROPOSE),
        Row("L28: the re-proposal enters with the known verdict and is prevoted at once",
            ProposalSeen(proposal(PROPOSER[1], H, 1, V, 0)), [CastVote(VoteType.PREVOTE, H, 1, VID, 501)],
            1, Step.PREVOTE),
    ])
    assert state.awaiting == ()


def certificate_for(height: int, block_id: bytes) -> Certificate:
    return Certificate.from_precommits(height, 0, block_id, [precommit(k, height, 0, block_id) for k in OTHERS])


def test_a_block_the_others_decided_is_verified_then_committed() -> None:
    cert = certificate_for(H, VID)
    state = run_table(start(), [
        Row("a decided block of another height", DecidedBlockSeen(V, certificate_for(H + 1, VID)),
            [Dropped("wrong_height", "decided block is for height 2, this node is at 1")], 0, Step.PROPOSE),
        Row("the host is asked to check the certificate and the block", DecidedBlockSeen(V, cert),
            [VerifyDecidedBlock(V, cert)], 0, Step.PROPOSE),
        Row("verified: commit it; no round rule runs on it", DecidedBlockVerified(V, cert, 500),
            [CaughtUp(V, cert, 500)], 0, Step.PROPOSE),
    ])
    assert state.decided
    decided = Dropped("height_decided", "height 1 is already decided")
    run_table(state, [
        Row("a second copy", DecidedBlockSeen(V, cert), [decided]),
        Row("a second verdict cannot commit twice", DecidedBlockVerified(V, cert, 500), [decided]),
        Row("a late vote", pc(OTHERS[2], 0, VID), [decided]),
        Row("a late proposal", ProposalSeen(proposal(PROPOSER[0], H, 0, V)), [decided]),
        Row("a late timeout", TimeoutElapsed(H, 0, Step.PROPOSE), [], 0, Step.PROPOSE),
    ])


def test_an_idle_height_caught_up_stays_silent() -> None:
    """Caught up while idle: neither work nor the heartbeat may start a round of a decided height."""
    cert = certificate_for(H, VID)
    run_table(idle(), [
        Row("nothing to join: the height is over once verified", DecidedBlockSeen(V, cert),
            [VerifyDecidedBlock(V, cert)], 0, Step.IDLE),
        Row("", DecidedBlockVerified(V, cert, 500), [CaughtUp(V, cert, 500)], 0, Step.IDLE),
        Row("work after the decision: nothing to start", WorkReady(H), [], 0, Step.IDLE),
        Row("a logged timeout: nothing", TimeoutElapsed(H, 0, Step.PROPOSE), [], 0, Step.IDLE),
    ])
