"""Gossip topic types: what a subscriber receives and what its validator answers."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class Outcome(enum.Enum):
    """What to do with a gossip message: deliver and relay, drop and penalise, or just drop."""

    ACCEPT = "accept"
    REJECT = "reject"
    IGNORE = "ignore"


@dataclass(frozen=True)
class Verdict:
    """A validator's answer; ``reason`` says why a message was rejected or ignored."""

    outcome: Outcome
    reason: str = ""


ACCEPT = Verdict(Outcome.ACCEPT)
IGNORE = Verdict(Outcome.IGNORE)


def REJECT(reason: str) -> Verdict:  # noqa: N802 - reads like the other two verdicts
    """Drop the message, do not relay it, and penalise the peer that sent it to us."""
    return Verdict(Outcome.REJECT, reason)


@dataclass(frozen=True)
class Message:
    """A gossip message as a subscriber sees it: the author's peer id and the payload."""

    peer_id: str
    data: bytes


Validator = Callable[[bytes, str], Verdict]
"""``validate(data, author_peer_id) -> Verdict``: runs before relay, must not block."""
