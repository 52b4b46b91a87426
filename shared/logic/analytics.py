"""Order analytics: what each order contributes to the daily aggregates, and the figures read back.

An order's contribution is a pure function of what is stored about it (the order, its sourcing plan,
fulfillments and timeline, and its returns): counters per scope (every order, its channel, each
warehouse that ships part of it, and the destination's country and map cell) on the day the order was
placed (UTC). The aggregator applies the difference between an order's contribution now and the one
it applied last (`shared.dal.analytics`), so an event seen twice, late or out of order changes nothing
more, and the backfill, which applies every stored order's contribution, computes what live
aggregation does.

Every figure is therefore about the orders placed in the period asked: `byStatus` is their status now,
a lead time counts once its stage has ended, a return counts on the day its order was placed.

Lead times are kept as histograms with logarithmic buckets (DDSketch's): a percentile read back is
within 2% of the exact one (`representative`), whatever the volume.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shared.clock import parse
from shared.models.order import FulfillmentStatus, OrderStatus, OrderView
from shared.models.returns import RefundStatus, Return

SEP = "|"
ALL = "ALL"
CELL_DEGREES = 1
RELATIVE_ACCURACY = 0.02
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
STAGES = ("placedToReserved", "reservedToShipped", "shippedToDelivered", "placedToDelivered")
REFUNDED = frozenset({RefundStatus.SUCCEEDED.value, RefundStatus.MANUAL.value})
# Sourcing could not use these warehouses for the order: they lacked its stock or capacity.
COULD_NOT = frozenset({"NO_STOCK", "NOT_ENOUGH_STOCK", "AT_CAPACITY"})
REASON_MOST = 64

Counters = dict[str, Decimal]
# (scope, day) -> counter name -> amount
Contribution = dict[tuple[str, str], Counters]


def name(*parts: object) -> str:
    """A counter's name; `|` inside a part (a SKU, a reason) is replaced so names split back."""
    return SEP.join(str(p).replace(SEP, "/") for p in parts)


def channel_scope(channel_id: str) -> str:
    return f"CH#{channel_id}"


def warehouse_scope(warehouse_id: str, channel_id: str | None = None) -> str:
    return f"CH#{channel_id}#WH#{warehouse_id}" if channel_id else f"WH#{warehouse_id}"


def country_scope(country: str) -> str:
    return f"CTRY#{country.upper()}"


def cell_scope(latitude: float, longitude: float) -> str:
    return f"CELL#{math.floor(latitude / CELL_DEGREES)}#{math.floor(longitude / CELL_DEGREES)}"


def scope_of(channel_id: str | None, warehouse_id: str | None) -> str:
    if warehouse_id:
        return warehouse_scope(warehouse_id, channel_id)
    return channel_scope(channel_id) if channel_id else ALL


# Lead-time histograms ----------------------------------------------------------------------------


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration: (GAMMA^(i-1), GAMMA^i]; bucket 0 holds a second or less."""
    return 0 if seconds <= 1 else math.ceil(math.log(seconds, GAMMA))


def representative(index: int) -> float:
    """The value a bucket stands for: within RELATIVE_ACCURACY of every duration in it."""
    return 1.0 if index == 0 else 2 * GAMMA**index / (GAMMA + 1)


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (nearest rank: the ceil(q*n)-th smallest duration), as its bucket's value."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank, seen = max(1, math.ceil(q * total)), 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return round(representative(index), 1)
    return None  # pragma: no cover - the ranks add up to total


# An order's contribution -------------------------------------------------------------------------


@dataclass
class _Sink:
    """Collects one order's counters."""

    counters: Contribution

    def add(self, scopes: Iterable[str], day: str, counter: str, amount: Decimal | int | float) -> None:
        value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
        if value == 0:
            return
        for scope in scopes:
            counters = self.counters.setdefault((scope, day), {})
            counters[counter] = counters.get(counter, Decimal(0)) + value

    def duration(
        self, scopes: Iterable[str], day: str, stage: str, start: str | None, end: str | None
    ) -> None:
        if not start or not end:
            return
        seconds = max(0.0, (parse(end) - parse(start)).total_seconds())
        scopes = list(scopes)
        self.add(scopes, day, name("h", stage, bucket(seconds)), 1)
        self.add(scopes, day, name("lt", stage, "n"), 1)
        self.add(scopes, day, name("lt", stage, "sum"), round(seconds, 3))


