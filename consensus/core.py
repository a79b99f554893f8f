"""The pure Tendermint state machine of one height: ``step(state, input) -> Transition(state, effects)``.

No I/O, clock, trio or randomness: the host (:mod:`consensus.node`) performs the
effects (sign, log, broadcast, schedule, commit) and feeds back what happens,
including our own signed messages. Inputs and effects are closed sets of frozen
dataclasses. Comments cite the lines of Algorithm 1 in Buchman, Kwon, Milosevic,
"The latest gossip on BFT consensus" (arXiv 1807.04938), written ``Lnn``.

After every input the "upon" rules are re-evaluated until none fires, so the
order in which messages arrive does not matter, only which have arrived.
Rules that fire "for the first time" remember it in ``fired``.

The host never judges a block itself: a proposal enters as :class:`ProposalSeen`, the
core asks once per block for the Application's verdict (:class:`VerifyBlock`) and the
verdict comes back as :class:`BlockVerified`. A block the others decided while we
missed the round (catch-up) enters as :class:`DecidedBlockSeen`; once the host has
checked its certificate and the block (:class:`VerifyDecidedBlock`) it comes back as
:class:`DecidedBlockVerified` and is committed (:class:`CaughtUp`).

Blocks only when there is work: a height may begin IDLE (the host found no
transaction, no evidence and no heartbeat due). It stays so, silent and without
timers, until the host reports work (:class:`WorkReady`) or a message or timeout
of the height arrives (another validator started it: join); only then does
StartRound(0) (L10) run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, NamedTuple, Union

from consensus.certificate import Certificate
from consensus.messages import Evidence, Proposal, Vote, VoteType
from consensus.params import ConsensusParams, Step
from consensus.validators import ValidatorSet
from consensus.votekeeper import AddOutcome, VoteKeeper

MAX_ROUNDS_AHEAD = 1000
"""Messages for rounds further ahead are dropped: they would only fill memory."""
MAX_PROPOSALS_PER_ROUND = 2
"""Keep two proposals of an equivocating proposer (enough to decide either), refuse more."""


# --- inputs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewHeight:
    """Start ``height`` with its validator set (L10, L52-L54)."""

    height: int
    validators: ValidatorSet
    wait_for_work: bool = False
    """Begin IDLE: StartRound(0) waits for :class:`WorkReady` or the first message of the height."""


@dataclass(frozen=True)
class WorkReady:
    """The host has work for ``height`` (transactions, evidence, or the heartbeat is due): start round 0."""

    height: int


@dataclass(frozen=True)
class ProposalSeen:
    """A proposal whose signature was checked, its block not judged yet: the core asks for a verdict."""

    proposal: Proposal


@dataclass(frozen=True)
class BlockVerified:
    """The Application's verdict on a block the core asked about (:class:`VerifyBlock`): valid(v), its time."""

    block_id: bytes
    valid: bool
    time_ms: int = 0


@dataclass(frozen=True)
class ProposalReceived:
    """A proposal whose signature was checked; ``valid`` is the Application's verdict (valid(v))."""

    proposal: Proposal
    valid: bool
    time_ms: int = 0
    """Consensus time of the proposed block; our votes for it are stamped later than this."""


@dataclass(frozen=True)
class VoteReceived:
    """A vote whose signature was checked (ours included: own votes come back through here)."""

    vote: Vote


@dataclass(frozen=True)
class TimeoutElapsed:
    height: int
    round: int
    step: Step


@dataclass(frozen=True)
class DecidedBlockSeen:
    """Catch-up: a block of this height with the certificate of the others' decision (we missed the round)."""

    block: bytes
    certificate: Certificate


@dataclass(frozen=True)
class DecidedBlockVerified:
    """The host found the certificate (>2/3 of this height's power) and the block valid: commit it."""

    block: bytes
    certificate: Certificate
    time_ms: int


