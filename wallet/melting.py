"""Demurrage arithmetic (melting assets): pure integer functions, pinned by golden vectors.

A balance idle (no activity) for longer than ``idle_ms`` loses ``rate_ppm``
parts per million per full ``period_ms`` elapsed beyond that. Each period
charges ``floor(amount * rate_ppm / 10**6)`` of what is left, so the holder
keeps the fractions of a cent. The collected amount is split by four shares,
each ``floor(charge * share_ppm / 10**6)``; what flooring leaves over goes to
the common fund. Changing any of this is a hard fork: the golden tests say so.
"""

from __future__ import annotations

from dataclasses import dataclass

PPM = 1_000_000


def periods_due(now_ms: int, last_activity_ms: int, idle_ms: int, period_ms: int) -> int:
    """Full periods elapsed beyond the idle allowance at ``now_ms`` (0 while idle time lasts)."""
    beyond = now_ms - last_activity_ms - idle_ms
    return beyond // period_ms if beyond > 0 else 0


def next_due_ms(last_activity_ms: int, idle_ms: int, period_ms: int, periods_charged: int) -> int:
    """The time at which period number ``periods_charged + 1`` becomes due."""
    return last_activity_ms + idle_ms + (periods_charged + 1) * period_ms


def melt(amount: int, rate_ppm: int, periods: int) -> int:
    """What is left of ``amount`` after ``periods`` charges, each floored in the holder's favour."""
    for _ in range(periods):
        charge = amount * rate_ppm // PPM
        if charge == 0:
            break  # the charge is 0 from here on: nothing changes any more
        amount -= charge
    return amount


@dataclass(frozen=True, slots=True)
class Shares:
    """How one collected charge is split; ``common`` includes every rounding remainder."""

    place: int
    common: int
    dev: int
    validators: int


def split(charge: int, place_ppm: int, dev_ppm: int, validators_ppm: int, has_place: bool) -> Shares:
    """Split ``charge``: floor per share, the remainder (and a place share with no place) to common."""
    place = charge * place_ppm // PPM if has_place else 0
    dev = charge * dev_ppm // PPM
    validators = charge * validators_ppm // PPM
    return Shares(place, charge - place - dev - validators, dev, validators)