def _first(timeline: list[tuple[str, str]], status: str, after: str = "") -> str | None:
    return next((at for s, at in timeline if s == status and at >= after), None)


def _reason_key(reason: str | None) -> str:
    """A cancellation's reason as a short key: the text before its first colon."""
    text = (reason or "unspecified").split(":", 1)[0].strip() or "unspecified"
    return text[:REASON_MOST]


def routed_scopes(order: OrderView) -> list[str]:
    """The scopes of the warehouses that ship (part of) the order: with and without its channel."""
    warehouses = sorted({f.warehouseId for f in order.fulfillments})
    return [scope for w in warehouses for scope in (warehouse_scope(w), warehouse_scope(w, order.channelId))]


def contribution(order: OrderView, returns: Iterable[Return] = ()) -> Contribution:
    """What the order adds to the aggregates, as stored now. A warehouse's scopes count the orders it
    ships part of (their status, lead times, backorders, cancellations) and its own shipments and
    units; revenue, units per SKU and returns are counted per order only (not split by warehouse)."""
    sink = _Sink({})
    day, channel = order.createdAt[:10], order.channelId
    orders_scopes = [ALL, channel_scope(channel)]
    every = [*orders_scopes, *routed_scopes(order)]
    timeline = sorted(((entry.status, entry.at) for entry in order.timeline), key=lambda entry: entry[1])
    status = order.status.value

    sink.add(every, day, "placed", 1)
    sink.add(every, day, name("st", status), 1)
    sink.add(orders_scopes, day, "units", sum(line.quantity for line in order.lines))
    for line in order.lines:
        sink.add(orders_scopes, day, name("us", line.sku), line.quantity)
    if order.total is not None and order.currency:
        sink.add(orders_scopes, day, name("rev", order.currency), order.total)
        sink.add([ALL], day, name("bych", channel, "rev", order.currency), order.total)
    sink.add([ALL], day, name("bych", channel, "placed"), 1)
    if order.attention:
        sink.add(every, day, "flagged", 1)

    reserved_at = _first(timeline, OrderStatus.RESERVED.value)
    sink.duration(every, day, "placedToReserved", order.createdAt, reserved_at)
    if status == OrderStatus.DELIVERED.value:
        delivered = [f.deliveredAt for f in order.fulfillments if f.deliveredAt]
        sink.duration(every, day, "placedToDelivered", order.createdAt, max(delivered, default=None))
    _backorder(sink, every, day, order, timeline)
    if status == OrderStatus.CANCELLED.value:
        sink.add(every, day, name("cr", _reason_key(order.statusReason)), 1)

    _shipments(sink, orders_scopes, day, order, reserved_at)
    _returns(sink, orders_scopes, day, channel, returns)
    _region(sink, day, order)
    return sink.counters


def _backorder(
    sink: _Sink, scopes: list[str], day: str, order: OrderView, timeline: list[tuple[str, str]]
) -> None:
    since = _first(timeline, OrderStatus.BACKORDERED.value)
    if since is None:
        return
    sink.add(scopes, day, "bo", 1)
    filled = _first(timeline, OrderStatus.RESERVED.value, after=since)
    if filled:
        sink.add(scopes, day, name("bo", "filled"), 1)
        sink.add(scopes, day, name("bo", "wait", "n"), 1)
        sink.add(
            scopes, day, name("bo", "wait", "sum"), round((parse(filled) - parse(since)).total_seconds(), 3)
        )
    elif (order.statusReason or "").startswith("BACKORDER_EXPIRED"):
        sink.add(scopes, day, name("bo", "expired"), 1)


