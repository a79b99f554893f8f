"""Chain parameters as the ledger keeps them in state (key ``params``).

Same names, order and checks as ``config.params.ChainParams`` (docs/contracts.md);
duplicated as a plain record because ``wallet`` depends on nothing of ours.
Governance can change them (``set_params``), so the rules read them from state.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from wallet.errors import Rejected
from wallet.records import Record

PPM = 1_000_000
INT64_MAX = 2**63 - 1
MAX_STAKE = 10**12
SHARE_NAMES = (
    "demurrage_share_place_ppm", "demurrage_share_common_ppm",
    "demurrage_share_dev_ppm", "demurrage_share_validators_ppm",
)
_PPM_NAMES = SHARE_NAMES + ("demurrage_rate_ppm", "slash_fraction_ppm", "fed_demurrage_rate_ppm")
_MAY_BE_ZERO = _PPM_NAMES + ("demurrage_idle_ms", "fed_demurrage_idle_ms")


@dataclass(frozen=True, slots=True)
class LedgerParams(Record):
    max_block_txs: int
    max_block_bytes: int
    max_tx_bytes: int
    tx_ttl_blocks: int
    timeout_propose_ms: int
    timeout_prevote_ms: int
    timeout_precommit_ms: int
    timeout_delta_ms: int
    timeout_cap_ms: int
    timeout_commit_ms: int
    heartbeat_ms: int
    demurrage_rate_ppm: int
    demurrage_idle_ms: int
    demurrage_period_ms: int
    demurrage_share_place_ppm: int
    demurrage_share_common_ppm: int
    demurrage_share_dev_ppm: int
    demurrage_share_validators_ppm: int
    unbonding_ms: int
    evidence_max_age_blocks: int
    slash_fraction_ppm: int
    min_validator_stake: int
    fed_demurrage_rate_ppm: int
    fed_demurrage_idle_ms: int
    fed_demurrage_period_ms: int
    cosigned_tx_ttl_blocks: int
    offline_bond_notice_ms: int

    def melting_schedule(self, category: str) -> tuple[int, int, int]:
        """(rate_ppm, idle_ms, period_ms) of a melting asset: FED has its own, the others share one."""
        if category == "FED":
            return self.fed_demurrage_rate_ppm, self.fed_demurrage_idle_ms, self.fed_demurrage_period_ms
        return self.demurrage_rate_ppm, self.demurrage_idle_ms, self.demurrage_period_ms

    @classmethod
    def from_object(cls, source: Any) -> LedgerParams:
        """Read every parameter by attribute name (a ChainParams or any look-alike)."""
        return checked(cls(*[getattr(source, name) for name in param_names()]))

    def with_changes(self, changes: list[tuple[str, int]]) -> LedgerParams:
        """A copy with ``changes`` applied and checked; Rejected names the bad field."""
        for name, _value in changes:
            if name not in param_names():
                raise Rejected("bad_params", f"unknown parameter {name!r}")
        return checked(replace(self, **dict(changes)))


def param_names() -> tuple[str, ...]:
    return _NAMES


_NAMES = tuple(f.name for f in fields(LedgerParams))


def checked(params: LedgerParams) -> LedgerParams:
    """Refuse a parameter set the ledger cannot run with, naming the field."""
    for name in _NAMES:
        value = getattr(params, name)
        if type(value) is not int:
            raise Rejected("bad_params", f"parameter {name} must be an integer, got {value!r}")
        lowest = 0 if name in _MAY_BE_ZERO else 1
        if not lowest <= value <= INT64_MAX:
            raise Rejected("bad_params", f"parameter {name} must be in [{lowest}, 2**63-1], got {value}")
        if name in _PPM_NAMES and value > PPM:
            raise Rejected("bad_params", f"parameter {name} is in parts per million, got {value}")
    total = sum(getattr(params, name) for name in SHARE_NAMES)
    if total != PPM:
        raise Rejected("bad_params", f"the four demurrage shares must sum to {PPM}, got {total}")
    for name in ("timeout_propose_ms", "timeout_prevote_ms", "timeout_precommit_ms"):
        if params.timeout_cap_ms < getattr(params, name):
            raise Rejected("bad_params", f"parameter timeout_cap_ms ({params.timeout_cap_ms}) must be >= {name}")
    if params.max_tx_bytes > params.max_block_bytes:
        raise Rejected("bad_params", f"parameter max_tx_bytes must be <= max_block_bytes ({params.max_block_bytes})")
    if params.min_validator_stake > MAX_STAKE:
        raise Rejected("bad_params", f"parameter min_validator_stake must be <= {MAX_STAKE}")
    return params
