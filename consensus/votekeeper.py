"""Vote tallies of one height: who voted what in each round, and the power behind each value.

Immutable: :meth:`VoteKeeper.add` returns a new keeper (copy-on-write of one round's
tally; a height holds a few dozen votes).

As in the paper's message log, a validator that votes for two values in one round
and type (an equivocation) is counted once for each value: the quorum-intersection
argument holds because it is counted once in ``power_any`` and in the f+1 rule,
and honest validators never do it. Counting both matters for liveness: honest
nodes that saw different halves of an equivocation must still agree on a
proof-of-lock that needed the equivocator's vote. To bound memory, a conflicting
vote is only counted for nil or for a value proposed at this height (in any
round: a proof-of-lock may be for a value re-proposed later); every conflict is
reported as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Mapping

from consensus.messages import Evidence, Vote, VoteType


@dataclass(frozen=True)
class Tally:
    """Votes of one round and type."""

    first: Mapping[bytes, Vote] = field(default_factory=dict)
    """Each validator's first vote: what we count in ``power_any`` and re-gossip."""
    by_value: Mapping[bytes | None, Mapping[bytes, Vote]] = field(default_factory=dict)
    power_for: Mapping[bytes | None, int] = field(default_factory=dict)
    power_any: int = 0

    def votes_for(self, block_id: bytes | None) -> list[Vote]:
        return list(self.by_value.get(block_id, {}).values())


class AddOutcome(Enum):
    ADDED = "added"
    DUPLICATE = "duplicate"
    EQUIVOCATION = "equivocation"


@dataclass(frozen=True)
class VoteKeeper:
    tallies: Mapping[tuple[int, VoteType], Tally] = field(default_factory=dict)

    def tally(self, round_: int, type_: VoteType) -> Tally:
        return self.tallies.get((round_, type_), Tally())

    def add(self, vote: Vote, power: int, countable_conflict: bool) -> tuple["VoteKeeper", AddOutcome, Evidence | None]:
        """Count ``vote`` with ``power``. A second vote of a validator for another value is evidence,
        and is counted for that value too when ``countable_conflict`` (nil or a proposed value)."""
        tally = self.tally(vote.round, vote.type)
        voters = tally.by_value.get(vote.block_id, {})
        if vote.validator in voters:
            return self, AddOutcome.DUPLICATE, None
        first = tally.first.get(vote.validator)
        if first is not None and not countable_conflict:
            return self, AddOutcome.EQUIVOCATION, Evidence.of(first, vote)
        new_tally = Tally(
            tally.first if first is not None else {**tally.first, vote.validator: vote},
            {**tally.by_value, vote.block_id: {**voters, vote.validator: vote}},
            {**tally.power_for, vote.block_id: tally.power_for.get(vote.block_id, 0) + power},
            tally.power_any + (power if first is None else 0),
        )
        keeper = VoteKeeper({**self.tallies, (vote.round, vote.type): new_tally})
        if first is not None:
            return keeper, AddOutcome.EQUIVOCATION, Evidence.of(first, vote)
        return keeper, AddOutcome.ADDED, None

    def voters_power(self, round_: int, power_of: Callable[[bytes], int]) -> int:
        """Power of the distinct validators with any vote in ``round_`` (the f+1 rule, line 55)."""
        voters = set(self.tally(round_, VoteType.PREVOTE).first) | set(self.tally(round_, VoteType.PRECOMMIT).first)
        return sum(power_of(voter) for voter in voters)

    def rounds(self) -> list[int]:
        return sorted({round_ for round_, _ in self.tallies})

    def votes_of(self, validator: bytes) -> list[Vote]:
        """Every (first) vote of one validator at this height, by round then type (to re-gossip our own)."""
        return [tally.first[validator] for _, tally in sorted(self.tallies.items()) if validator in tally.first]
