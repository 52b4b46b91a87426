"""Weeks of demo history for the local OMS, so the console's orders, analytics and dashboard have
something to show: a few hundred orders through the demo channels, placed, shipped, delivered,
split, backordered, cancelled and returned, all through the API as clients would.

Orders are dated in the past by moving the OMS's clock (`shared.clock.travel`) day by day while
they are made: each simulated day places its orders in the morning and, in the afternoon, ships,
delivers, cancels and returns what is due, then the clock moves on. Everything else (the workflows,
the events, the analytics) runs as it always does. A fixed seed makes the same history each time.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from blueprint import ANALYTICS_EVENTS_RULE, BUSES, CUSTOMER_EMAIL_EVENTS, WEBHOOK_EVENTS_RULE, BusRule
from local.demo import DEMO_CHANNEL_ID, DEMO_WEBHOOK_SECRET, STOCK, sample_order
from local.gateway import GatewayResponse
from local.samples import (
    SHOPIFY_CHANNEL,
    WOO_CHANNEL,
    shopify_delivery,
    shopify_order,
    woo_delivery,
    woo_order,
)
from local.send_order import signed_delivery
from shared import clock
from shared.dal import orders as orders_table
from shared.logic import aggregation

if TYPE_CHECKING:
    from local.runtime import LocalOMS

Request = Callable[..., GatewayResponse]

SEED = 20261203
DEFAULT_ORDERS = 240
DAYS = 42
CENTRAL = "wh-central"
CENTRAL_WAREHOUSE = {
    "name": "Central DC (Dallas, TX)",
    "latitude": 32.7767,
    "longitude": -96.797,
    "country": "US",
}
# Where the central warehouse stocks, besides the demo's own stock.
CENTRAL_STOCK = ("TSHIRT-BLK-M", "MUG-WHT-11OZ")
PLENTY = 400
SKUS = ("TSHIRT-BLK-M", "MUG-WHT-11OZ", "HOODIE-GRY-L")
CHANNEL_WEIGHTS = {DEMO_CHANNEL_ID: 4, SHOPIFY_CHANNEL: 4, WOO_CHANNEL: 2}
RETURN_REASONS = ("does not fit", "changed my mind", "arrived damaged", "not as described")
# (city, region, postal code, latitude, longitude)
CITIES = (
    ("Boston", "MA", "02108", 42.3601, -71.0589),
    ("New York", "NY", "10118", 40.7484, -73.9857),
    ("Philadelphia", "PA", "19103", 39.9526, -75.1652),
    ("Chicago", "IL", "60601", 41.8858, -87.6181),
    ("Atlanta", "GA", "30303", 33.7537, -84.3863),
    ("Miami", "FL", "33130", 25.7663, -80.2005),
    ("Dallas", "TX", "75201", 32.7876, -96.7994),
    ("Denver", "CO", "80202", 39.7525, -104.9995),
    ("Phoenix", "AZ", "85004", 33.4515, -112.069),
    ("Los Angeles", "CA", "90012", 34.0614, -118.2385),
    ("San Francisco", "CA", "94103", 37.7725, -122.4091),
    ("Seattle", "WA", "98101", 47.6101, -122.3344),
)
WAIT_SECONDS = 20
QUIET_SECONDS = 1.5
POLL_SECONDS = 0.2  # eight clients polling more often would take the OMS's time from the orders
# While the history is made: its customers are not e-mailed, nobody subscribed to webhooks yet, and
# its analytics are aggregated once at the end by the backfill (as live aggregation would, and faster).
PAUSED_RULES = (WEBHOOK_EVENTS_RULE, CUSTOMER_EMAIL_EVENTS, ANALYTICS_EVENTS_RULE)
CLIENTS = 8

logger = logging.getLogger("local.history")


@dataclass
class Planned:
    """One history order: what becomes of it, in days after the day it is placed."""

    channel_id: str
    lines: list[tuple[str, int]]
    city: tuple[str, str, str, float, float]
    ship_after: int
    deliver_after: int
    cancel: bool = False
    backorder: bool = False
    return_after: int | None = None
    carrier: str = "UPS"
    reason: str = RETURN_REASONS[0]
    order_id: str | None = None
    fulfillments: list[str] = field(default_factory=list)

    def due(self, age: int) -> bool:
        """Whether something happens to it on the afternoon of day `age` after it was placed."""
        if not self.order_id or not self.fulfillments:
            return False
        if self.cancel:
            return age == 0
        return age in (self.ship_after, self.deliver_after, self.return_after)


@dataclass
class Report:
    orders: int = 0
    delivered: int = 0
    cancelled: int = 0
    backordered: int = 0
    returned: int = 0
    split: int = 0
    problems: list[str] = field(default_factory=list)
    first_day: str = ""
    aggregated: int = 0
    seconds: float = 0.0


def plan(orders: int = DEFAULT_ORDERS, days: int = DAYS, seed: int = SEED) -> dict[int, list[Planned]]:
    """Day (0 = the first) -> the orders placed that day; more on later days (a growing shop)."""
    rng = random.Random(seed)
    weights = [1 + day / days for day in range(days)]
    by_day: dict[int, list[Planned]] = {day: [] for day in range(days)}
    for _ in range(orders):
        day = rng.choices(range(days), weights)[0]
        by_day[day].append(_order(rng, backorder_day=day % 9 == 4))
    return by_day


def _order(rng: random.Random, backorder_day: bool) -> Planned:
    count = rng.choices((1, 2), (3, 1))[0]
    skus = rng.sample(SKUS, count)
    lines = [(sku, rng.choice((1, 1, 2))) for sku in skus]
    ship_after = rng.choice((0, 1, 1, 2))
    delivered_after = ship_after + rng.choice((1, 2, 2, 3, 4))
    planned = Planned(
        channel_id=rng.choices(list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values()))[0],
        lines=lines,
        city=rng.choice(CITIES),
        ship_after=ship_after,
        deliver_after=delivered_after,
        cancel=rng.random() < 0.06,
        backorder=backorder_day and "HOODIE-GRY-L" in skus,
    )
    if not planned.cancel and rng.random() < 0.1:
        planned.return_after = delivered_after + rng.choice((2, 3, 5, 8))
    planned.carrier = rng.choice(("UPS", "FedEx", "USPS"))
    planned.reason = rng.choice(RETURN_REASONS)
    return planned


@contextmanager
def quiet() -> Iterator[None]:
    """The handlers' and the runtime's INFO lines held back while the history is made."""
    names = ("oms", "local.events", "local.mail", "local.gateway")
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class History:
    def __init__(self, oms: LocalOMS, orders: int = DEFAULT_ORDERS, days: int = DAYS) -> None:
        self.oms = oms
        self.request: Request = oms.request
        self.days = days
        self.plan = plan(orders, days)
        self.report = Report()
        self.placed_on = {id(p): day for day, orders in self.plan.items() for p in orders}
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=CLIENTS, thread_name_prefix="history")
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.first_day = today - timedelta(days=days)
        self.returns: dict[str, str] = {}  # order id -> return id

    # -- the clock ---------------------------------------------------------------------------

    def problem(self, text: str) -> None:
        with self.lock:
            self.report.problems.append(text)

    def at(self, day: int, hour: int) -> None:
        """Move the OMS's clock to `hour` o'clock (UTC) of history day `day`."""
        moment = self.first_day + timedelta(days=day, hours=hour)
        clock.travel(moment - datetime.now(UTC))

    # -- the API -----------------------------------------------------------------------------

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        response = self.request(method, path, headers=headers, json=body)
        if response.status >= 300:
            self.problem(f"{method} {path} -> {response.status} {response.body[:200]!r}")
            return None
        return response.json() if response.body else None

    def order(self, order_id: str) -> dict[str, Any] | None:
        return self.call("GET", f"/orders/{order_id}")

    def wait(self, order_id: str, statuses: set[str]) -> dict[str, Any] | None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            found = self.order(order_id)
            if found is None or found["status"] in statuses:
                return found
            time.sleep(POLL_SECONDS)
        self.problem(f"order {order_id} did not reach {sorted(statuses)}")
        return None

    # -- the story ---------------------------------------------------------------------------

    def make(self, progress: Callable[[int, int], None] | None = None) -> Report:
        """The whole history; `progress(day, orders placed)` after each day."""
        started = time.monotonic()
        self.report.first_day = self.first_day.date().isoformat()
        with paused_rules(self.oms, PAUSED_RULES):
            try:
                self.at(0, 7)
                self._stock_up()
                for day in range(self.days):  # up to yesterday: today's real clock takes over
                    self.at(day, 9)
                    self._morning(day)
                    self.at(day, 15)
                    self._afternoon(day)
                    if progress:
                        progress(day, self.report.orders)
            finally:
                clock.travel(timedelta(0))
                self.pool.shutdown()
            self._restore_stock()
            self._settle()
        self.report.aggregated = aggregation.backfill(orders_table.order_ids()).changed
        self.report.seconds = round(time.monotonic() - started, 1)
        return self.report

    def _settle(self) -> None:
        """Wait until the last events are published (none arrives for a while), so that nothing of
        the history reaches the paused rules' consumers once they run again."""
        seen = -1
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            published = len(self.oms.events())
            if published == seen:
                return
            seen = published
            time.sleep(QUIET_SECONDS)

    def _stock_up(self) -> None:
        self.call("PUT", f"/warehouses/{CENTRAL}", CENTRAL_WAREHOUSE)
        for sku, warehouse in [*STOCK, *((sku, CENTRAL) for sku in CENTRAL_STOCK)]:
            self.call("PUT", f"/inventory/{sku}/locations/{warehouse}", {"onHand": PLENTY})

    def _all(self, work: Callable[[Planned], None], planned: list[Planned]) -> None:
        """`work` on each of `planned` at once (as many clients would), back when all are done."""
        list(self.pool.map(work, planned))

    def _morning(self, day: int) -> None:
        todays = self.plan.get(day, [])
        if any(p.backorder for p in todays):  # sold out overnight: today's hoodie orders wait for a delivery
            self.call(
                "PUT",
                "/inventory/HOODIE-GRY-L/locations/wh-west",
                {"onHand": self._reserved("HOODIE-GRY-L", "wh-west")},
            )
        self._all(self._place, todays)
        self._all(self._planned_shipments, todays)

    def _planned_shipments(self, planned: Planned) -> None:
        """Wait until the order is sourced; keep its fulfillments (none while it waits for stock)."""
        if planned.order_id is None:
            return
        found = self.wait(planned.order_id, {"FULFILLING", "BACKORDERED", "REJECTED", "FAILED"})
        if found is not None and found["status"] == "FULFILLING":
            planned.fulfillments = [f["fulfillmentId"] for f in found["fulfillments"]]
            self.count("split", len(planned.fulfillments) > 1)

    def _afternoon(self, day: int) -> None:
        waiting = [p for p in self.plan.get(day, []) if p.order_id and not p.fulfillments]
        if waiting:  # the hoodies arrive: the waiting orders are sourced again
            self._receive("HOODIE-GRY-L", "wh-west", PLENTY)
            self._all(self._planned_shipments, waiting)
        due = [p for placed_on, orders in self.plan.items() for p in orders if p.due(day - placed_on)]
        self._all(lambda planned: self._move_on(planned, day - self.placed_on[id(planned)]), due)

    def _move_on(self, planned: Planned, age: int) -> None:
        order_id = planned.order_id
        assert order_id is not None
        if planned.cancel:
            if self.call("POST", f"/orders/{order_id}/cancel") is not None:
                self.count("cancelled")
            return
        if age == planned.ship_after:
            self._each_fulfillment(
                planned, {"type": "SHIPPED", "carrier": planned.carrier, "trackingNumber": order_id[-12:]}
            )
        if age == planned.deliver_after:
            self._each_fulfillment(planned, {"type": "DELIVERED"})
            self.count("delivered")
        if age == planned.return_after:
            self._return(order_id, planned)

    def _each_fulfillment(self, planned: Planned, event: dict[str, Any]) -> None:
        for fulfillment_id in planned.fulfillments:
            self.call("POST", f"/fulfillments/{fulfillment_id}/events", event)

    def count(self, what: str, by: int = 1) -> None:
        with self.lock:
            setattr(self.report, what, getattr(self.report, what) + by)

    def _return(self, order_id: str, planned: Planned) -> None:
        sku, quantity = planned.lines[0]
        reason = planned.reason
        body = {"lines": [{"sku": sku, "quantity": quantity, "reason": reason}], "resolution": "REFUND"}
        authorized = self.call(
            "POST", f"/orders/{order_id}/returns", body, headers={"Idempotency-Key": f"history-{order_id}"}
        )
        if authorized is None:
            return
        condition = "DAMAGED" if reason == "arrived damaged" else "RESELLABLE"
        received = {
            "type": "RECEIVED",
            "warehouseId": "wh-east",
            "lines": [{"sku": sku, "quantity": quantity, "condition": condition}],
        }
        if self.call("POST", f"/returns/{authorized['returnId']}/events", received) is not None:
            self.count("returned")

    def _place(self, planned: Planned) -> None:
        city, region, postal_code, latitude, longitude = planned.city
        if planned.channel_id == SHOPIFY_CHANNEL:
            payload = shopify_order(planned.lines)
            payload["shipping_address"] |= {
                "city": city,
                "province_code": region,
                "zip": postal_code,
                "latitude": latitude,
                "longitude": longitude,
            }
            headers, body = shopify_delivery(payload)
        elif planned.channel_id == WOO_CHANNEL:
            payload = woo_order(lines=planned.lines)
            payload["shipping"] |= {"city": city, "state": region, "postcode": postal_code}
            headers, body = woo_delivery(payload)
        else:
            order = sample_order(lines=planned.lines)
            order["shippingAddress"] |= {
                "city": city,
                "region": region,
                "postalCode": postal_code,
                "latitude": latitude,
                "longitude": longitude,
                "line1": "1 Market St",
                "line2": None,
            }
            body, headers = signed_delivery(order, DEMO_WEBHOOK_SECRET)
        response = self.request(
            "POST", f"/webhooks/{planned.channel_id}", headers=headers, body=body, authenticated=False
        )
        if response.status >= 300:
            self.problem(f"order for {planned.channel_id} -> {response.status} {response.body[:200]!r}")
            return
        self.count("orders")
        self.count("backordered", planned.backorder)
        planned.order_id = str(response.json()["orderId"])

    def _receive(self, sku: str, warehouse: str, units: int) -> None:
        body = {"delta": units, "reason": "RECEIPT"}
        self.call(
            "POST",
            f"/inventory/{sku}/locations/{warehouse}/adjustments",
            body,
            headers={"Idempotency-Key": f"history-{uuid.uuid4().hex}"},
        )

    def _reserved(self, sku: str, warehouse: str) -> int:
        found = self.call("GET", f"/inventory/{sku}") or {"locations": []}
        return next(
            (int(level["reserved"]) for level in found["locations"] if level["warehouseId"] == warehouse), 0
        )

    def _restore_stock(self) -> None:
        """The demo's stock available again, as `make run` without history has it (what unshipped
        history orders hold stays held); the central warehouse keeps only what they hold."""
        for sku, warehouse in [*STOCK, *((sku, CENTRAL) for sku in CENTRAL_STOCK)]:
            available = STOCK.get((sku, warehouse), 0)
            self.call(
                "PUT",
                f"/inventory/{sku}/locations/{warehouse}",
                {"onHand": self._reserved(sku, warehouse) + available},
            )


@contextmanager
def paused_rules(oms: LocalOMS, rules: Iterable[BusRule]) -> Iterator[None]:
    """The rules disabled (DisableRule, as an operator would for a bulk load) until the block ends."""
    events = oms.client("events")
    names = [(f"{oms.naming.prefix}-{rule.name}", oms.naming.bus(BUSES[rule.bus])) for rule in rules]
    for name, bus in names:
        events.disable_rule(Name=name, EventBusName=bus)
    try:
        yield
    finally:
        for name, bus in names:
            events.enable_rule(Name=name, EventBusName=bus)


def make(
    oms: LocalOMS,
    orders: int = DEFAULT_ORDERS,
    days: int = DAYS,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Make the history through `oms`'s API, quietly, then aggregate its analytics. Returns what
    was made."""
    with quiet():
        return History(oms, orders, days).make(progress)