def _shipments(sink: _Sink, scopes: list[str], day: str, order: OrderView, reserved_at: str | None) -> None:
    fulfillments = order.fulfillments
    if not fulfillments:
        return
    channel = order.channelId
    distances = {s.warehouseId: s.distanceKm for s in (order.sourcing.shipments if order.sourcing else [])}
    sink.add(scopes, day, "planned", 1)
    sink.add(scopes, day, "shipments", len(fulfillments))
    if len(fulfillments) > 1:
        sink.add(scopes, day, "split", 1)
    for warehouse in sorted({f.warehouseId for f in fulfillments}):
        routed = [warehouse_scope(warehouse), warehouse_scope(warehouse, channel)]
        sink.add(routed, day, "planned", 1)
        if len(fulfillments) > 1:
            sink.add(routed, day, "split", 1)
    for fulfillment in fulfillments:
        here = [warehouse_scope(fulfillment.warehouseId), warehouse_scope(fulfillment.warehouseId, channel)]
        every = [*scopes, *here]
        sink.add(here, day, "shipments", 1)
        sink.add(here, day, "units", sum(line.quantity for line in fulfillment.lines))
        sink.add(every, day, name("fst", fulfillment.status.value), 1)
        sink.add([ALL, channel_scope(channel)], day, name("bywh", fulfillment.warehouseId, "shipments"), 1)
        distance = distances.get(fulfillment.warehouseId)
        if distance is not None:
            sink.add(every, day, name("dist", "n"), 1)
            sink.add(every, day, name("dist", "sum"), round(distance, 3))
        shipped = fulfillment.shippedAt if fulfillment.status in _SHIPPED_OR_LATER else None
        sink.duration(every, day, "reservedToShipped", reserved_at, shipped)
        if fulfillment.status is FulfillmentStatus.DELIVERED:
            sink.duration(every, day, "shippedToDelivered", shipped, fulfillment.deliveredAt)


_SHIPPED_OR_LATER = frozenset({FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED})


def _returns(sink: _Sink, scopes: list[str], day: str, channel: str, returns: Iterable[Return]) -> None:
    for returned in returns:
        sink.add(scopes, day, "returns", 1)
        for line in returned.lines:
            sink.add(scopes, day, name("ret", "units"), line.quantity)
            sink.add(scopes, day, name("rs", line.sku), line.quantity)
            sink.add(scopes, day, name("rr", line.reason.strip().lower()[:REASON_MOST]), line.quantity)
        refund = returned.refund
        if refund is not None and refund.status.value in REFUNDED:
            sink.add(scopes, day, name("rf", refund.currency), refund.total)
            sink.add([ALL], day, name("bych", channel, "rf", refund.currency), refund.total)


def _region(sink: _Sink, day: str, order: OrderView) -> None:
    """Which warehouses serve the destination's country and map cell, how far, how fast, and how often
    sourcing could not use them."""
    address = order.shippingAddress
    if address is None or not order.sourcing:
        return
    regions = [country_scope(address.country)]
    point = _point(order)
    if point is not None:
        regions.append(cell_scope(*point))
    sink.add(regions, day, "orders", 1)
    for rejected in order.sourcing.rejected:
        if rejected.reason.value in COULD_NOT:
            sink.add(regions, day, name("w", rejected.warehouseId, "couldNot"), 1)
    distances = {s.warehouseId: s.distanceKm for s in order.sourcing.shipments}
    for fulfillment in order.fulfillments:
        warehouse = fulfillment.warehouseId
        sink.add(regions, day, name("w", warehouse, "shipments"), 1)
        if distances.get(warehouse) is not None:
            sink.add(regions, day, name("w", warehouse, "dist", "n"), 1)
            sink.add(regions, day, name("w", warehouse, "dist", "sum"), round(distances[warehouse] or 0, 3))
        if fulfillment.status is FulfillmentStatus.DELIVERED and fulfillment.deliveredAt:
            seconds = max(0.0, (parse(fulfillment.deliveredAt) - parse(order.createdAt)).total_seconds())
            sink.add(regions, day, name("w", warehouse, "lt", "n"), 1)
            sink.add(regions, day, name("w", warehouse, "lt", "sum"), round(seconds, 3))