Input = Union[NewHeight, WorkReady, ProposalSeen, BlockVerified, ProposalReceived, VoteReceived, TimeoutElapsed,
              DecidedBlockSeen, DecidedBlockVerified]


# --- effects -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Propose:
    """L14-L19: we propose. ``block`` is validValue (re-proposed) or None: ask the Application (getValue)."""

    height: int
    round: int
    pol_round: int
    block: bytes | None


@dataclass(frozen=True)
class CastVote:
    """Sign and broadcast a vote; ``not_before_ms`` keeps vote timestamps after the block's time."""

    type: VoteType
    height: int
    round: int
    block_id: bytes | None
    not_before_ms: int = 0


@dataclass(frozen=True)
class ScheduleTimeout:
    height: int
    round: int
    step: Step
    delay_ms: int


@dataclass(frozen=True)
class VerifyBlock:
    """Ask the Application whether ``proposal``'s block is valid; the answer comes back as :class:`BlockVerified`."""

    proposal: Proposal


@dataclass(frozen=True)
class Decide:
    """L49-L51: ``proposal`` is decided; ``certificate`` holds the >2/3 precommits for it."""

    proposal: Proposal
    certificate: Certificate
    time_ms: int = 0
    """Consensus time of the decided block (the Application's verdict gave it)."""


@dataclass(frozen=True)
class VerifyDecidedBlock:
    """Check a catch-up block's certificate against this height's set and the block itself; the answer comes
    back as :class:`DecidedBlockVerified` (nothing comes back when either is wrong)."""

    block: bytes
    certificate: Certificate


@dataclass(frozen=True)
class CaughtUp:
    """Commit a block the others decided (its certificate and the block were verified)."""

    block: bytes
    certificate: Certificate
    time_ms: int


@dataclass(frozen=True)
class FoundEvidence:
    evidence: Evidence


@dataclass(frozen=True)
class Dropped:
    """The input was refused and changed nothing; ``code`` is stable, ``detail`` says why."""

    code: str
    detail: str


Effect = Union[Propose, CastVote, ScheduleTimeout, VerifyBlock, Decide, VerifyDecidedBlock, CaughtUp, FoundEvidence,
               Dropped]


class Transition(NamedTuple):
    state: "ConsensusState"
    effects: list[Effect]


# --- state -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProposalRecord:
    proposal: Proposal
    valid: bool
    time_ms: int


@dataclass(frozen=True)
class ConsensusState:
    """The paper's process variables (L2-L9) for one height, plus its message log."""

    params: ConsensusParams
    our_key: bytes | None
    """Our validator key, or None for a node that only follows."""
    height: int
    validators: ValidatorSet
    round: int = 0
    step: Step = Step.PROPOSE
    locked_round: int = -1
    locked_block_id: bytes | None = None
    valid_round: int = -1
    valid_record: ProposalRecord | None = None
    decided: bool = False
    proposals: Mapping[int, tuple[ProposalRecord, ...]] = field(default_factory=dict)
    awaiting: tuple[Proposal, ...] = ()
    """Proposals seen whose block waits for the Application's verdict (asked once per block)."""
    votes: VoteKeeper = field(default_factory=VoteKeeper)
    fired: frozenset[tuple[int, int]] = frozenset()
    """(line, round) of the "for the first time" rules (L34, L36, L47) that already fired."""

    def proposer(self, round_: int) -> bytes:
        return self.validators.proposer_for_round(round_)

    def knows_block(self, block_id: bytes) -> bool:
        """Some proposal of this height carries ``block_id``."""
        return any(rec.proposal.block_id == block_id for records in self.proposals.values() for rec in records)

    def record(self, round_: int, block_id: bytes) -> ProposalRecord | None:
        return next((rec for rec in self.proposals.get(round_, ()) if rec.proposal.block_id == block_id), None)

    def judged(self, block_id: bytes) -> ProposalRecord | None:
        """A proposal of any round carrying ``block_id`` whose verdict is known (a re-proposed validValue)."""
        return next((rec for records in self.proposals.values() for rec in records
                     if rec.proposal.block_id == block_id), None)


