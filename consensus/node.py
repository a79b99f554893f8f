"""The host of the pure core: an effect interpreter that takes one input at a time.

One :class:`Node` per validator (or follower). It is synchronous and knows no
clock or network: :meth:`Node.handle` takes one item (a peer's message, a timer
that fired, the news that the mempool has work) and returns :class:`Outgoing`
actions (broadcast a message, start a timer) for its driver to perform, the trio
:mod:`consensus.driver` in the daemon or the virtual-time :mod:`consensus.simulation`
in tests. Like CometBFT's consensus state and Malachite's host:

* every input is handled to the end before the next: written to the write-ahead log,
  then given to the core's ``step``, then the core's effects are performed; an effect
  whose result is a new input (our own signed vote, the verdict on a block) queues it,
  and the queue is drained before :meth:`Node.handle` returns;
* the effects, each in one place: sign a vote or a proposal (:class:`Signer`, durable
  before released; the message is logged durably before it is broadcast), verify a
  proposed block or a catch-up block with its certificate (the Application), commit a
  decision (the Application, one synced batch), schedule a timeout, gossip evidence;
* the host makes none of the core's checks (heights, rounds, proposers, duplicates,
  decided heights: the core drops what does not fit); it only routes a message of
  another height: buffered if ahead, answered with the decided blocks its sender
  misses if behind;
* a height with nothing to do waits IDLE (no timers, no messages): it starts when the
  mempool has work (:class:`WorkAvailable`), evidence arrives, another validator's message of
  the height arrives, or the heartbeat is due (``heartbeat_ms`` of consensus time after
  the last decision), so time-driven ledger rules still advance on an idle chain;
* our own messages of the round in progress are gossiped again every
  ``regossip_interval_ms`` while the height is under way; an idle or decided height sets
  no timer at all.

Signatures of incoming messages are *not* checked here: the transport delivers only
messages that passed :func:`decode_message` (checked once, before relay).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Union

import structlog
from wallet.codec import pack

from consensus import core
from consensus.certificate import Certificate, block_time_ms, encode_certificate, verify_certificate
from consensus.encoding import DecidedBlock, Message, decode_message, encode_message
from consensus.errors import Rejected, SignerRefused
from consensus.evidence import EvidencePool, verify_evidence
from consensus.interfaces import Application, BlockContext, Clock
from consensus.mempool import Mempool
from consensus.messages import Evidence, Proposal, Vote, VoteType, block_id_of
from consensus.params import ConsensusParams, Step
from consensus.signer import Signer
from consensus.validators import ValidatorSet
from consensus.wal import Wal, WalEntry, WalMessage, WalTimeout, WalWork

log = structlog.get_logger(__name__)

BLOCK_HEADER_RESERVE_BYTES = 1024
TX_FRAMING_BYTES = 5
"""msgpack adds at most 5 bytes around each transaction's bytes."""


@dataclass(frozen=True)
class CommitElapsed:
    """timeout_commit after the decision of ``height - 1``: start ``height``."""

    height: int


@dataclass(frozen=True)
class HeartbeatDue:
    """``height`` is idle and its heartbeat is due: start it even without transactions."""

    height: int


@dataclass(frozen=True)
class RegossipTick:
    """Time to gossip our own messages of the height again."""


TimerEvent = Union[core.TimeoutElapsed, CommitElapsed, HeartbeatDue, RegossipTick]


@dataclass(frozen=True)
class WorkAvailable:
    """The mempool admitted transactions (while the height was idle)."""


NodeInput = Union[Message, TimerEvent, WorkAvailable]
"""What a driver hands to :meth:`Node.handle`."""


@dataclass(frozen=True)
class Broadcast:
    message: Message


@dataclass(frozen=True)
class StartTimer:
    event: TimerEvent
    delay_ms: int


Outgoing = Union[Broadcast, StartTimer]


@dataclass(frozen=True)
class NodeConfig:
    chain_id: str
    params: ConsensusParams
    regossip_interval_ms: int = 1000
    future_heights: int = 4
    """Messages up to this many heights ahead are buffered; further ones are dropped."""
    max_buffered: int = 10_000
    catch_up_blocks: int = 8
    """Decided blocks sent at once to a node seen at a past height."""


