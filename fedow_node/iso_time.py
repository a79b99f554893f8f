"""Block times as people read them: milliseconds since the Unix epoch <-> ISO 8601, and venue days.

Every time the node shows is a block's consensus time (never the wall clock):
the API, the exports and the dashboard give it as ``time_ms`` and as UTC ISO
8601 with milliseconds (``2026-01-01T14:03:07.250Z``). Daily totals count
days and hours in the venue's IANA time zone (``[api] timezone``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["EPOCH", "day_bounds_ms", "iso_time", "local_day", "parse_time_ms"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECONDS = re.compile(r"[0-9]{1,19}", re.ASCII)
"""ASCII digits only (``str.isdigit`` accepts ``²``), never longer than an int64."""


def iso_time(time_ms: int) -> str:
    """UTC ISO 8601 with milliseconds and a ``Z``."""
    return (EPOCH + timedelta(milliseconds=time_ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time_ms(text: str) -> int:
    """Milliseconds since the epoch, or an ISO 8601 date-time with an offset (``Z`` or ``+02:00``).

    ValueError names what is wrong; a date-time without an offset is refused (ambiguous).
    """
    if _MILLISECONDS.fullmatch(text):
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone offset (add Z or +01:00)")
    return (moment - EPOCH) // timedelta(milliseconds=1)


def day_bounds_ms(day: date, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) of a calendar day in ``zone``, in ms (23 or 25 hours on clock changes)."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return (start - EPOCH) // timedelta(milliseconds=1), (end - EPOCH) // timedelta(milliseconds=1)


def local_day(time_ms: int, zone: ZoneInfo) -> date:
    """The calendar day in ``zone`` of a block time."""
    return (EPOCH + timedelta(milliseconds=time_ms)).astimezone(zone).date()
