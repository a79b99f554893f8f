"""What a simulated run is made of: the scenario knobs and the outcome of one run."""

from __future__ import annotations

from dataclasses import dataclass, field

from consensus.params import ConsensusParams

SIM_PARAMS = ConsensusParams(
    timeout_propose_ms=200,
    timeout_prevote_ms=100,
    timeout_precommit_ms=100,
    timeout_delta_ms=50,
    timeout_cap_ms=1000,
    timeout_commit_ms=20,
    heartbeat_ms=500,
    evidence_max_age_blocks=100_000,
    max_block_txs=50,
    max_block_bytes=64 * 1024,
)


@dataclass(frozen=True)
class Scenario:
    """One seeded run: N validators (B byzantine, below 1/3 of the stake), a chaos phase, then a calm one.

    During ``chaos_ms`` the network drops, duplicates, delays (hence reorders) messages, splits into
    two partitions that later heal, and honest validators crash and restart. After it, every honest
    node must commit ``liveness_heights`` more blocks within ``liveness_window_ms`` of virtual time.
    """

    validators: int = 4
    byzantine: int = 0
    seed: int = 0
    chain_id: str = "fedow-sim"
    genesis_time_ms: int = 1_767_225_600_000
    chaos_ms: int = 2000
    liveness_heights: int = 3
    liveness_window_ms: int = 15_000
    drop_ppm: int = 50_000
    duplicate_ppm: int = 30_000
    min_delay_ms: int = 1
    max_delay_ms: int = 40
    max_partitions: int = 2
    max_crashes: int = 2
    tx_interval_ms: int = 40
    regossip_interval_ms: int = 300
    max_events: int = 3_000_000
    params: ConsensusParams = SIM_PARAMS


@dataclass(frozen=True)
class RunResult:
    seed: int
    validators: int
    byzantine: int
    safety_violations: tuple[str, ...] = ()
    liveness_failure: str | None = None
    certificate_failures: tuple[str, ...] = ()
    evidence_expected: bool = False
    evidence_committed: bool = False
    heights: int = 0
    """Lowest height committed by every honest node at the end."""
    max_round: int = 0
    """Highest round at which any honest node's block was decided."""
    virtual_ms: int = 0
    events: int = 0
    notes: tuple[str, ...] = field(default=())
    error: str | None = None
    """An exception escaped the run: a bug, reported instead of ending the batch."""

    @property
    def evidence_missing(self) -> bool:
        return self.evidence_expected and not self.evidence_committed

    @property
    def ok(self) -> bool:
        return not (self.safety_violations or self.liveness_failure or self.certificate_failures
                    or self.evidence_missing or self.error)
