"""Live aggregation and the figures read back: an order's contribution replaces what it contributed
before (`refresh`, called for every order event, and by the backfill for every stored order), and a
period's figures come from one Query per scope (`summary`, `timeseries`, `export`, `region`)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from shared.clock import now_iso
from shared.dal import analytics as store
from shared.dal import orders, returns
from shared.dal.dynamo import TransactionConflict, pause_before_retry
from shared.errors import InvalidRequest, NotFound, TransientError
from shared.logic.analytics import (
    CELL_DEGREES,
    Contribution,
    cell_scope,
    contribution,
    country_scope,
    decode,
    difference,
    encode,
    figures,
    flat,
    merge,
    merge_deltas,
    scope_of,
    warehouses_for_region,
)
from shared.models.order import FulfillmentStatus, OrderStatus

APPLY_ATTEMPTS = 8
# Orders read and written together (an SQS batch is at most 10 messages).
APPLY_CHUNK = 25
DEFAULT_DAYS = 30
MOST_DAYS = 366
MOST_RADIUS_KM = 1000
KM_PER_DEGREE = 111.32


def contribution_now(order_id: str) -> Contribution:
    """What the order contributes as stored now (nothing when it does not exist)."""
    try:
        view = orders.view(order_id)
    except NotFound:
        return {}
    _, found = returns.of_order(order_id)
    return contribution(view, found)


def refresh(order_id: str) -> bool:
    """Bring the aggregates up to date with the order as stored; False when they already were."""
    return order_id in refresh_many([order_id])


def refresh_many(order_ids: Iterable[str]) -> set[str]:
    """Bring the aggregates up to date with each order as stored, the changes of many orders combined
    into one transaction (as many as its actions allow): the orders whose contribution changed."""
    changed: set[str] = set()
    for chunk in _chunks(list(dict.fromkeys(order_ids))):
        changed |= _apply(chunk)
    return changed


def _chunks(order_ids: list[str], size: int = APPLY_CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(order_ids), size):
        yield order_ids[start : start + size]


@dataclass(frozen=True)
class _Pending:
    replacement: store.Replacement
    delta: Contribution


def _pending(order_id: str) -> _Pending | None:
    before = store.applied(order_id)
    new = contribution_now(order_id)
    delta = difference(new, decode(before.stored))
    if not delta:
        return None
    return _Pending(store.Replacement(order_id, encode(new), before.revision), delta)


def _apply(order_ids: list[str]) -> set[str]:
    """Apply the orders' changes, re-reading those not yet applied when a concurrent writer got to
    one of them first."""
    done: set[str] = set()
    for attempt in range(APPLY_ATTEMPTS):
        pending = [p for p in map(_pending, order_ids) if p is not None]
        try:
            for group in _groups(pending):
                store.write([p.replacement for p in group], merge_deltas(p.delta for p in group))
                done |= {p.replacement.order_id for p in group}
            return done
        except TransactionConflict:
            pause_before_retry(attempt)
            order_ids = [o for o in order_ids if o not in done]
    raise TransientError(f"the analytics of orders {', '.join(order_ids)} changed concurrently; retry")


def _groups(pending: list[_Pending]) -> Iterator[list[_Pending]]:
    """The pending orders in groups whose records and combined counter items fit one transaction."""
    group: list[_Pending] = []
    for candidate in pending:
        trial = [*group, candidate]
        if (
            group
            and len(trial) + store.items_touched(merge_deltas(p.delta for p in trial)) > store.MOST_ACTIONS
        ):
            yield group
            trial = [candidate]
        group = trial
    if group:
        yield group


# Periods -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> list[str]:
        return [
            (self.first + timedelta(days=n)).isoformat() for n in range((self.last - self.first).days + 1)
        ]


def _day(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{field} must be a date as YYYY-MM-DD (UTC)", {"field": field}) from None


def period(first: str | None, last: str | None) -> Period:
    """The days asked (both ends included); by default the 30 days up to today (UTC)."""
    to = _day(last, "to") or date.fromisoformat(now_iso()[:10])
    start = _day(first, "from") or to - timedelta(days=DEFAULT_DAYS - 1)
    if start > to:
        raise InvalidRequest("from must not be after to", {"field": "from"})
    if (to - start).days + 1 > MOST_DAYS:
        raise InvalidRequest(f"a period is at most {MOST_DAYS} days", {"field": "from"})
    return Period(start, to)


def _cost(queries: int, items: int) -> dict[str, int]:
    return {"queries": queries, "items": items}


def summary(asked: Period, channel_id: str | None, warehouse_id: str | None) -> dict[str, Any]:
    read = store.period(scope_of(channel_id, warehouse_id), asked.first.isoformat(), asked.last.isoformat())
    return {
        "from": asked.first.isoformat(),
        "to": asked.last.isoformat(),
        "channelId": channel_id,
        "warehouseId": warehouse_id,
        **figures(merge(read.days.values())),
        "readCost": _cost(read.queries, read.items),
    }


COUNTED = ("byStatus.", "shipments.byStatus.", "cancellations.reasons.", "returns.byReason.")
MONEY = ("revenue.", "refunds.")
PER_KEY = ("byChannel.", "byWarehouse.")
METRIC_PATTERNS = [
    "byStatus.<STATUS>",
    "shipments.byStatus.<STATUS>",
    "cancellations.reasons.<reason>",
    "returns.byReason.<reason>",
    "revenue.<CURRENCY>",
    "refunds.<CURRENCY>",
    "byChannel.<channelId>.ordersPlaced",
    "byChannel.<channelId>.revenue.<CURRENCY>",
    "byWarehouse.<warehouseId>.shipments",
]


def metric_names() -> list[str]:
    """The metrics every period has: the summary's scalar figures by their dotted path, and the order
    and shipment statuses (more follow METRIC_PATTERNS)."""
    statuses = [f"byStatus.{s.value}" for s in OrderStatus]
    statuses += [f"shipments.byStatus.{s.value}" for s in FulfillmentStatus]
    return sorted([*flat(figures({})), *statuses])


def is_metric(metric: str) -> bool:
    return metric in metric_names() or metric.startswith(COUNTED + MONEY + PER_KEY)


def _value(values: dict[str, Any], metric: str) -> Any:
    """A metric's value in one interval: a count or amount that did not occur there is 0."""
    if metric in values:
        return values[metric]
    if metric.startswith(MONEY) or (metric.startswith("byChannel.") and ".revenue." in metric):
        return "0.00"
    if metric.startswith(COUNTED + PER_KEY):
        return 0
    return None


