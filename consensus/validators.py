"""Validator set: voting power (= stake), quorum arithmetic and CometBFT's proposer rotation.

Power 0 (jailed or unstaked) means no vote and no proposer turn: such keys are not
members. Proposer selection is CometBFT's proposer-priority algorithm
(``types/validator_set.go``): each turn every priority grows by its power, the
highest priority proposes (ties: the lowest public key) and pays the total power
back; before each batch of turns the priorities are rescaled to a window of
2x the total power and centred on their average. Integers only, so every node
picks the same proposer. Over many heights each validator proposes in
proportion to its stake.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping

from wallet.codec import pack

PRIORITY_WINDOW_FACTOR = 2


@dataclass(frozen=True)
class Validator:
    public_key: bytes
    power: int
    priority: int = 0


def _trunc_div(numerator: int, denominator: int) -> int:
    """Integer division rounding toward zero, as Go's ``/`` does in the reference algorithm."""
    quotient = abs(numerator) // denominator
    return quotient if numerator >= 0 else -quotient


@dataclass(frozen=True)
class ValidatorSet:
    """Members ordered by public key, with their proposer priorities.

    Build one with :meth:`from_powers` (a genesis-style set) and move it along the chain with
    :meth:`next_height`; :meth:`proposer_for_round` answers who proposes a round.
    """

    validators: tuple[Validator, ...]
    proposer: bytes | None = None
    _index: Mapping[bytes, Validator] = field(default_factory=dict, compare=False, repr=False)
    _total: int = field(default=0, compare=False, repr=False)
    _round_proposers: dict[int, bytes] = field(default_factory=dict, compare=False, repr=False)
    """Memo of :meth:`proposer_for_round` (a pure function of this immutable set)."""

    def __post_init__(self) -> None:
        keys = [validator.public_key for validator in self.validators]
        if keys != sorted(set(keys)):
            raise ValueError("validators must be sorted by public key, without duplicates")
        if any(validator.power <= 0 for validator in self.validators):
            raise ValueError("a validator set holds only validators with positive power")
        object.__setattr__(self, "_index", {v.public_key: v for v in self.validators})
        object.__setattr__(self, "_total", sum(v.power for v in self.validators))

    @classmethod
    def from_powers(cls, powers: Mapping[bytes, int]) -> "ValidatorSet":
        """A fresh set (as at genesis): zero priorities, then one turn, like CometBFT's NewValidatorSet."""
        members = tuple(Validator(key, power) for key, power in sorted(powers.items()) if power > 0)
        if not members:
            raise ValueError("a validator set needs at least one validator with positive power")
        return cls(members).increment(1)

    # --- voting power -------------------------------------------------------------------------

    @property
    def total_power(self) -> int:
        return self._total

    def power_of(self, public_key: bytes) -> int:
        """Voting power of a key; 0 for keys that are not members (unknown, jailed, unstaked)."""
        member = self._index.get(public_key)
        return member.power if member else 0

    def __contains__(self, public_key: object) -> bool:
        return public_key in self._index

    def __len__(self) -> int:
        return len(self.validators)

    def is_quorum(self, power: int) -> bool:
        """More than 2/3 of the total power (the paper's 2f+1)."""
        return 3 * power > 2 * self.total_power

    def is_one_third(self, power: int) -> bool:
        """More than 1/3 of the total power (the paper's f+1)."""
        return 3 * power > self.total_power

    def powers(self) -> dict[bytes, int]:
        return {validator.public_key: validator.power for validator in self.validators}

    @property
    def hash(self) -> bytes:
        """Commits to members and powers (not priorities, which every node derives)."""
        return hashlib.sha256(pack([[v.public_key, v.power] for v in self.validators])).digest()

    # --- proposer rotation --------------------------------------------------------------------

    def increment(self, times: int) -> "ValidatorSet":
        """CometBFT IncrementProposerPriority(times): rescale, centre, then ``times`` turns."""
        if times <= 0:
            return self
        total = self.total_power
        priorities = [validator.priority for validator in self.validators]
        window = PRIORITY_WINDOW_FACTOR * total
        spread = max(priorities) - min(priorities)
        if spread > window:
            ratio = (spread + window - 1) // window
            priorities = [_trunc_div(priority, ratio) for priority in priorities]
        average = sum(priorities) // len(priorities)
        priorities = [priority - average for priority in priorities]
        proposer_index = 0
        for _ in range(times):
            priorities = [priority + v.power for priority, v in zip(priorities, self.validators)]
            best = max(priorities)
            proposer_index = priorities.index(best)  # members are sorted by key: ties go to the lowest key
            priorities[proposer_index] -= total
        members = tuple(Validator(v.public_key, v.power, p) for v, p in zip(self.validators, priorities))
        return ValidatorSet(members, self.validators[proposer_index].public_key)

    def proposer_for_round(self, round_: int) -> bytes:
        """proposer(h, round) of the paper: this height's proposer, then ``round`` more turns."""
        if round_ == 0 and self.proposer is not None:
            return self.proposer
        if round_ not in self._round_proposers:
            moved = self.increment(round_)
            assert moved.proposer is not None
            self._round_proposers[round_] = moved.proposer
        return self._round_proposers[round_]

    def with_powers(self, powers: Mapping[bytes, int]) -> "ValidatorSet":
        """Apply a new power table, keeping priorities (CometBFT updateWithChangeSet).

        Members with power 0 leave; a newcomer starts at -1.125 x the new total power so that
        joining does not grant an early turn; priorities are then rescaled and centred.
        """
        new_total = sum(power for power in powers.values() if power > 0)
        newcomer_priority = -(new_total + (new_total >> 3))
        members = tuple(
            Validator(key, power, self._index[key].priority if key in self._index else newcomer_priority)
            for key, power in sorted(powers.items()) if power > 0
        )
        if not members:
            raise ValueError("a validator set update would leave no validator with positive power")
        return ValidatorSet(members, self.proposer)

    def next_height(self, next_powers: Mapping[bytes, int]) -> "ValidatorSet":
        """The set of the next height: apply its powers if they changed, then one turn."""
        positive = {key: power for key, power in next_powers.items() if power > 0}
        moved = self if positive == self.powers() else self.with_powers(positive)
        return moved.increment(1)