def _point(order: OrderView) -> tuple[float, float] | None:
    """Where the order goes: the address's own coordinates, else where the geocoder put it."""
    for place in (order.shippingAddress, order.location):
        if place is not None and place.latitude is not None and place.longitude is not None:
            return place.latitude, place.longitude
    return None


def difference(new: Contribution, old: Contribution) -> Contribution:
    """What to add to the aggregates to replace `old` by `new` (zeros left out)."""
    delta: Contribution = {}
    for key in new.keys() | old.keys():
        before, after = old.get(key, {}), new.get(key, {})
        changes = {
            counter: after.get(counter, Decimal(0)) - before.get(counter, Decimal(0))
            for counter in before.keys() | after.keys()
        }
        changes = {counter: amount for counter, amount in changes.items() if amount != 0}
        if changes:
            delta[key] = changes
    return delta


def merge_deltas(deltas: Iterable[Contribution]) -> Contribution:
    """Several orders' differences as one: what adding each of them adds (zeros left out)."""
    total: Contribution = {}
    for delta in deltas:
        for key, changes in delta.items():
            counters = total.setdefault(key, {})
            for counter, amount in changes.items():
                counters[counter] = counters.get(counter, Decimal(0)) + amount
    return {key: nonzero for key, c in total.items() if (nonzero := {k: v for k, v in c.items() if v != 0})}


def encode(contribution: Contribution) -> dict[str, dict[str, str]]:
    return {
        f"{scope}{SEP}{day}": {k: str(v) for k, v in c.items()} for (scope, day), c in contribution.items()
    }


def decode(stored: Mapping[str, Mapping[str, Any]]) -> Contribution:
    result: Contribution = {}
    for key, counters in stored.items():
        scope, day = key.rsplit(SEP, 1)
        result[(scope, day)] = {k: Decimal(str(v)) for k, v in counters.items()}
    return result


# The figures read back ---------------------------------------------------------------------------


def merge(days: Iterable[Mapping[str, Decimal]]) -> Counters:
    total: defaultdict[str, Decimal] = defaultdict(Decimal)
    for counters in days:
        for counter, amount in counters.items():
            total[counter] += amount
    return dict(total)


def _prefixed(counters: Mapping[str, Decimal], *prefix: str) -> dict[str, Decimal]:
    start = SEP.join(prefix) + SEP
    return {k[len(start) :]: v for k, v in counters.items() if k.startswith(start) and v != 0}


def _int(counters: Mapping[str, Decimal], counter: str) -> int:
    return int(counters.get(counter, 0))


def _ratio(part: Decimal | int, whole: Decimal | int, digits: int = 4) -> float | None:
    return round(float(part) / float(whole), digits) if whole else None


def _mean(counters: Mapping[str, Decimal], *prefix: str) -> float | None:
    n = counters.get(name(*prefix, "n"), Decimal(0))
    return round(float(counters.get(name(*prefix, "sum"), Decimal(0))) / float(n), 1) if n else None


def _money(amounts: Mapping[str, Decimal]) -> dict[str, str]:
    return {currency: f"{amount:.2f}" for currency, amount in sorted(amounts.items())}


def lead_times(counters: Mapping[str, Decimal]) -> dict[str, dict[str, Any]]:
    figures = {}
    for stage in STAGES:
        histogram = {int(i): int(n) for i, n in _prefixed(counters, "h", stage).items()}
        figures[stage] = {
            "count": _int(counters, name("lt", stage, "n")),
            "p50Seconds": percentile(histogram, 0.5),
            "p90Seconds": percentile(histogram, 0.9),
            "meanSeconds": _mean(counters, "lt", stage),
        }
    return figures


