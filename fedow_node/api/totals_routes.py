"""Closing the cash desk: per-place totals per asset and kind for one or more days, as JSON or CSV.

Read from the node's daily-totals counters (:mod:`fedow_node.totals`), kept
at each commit, so a running node answers at once. Days are calendar days in
``?tz=`` (default ``[api] timezone``); the JSON also gives each day's hours
(the dashboard's chart) and the tills of this node (the API tokens that had
it sign). Amounts are integers in the asset's minor unit.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from fedow_node.api import ids, schema as s
from fedow_node.api.context import context, json_response
from fedow_node.api.numbers import query_int
from fedow_node.api.errors import ApiError
from fedow_node.api.routes import Param, Route
from fedow_node.iso_time import EPOCH, day_bounds_ms, local_day
from fedow_node.totals import Total, read_totals

__all__ = ["ROUTES", "MAX_DAYS"]

MAX_DAYS = 93
CSV_COLUMNS = ("day", "place", "asset", "kind", "count", "amount")

_ROW = {"place": s.PLACE_ID, "asset": {"type": "string", "description": "asset id; empty when no amount moves"},
        "kind": s.TEXT, "count": s.INT, "amount": {"type": "integer", "description": "minor units (cents)"}}
TOTALS_SCHEMA = s.shape({
    "from": {"type": "string", "description": "first day (YYYY-MM-DD)"}, "days": s.INT, "tz": s.TEXT,
    "from_ms": s.INT, "to_ms": s.INT,
    "rows": s.list_of(s.shape({"day": s.TEXT, **_ROW})),
    "hours": s.list_of(s.shape({"hour_ms": s.INT, "hour": {"type": "string", "description": "local ISO 8601"},
                                **_ROW})),
    "tills": s.list_of(s.shape({"till": {"type": "string", "description": "API token id; empty: signed elsewhere"},
                                **_ROW}))},
    required=("from", "days", "tz", "rows", "hours", "tills"))
PARAMS = (
    Param("date", "first day, YYYY-MM-DD (default: today in tz)"),
    Param("days", f"how many days (1-{MAX_DAYS}, default 1)", s.integer(1, MAX_DAYS)),
    Param("tz", "IANA time zone of the days (default: [api] timezone)"),
    Param("place", "only this place"),
)


def _zone(request: web.Request) -> ZoneInfo:
    name = request.query.get("tz", context(request).config.timezone)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError("bad_request", f"query parameter tz must be an IANA time zone (e.g. Europe/Paris), "
                       f"got {name[:60]!r}") from None


def _range(request: web.Request, zone: ZoneInfo) -> tuple[date, int]:
    text = request.query.get("date")
    if text is None:
        first = local_day(context(request).clock(), zone)
    else:
        try:
            first = date.fromisoformat(text)
        except ValueError:
            raise ApiError("bad_request", f"query parameter date must be YYYY-MM-DD, got {text[:40]!r}") from None
    return first, query_int(request, "days", 1, 1, MAX_DAYS)


def _totals(request: web.Request) -> tuple[dict[str, Any], list[Total]]:
    zone = _zone(request)
    first, days = _range(request, zone)
    place = None if request.query.get("place") is None else ids.place_id(request.query["place"])
    from_ms = day_bounds_ms(first, zone)[0]
    to_ms = day_bounds_ms(first + timedelta(days=days - 1), zone)[1]
    found = [total for total in read_totals(context(request).node.store, from_ms, to_ms)
             if place is None or total.place == place]
    meta = {"from": first.isoformat(), "days": days, "tz": zone.key, "from_ms": from_ms, "to_ms": to_ms}
    return meta, found


def _sum(totals: list[Total], key: Any) -> list[dict[str, Any]]:
    """Totals added up by ``key(total) -> (leading columns..., place, asset, kind)``, in key order."""
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for total in totals:
        entry = sums[key(total)]
        entry[0] += total.count
        entry[1] += total.amount
    return [{"key": group, "count": count, "amount": amount} for group, (count, amount) in sorted(sums.items())]


def _day_rows(totals: list[Total], zone: ZoneInfo) -> list[dict[str, Any]]:
    return [{"day": day, "place": place, "asset": asset, "kind": kind, "count": row["count"], "amount": row["amount"]}
            for row in _sum(totals, lambda t: (local_day(t.hour_ms, zone).isoformat(), t.place, t.asset, t.kind))
            for day, place, asset, kind in [row["key"]]]


async def get_totals(request: web.Request) -> web.Response:
    meta, totals = _totals(request)
    zone = ZoneInfo(meta["tz"])
    hours = [{"hour_ms": hour, "hour": (EPOCH + timedelta(milliseconds=hour)).astimezone(zone).isoformat(),
              "place": place, "asset": asset, "kind": kind, "count": row["count"], "amount": row["amount"]}
             for row in _sum(totals, lambda t: (t.hour_ms, t.place, t.asset, t.kind))
             for hour, place, asset, kind in [row["key"]]]
    tills = [{"till": till, "place": place, "asset": asset, "kind": kind, "count": row["count"],
              "amount": row["amount"]}
             for row in _sum(totals, lambda t: (t.till, t.place, t.asset, t.kind))
             for till, place, asset, kind in [row["key"]]]
    return json_response({**meta, "rows": _day_rows(totals, zone), "hours": hours, "tills": tills})


async def get_totals_csv(request: web.Request) -> web.Response:
    meta, totals = _totals(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in _day_rows(totals, ZoneInfo(meta["tz"])):
        writer.writerow([row[column] for column in CSV_COLUMNS])
    name = f"totals-{meta['from']}-{meta['days']}d.csv"
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


ROUTES = (
    Route("GET", "/v1/totals", get_totals, "Per-place totals per asset and kind, per day, hour and till "
          "(closing the cash desk)", "accounting", response=TOTALS_SCHEMA, params=PARAMS, errors=(400,),
          access="read"),
    Route("GET", "/v1/totals.csv", get_totals_csv, "The same day totals as CSV: day, place, asset, kind, count, "
          "amount", "accounting", params=PARAMS, errors=(400,), access="read", content_type="text/csv"),
)