@dataclass(frozen=True)
class CommittedBlock:
    height: int
    round: int
    block_id: bytes
    state_hash: bytes


_TIMERS = (core.TimeoutElapsed, CommitElapsed, HeartbeatDue, RegossipTick)


class Node:
    def __init__(self, config: NodeConfig, app: Application, clock: Clock, wal: Wal, mempool: Mempool,
                 evidence_pool: EvidencePool, signer: Signer | None = None) -> None:
        self.config = config
        self.app = app
        self.clock = clock
        self.wal = wal
        self.mempool = mempool
        self.evidence_pool = evidence_pool
        self.signer = signer
        self.our_key = signer.public_key if signer else None
        self.state: core.ConsensusState | None = None
        self.last_commit: CommittedBlock | None = None
        self._validators: ValidatorSet | None = None
        self._last_certificate: Certificate | None = None
        self._tip_time_ms = 0
        self._decided_time_ms: int | None = None
        """Certified time of the last decision (None before block 1): the heartbeat counts from it."""
        self._own_proposals: dict[tuple[int, int], Proposal] = {}
        self._future: list[Message] = []
        self._served: set[int] = set()
        self._inputs: deque[tuple[core.Input, WalEntry | None]] = deque()
        self._stepping = False
        self._out: list[Outgoing] = []
        self._replaying = False
        self._regossip_due = False
        """A RegossipTick is scheduled (only while a height is under way)."""

    # --- public surface -------------------------------------------------------------------------

    @property
    def height(self) -> int:
        return self._state.height

    @property
    def waiting_for_work(self) -> bool:
        """The height in progress is IDLE (and not caught up meanwhile): a transaction or evidence would start it.

        Read from another thread too (the driver's mempool hook): one read of the immutable state."""
        state = self.state
        return state is not None and state.step is Step.IDLE and not state.decided

    def start(self) -> list[Outgoing]:
        """Resume after the last committed block: refuse an unsafe signer, rebuild the proposer schedule,
        replay the write-ahead log of the height in progress. Raises ``UnsafeStart``."""
        tip = self.app.chain_tip()
        if self.signer is not None:
            self.signer.check_start(tip.height)
        self._last_certificate = tip.certificate
        self._tip_time_ms = tip.block_time_ms
        if tip.certificate is not None:
            tip_validators = ValidatorSet.from_powers(self.app.validator_powers(tip.height))
            self._decided_time_ms = block_time_ms(tip.certificate, tip_validators, tip.block_time_ms)
        validators = ValidatorSet.from_powers(self.app.validator_powers(1))
        for height in range(2, tip.height + 2):
            validators = validators.next_height(self.app.validator_powers(height))
        self._validators = validators
        height = tip.height + 1
        entries = self.wal.entries(height)
        replayed = [self._decode_wal(entry) if isinstance(entry, WalMessage) else entry for entry in entries]
        self._own_proposals = {(m.height, m.round): m for m in replayed
                               if isinstance(m, Proposal) and m.proposer == self.our_key}
        if not entries:
            self.wal.start_height(height)
        self._replaying = True
        self._enter_height(height)
        for item in replayed:  # already in the log: not logged again
            if isinstance(item, WalTimeout):
                self._input(core.TimeoutElapsed(item.height, item.round, item.step))
            elif isinstance(item, WalWork):
                self._input(core.WorkReady(item.height))
            else:
                self._on_message(item, logged=True)
        self._replaying = False
        log.info("consensus_started", height=height, replayed=len(entries), validator=bool(self.signer))
        return self._flush()

    def handle(self, item: NodeInput) -> list[Outgoing]:
        """One item from the driver (a checked peer message, a timer, work), handled to the end."""
        if isinstance(item, _TIMERS):
            self._on_timer(item)
        elif isinstance(item, WorkAvailable):
            if len(self.mempool):
                self._start_work()
        else:
            self._on_message(item)
        return self._flush()

    # --- routing what comes in ------------------------------------------------------------------

    def _on_message(self, message: Message, logged: bool = False) -> None:
        if isinstance(message, Evidence):
            self._add_evidence(message, gossip=False)
            return
        state = self._state
        height = message.certificate.height if isinstance(message, DecidedBlock) else message.height
        if height > state.height:
            self._buffer(message)
        elif isinstance(message, DecidedBlock):
            if height == state.height:  # not logged: a decided height leaves the log with its commit
                self._input(core.DecidedBlockSeen(message.block, message.certificate))
        elif height < state.height:
            self._serve_catch_up(height)
        else:
            entry = None if logged else WalMessage(encode_message(message))
            self._input(core.VoteReceived(message) if isinstance(message, Vote) else core.ProposalSeen(message), entry)

    def _on_timer(self, event: TimerEvent) -> None:
        if isinstance(event, core.TimeoutElapsed):
            self._input(event, WalTimeout(event.height, event.round, event.step))
        elif isinstance(event, CommitElapsed):
            self._start_height(event.height)
        elif isinstance(event, HeartbeatDue):
            if event.height == self._state.height and self.waiting_for_work:
                delay = self._heartbeat_delay_ms()
                if delay:  # the wall clock lags the timer: wait the rest
                    self._out.append(StartTimer(event, delay))
                else:
                    self._start_work()
        else:
            self._regossip_due = False
            self._regossip()

    def _buffer(self, message: Message) -> None:
        height = message.certificate.height if isinstance(message, DecidedBlock) else message.height
        if height <= self._state.height + self.config.future_heights and len(self._future) < self.config.max_buffered:
            self._future.append(message)

    def _serve_catch_up(self, height: int) -> None:
        """A vote or proposal of a past height: its sender is behind; send the blocks it misses (rate-limited)."""
        if height in self._served:
            return
        self._served.add(height)
        last = min(height + self.config.catch_up_blocks, self._state.height)
        for past in range(height, last):
            found = self.app.decided_block(past)
            if found is not None:
                self._out.append(Broadcast(DecidedBlock(*found)))

    def _add_evidence(self, evidence: Evidence, gossip: bool) -> None:
        height = self._state.height
        if evidence.height > height or self.evidence_pool.knows(evidence):
            return
        try:
            validators = ValidatorSet.from_powers(self.app.validator_powers(evidence.height))
            verify_evidence(evidence, validators, self.config.chain_id, height + 1,
                            self.config.params.evidence_max_age_blocks)
        except (Rejected, ValueError) as exc:
            log.warning("evidence_refused", height=evidence.height, reason=str(exc))
            return
        if self.evidence_pool.add(evidence):
            log.warning("equivocation", validator=evidence.validator.hex(), height=evidence.height,
                        round=evidence.vote_a.round)
            if gossip:
                self._out.append(Broadcast(evidence))
            if self.waiting_for_work:
                self._start_work()

    # --- one input at a time: log, step, effects ------------------------------------------------

    @property
    def _state(self) -> core.ConsensusState:
        assert self.state is not None, "start() first"
        return self.state

    def _input(self, input_: core.Input, entry: WalEntry | None = None) -> None:
        """Queue an input (with what to log first, if anything); drain the queue unless already draining.

        Inputs that effects produce (our own signed messages, verdicts) join the same queue,
        so each input's effects are all performed before the next input is stepped.
        """
        self._inputs.append((input_, entry))
        if self._stepping:
            return
        self._stepping = True
        try:
            while self._inputs:
                input_, entry = self._inputs.popleft()
                if entry is not None:
                    self.wal.append(entry, durable=False)
                self._apply(core.step(self._state, input_))
        finally:
            self._stepping = False

    def _apply(self, transition: core.Transition) -> None:
        before, self.state = self.state, transition.state
        if transition.state.step is not Step.IDLE and (
                before is None or before.height != transition.state.height or before.step is Step.IDLE):
            log.debug("height_started", height=transition.state.height, round=transition.state.round)
        for effect in transition.effects:
            self._perform(effect)

    def _perform(self, effect: core.Effect) -> None:
        if isinstance(effect, core.CastVote):
            self._cast_vote(effect)
        elif isinstance(effect, core.Propose):
            self._propose(effect)
        elif isinstance(effect, core.ScheduleTimeout):
            self._out.append(StartTimer(core.TimeoutElapsed(effect.height, effect.round, effect.step),
                                        effect.delay_ms))
        elif isinstance(effect, core.VerifyBlock):
            self._verify_block(effect.proposal)
        elif isinstance(effect, core.VerifyDecidedBlock):
            self._verify_decided_block(effect.block, effect.certificate)
        elif isinstance(effect, core.Decide):
            self._commit(effect.proposal.block, effect.certificate, effect.time_ms)
        elif isinstance(effect, core.CaughtUp):
            log.info("caught_up", height=effect.certificate.height, round=effect.certificate.round)
            self._commit(effect.block, effect.certificate, effect.time_ms)
        elif isinstance(effect, core.FoundEvidence):
            self._add_evidence(effect.evidence, gossip=True)
        else:
            log.debug("input_dropped", code=effect.code, detail=effect.detail)

    # --- the effects ----------------------------------------------------------------------------

    def _propose(self, effect: core.Propose) -> None:
        if self.signer is None:
            return
        proposal = self._own_proposals.get((effect.height, effect.round))
        if proposal is None:
            block = effect.block
            if block is None:
                context = BlockContext(effect.height, effect.round, self.signer.public_key)
                evidence = self.evidence_pool.pending(effect.height)
                txs = self.mempool.select(self.config.params.max_block_txs, self._tx_bytes_budget(evidence))
                block = self.app.build_block(context, self._last_certificate, txs, evidence).block
            try:
                proposal = self.signer.sign_proposal(effect.height, effect.round, effect.pol_round, block)
            except SignerRefused as exc:
                (log.debug if self._replaying else log.warning)("proposal_not_signed", code=exc.code,
                                                                detail=exc.detail)
                return
            self._own_proposals[(effect.height, effect.round)] = proposal
        self._send_own(proposal)

    def _tx_bytes_budget(self, evidence: list[Evidence]) -> int:
        """Room left for transactions once the last commit, the evidence and the framing are counted."""
        params = self.config.params
        certificate = len(encode_certificate(self._last_certificate)) if self._last_certificate else 0
        reserved = (certificate + sum(len(pack(ev.to_wire())) for ev in evidence) + BLOCK_HEADER_RESERVE_BYTES
                    + TX_FRAMING_BYTES * params.max_block_txs)
        return max(0, params.max_block_bytes - reserved)

    def _cast_vote(self, effect: core.CastVote) -> None:
        assert self.signer is not None
        timestamp = max(self.clock.now_ms(), effect.not_before_ms, self._tip_time_ms + 1)
        try:
            vote = self.signer.sign_vote(effect.type, effect.height, effect.round, effect.block_id, timestamp)
        except SignerRefused as exc:
            (log.debug if self._replaying else log.warning)("vote_not_signed", code=exc.code, detail=exc.detail)
            return
        self._send_own(vote)

    def _send_own(self, message: Proposal | Vote) -> None:
        """Log (durably), broadcast, then take our own message as an input like a peer's."""
        self.wal.append(WalMessage(encode_message(message)), durable=True)
        kind = message.type.name.lower() if isinstance(message, Vote) else "proposal"
        log.debug("own_message", kind=kind, height=message.height, round=message.round)
        self._out.append(Broadcast(message))
        self._input(core.VoteReceived(message) if isinstance(message, Vote) else core.ProposalSeen(message))

    def _verify_block(self, proposal: Proposal) -> None:
        """valid(v): the Application executes the block (a block this node built is known to it)."""
        try:
            time_ms = self.app.verify_block(BlockContext(proposal.height, proposal.round, proposal.proposer),
                                            proposal.block)
        except Rejected as exc:
            log.warning("invalid_block", height=proposal.height, round=proposal.round, code=exc.code,
                        detail=exc.detail)
            self._input(core.BlockVerified(proposal.block_id, False))
            return
        self._input(core.BlockVerified(proposal.block_id, True, time_ms))

    def _verify_decided_block(self, block: bytes, certificate: Certificate) -> None:
        state = self._state
        try:
            verify_certificate(certificate, state.validators, self.config.chain_id, height=state.height,
                               block_id=block_id_of(block))
        except Rejected as exc:
            log.warning("bad_decided_block", height=certificate.height, code=exc.code, detail=exc.detail)
            return
        try:
            time_ms = self.app.verify_block(BlockContext(state.height, certificate.round,
                                                         state.proposer(certificate.round)), block)
        except Rejected as exc:
            log.error("certified_block_invalid", height=state.height, code=exc.code,
                      detail=f"more than 2/3 of the stake certified a block this node finds invalid: {exc.detail}")
            return
        self._input(core.DecidedBlockVerified(block, certificate, time_ms))

    def _commit(self, block: bytes, certificate: Certificate, time_ms: int) -> None:
        height = certificate.height
        log.debug("decided", height=height, round=certificate.round)
        result = self.app.commit_block(block, certificate)
        self._last_certificate = certificate
        self._tip_time_ms = time_ms
        self._decided_time_ms = block_time_ms(certificate, self._state.validators, time_ms)
        self.mempool.update(result.txids)
        self.evidence_pool.mark_committed(result.evidence, height)
        self.evidence_pool.prune(height)
        self.last_commit = CommittedBlock(height, certificate.round, certificate.block_id, result.state_hash)
        log.info("committed", height=height, round=certificate.round, txs=len(result.txids),
                 evidence=len(result.evidence), state_hash=result.state_hash.hex())
        self._out.append(StartTimer(CommitElapsed(height + 1), self.config.params.timeout_commit_ms))

    # --- heights --------------------------------------------------------------------------------

    def _start_height(self, height: int) -> None:
        assert self._validators is not None and height == self._state.height + 1, "one CommitElapsed per decision"
        self._validators = self._validators.next_height(self.app.validator_powers(height))
        self.wal.start_height(height)
        self._own_proposals = {}
        self._enter_height(height)
        buffered, self._future = self._future, []
        for message in buffered:
            self._on_message(message)

    def _enter_height(self, height: int) -> None:
        """New height: start round 0 at once if there is work already (every node has it: no longer
        timeout) or the heartbeat is due, else wait IDLE."""
        assert self._validators is not None
        busy = bool(len(self.mempool) or self.evidence_pool.pending(height) or self._heartbeat_delay_ms() == 0)
        self._apply(core.new_height(self.config.params, self.our_key, height, self._validators, not busy))
        if not busy:
            self._out.append(StartTimer(HeartbeatDue(height), self._heartbeat_delay_ms()))

    def _heartbeat_delay_ms(self) -> int:
        """Wall-clock time until the heartbeat is due (0: due now; always due before the first block)."""
        if self._decided_time_ms is None:
            return 0
        return max(0, self._decided_time_ms + self.config.params.heartbeat_ms - self.clock.now_ms())

    def _start_work(self) -> None:
        """Start the idle height (the core ignores it otherwise), logged so that a replay starts it too."""
        height = self._state.height
        self._input(core.WorkReady(height), WalWork(height))

    def _regossip(self) -> None:
        state = self._state
        self._served.clear()
        if self.our_key is not None:  # the round in progress only: re-sending every earlier round's messages
            # grows with each failed round and, on a loaded box, slows the next round until none ends
            own = self._own_proposals.get((state.height, state.round))
            if own is not None:
                self._out.append(Broadcast(own))
            for vote in state.votes.votes_of(self.our_key):
                if vote.round == state.round:
                    self._out.append(Broadcast(vote))
        if state.valid_record is not None:  # relay the proof-of-lock others need to accept validValue (L28)
            pol = state.votes.tally(state.valid_round, VoteType.PREVOTE)
            for vote in pol.votes_for(state.valid_record.proposal.block_id):
                if vote.validator != self.our_key:
                    self._out.append(Broadcast(vote))

    # --- helpers --------------------------------------------------------------------------------

    def _decode_wal(self, entry: WalMessage) -> Message:
        params = self.config.params
        return decode_message(entry.wire, self.config.chain_id, params.max_block_bytes)

    def _flush(self) -> list[Outgoing]:
        state = self._state
        if not self._regossip_due and state.step is not Step.IDLE and not state.decided:
            self._regossip_due = True
            self._out.append(StartTimer(RegossipTick(), self.config.regossip_interval_ms))
        out, self._out = self._out, []
        return out