def _bucketed(asked: Period, interval: str) -> list[tuple[str, list[str]]]:
    """The period's intervals: (first day, its days)."""
    if interval == "day":
        return [(day, [day]) for day in asked.days]
    weeks: dict[str, list[str]] = {}
    for day in asked.days:
        moment = date.fromisoformat(day)
        weeks.setdefault((moment - timedelta(days=moment.weekday())).isoformat(), []).append(day)
    return list(weeks.items())


def _series(
    days: dict[str, dict[str, Decimal]], asked: Period, interval: str, metric: str
) -> list[dict[str, Any]]:
    points = []
    for start, members in _bucketed(asked, interval):
        counters = merge(days[d] for d in members if d in days)
        points.append({"date": start, "value": _value(flat(figures(counters)), metric)})
    return points


def timeseries(
    asked: Period,
    metric: str,
    *,
    interval: str,
    channel_id: str | None,
    warehouse_id: str | None,
    by: str | None,
) -> dict[str, Any]:
    if not is_metric(metric):
        raise InvalidRequest(f"unknown metric {metric!r}; see GET /analytics/metrics", {"field": "metric"})
    first, last = asked.first.isoformat(), asked.last.isoformat()
    read = store.period(scope_of(channel_id, warehouse_id), first, last)
    body: dict[str, Any] = {
        "metric": metric,
        "interval": interval,
        "from": first,
        "to": last,
        "channelId": channel_id,
        "warehouseId": warehouse_id,
        "points": _series(read.days, asked, interval, metric),
    }
    queries, items = read.queries, read.items
    if by == "channel":
        if channel_id:
            raise InvalidRequest("by=channel cannot be combined with channelId", {"field": "by"})
        channels = sorted(figures(merge(read.days.values()))["byChannel"])
        body["byChannel"] = {}
        for channel in channels:
            per_channel = store.period(scope_of(channel, warehouse_id), first, last)
            queries, items = queries + per_channel.queries, items + per_channel.items
            body["byChannel"][channel] = _series(per_channel.days, asked, interval, metric)
    body["readCost"] = _cost(queries, items)
    return body


