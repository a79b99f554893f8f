"""The host of the pure core: performs its effects and feeds it inputs, with no I/O of its own.

One :class:`Node` per validator (or follower). It is synchronous and knows no
clock or network: its methods take an input (a message from a peer, a timer that
fired) and return :class:`Outgoing` actions (broadcast a message, start a timer)
for its driver to perform, the trio :mod:`consensus.driver` in the daemon or the
virtual-time :mod:`consensus.simulation` in tests.

Order of duties, as in CometBFT's consensus state and Malachite's host:
* every input of the height in progress goes to the write-ahead log before it is handled;
* our own proposals and votes are signed by the :class:`Signer` (durable before
  released), logged, broadcast, then handled like any peer's message;
* a decision is committed by the Application with its certificate; the next height
  starts ``timeout_commit_ms`` later, with the validator set the Application gives
  for it and CometBFT's proposer priorities carried over;
* a height with nothing to do waits IDLE (no timers, no messages): it starts when the
  mempool admits a transaction (:meth:`Node.on_work`), evidence arrives, another
  validator's message of the height arrives, or the heartbeat is due
  (``heartbeat_ms`` of consensus time after the last decision), so time-driven
  ledger rules still advance on an idle chain;
* messages of the next few heights are buffered; a vote of a past height means its
  sender fell behind, so we send it the decided blocks it misses;
* our own messages of the round in progress are gossiped again every
  ``regossip_interval_ms`` while the height is under way (lost messages must not stall
  a round; older rounds' messages cannot move anyone, and resending them all made the
  traffic grow with every round); an idle or decided height sets no timer at all.

Signatures of incoming messages are *not* checked here: the transport delivers only
messages that passed :func:`decode_message` (checked once, before relay).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
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
from consensus.wal import Wal, WalMessage, WalTimeout, WalWork

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
        self._known_valid: dict[bytes, int] = {}
        self._own_proposals: dict[tuple[int, int], Proposal] = {}
        self._future: list[Message] = []
        self._served: set[int] = set()
        self._inputs: deque[core.Input] = deque()
        self._out: list[Outgoing] = []
        self._replaying = False
        self._regossip_due = False
        """A RegossipTick is scheduled (only while a height is under way)."""

    # --- public surface -------------------------------------------------------------------------

    @property
    def height(self) -> int:
        assert self.state is not None, "start() first"
        return self.state.height

    @property
    def waiting_for_work(self) -> bool:
        """The height in progress is IDLE: a transaction or evidence would start it."""
        return self.state is not None and self.state.step is Step.IDLE

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
                self._handle_timer(core.TimeoutElapsed(item.height, item.round, item.step), log=False)
            elif isinstance(item, WalWork):
                self._feed(core.WorkReady(item.height))
            else:
                self._handle_message(item, log=False)
        self._replaying = False
        log.info("consensus_started", height=height, replayed=len(entries), validator=bool(self.signer))
        return self._flush()

    def on_message(self, message: Message) -> list[Outgoing]:
        """A message from a peer that passed :func:`decode_message`."""
        self._handle_message(message)
        return self._flush()

    def on_timer(self, event: TimerEvent) -> list[Outgoing]:
        self._handle_timer(event)
        return self._flush()

    def on_work(self) -> list[Outgoing]:
        """The mempool admitted transactions: an idle height starts at once."""
        if self.waiting_for_work and len(self.mempool):
            self._start_work()
        return self._flush()

    # --- inputs ---------------------------------------------------------------------------------

    def _handle_message(self, message: Message, log: bool = True) -> None:
        if isinstance(message, Evidence):
            self._add_evidence(message, gossip=False)
        elif isinstance(message, DecidedBlock):
            self._on_decided_block(message)
        else:
            self._on_round_message(message, log)

    def _handle_timer(self, event: TimerEvent, log: bool = True) -> None:
        state = self._state
        if isinstance(event, core.TimeoutElapsed):
            if (event.height, event.round) == (state.height, state.round) and not state.decided:
                if log:
                    self.wal.append(WalTimeout(event.height, event.round, event.step), durable=False)
                self._feed(event)
        elif isinstance(event, CommitElapsed):
            if event.height == state.height + 1 and state.decided:
                self._start_height(event.height)
        elif isinstance(event, HeartbeatDue):
            if event.height == state.height and state.step is Step.IDLE:
                delay = self._heartbeat_delay_ms()
                if delay:  # the wall clock lags the timer: wait the rest
                    self._out.append(StartTimer(event, delay))
                else:
                    self._start_work()
        else:
            self._regossip_due = False
            self._regossip()

    @property
    def _state(self) -> core.ConsensusState:
        assert self.state is not None, "start() first"
        return self.state

    def _on_round_message(self, message: Proposal | Vote, log: bool = True) -> None:
        state = self._state
        if message.height < state.height:
            self._serve_catch_up(message.height)
        elif message.height > state.height:
            self._buffer(message)
        elif not state.decided:
            if log:
                self.wal.append(WalMessage(encode_message(message)), durable=False)
            if isinstance(message, Vote):
                self._feed(core.VoteReceived(message))
            else:
                self._receive_proposal(message)

    def _receive_proposal(self, proposal: Proposal) -> None:
        state = self._state
        worth_checking = (proposal.proposer == state.proposer(proposal.round)
                          and state.record(proposal.round, proposal.block_id) is None)
        valid, time_ms = False, 0
        if worth_checking:
            valid, time_ms = self._verify_block(proposal.height, proposal.round, proposal.block)
        self._feed(core.ProposalReceived(proposal, valid, time_ms))

    def _verify_block(self, height: int, round_: int, block: bytes) -> tuple[bool, int]:
        block_id = block_id_of(block)
        if block_id in self._known_valid:
            return True, self._known_valid[block_id]
        context = BlockContext(height, round_, self._state.proposer(round_))
        try:
            time_ms = self.app.verify_block(context, block)
        except Rejected as exc:
            log.warning("invalid_block", height=height, round=round_, code=exc.code, detail=exc.detail)
            return False, 0
        self._known_valid[block_id] = time_ms
        return True, time_ms

    def _buffer(self, message: Message) -> None:
        height = message.certificate.height if isinstance(message, DecidedBlock) else message.height
        if height <= self._state.height + self.config.future_heights and len(self._future) < self.config.max_buffered:
            self._future.append(message)

    def _on_decided_block(self, decided: DecidedBlock) -> None:
        state = self._state
        certificate = decided.certificate
        if certificate.height > state.height:
            self._buffer(decided)
            return
        if certificate.height < state.height or state.decided:
            return
        try:
            verify_certificate(certificate, state.validators, self.config.chain_id, height=state.height,
                               block_id=block_id_of(decided.block))
        except Rejected as exc:
            log.warning("bad_decided_block", height=certificate.height, code=exc.code, detail=exc.detail)
            return
        valid, _ = self._verify_block(state.height, certificate.round, decided.block)
        if not valid:
            log.error("certified_block_invalid", height=state.height,
                      detail="more than 2/3 of the stake certified a block this node finds invalid")
            return
        log.info("caught_up", height=state.height, round=certificate.round)
        self.state = replace(state, decided=True)
        self._commit(decided.block, certificate)

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

    # --- the core and its effects ---------------------------------------------------------------

    def _feed(self, input_: core.Input) -> None:
        """Queue an input; handle the queue unless already handling it (our own messages re-enter here)."""
        self._inputs.append(input_)
        if len(self._inputs) == 1:
            while self._inputs:
                self._process(core.step(self._state, self._inputs[0]))
                self._inputs.popleft()

    def _process(self, transition: core.Transition) -> None:
        before, self.state = self.state, transition.state
        if transition.state.step is not Step.IDLE and (
                before is None or before.height != transition.state.height or before.step is Step.IDLE):
            log.debug("height_started", height=transition.state.height, round=transition.state.round)
        for effect in transition.effects:
            if isinstance(effect, core.CastVote):
                self._cast_vote(effect)
            elif isinstance(effect, core.Propose):
                self._propose(effect)
            elif isinstance(effect, core.ScheduleTimeout):
                event = core.TimeoutElapsed(effect.height, effect.round, effect.step)
                self._out.append(StartTimer(event, effect.delay_ms))
            elif isinstance(effect, core.Decide):
                self._commit(effect.proposal.block, effect.certificate)
            elif isinstance(effect, core.FoundEvidence):
                self._add_evidence(effect.evidence, gossip=True)
            else:
                log.debug("input_dropped", code=effect.code, detail=effect.detail)

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
                built = self.app.build_block(context, self._last_certificate, txs, evidence)
                block = built.block
                self._known_valid[block_id_of(block)] = built.time_ms
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
        """Log (durably), broadcast, then handle our own message like a peer's."""
        self.wal.append(WalMessage(encode_message(message)), durable=True)
        kind = message.type.name.lower() if isinstance(message, Vote) else "proposal"
        log.debug("own_message", kind=kind, height=message.height, round=message.round)
        self._out.append(Broadcast(message))
        if isinstance(message, Vote):
            self._feed(core.VoteReceived(message))
        else:
            self._receive_proposal(message)

    def _commit(self, block: bytes, certificate: Certificate) -> None:
        height = certificate.height
        log.debug("decided", height=height, round=certificate.round)
        result = self.app.commit_block(block, certificate)
        self._last_certificate = certificate
        self._tip_time_ms = self._known_valid[certificate.block_id]
        self._decided_time_ms = block_time_ms(certificate, self._state.validators, self._tip_time_ms)
        self.mempool.update(result.txids)
        self.evidence_pool.mark_committed(result.evidence, height)
        self.evidence_pool.prune(height)
        self.last_commit = CommittedBlock(height, certificate.round, certificate.block_id, result.state_hash)
        log.info("committed", height=height, round=certificate.round, txs=len(result.txids),
                 evidence=len(result.evidence), state_hash=result.state_hash.hex())
        self._out.append(StartTimer(CommitElapsed(height + 1), self.config.params.timeout_commit_ms))

    def _start_height(self, height: int) -> None:
        assert self._validators is not None
        self._validators = self._validators.next_height(self.app.validator_powers(height))
        self.wal.start_height(height)
        self._known_valid = {}
        self._own_proposals = {}
        self._enter_height(height)
        buffered, self._future = self._future, []
        for message in buffered:
            if isinstance(message, DecidedBlock):
                self._on_decided_block(message)
            elif isinstance(message, Evidence):
                self._add_evidence(message, gossip=False)
            else:
                self._on_round_message(message)

    def _enter_height(self, height: int) -> None:
        """New height: start round 0 at once if there is work already (every node has it: no longer
        timeout) or the heartbeat is due, else wait IDLE."""
        assert self._validators is not None
        busy = bool(len(self.mempool) or self.evidence_pool.pending(height) or self._heartbeat_delay_ms() == 0)
        self._process(core.new_height(self.config.params, self.our_key, height, self._validators, not busy))
        if not busy:
            self._out.append(StartTimer(HeartbeatDue(height), self._heartbeat_delay_ms()))

    def _heartbeat_delay_ms(self) -> int:
        """Wall-clock time until the heartbeat is due (0: due now; always due before the first block)."""
        if self._decided_time_ms is None:
            return 0
        return max(0, self._decided_time_ms + self.config.params.heartbeat_ms - self.clock.now_ms())

    def _start_work(self) -> None:
        """Start the idle height: log why first, so a replay after a crash starts it too."""
        height = self._state.height
        self.wal.append(WalWork(height), durable=False)
        self._feed(core.WorkReady(height))

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
