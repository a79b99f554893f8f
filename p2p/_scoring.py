"""Peer scores: penalties lower a score, time heals it, a score under the threshold bans.

Scores are integers that start at 0 and never rise above it; they recover by
``recovery_per_second`` points per second of trio's clock, so an honest peer
that once relayed a stale message is not banned a week later. ``now`` is
passed in, which keeps this module free of clocks and easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScoringPolicy:
    """When a peer is banned and for how long."""

    ban_threshold: int
    ban_seconds: float
    recovery_per_second: int


@dataclass(frozen=True)
class _Standing:
    score: int
    since: float


class PeerScores:
    """Score book of the peers this node has penalised."""

    def __init__(self, policy: ScoringPolicy) -> None:
        self._policy = policy
        self._standings: dict[str, _Standing] = {}
        self._bans: dict[str, float] = {}

    def score(self, peer_id: str, now: float) -> int:
        """Current score of ``peer_id`` (0 for a peer never penalised)."""
        standing = self._standings.get(peer_id)
        if standing is None:
            return 0
        healed = int((now - standing.since) * self._policy.recovery_per_second)
        return min(0, standing.score + healed)

    def penalize(self, peer_id: str, points: int, now: float) -> bool:
        """Lower the score by ``points``; True when this penalty starts a ban."""
        if points <= 0:
            raise ValueError(f"points: a penalty must be > 0, got {points}")
        score = self.score(peer_id, now) - points
        self._standings[peer_id] = _Standing(score, now)
        if score < self._policy.ban_threshold and not self.is_banned(peer_id, now):
            self._bans[peer_id] = now + self._policy.ban_seconds
            return True
        return False

    def is_banned(self, peer_id: str, now: float) -> bool:
        """True while a ban on ``peer_id`` runs."""
        until = self._bans.get(peer_id)
        return until is not None and now < until

    def banned(self, now: float) -> list[str]:
        """Peers under a running ban, sorted."""
        return sorted(peer for peer, until in self._bans.items() if now < until)

    def lift_expired(self, now: float) -> list[str]:
        """End the bans that ran out, with a fresh score; returns those peers, sorted.

        Scores that have healed back to 0 are forgotten too, so the book stays
        as small as the set of recently misbehaving peers.
        """
        expired = sorted(peer for peer, until in self._bans.items() if now >= until)
        for peer in expired:
            del self._bans[peer]
            self._standings.pop(peer, None)
        healed = [peer for peer in self._standings
                  if peer not in self._bans and self.score(peer, now) == 0]
        for peer in healed:
            del self._standings[peer]
        return expired

    def __len__(self) -> int:
        """How many peers the book remembers."""
        return len(self._standings)