def export(asked: Period, channel_id: str | None, warehouse_id: str | None) -> str:
    """CSV: a row per day, a column per metric."""
    read = store.period(scope_of(channel_id, warehouse_id), asked.first.isoformat(), asked.last.isoformat())
    columns = metric_names()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", *columns])
    for day in asked.days:
        row = flat(figures(read.days.get(day, {})))
        writer.writerow([day, *(_csv_value(_value(row, column)) for column in columns)])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def _cells_within(latitude: float, longitude: float, radius_km: float) -> list[str]:
    """The map cells a circle touches (its bounding box, in whole cells)."""
    lat_span = radius_km / KM_PER_DEGREE
    lon_span = radius_km / (KM_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))
    lat_cells = range(
        math.floor((latitude - lat_span) / CELL_DEGREES), math.floor((latitude + lat_span) / CELL_DEGREES) + 1
    )
    lon_cells = range(
        math.floor((longitude - lon_span) / CELL_DEGREES),
        math.floor((longitude + lon_span) / CELL_DEGREES) + 1,
    )
    return sorted(
        {
            cell_scope(max(-90, min(89.999, la * CELL_DEGREES)), ((lo * CELL_DEGREES + 180) % 360) - 180)
            for la in lat_cells
            for lo in lon_cells
        }
    )


def region(
    asked: Period,
    country: str | None,
    latitude: float | None,
    longitude: float | None,
    radius_km: float | None,
) -> dict[str, Any]:
    """Top warehouses for the orders shipped to a country, or to the map cells around a point."""
    by_point = (latitude, longitude, radius_km)
    if country and any(v is not None for v in by_point):
        raise InvalidRequest("give a country or a point with radiusKm, not both", {"field": "country"})
    if country:
        scopes = [country_scope(country)]
        where: dict[str, str | float | int] = {"country": country.upper()}
    elif latitude is not None and longitude is not None and radius_km is not None:
        if not 0 < radius_km <= MOST_RADIUS_KM:
            raise InvalidRequest(
                f"radiusKm must be above 0 and at most {MOST_RADIUS_KM}", {"field": "radiusKm"}
            )
        scopes = _cells_within(latitude, longitude, radius_km)
        where = {"latitude": latitude, "longitude": longitude, "radiusKm": radius_km, "cells": len(scopes)}
    else:
        missing = next(
            f for f, v in zip(("latitude", "longitude", "radiusKm"), by_point, strict=True) if v is None
        )
        raise InvalidRequest("give country, or latitude, longitude and radiusKm", {"field": missing})
    reads = [store.period(scope, asked.first.isoformat(), asked.last.isoformat()) for scope in scopes]
    counters = merge(c for read in reads for c in read.days.values())
    return {
        "from": asked.first.isoformat(),
        "to": asked.last.isoformat(),
        "region": where,
        **warehouses_for_region(counters),
        "readCost": _cost(sum(r.queries for r in reads), sum(r.items for r in reads)),
    }


# The backfill ------------------------------------------------------------------------------------


@dataclass
class BackfillReport:
    orders: int = 0
    changed: int = 0
    deleted: int = 0


def backfill(
    order_ids: Iterable[str], reset: bool = False, progress: Callable[[int], None] | None = None
) -> BackfillReport:
    """Apply every order's contribution as stored now, APPLY_CHUNK orders a transaction. With `reset`,
    the aggregates are emptied first (a rebuild); without, each order's aggregates are corrected
    where they drifted."""
    report = BackfillReport()
    if reset:
        report.deleted = store.delete_everything()
    chunk: list[str] = []
    for order_id in order_ids:
        report.orders += 1
        chunk.append(order_id)
        if len(chunk) == APPLY_CHUNK:
            report.changed += len(refresh_many(chunk))
            chunk = []
        if progress and report.orders % 100 == 0:
            progress(report.orders)
    report.changed += len(refresh_many(chunk))
    return report