def new_height(params: ConsensusParams, our_key: bytes | None, height: int,
               validators: ValidatorSet, wait_for_work: bool = False) -> Transition:
    """L10 / L52-L54: fresh variables and message log, then StartRound(0), or IDLE until there is work."""
    state = ConsensusState(params, our_key, height, validators, step=Step.IDLE)
    if wait_for_work:
        return Transition(state, [])
    effects: list[Effect] = []
    state = _start_round(state, 0, effects)
    return Transition(*_run_rules(state, effects))


def step(state: ConsensusState, input_: Input) -> Transition:
    """Apply one input; return the next state and the effects for the host to perform."""
    if isinstance(input_, NewHeight):
        return new_height(state.params, state.our_key, input_.height, input_.validators, input_.wait_for_work)
    effects: list[Effect] = []
    if isinstance(input_, WorkReady):
        if (input_.height, state.step) != (state.height, Step.IDLE) or state.decided:
            return Transition(state, [])  # stale: the height already started, or is over (caught up while idle)
        # The work (a transaction) reached us up to one gossip delay before it reached the round's proposer:
        # give the proposer that long again before prevoting nil (L21, L57).
        state = _start_round(state, 0, effects, state.params.timeout_propose_ms)
    elif isinstance(input_, (DecidedBlockSeen, DecidedBlockVerified)):
        return Transition(_catch_up(state, input_, effects), effects)  # nothing to join: the height is over
    elif isinstance(input_, ProposalSeen):
        state = _see_proposal(state, input_.proposal, effects)
    elif isinstance(input_, BlockVerified):
        state = _judge(state, input_, effects)
    elif isinstance(input_, ProposalReceived):
        state = _add_proposal(state, input_, effects)
    elif isinstance(input_, VoteReceived):
        state = _add_vote(state, input_.vote, effects)
    else:
        if (input_.height, input_.round) != (state.height, state.round) or state.decided:
            return Transition(state, [])  # stale: dropped by (height, round), like CometBFT; an idle height stays so
        if state.step is Step.IDLE:
            state = _start_round(state, 0, effects)  # only a started height has timeouts (WAL replay)
        state = _on_timeout(state, input_, effects)
    if any(isinstance(effect, Dropped) for effect in effects):
        return Transition(state, effects)
    if state.step is Step.IDLE:  # work, or a message of the height: someone started it, join (L10)
        state = _start_round(state, 0, effects)
    return Transition(*_run_rules(state, effects))


# --- inputs into the message log ---------------------------------------------------------------

def _drop(state: ConsensusState, effects: list[Effect], code: str, detail: str) -> ConsensusState:
    effects.append(Dropped(code, detail))
    return state


def _check_place(state: ConsensusState, kind: str, height: int, round_: int, effects: list[Effect]) -> bool:
    if height != state.height:
        _drop(state, effects, "wrong_height", f"{kind} is for height {height}, this node is at {state.height}")
        return False
    if round_ > state.round + MAX_ROUNDS_AHEAD:
        _drop(state, effects, "round_too_far", f"{kind} round {round_} is more than {MAX_ROUNDS_AHEAD} rounds "
                                               f"ahead of round {state.round}")
        return False
    if state.decided:
        _drop(state, effects, "height_decided", f"height {state.height} is already decided")
        return False
    return True


