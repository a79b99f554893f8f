"""Is the node cut off from the network? A pure decision from what it sees, one observation at a time.

Offline when the validators it is connected to have held less than 2/3 of the voting power for
``no_quorum_after_s`` (reason ``no_quorum``: nothing it submits can be committed; the grace keeps a
connection being replaced, or a peer restarting, from cutting the venue off), or when no new height came for
``stalled_after_s`` (reason ``stalled``: the chain does not move, e.g. too many validators are
down elsewhere). Back online once it reaches 2/3 of the power again and has caught up with its
peers' tips; after a stall, also once the chain has moved again. Time comes in the observations
(the node's monotonic clock), so tests drive it step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Connectivity", "Seen", "NO_QUORUM", "STALLED"]

NO_QUORUM = "no_quorum"
STALLED = "stalled"


@dataclass(frozen=True)
class Seen:
    """What the node sees at one moment."""

    now_s: float
    height: int
    reachable_power: int
    """Voting power of the validators it holds a connection to (its own, if it is one)."""
    total_power: int
    caught_up: bool
    """Its height is at least the best tip its peers report (false when it could not ask)."""

    @property
    def quorum(self) -> bool:
        return self.reachable_power * 3 > self.total_power * 2


class Connectivity:
    """Online or offline; :meth:`observe` returns True when that changed."""

    def __init__(self, stalled_after_s: float, no_quorum_after_s: float = 0.0) -> None:
        self.stalled_after_s = stalled_after_s
        self.no_quorum_after_s = no_quorum_after_s
        self.offline = False
        self.reason: str | None = None
        """Why it is offline (``no_quorum`` or ``stalled``); None online."""
        self.since_s: float | None = None
        """When the current state began (None before the first observation)."""
        self._height = -1
        self._height_seen_s = 0.0
        self._height_when_cut = 0
        self._quorum_lost_s: float | None = None

    def observe(self, seen: Seen) -> bool:
        if seen.height != self._height:
            self._height, self._height_seen_s = seen.height, seen.now_s
        if self.since_s is None:
            self.since_s = seen.now_s
        if seen.quorum:
            self._quorum_lost_s = None
        elif self._quorum_lost_s is None:
            self._quorum_lost_s = seen.now_s
        if not self.offline:
            no_quorum = self._quorum_lost_s is not None and seen.now_s - self._quorum_lost_s >= self.no_quorum_after_s
            reason = NO_QUORUM if no_quorum else \
                STALLED if seen.now_s - self._height_seen_s > self.stalled_after_s else None
            if reason is None:
                return False
            self.offline, self.reason, self.since_s, self._height_when_cut = True, reason, seen.now_s, seen.height
            return True
        moved = seen.height > self._height_when_cut or self.reason == NO_QUORUM
        if not (seen.quorum and seen.caught_up and moved):
            return False
        self.offline, self.reason, self.since_s = False, None, seen.now_s
        self._height_seen_s = seen.now_s  # the stall clock restarts with the connection
        return True