def figures(counters: Mapping[str, Decimal]) -> dict[str, Any]:
    """Every figure of a period's merged counters (the body of GET /analytics/summary, less its query)."""
    placed = _int(counters, "placed")
    by_status = {s: int(n) for s, n in sorted(_prefixed(counters, "st").items())}
    cancelled = by_status.get(OrderStatus.CANCELLED.value, 0)
    sold = _prefixed(counters, "us")
    returned = _prefixed(counters, "rs")
    units = _int(counters, "units")
    planned = _int(counters, "planned")
    by_channel: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"ordersPlaced": 0, "revenue": {}, "refunds": {}}
    )
    for key, amount in _prefixed(counters, "bych").items():
        channel, rest = key.split(SEP, 1)
        if rest == "placed":
            by_channel[channel]["ordersPlaced"] = int(amount)
        else:
            kind, currency = rest.split(SEP, 1)
            by_channel[channel]["revenue" if kind == "rev" else "refunds"][currency] = f"{amount:.2f}"
    return {
        "ordersPlaced": placed,
        "byStatus": by_status,
        "units": units,
        "revenue": _money(_prefixed(counters, "rev")),
        "leadTimes": lead_times(counters),
        "shipments": {
            "ordersPlanned": planned,
            "shipments": _int(counters, "shipments"),
            "splitOrders": _int(counters, "split"),
            "shipmentsPerOrder": _ratio(_int(counters, "shipments"), planned, 3),
            "meanDistanceKm": _mean(counters, "dist"),
            "byStatus": {s: int(n) for s, n in sorted(_prefixed(counters, "fst").items())},
        },
        "backorders": {
            "orders": _int(counters, "bo"),
            "rate": _ratio(_int(counters, "bo"), placed),
            "filled": _int(counters, name("bo", "filled")),
            "expired": _int(counters, name("bo", "expired")),
            "meanWaitSeconds": _mean(counters, "bo", "wait"),
        },
        "cancellations": {
            "orders": cancelled,
            "rate": _ratio(cancelled, placed),
            "reasons": {r: int(n) for r, n in sorted(_prefixed(counters, "cr").items())},
        },
        "returns": {
            "returns": _int(counters, "returns"),
            "units": _int(counters, name("ret", "units")),
            "rate": _ratio(_int(counters, name("ret", "units")), units),
            "bySku": [
                {
                    "sku": sku,
                    "unitsSold": int(sold.get(sku, 0)),
                    "unitsReturned": int(n),
                    "rate": _ratio(n, sold.get(sku, 0)),
                }
                for sku, n in sorted(returned.items(), key=lambda item: (-item[1], item[0]))
            ],
            "byReason": {r: int(n) for r, n in sorted(_prefixed(counters, "rr").items())},
        },
        "refunds": _money(_prefixed(counters, "rf")),
        "carrierFlagged": _int(counters, "flagged"),
        "byChannel": {c: by_channel[c] for c in sorted(by_channel)},
        "byWarehouse": {
            w.split(SEP, 1)[0]: {"shipments": int(n)} for w, n in sorted(_prefixed(counters, "bywh").items())
        },
    }


def flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested figures as `a.b.c` -> scalar (lists left out): the metrics of timeseries and export."""
    found: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found |= flat(value, path + ".")
        elif not isinstance(value, list):
            found[path] = value
    return found


def warehouses_for_region(counters: Mapping[str, Decimal]) -> dict[str, Any]:
    """Top warehouses of a region's merged counters: most shipments first."""
    orders = _int(counters, "orders")
    per_warehouse: defaultdict[str, dict[str, Decimal]] = defaultdict(dict)
    for key, amount in _prefixed(counters, "w").items():
        warehouse, rest = key.split(SEP, 1)
        per_warehouse[warehouse][rest] = amount
    rows: list[dict[str, Any]] = []
    for warehouse, c in per_warehouse.items():
        shipments = _int(c, "shipments")
        could_not = _int(c, "couldNot")
        mean_seconds = _mean(c, "lt")
        rows.append(
            {
                "warehouseId": warehouse,
                "shipments": shipments,
                "shareOfOrders": _ratio(shipments, orders),
                "meanDistanceKm": _mean(c, "dist"),
                "meanDaysToDelivery": round(mean_seconds / 86400, 2) if mean_seconds is not None else None,
                "couldNot": could_not,
                "couldNotRate": _ratio(could_not, shipments + could_not),
            }
        )
    rows.sort(key=lambda row: (-int(row["shipments"]), str(row["warehouseId"])))
    return {"orders": orders, "warehouses": rows}
