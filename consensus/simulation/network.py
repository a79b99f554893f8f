"""The seeded, virtual-time, in-process network that runs N consensus nodes and checks them.

Everything random comes from one ``random.Random(seed)`` that lives here only (never
in the core): message delays (hence reordering), drops, duplicates, partitions that
heal, crashes and restarts, stakes, byzantine validators. Time is virtual: an event
queue ordered by (time, sequence number); nothing sleeps. The same seed gives the
same run.

Each node is the real :class:`consensus.node.Node` with the real signer, write-ahead
log, mempool and evidence pool; its "disk" (application state, WAL bytes, last-sign
state) survives crashes, its memory (mempool, evidence pool, buffered messages,
timers) does not. Every broadcast goes once through ``encode_message`` and
``decode_message``, as a gossip validator would check it before relay.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any

from wallet.keys import SigningKey

from consensus.certificate import encode_certificate, verify_certificate
from consensus.encoding import Message, decode_message, encode_message
from consensus.errors import ConsensusError, TxRejected
from consensus.evidence import EvidencePool
from consensus.mempool import Mempool
from consensus.messages import block_id_of
from consensus.node import Broadcast, Node, NodeConfig, Outgoing, StartTimer, TimerEvent, WorkAvailable
from consensus.signer import MemoryLastSignStore, Signer
from consensus.simulation.app import SimApplication, pay_tx, stake_tx
from consensus.simulation.byzantine import Behaviour, distort
from consensus.simulation.scenario import RunResult, Scenario
from consensus.validators import ValidatorSet
from consensus.wal import MemoryWal

PPM = 1_000_000


@dataclass
class SimClock:
    sim: "Simulation"
    skew_ms: int

    def now_ms(self) -> int:
        return self.sim.scenario.genesis_time_ms + self.sim.now + self.skew_ms


@dataclass
class SimNode:
    """One validator: its durable parts (app, WAL, last-sign state) and its current incarnation."""

    index: int
    key: SigningKey
    behaviour: Behaviour
    app: SimApplication
    wal: MemoryWal = field(default_factory=MemoryWal)
    sign_store: MemoryLastSignStore = field(default_factory=MemoryLastSignStore)
    node: Node | None = None
    epoch: int = 0
    skew_ms: int = 0

    @property
    def honest(self) -> bool:
        return self.behaviour is Behaviour.HONEST


def _stakes(rng: random.Random, validators: int, byzantine: int) -> list[int]:
    """Unequal stakes; the byzantine ones (the last ``byzantine``) hold strictly less than 1/3 in total."""
    honest = [rng.randint(10, 100) for _ in range(validators - byzantine)]
    budget = (sum(honest) - 1) // 2  # 2 * byzantine_total < honest_total  <=>  3 * byzantine_total < total
    if byzantine and budget < byzantine:
        raise ValueError("too many byzantine validators for the honest stake")
    share = budget // max(byzantine, 1)
    return honest + [rng.randint(1, share) for _ in range(byzantine)]


class Simulation:
    def __init__(self, scenario: Scenario) -> None:
        if not 0 <= scenario.byzantine or 3 * scenario.byzantine >= scenario.validators:
            raise ValueError("byzantine validators must be fewer than a third of the validators")
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.now = 0
        self.events = 0
        self._queue: list[tuple[int, int, str, tuple[Any, ...]]] = []
        self._seq = 0
        self._partition: dict[int, int] | None = None
        self._tx_nonce = 0
        self.notes: list[str] = []
        rng = self.rng
        keys = [SigningKey(rng.getrandbits(256).to_bytes(32, "big")) for _ in range(scenario.validators)]
        stakes = _stakes(rng, scenario.validators, scenario.byzantine)
        order = list(range(scenario.validators))
        rng.shuffle(order)  # byzantine validators land anywhere in the proposer order
        powers = {keys[order[i]].public_key: stakes[i] for i in range(scenario.validators)}
        byzantine_indexes = set(order[scenario.validators - scenario.byzantine:])
        behaviours = [Behaviour.EQUIVOCATE, Behaviour.WITHHOLD]
        byzantine_rank = {index: rank for rank, index in enumerate(sorted(byzantine_indexes))}
        self.nodes = [
            SimNode(i, keys[i], behaviours[byzantine_rank[i] % 2] if i in byzantine_indexes else Behaviour.HONEST,
                    SimApplication(scenario.chain_id, powers, scenario.genesis_time_ms,
                                   scenario.params.evidence_max_age_blocks),
                    skew_ms=rng.randint(0, 30))
            for i in range(scenario.validators)
        ]
        self.config = NodeConfig(scenario.chain_id, scenario.params, regossip_interval_ms=scenario.regossip_interval_ms)

    # --- event queue ----------------------------------------------------------------------------

    def _at(self, time_ms: int, kind: str, *payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (time_ms, self._seq, kind, payload))

    def _plan_faults(self) -> None:
        scenario, rng = self.scenario, self.rng
        start = 0
        for _ in range(rng.randint(0, scenario.max_partitions)):
            if start >= scenario.chaos_ms - 1:
                break
            start = rng.randint(start, scenario.chaos_ms - 1)
            end = min(scenario.chaos_ms, start + rng.randint(100, 800))
            side = {node.index: rng.randint(0, 1) for node in self.nodes}
            self._at(start, "partition", side)
            self._at(end, "heal")
            start = end
        honest = [node.index for node in self.nodes if node.honest]
        for index in rng.sample(honest, min(len(honest), rng.randint(0, scenario.max_crashes))):
            down = rng.randint(0, scenario.chaos_ms - 1)
            self._at(down, "crash", index)
            self._at(min(scenario.chaos_ms, down + rng.randint(50, 1000)), "restart", index)
        target = rng.choice(honest)
        new_power = self.nodes[0].app.genesis_powers[self.nodes[target].key.public_key] + rng.randint(1, 50)
        self._at(rng.randint(0, scenario.chaos_ms), "stake", self.nodes[target].key.public_key, new_power)
        self._at(scenario.chaos_ms, "heal")
        self._at(0, "tx")

    # --- running --------------------------------------------------------------------------------

    def run(self) -> RunResult:
        scenario = self.scenario
        for node in self.nodes:
            self._boot(node)
        self._plan_faults()
        deadline = scenario.chaos_ms + scenario.liveness_window_ms
        target_height: int | None = None
        while self._queue and self.events < scenario.max_events:
            time_ms, _, kind, payload = heapq.heappop(self._queue)
            self.now = time_ms
            self.events += 1
            if time_ms >= scenario.chaos_ms and target_height is None:
                target_height = max(node.app.height for node in self.nodes if node.honest) + scenario.liveness_heights
            if target_height is not None and (self._done(target_height) or time_ms > deadline):
                break
            getattr(self, f"_on_{kind}")(*payload)
        return self._result(target_height)

    def _done(self, target_height: int) -> bool:
        honest = [node for node in self.nodes if node.honest]
        return (all(node.app.height >= target_height for node in honest)
                and all(self._slashed_everywhere(node) for node in self.nodes
                        if node.behaviour is Behaviour.EQUIVOCATE))

    def _slashed_everywhere(self, offender: SimNode) -> bool:
        return all(offender.key.public_key in node.app.slashed for node in self.nodes if node.honest)

    def _boot(self, sim_node: SimNode) -> None:
        scenario = self.scenario
        app = sim_node.app
        mempool = Mempool(app.check_tx, max_txs=5000, max_bytes=4 * 1024 * 1024, max_tx_bytes=1024)
        signer = Signer(sim_node.key, scenario.chain_id, sim_node.sign_store)
        sim_node.node = Node(self.config, app, SimClock(self, sim_node.skew_ms), sim_node.wal, mempool,
                             EvidencePool(scenario.params.evidence_max_age_blocks), signer)
        sim_node.epoch += 1
        try:
            outgoing = sim_node.node.start()
        except ConsensusError as exc:
            self.notes.append(f"node {sim_node.index} refused to start: {exc}")
            sim_node.node = None
            return
        self._perform(sim_node, outgoing)

    def _perform(self, sim_node: SimNode, outgoing: list[Outgoing]) -> None:
        for action in outgoing:
            if isinstance(action, StartTimer):
                self._at(self.now + action.delay_ms, "timer", sim_node.index, sim_node.epoch, action.event)
            else:
                self._broadcast(sim_node, action)

    def _broadcast(self, sender: SimNode, action: Broadcast) -> None:
        peers = [node.index for node in self.nodes if node.index != sender.index]
        for targets, message in distort(sender.behaviour, action.message, sender.key, sender.app,
                                        self.scenario.chain_id, peers, self.rng):
            checked = decode_message(encode_message(message), self.scenario.chain_id,
                                     self.scenario.params.max_block_bytes)
            for target in targets:
                self._send(sender.index, target, checked)

    def _send(self, source: int, target: int, message: Message) -> None:
        scenario, rng = self.scenario, self.rng
        if self._partition is not None and self._partition[source] != self._partition[target]:
            return
        if rng.randrange(PPM) < scenario.drop_ppm:
            return
        copies = 2 if rng.randrange(PPM) < scenario.duplicate_ppm else 1
        for _ in range(copies):
            self._at(self.now + rng.randint(scenario.min_delay_ms, scenario.max_delay_ms), "deliver", target, message)

    # --- events ---------------------------------------------------------------------------------

    def _on_deliver(self, target: int, message: Message) -> None:
        sim_node = self.nodes[target]
        if sim_node.node is not None:
            self._perform(sim_node, sim_node.node.handle(message))

    def _on_timer(self, target: int, epoch: int, event: TimerEvent) -> None:
        sim_node = self.nodes[target]
        if sim_node.node is not None and sim_node.epoch == epoch:
            self._perform(sim_node, sim_node.node.handle(event))

    def _on_crash(self, index: int) -> None:
        self.nodes[index].node = None

    def _on_restart(self, index: int) -> None:
        if self.nodes[index].node is None:
            self._boot(self.nodes[index])

    def _on_partition(self, side: dict[int, int]) -> None:
        self._partition = side

    def _on_heal(self) -> None:
        self._partition = None
        if self.now >= self.scenario.chaos_ms:
            for sim_node in self.nodes:
                if sim_node.node is None:
                    self._boot(sim_node)

    def _on_stake(self, validator: bytes, power: int) -> None:
        self._submit(stake_tx(validator, power))

    def _on_tx(self) -> None:
        self._tx_nonce += 1
        self._submit(pay_tx(self.rng.randint(0, 9), self._tx_nonce))
        self._at(self.now + self.scenario.tx_interval_ms, "tx")

    def _submit(self, tx: bytes) -> None:
        """Transaction gossip is p2p's job: hand the transaction to every running node's mempool."""
        for sim_node in self.nodes:
            if sim_node.node is not None:
                try:
                    sim_node.node.mempool.add(tx)
                except TxRejected:
                    continue
                self._perform(sim_node, sim_node.node.handle(WorkAvailable()))

    # --- checks ---------------------------------------------------------------------------------

    def _result(self, target_height: int | None) -> RunResult:
        scenario = self.scenario
        honest = [node for node in self.nodes if node.honest]
        safety: list[str] = []
        certificates: list[str] = []
        max_round = 0
        top = max(node.app.height for node in honest)
        for height in range(1, top + 1):
            ids = {block_id_of(node.app.blocks[height][0]) for node in honest if height in node.app.blocks}
            if len(ids) > 1:
                safety.append(f"height {height}: honest nodes committed {len(ids)} different blocks")
        checked: set[bytes] = set()
        for node in honest:
            for height, (block, certificate) in node.app.blocks.items():
                max_round = max(max_round, certificate.round)
                encoded = encode_certificate(certificate)
                if encoded in checked:
                    continue
                checked.add(encoded)
                try:
                    verify_certificate(certificate, ValidatorSet.from_powers(node.app.validator_powers(height)),
                                       scenario.chain_id, height=height, block_id=block_id_of(block))
                except ConsensusError as exc:
                    certificates.append(f"node {node.index} height {height}: {exc}")
        liveness = None
        reached = min(node.app.height for node in honest)
        if self.events >= scenario.max_events:
            liveness = f"event budget of {scenario.max_events} exhausted"
        elif target_height is None or reached < target_height:
            liveness = (f"honest nodes reached height {reached}, not {target_height}, within "
                        f"{scenario.liveness_window_ms} ms after the network healed")
        equivocators = [node for node in self.nodes if node.behaviour is Behaviour.EQUIVOCATE]
        return RunResult(
            seed=scenario.seed, validators=scenario.validators, byzantine=scenario.byzantine,
            safety_violations=tuple(safety), liveness_failure=liveness, certificate_failures=tuple(certificates),
            evidence_expected=bool(equivocators),
            evidence_committed=bool(equivocators) and all(self._slashed_everywhere(node) for node in equivocators),
            heights=reached, max_round=max_round, virtual_ms=self.now, events=self.events, notes=tuple(self.notes))


def run_scenario(scenario: Scenario) -> RunResult:
    return Simulation(scenario).run()