def _see_proposal(state: ConsensusState, proposal: Proposal, effects: list[Effect]) -> ConsensusState:
    """Ask for the verdict on a new block (once per block); a block already judged (validValue re-proposed in a
    later round) keeps its verdict."""
    if not _check_place(state, "proposal", proposal.height, proposal.round, effects):
        return state
    if proposal.proposer != state.proposer(proposal.round):
        return _drop(state, effects, "not_proposer",
                     f"proposal signer {proposal.proposer.hex()} is not the proposer of round {proposal.round}")
    if any(p.round == proposal.round and p.block_id == proposal.block_id for p in state.awaiting):
        return _drop(state, effects, "duplicate", f"proposal of round {proposal.round} already waits for its verdict")
    judged = state.judged(proposal.block_id)
    if judged is not None:
        return _add_proposal(state, ProposalReceived(proposal, judged.valid, judged.time_ms), effects)
    waiting = sum(p.round == proposal.round for p in state.awaiting) + len(state.proposals.get(proposal.round, ()))
    if waiting >= MAX_PROPOSALS_PER_ROUND:
        return _drop(state, effects, "proposal_flood", f"round {proposal.round} already has {waiting} proposals")
    if not any(p.block_id == proposal.block_id for p in state.awaiting):
        effects.append(VerifyBlock(proposal))
    return replace(state, awaiting=state.awaiting + (proposal,))


def _judge(state: ConsensusState, verdict: BlockVerified, effects: list[Effect]) -> ConsensusState:
    """The verdict on a block: every proposal waiting for it enters the log (L22, L28 read valid(v))."""
    waiting = [p for p in state.awaiting if p.block_id == verdict.block_id]
    if not waiting:
        return _drop(state, effects, "not_awaited", f"no proposal of height {state.height} waits for block "
                                                    f"{verdict.block_id.hex()}")
    state = replace(state, awaiting=tuple(p for p in state.awaiting if p.block_id != verdict.block_id))
    for proposal in waiting:
        state = _add_proposal(state, ProposalReceived(proposal, verdict.valid, verdict.time_ms), effects)
    return state


def _catch_up(state: ConsensusState, input_: DecidedBlockSeen | DecidedBlockVerified,
              effects: list[Effect]) -> ConsensusState:
    """A block the others decided: have it verified, then commit it (L49 decided elsewhere; we missed the votes)."""
    height = input_.certificate.height
    if height != state.height:
        return _drop(state, effects, "wrong_height", f"decided block is for height {height}, this node is at "
                                                     f"{state.height}")
    if state.decided:
        return _drop(state, effects, "height_decided", f"height {state.height} is already decided")
    if isinstance(input_, DecidedBlockSeen):
        effects.append(VerifyDecidedBlock(input_.block, input_.certificate))
        return state
    effects.append(CaughtUp(input_.block, input_.certificate, input_.time_ms))
    return replace(state, decided=True)


def _add_proposal(state: ConsensusState, received: ProposalReceived, effects: list[Effect]) -> ConsensusState:
    proposal = received.proposal
    if not _check_place(state, "proposal", proposal.height, proposal.round, effects):
        return state
    if proposal.proposer != state.proposer(proposal.round):
        return _drop(state, effects, "not_proposer",
                     f"proposal signer {proposal.proposer.hex()} is not the proposer of round {proposal.round}")
    records = state.proposals.get(proposal.round, ())
    if any(rec.proposal.block_id == proposal.block_id for rec in records):
        return _drop(state, effects, "duplicate", f"proposal of round {proposal.round} already received")
    if len(records) >= MAX_PROPOSALS_PER_ROUND:
        return _drop(state, effects, "proposal_flood", f"round {proposal.round} already has {len(records)} proposals")
    record = ProposalRecord(proposal, received.valid, received.time_ms)
    return replace(state, proposals={**state.proposals, proposal.round: records + (record,)})


