"""Counters of a p2p node, and the plain snapshot handed to metrics exporters."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Counters:
    """Running totals, mutated by the node only."""

    messages_in: int = 0
    messages_out: int = 0
    messages_rejected: int = 0
    messages_ignored: int = 0
    messages_duplicate: int = 0
    messages_dropped_full: int = 0
    requests_in: int = 0
    requests_out: int = 0
    request_errors: int = 0
    penalties: int = 0
    bans: int = 0


@dataclass(frozen=True)
class P2PMetrics:
    """A point-in-time copy of the counters plus the current peer counts."""

    messages_in: int
    messages_out: int
    messages_rejected: int
    messages_ignored: int
    messages_duplicate: int
    messages_dropped_full: int
    requests_in: int
    requests_out: int
    request_errors: int
    penalties: int
    bans: int
    peers_connected: int
    peers_banned: int

    @classmethod
    def snapshot(cls, counters: Counters, *, peers_connected: int, peers_banned: int) -> P2PMetrics:
        return cls(**asdict(counters), peers_connected=peers_connected, peers_banned=peers_banned)
