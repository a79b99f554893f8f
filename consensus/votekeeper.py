"""Vote tallies of one height: who voted what in each round, and the power behind each value.

Immutable: :meth:`VoteKeeper.add` returns a new keeper (copy-on-write of one round's
tally; a height holds a few dozen votes). A second vote of one validator for a
different value in the same round and type is an equivocation: it is not counted,
and the caller receives both votes as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Mapping

from consensus.messages import Evidence, Vote, VoteType


@dataclass(frozen=True)
class Tally:
    """Votes of one round and type."""

    votes: Mapping[bytes, Vote] = field(default_factory=dict)
    power_for: Mapping[bytes | None, int] = field(default_factory=dict)
    power_any: int = 0


class AddOutcome(Enum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    EQUIVOCATION = "equivocation"


@dataclass(frozen=True)
class VoteKeeper:
    tallies: Mapping[tuple[int, VoteType], Tally] = field(default_factory=dict)

    def tally(self, round_: int, type_: VoteType) -> Tally:
        return self.tallies.get((round_, type_), Tally())

    def add(self, vote: Vote, power: int) -> tuple["VoteKeeper", AddOutcome, Evidence | None]:
        """Count ``vote`` with ``power``; equal votes are duplicates, conflicting ones evidence."""
        key = (vote.round, vote.type)
        tally = self.tally(vote.round, vote.type)
        previous = tally.votes.get(vote.validator)
        if previous is not None:
            if previous.block_id == vote.block_id:
                return self, AddOutcome.DUPLICATE, None
            return self, AddOutcome.EQUIVOCATION, Evidence.of(previous, vote)
        power_for = dict(tally.power_for)
        power_for[vote.block_id] = power_for.get(vote.block_id, 0) + power
        new_tally = Tally({**tally.votes, vote.validator: vote}, power_for, tally.power_any + power)
        return VoteKeeper({**self.tallies, key: new_tally}), AddOutcome.ADDED, None

    def voters_power(self, round_: int, power_of: Callable[[bytes], int]) -> int:
        """Power of the distinct validators with any vote in ``round_`` (the f+1 rule, line 55)."""
        voters = set(self.tally(round_, VoteType.PREVOTE).votes) | set(self.tally(round_, VoteType.PRECOMMIT).votes)
        return sum(power_of(voter) for voter in voters)

    def rounds(self) -> list[int]:
        return sorted({round_ for round_, _ in self.tallies})

    def votes_of(self, validator: bytes) -> list[Vote]:
        """Every vote of one validator at this height, by round then type (to re-gossip our own)."""
        return [tally.votes[validator] for _, tally in sorted(self.tallies.items()) if validator in tally.votes]
