"""Chain parameters: the consensus-critical numbers every node of a chain must share.

They live in the genesis document, so they are part of what the chain hashes;
production defaults follow CometBFT's round timeouts (not its commit timeout), :meth:`ChainParams.devnet`
shortens the timeouts to milliseconds for local devnets and tests.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from config.errors import Problem, raise_if_any

PPM = 1_000_000
"""Parts per million: the unit of every rate and share."""
DAY_MS = 86_400_000
MAX_AMOUNT = 10**12
"""Largest amount, stake or balance in minor units (docs/contracts.md)."""
INT64_MAX = 2**63 - 1
"""Every parameter fits a signed 64-bit integer, so any encoder or language can carry it."""

_POSITIVE = (
    "max_block_txs", "max_block_bytes", "max_tx_bytes", "tx_ttl_blocks",
    "timeout_propose_ms", "timeout_prevote_ms", "timeout_precommit_ms", "timeout_delta_ms",
    "timeout_cap_ms", "timeout_commit_ms", "heartbeat_ms", "demurrage_period_ms", "unbonding_ms",
    "evidence_max_age_blocks", "min_validator_stake", "fed_demurrage_period_ms", "cosigned_tx_ttl_blocks",
    "offline_bond_notice_ms",
)
_PPM_FIELDS = (
    "demurrage_rate_ppm", "demurrage_share_place_ppm", "demurrage_share_common_ppm",
    "demurrage_share_dev_ppm", "demurrage_share_validators_ppm", "slash_fraction_ppm", "fed_demurrage_rate_ppm",
)
_SHARES = _PPM_FIELDS[1:5]
_ROUND_TIMEOUTS = ("timeout_propose_ms", "timeout_prevote_ms", "timeout_precommit_ms")


@dataclass(frozen=True)
class ChainParams:
    """All integers; validated on construction (also by :func:`dataclasses.replace`)."""

    max_block_txs: int = 2000
    max_block_bytes: int = 2 * 1024 * 1024
    max_tx_bytes: int = 4096
    tx_ttl_blocks: int = 600
    timeout_propose_ms: int = 3000
    timeout_prevote_ms: int = 1000
    timeout_precommit_ms: int = 1000
    timeout_delta_ms: int = 500
    timeout_cap_ms: int = 30_000
    timeout_commit_ms: int = 20
    """CometBFT's 1 s made every sale that follows a commit wait a second; with blocks only when there is
    work, nothing is gained by waiting (rewards do not read the certificate's signers)."""
    heartbeat_ms: int = 60_000
    demurrage_rate_ppm: int = 10_000
    demurrage_idle_ms: int = 90 * DAY_MS
    demurrage_period_ms: int = 30 * DAY_MS
    demurrage_share_place_ppm: int = 250_000
    demurrage_share_common_ppm: int = 250_000
    demurrage_share_dev_ppm: int = 250_000
    demurrage_share_validators_ppm: int = 250_000
    unbonding_ms: int = 21 * DAY_MS
    evidence_max_age_blocks: int = 100_000
    slash_fraction_ppm: int = 50_000
    min_validator_stake: int = 1
    fed_demurrage_rate_ppm: int = 10_000
    """FED's own melting schedule (when the genesis makes FED melt): a card left unused for a
    year gives back 1% a month; the ``demurrage_*`` schedule is for the other melting assets."""
    fed_demurrage_idle_ms: int = 365 * DAY_MS
    fed_demurrage_period_ms: int = 30 * DAY_MS
    cosigned_tx_ttl_blocks: int = 604_800
    """How far ahead a co-signed transaction may expire: signatures gathered by hand, from people
    on their own machines, take days, not the minutes of ``tx_ttl_blocks`` (about a week at a
    block a second). Kept txids cost nothing here: governance is rare."""
    offline_bond_notice_ms: int = 14 * DAY_MS
    """How long a place's offline bond keeps covering its offline sales after the place gave notice
    (``offline_unbond``): longer than any cut-off a venue sells through, so every offline sale is
    forwarded while the bond still backs it (docs/offline.md)."""

    def __post_init__(self) -> None:
        raise_if_any("bad_params", check_params(self.to_dict()))

    @classmethod
    def devnet(cls) -> ChainParams:
        """Production values with millisecond timeouts, a FED that melts within a demo's time
        (if the genesis makes FED melt: 2% per 5 s after 15 s unused) and a 2-minute notice for
        offline bonds, for local devnets and tests."""
        return replace(cls(), timeout_propose_ms=1000, timeout_prevote_ms=200,
                       timeout_precommit_ms=200, timeout_delta_ms=100, timeout_cap_ms=5000,
                       timeout_commit_ms=20, heartbeat_ms=5000, fed_demurrage_rate_ppm=20_000,
                       fed_demurrage_idle_ms=15_000, fed_demurrage_period_ms=5_000, offline_bond_notice_ms=120_000)

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in field_names()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "params") -> ChainParams:
        """Build from a mapping holding every field; unknown or missing fields are errors.

        No field falls back to a default: the parameters are hashed into the
        chain, so a default changed by a later release must not change a chain.
        """
        problems = [Problem(_at(where, str(name)), "unknown parameter")
                    for name in sorted(map(str, data)) if name not in field_names()]
        problems += [Problem(_at(where, name), "missing") for name in field_names() if name not in data]
        raise_if_any("bad_params", problems)
        raise_if_any("bad_params", check_params(data, where))
        return cls(**{name: data[name] for name in field_names()})


def field_names() -> tuple[str, ...]:
    """The parameter names, in declaration order."""
    return tuple(f.name for f in fields(ChainParams))


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def check_params(values: Mapping[str, Any], where: str = "") -> list[Problem]:
    """Every problem of a complete parameter mapping, each naming the field and the reason."""
    problems = [Problem(_at(where, name), f"must be an integer, got {values[name]!r}")
                for name in field_names()
                if type(values[name]) is not int]  # bool is an int subclass: refuse it too
    if problems:
        return problems
    for name in field_names():
        value = values[name]
        if name in _POSITIVE and value <= 0:
            problems.append(Problem(_at(where, name), f"must be positive, got {value}"))
        elif value < 0:
            problems.append(Problem(_at(where, name), f"must not be negative, got {value}"))
        elif value > INT64_MAX:
            problems.append(Problem(_at(where, name), f"must be at most 2**63-1, got {value}"))
        elif name in _PPM_FIELDS and value > PPM:
            problems.append(Problem(_at(where, name), f"is in parts per million: at most {PPM}, got {value}"))
    cap = values["timeout_cap_ms"]
    problems += [Problem(_at(where, "timeout_cap_ms"), f"must be >= {name} ({values[name]}), got {cap}")
                 for name in _ROUND_TIMEOUTS if cap < values[name]]
    share_sum = sum(values[name] for name in _SHARES)
    if share_sum != PPM:
        problems.append(Problem(_at(where, "demurrage_share_validators_ppm"),
                                f"the four demurrage shares must sum to {PPM}, they sum to {share_sum}"))
    if values["max_tx_bytes"] > values["max_block_bytes"]:
        problems.append(Problem(_at(where, "max_tx_bytes"),
                                f"must be <= max_block_bytes ({values['max_block_bytes']})"))
    if values["min_validator_stake"] > MAX_AMOUNT:
        problems.append(Problem(_at(where, "min_validator_stake"), f"must be <= {MAX_AMOUNT}"))
    return problems