def _add_vote(state: ConsensusState, vote: Vote, effects: list[Effect]) -> ConsensusState:
    if not _check_place(state, "vote", vote.height, vote.round, effects):
        return state
    power = state.validators.power_of(vote.validator)
    if power == 0:
        return _drop(state, effects, "no_voting_power", f"validator {vote.validator.hex()} has no voting power at "
                                                        f"height {state.height} (unknown, jailed or unstaked)")
    proposed = vote.block_id is None or state.knows_block(vote.block_id)
    votes, outcome, evidence = state.votes.add(vote, power, countable_conflict=proposed)
    if outcome is AddOutcome.DUPLICATE:
        return _drop(state, effects, "duplicate", "vote already counted")
    if evidence is not None:
        effects.append(FoundEvidence(evidence))
    if votes is state.votes:
        return _drop(state, effects, "equivocation", f"validator {vote.validator.hex()} voted twice in round "
                                                     f"{vote.round} for a value nobody proposed; evidence recorded")
    return replace(state, votes=votes)


def _on_timeout(state: ConsensusState, timeout: TimeoutElapsed, effects: list[Effect]) -> ConsensusState:
    """A timeout of the round in progress (``step`` dropped stale ones)."""
    if timeout.step is Step.PROPOSE and state.step is Step.PROPOSE:  # L57-L60
        return _vote(state, VoteType.PREVOTE, None, Step.PREVOTE, effects)
    if timeout.step is Step.PREVOTE and state.step is Step.PREVOTE:  # L61-L64
        return _vote(state, VoteType.PRECOMMIT, None, Step.PRECOMMIT, effects)
    if timeout.step is Step.PRECOMMIT:  # L65-L67
        return _start_round(state, state.round + 1, effects)
    return state


# --- transitions -------------------------------------------------------------------------------

def _vote(state: ConsensusState, type_: VoteType, record: ProposalRecord | None, next_step: Step,
          effects: list[Effect]) -> ConsensusState:
    if state.our_key in state.validators:
        block_id = record.proposal.block_id if record else None
        not_before = record.time_ms + 1 if record else 0
        effects.append(CastVote(type_, state.height, state.round, block_id, not_before))
    return replace(state, step=next_step)


def _schedule(state: ConsensusState, step_: Step, effects: list[Effect], extra_ms: int = 0) -> None:
    effects.append(ScheduleTimeout(state.height, state.round, step_,
                                   state.params.timeout_ms(step_, state.round) + extra_ms))


def _start_round(state: ConsensusState, round_: int, effects: list[Effect], extra_wait_ms: int = 0) -> ConsensusState:
    """L11-L21 StartRound(round); ``extra_wait_ms`` lengthens timeoutPropose (a height we started first)."""
    state = replace(state, round=round_, step=Step.PROPOSE)  # L12-L13
    if state.our_key is not None and state.proposer(round_) == state.our_key:  # L14
        block = state.valid_record.proposal.block if state.valid_record else None  # L15-L18
        effects.append(Propose(state.height, round_, state.valid_round, block))  # L19
    # L21; the proposer schedules it too, so a proposal that cannot be made does not stall the round.
    _schedule(state, Step.PROPOSE, effects, extra_wait_ms)
    return state


def _quorum_for(state: ConsensusState, round_: int, type_: VoteType, block_id: bytes | None) -> bool:
    return state.validators.is_quorum(state.votes.tally(round_, type_).power_for.get(block_id, 0))


def _quorum_any(state: ConsensusState, round_: int, type_: VoteType) -> bool:
    return state.validators.is_quorum(state.votes.tally(round_, type_).power_any)


def _try_decide(state: ConsensusState, effects: list[Effect]) -> ConsensusState | None:
    """L49-L54: a valid proposal of any round with >2/3 precommits for it is decided."""
    for round_, records in sorted(state.proposals.items()):
        for record in records:
            block_id = record.proposal.block_id
            if record.valid and _quorum_for(state, round_, VoteType.PRECOMMIT, block_id):
                precommits = state.votes.tally(round_, VoteType.PRECOMMIT).votes_for(block_id)
                certificate = Certificate.from_precommits(state.height, round_, block_id, precommits)
                effects.append(Decide(record.proposal, certificate, record.time_ms))
                return replace(state, decided=True)
    return None


