"""Consensus parameters: the timeout schedule and the block and evidence limits.

The field names are those of ChainParams (docs/contracts.md), so the integrator
builds this from the genesis parameters with :meth:`ConsensusParams.from_chain_params`.
Timeouts grow linearly with the round and are capped (never exponential): an
operator never waits hours for a round after a long outage.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum
from typing import Any


class Step(IntEnum):
    """Round steps, in the paper's order (Algorithm 1, line 4), after IDLE: a height waiting for work."""

    IDLE = 0
    """Round 0 not started yet: no transaction, no evidence, no heartbeat due, nobody else started."""
    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3


@dataclass(frozen=True)
class ConsensusParams:
    """Plain integers; the pure core reads only these."""

    timeout_propose_ms: int = 3000
    timeout_prevote_ms: int = 1000
    timeout_precommit_ms: int = 1000
    timeout_delta_ms: int = 500
    timeout_cap_ms: int = 30000
    timeout_commit_ms: int = 20
    heartbeat_ms: int = 60_000
    """Longest consensus time between two blocks when there is no work (time-driven rules still advance)."""
    evidence_max_age_blocks: int = 100_000
    max_block_txs: int = 2000
    max_block_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{field.name} must be a non-negative int, got {value!r}")

    @classmethod
    def from_chain_params(cls, chain_params: Any) -> "ConsensusParams":
        """Pick the consensus fields out of any object that has ChainParams attributes."""
        return cls(**{field.name: getattr(chain_params, field.name) for field in fields(cls)})

    def timeout_ms(self, step: Step, round_: int) -> int:
        """timeoutPropose/Prevote/Precommit(round) of lines 21, 35, 48: base + delta*round, capped."""
        base = {
            Step.PROPOSE: self.timeout_propose_ms,
            Step.PREVOTE: self.timeout_prevote_ms,
            Step.PRECOMMIT: self.timeout_precommit_ms,
        }[step]
        return min(base + self.timeout_delta_ms * round_, max(self.timeout_cap_ms, base))
