"""Memberships (SUB assets, with an expiry) and badge check-ins (BDG assets, amount 0).

Neither has a balance: a membership is a (start, expiry) record per wallet and
asset, a badge a passage counter with the time of the last passage.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from wallet import layout
from wallet.bodies import BadgeCheckIn, GrantMembership
from wallet.book import Book
from wallet.records import Badge, Membership, Place
from wallet.rules.common import (place_of_signer, require_accepts, require_active_card, require_asset,
                                 require_category)
from wallet.tx import Tx

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_FIXED_UNITS_MS = {"hour": 3_600_000, "day": 86_400_000, "week": 7 * 86_400_000}


def add_period(start_ms: int, unit: str, count: int) -> int:
    """``start_ms`` plus ``count`` units; months and years are calendar ones (UTC).

    A month from 31 January ends on the last day of February. Integer
    arithmetic on a UTC calendar: no local clock, no time zone, no float.
    """
    if unit in _FIXED_UNITS_MS:
        return start_ms + count * _FIXED_UNITS_MS[unit]
    months = count * (12 if unit == "year" else 1)
    start = _EPOCH + timedelta(milliseconds=start_ms)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, _days_in_month(year, month))
    end = start.replace(year=year, month=month, day=day)
    delta = end - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _days_in_month(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def membership(book: Book, tx: Tx) -> None:
    """Grant or renew: a running membership is extended from its expiry, a lapsed one restarts now."""
    body: GrantMembership = tx.body  # type: ignore[assignment]
    overlay = book.overlay
    place = place_of_signer(overlay, tx.signer)
    asset = require_category(require_asset(overlay, body.asset_id), "SUB")
    require_accepts(overlay, place, asset)
    key = layout.membership(body.wallet, asset.id)
    current = overlay.record(key, Membership)
    if current is not None and current.expiry_ms > book.time_ms:
        start, base = current.start_ms, current.expiry_ms
    else:
        start = base = book.time_ms
    overlay.put(key, Membership(start, add_period(base, body.unit, body.count)))
    book.touched.append(body.wallet)


def badge(book: Book, tx: Tx) -> None:
    check_in(book, place_of_signer(book.overlay, tx.signer), tx.body)  # type: ignore[arg-type]


def check_in(book: Book, place: Place, body: BadgeCheckIn) -> None:
    """A card's passage at ``place`` (also what an offline one does when it is forwarded)."""
    overlay = book.overlay
    asset = require_category(require_asset(overlay, body.asset_id), "BDG")
    require_accepts(overlay, place, asset)
    card = require_active_card(overlay, body.uid)
    wallet_id = card.paying_wallet
    key = layout.badge(wallet_id, asset.id)
    current = overlay.record(key, Badge)
    overlay.put(key, Badge((0 if current is None else current.count) + 1, book.time_ms))
    book.touched.append(wallet_id)