def _try_skip_round(state: ConsensusState, effects: list[Effect]) -> ConsensusState | None:
    """L55-L56: f+1 of the power is already in a higher round: join the highest such round."""
    ahead = [r for r in state.votes.rounds()
             if r > state.round and state.validators.is_one_third(state.votes.voters_power(r, state.validators.power_of))]
    return _start_round(state, max(ahead), effects) if ahead else None


def _try_prevote(state: ConsensusState, effects: list[Effect]) -> ConsensusState | None:
    """L22-L33: the first proposal of this round that can be judged gets our prevote."""
    if state.step is not Step.PROPOSE:
        return None
    for record in state.proposals.get(state.round, ()):
        vr = record.proposal.pol_round
        block_id = record.proposal.block_id
        if vr == -1:  # L22-L27
            acceptable = state.locked_round == -1 or state.locked_block_id == block_id
        elif _quorum_for(state, vr, VoteType.PREVOTE, block_id):  # L28-L33
            acceptable = state.locked_round <= vr or state.locked_block_id == block_id
        else:
            continue
        chosen = record if record.valid and acceptable else None
        return _vote(state, VoteType.PREVOTE, chosen, Step.PREVOTE, effects)
    return None


def _try_lock(state: ConsensusState, effects: list[Effect]) -> ConsensusState | None:
    """L36-L43: a valid proposal of this round with >2/3 prevotes: lock on it (if prevoting), mark it valid."""
    if state.step is Step.PROPOSE or (36, state.round) in state.fired:
        return None
    for record in state.proposals.get(state.round, ()):
        if record.valid and _quorum_for(state, state.round, VoteType.PREVOTE, record.proposal.block_id):
            state = replace(state, fired=state.fired | {(36, state.round)})
            if state.step is Step.PREVOTE:  # L37-L41
                state = replace(state, locked_round=state.round, locked_block_id=record.proposal.block_id)
                state = _vote(state, VoteType.PRECOMMIT, record, Step.PRECOMMIT, effects)
            return replace(state, valid_round=state.round, valid_record=record)  # L42-L43
    return None


def _try_precommit_nil(state: ConsensusState, effects: list[Effect]) -> ConsensusState | None:
    """L44-L46: >2/3 prevoted nil."""
    if state.step is Step.PREVOTE and _quorum_for(state, state.round, VoteType.PREVOTE, None):
        return _vote(state, VoteType.PRECOMMIT, None, Step.PRECOMMIT, effects)
    return None


def _try_prevote_timeout(state: ConsensusState, effects: list[Effect]) -> ConsensusState | None:
    """L34-L35: >2/3 prevoted anything, for the first time in this round."""
    key = (34, state.round)
    if state.step is Step.PREVOTE and key not in state.fired and _quorum_any(state, state.round, VoteType.PREVOTE):
        _schedule(state, Step.PREVOTE, effects)
        return replace(state, fired=state.fired | {key})
    return None


def _try_precommit_timeout(state: ConsensusState, effects: list[Effect]) -> ConsensusState | None:
    """L47-L48: >2/3 precommitted anything, for the first time in this round."""
    key = (47, state.round)
    if key not in state.fired and _quorum_any(state, state.round, VoteType.PRECOMMIT):
        _schedule(state, Step.PRECOMMIT, effects)
        return replace(state, fired=state.fired | {key})
    return None


_RULES = (_try_decide, _try_skip_round, _try_prevote, _try_lock, _try_precommit_nil, _try_prevote_timeout,
          _try_precommit_timeout)


def _run_rules(state: ConsensusState, effects: list[Effect]) -> tuple[ConsensusState, list[Effect]]:
    """Fire the first applicable rule, again and again, until none applies (or the height is decided)."""
    while not state.decided:
        for rule in _RULES:
            next_state = rule(state, effects)
            if next_state is not None:
                state = next_state
                break
        else:
            break
    return state, effects
