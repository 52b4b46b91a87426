"""Flash sale: many concurrent single-unit orders for one SKU with few units, over HTTP.

Each run starts a fresh local OMS in server mode (`benchmarks.over_http`), stocks `units` of
FLASH-1 at wh-east (spread over `buckets` items when more than 1), places a few warm-up orders of
another SKU (imports and first calls happen there), then sends `orders` signed webhooks of one
unit of FLASH-1 from `concurrency` clients at once. It waits until every order has settled
(FULFILLING: its stock is held and its workflow awaits the warehouse; BACKORDERED: it waits for a
restock, its workflow parked in AwaitRestock; or REJECTED, FAILED, CANCELLED), reading each order
over HTTP, and then reads the SKU's whole ledger and its stock. `evaluate` checks what was read.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from benchmarks.local_run import Check
from benchmarks.over_http import put, served
from benchmarks.recorder import Recorder, Usage
from blueprint import FUNCTIONS
from local.invoker import import_handler
from tests.support.orders import Client, canonical_order

SKU, WAREHOUSE = "FLASH-1", "wh-east"
WARMUP_SKU = "MUG-BLUE"  # seeded by `Client.seed`
RESERVED, BACKORDERED, REJECTED, FAILED = "FULFILLING", "BACKORDERED", "REJECTED", "FAILED"
SETTLED = frozenset({RESERVED, BACKORDERED, REJECTED, FAILED, "CANCELLED"})
POLL_SECONDS = 0.25
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class FlashSaleSettings:
    runs: int = 10  # with the SKU in one bucket (the default)
    orders: int = 300
    units: int = 100
    concurrency: int = 24
    bucketed: int = 4  # one more run with the SKU spread over this many buckets (0: none)
    warmup: int = 2
    timeout_seconds: float = 600.0  # for every order to settle, after the last webhook was answered

    def buckets_per_run(self) -> list[int]:
        return [1] * self.runs + ([self.bucketed] if self.bucketed else [])


@dataclass(frozen=True)
class Observed:
    """What one run saw over HTTP."""

    buckets: int
    units: int
    webhooks: list[tuple[int, Any]]  # per webhook sent: HTTP status, body
    orders: dict[str, dict[str, Any]]  # order id -> the order as last read
    unsettled: list[str]
    ledger: list[dict[str, Any]]  # the SKU's whole ledger
    stock: dict[str, dict[str, int]]  # warehouse -> the SKU's figures there, at the end
    started_at: datetime  # when the first webhook was sent
    placing_seconds: float  # first webhook sent -> last one answered
    reserve_transactions: tuple[int, int] = (0, 0)  # AcceptOrder's TransactWriteItems: made, cancelled


@dataclass(frozen=True)
class FlashRun:
    number: int
    buckets: int
    orders: int  # webhooks sent
    units: int
    statuses: dict[str, int]  # final order status -> orders
    webhooks: dict[int, int]  # HTTP status -> webhooks
    settle_seconds: float | None  # first webhook sent -> last order settled, from the order timelines
    placing_seconds: float
    reserved_units: int  # units that FULFILLING orders hold
    oversold: int  # units reserved beyond those stocked (by the orders, the stock or the ledger)
    lowest_available: int | None  # of every ledger entry and the final stock
    ledger_entries: int
    reserves_by_bucket: dict[int, int]  # RESERVE ledger entries per bucket
    reserve_transactions: tuple[int, int]  # AcceptOrder's TransactWriteItems: made, cancelled
    stock: dict[str, int]  # the SKU's final figures at WAREHOUSE
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass(frozen=True)
class FlashSaleResult:
    settings: FlashSaleSettings
    runs: list[FlashRun]


def run(settings: FlashSaleSettings) -> FlashSaleResult:
    runs = []
    for number, buckets in enumerate(settings.buckets_per_run(), start=1):
        started = time.perf_counter()
        runs.append(evaluate(number, observe(settings, buckets)))
        verdict = "passed" if runs[-1].passed else "FAILED checks"
        took = time.perf_counter() - started
        print(f"flash sale run {number} ({buckets} bucket(s)): {verdict}, {took:.0f} s", file=sys.stderr)
    return FlashSaleResult(settings, runs)


def observe(settings: FlashSaleSettings, buckets: int) -> Observed:
    """One run on a fresh OMS; its reservation transactions are counted (before it starts, so that
    the handlers' clients report to the recorder)."""
    recorder = Recorder()
    recorder.install()
    try:
        with served() as running:
            reserve = FUNCTIONS["AcceptOrder"]
            timed = recorder.timed(reserve.name, import_handler(reserve.handler))
            running.oms.override_handler(reserve.name, timed)
            _stock(running.client, settings.units, buckets)
            _warm_up(running.client, settings.warmup)
            with recorder.window() as usage:
                observed = _sale(running.client, settings, buckets)
            return replace(observed, reserve_transactions=reserve_transactions(usage))
    finally:
        recorder.uninstall()


def _sale(client: Client, settings: FlashSaleSettings, buckets: int) -> Observed:
    started_at, started = datetime.now(UTC), time.perf_counter()
    webhooks = _in_parallel(
        settings.concurrency, lambda _: client.deliver(canonical_order([(SKU, 1)])), range(settings.orders)
    )
    placing = time.perf_counter() - started
    ids = [body["orderId"] for status, body in webhooks if status == 202]
    orders, unsettled = wait_until_settled(client, ids, settings.timeout_seconds)
    return Observed(
        buckets=buckets,
        units=settings.units,
        webhooks=webhooks,
        orders=orders,
        unsettled=unsettled,
        ledger=client.ledger(SKU),
        stock=client.stock(SKU),
        started_at=started_at,
        placing_seconds=placing,
    )


def reserve_transactions(usage: Usage) -> tuple[int, int]:
    """AcceptOrder's TransactWriteItems calls (the step that reserves a new order's stock), and how
    many of them were cancelled (a concurrent change of a bucket it read: it reads again and retries)."""
    calls = [
        call
        for call in usage.dynamodb_calls
        if call.function == "AcceptOrder" and call.operation == "TransactWriteItems"
    ]
    return len(calls), sum(call.failed for call in calls)


def _stock(client: Client, units: int, buckets: int) -> None:
    put(client, f"/inventory/{SKU}/locations/{WAREHOUSE}", {"onHand": units})
    if buckets > 1:
        put(client, f"/inventory/{SKU}/settings", {"buckets": buckets})


def _warm_up(client: Client, orders: int) -> None:
    for _ in range(orders):
        client.wait_for_status(client.place(canonical_order([(WARMUP_SKU, 1)])), RESERVED, timeout=60)


def _in_parallel(workers: int, work: Callable[[T], R], items: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="flash") as pool:
        return list(pool.map(work, items))


def wait_until_settled(
    client: Client, order_ids: list[str], timeout: float
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Read the orders not yet settled, one at a time, until none is left or `timeout` passed;
    returns every order as last read and those still unsettled."""
    read: dict[str, dict[str, Any]] = {}
    pending = list(order_ids)
    deadline = time.monotonic() + timeout
    while pending:
        for order_id in pending:
            read[order_id] = client.order(order_id)
        pending = [order_id for order_id in pending if read[order_id]["status"] not in SETTLED]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(POLL_SECONDS)
    return read, pending


# -- what a run is checked against (pure: from what was read) ------------------------------------


def settled_at(order: dict[str, Any]) -> datetime | None:
    """When the order reached its current status, from its timeline (None if it has no entry)."""
    moments = [entry["at"] for entry in order["timeline"] if entry["status"] == order["status"]]
    return datetime.fromisoformat(moments[0].replace("Z", "+00:00")) if moments else None


def settle_seconds(observed: Observed) -> float | None:
    """First webhook sent -> the last order settled; None unless every order settled."""
    moments = [settled_at(order) for order in observed.orders.values()]
    if observed.unsettled or not moments or None in moments:
        return None
    return (max(m for m in moments if m is not None) - observed.started_at).total_seconds()


def units_held(order: dict[str, Any]) -> int:
    return sum(line["quantity"] for line in order["lines"] if line["sku"] == SKU)


def ledger_sums(entries: list[dict[str, Any]]) -> dict[str, tuple[int, int, int]]:
    """Per warehouse: the sums of the entries' onHand, reserved and safety stock deltas."""
    sums: dict[str, tuple[int, int, int]] = {}
    for entry in entries:
        on_hand, reserved, safety = sums.get(entry["warehouseId"], (0, 0, 0))
        sums[entry["warehouseId"]] = (
            on_hand + entry["onHandDelta"],
            reserved + entry["reservedDelta"],
            safety + entry["safetyStockDelta"],
        )
    return sums


def figures(stock: dict[str, dict[str, int]]) -> dict[str, tuple[int, int, int]]:
    return {wh: (level["onHand"], level["reserved"], level["safetyStock"]) for wh, level in stock.items()}


def lowest_available(observed: Observed) -> int | None:
    """The lowest `available` of any ledger entry (each is one bucket's, as written) and of the
    final stock (onHand - reserved - safetyStock, per location)."""
    final = [on_hand - reserved - safety for on_hand, reserved, safety in figures(observed.stock).values()]
    values = [entry["available"] for entry in observed.ledger] + final
    return min(values) if values else None


def evaluate(number: int, observed: Observed) -> FlashRun:
    statuses = Counter(order["status"] for order in observed.orders.values())
    reserved_orders = [order for order in observed.orders.values() if order["status"] == RESERVED]
    reserved_units = sum(units_held(order) for order in reserved_orders)
    reserve_entries = [entry for entry in observed.ledger if entry["kind"] == "RESERVE"]
    level = observed.stock.get(WAREHOUSE, {})
    held = max(reserved_units, level.get("reserved", 0), sum(e["reservedDelta"] for e in reserve_entries))
    result = FlashRun(
        number=number,
        buckets=observed.buckets,
        orders=len(observed.webhooks),
        units=observed.units,
        statuses=dict(statuses),
        webhooks=dict(Counter(status for status, _ in observed.webhooks)),
        settle_seconds=settle_seconds(observed),
        placing_seconds=observed.placing_seconds,
        reserved_units=reserved_units,
        oversold=max(0, held - observed.units),
        lowest_available=lowest_available(observed),
        ledger_entries=len(observed.ledger),
        reserves_by_bucket=dict(sorted(Counter(e["bucket"] for e in reserve_entries).items())),
        reserve_transactions=observed.reserve_transactions,
        stock=dict(level),
    )
    result.checks.extend(checks(result, observed, reserved_orders, reserve_entries))
    return result


def checks(
    run: FlashRun,
    observed: Observed,
    reserved_orders: list[dict[str, Any]],
    reserve_entries: list[dict[str, Any]],
) -> list[Check]:
    expected = min(run.units, run.orders)
    rest = run.statuses.get(BACKORDERED, 0) + run.statuses.get(REJECTED, 0)
    refused = [f"{status}: {body}" for status, body in observed.webhooks if status != 202]
    sums, stocked = ledger_sums(observed.ledger), figures(observed.stock)
    held_by = sorted(str(e.get("orderId")) for e in reserve_entries)
    return [
        Check(
            "webhooks accepted",
            not refused,
            f"{run.webhooks.get(202, 0)} of {run.orders} answered 202"
            + (f"; first other: {refused[0][:200]}" if refused else ""),
        ),
        Check("every order settled", not observed.unsettled, _unsettled(observed)),
        Check(
            f"exactly {expected} reserved",
            run.statuses.get(RESERVED, 0) == expected == run.reserved_units == run.stock.get("reserved"),
            f"{run.statuses.get(RESERVED, 0)} orders FULFILLING holding {run.reserved_units} units; "
            f"stock reserved {run.stock.get('reserved')}",
        ),
        Check(
            "the rest backordered or rejected",
            rest == run.orders - expected,
            f"{rest} of {run.orders - expected}",
        ),
        Check("no order FAILED", not run.statuses.get(FAILED), f"{run.statuses.get(FAILED, 0)} FAILED"),
        Check(
            "available never below 0",
            run.lowest_available is not None and run.lowest_available >= 0,
            f"lowest of {run.ledger_entries} ledger entries and the final stock: {run.lowest_available}",
        ),
        Check("ledger sums to stock", sums == stocked, f"ledger sums {sums}, stock {stocked}"),
        Check(
            "one RESERVE entry per reserved order",
            held_by == sorted(order["orderId"] for order in reserved_orders),
            f"{len(reserve_entries)} RESERVE entries, {len(reserved_orders)} orders FULFILLING",
        ),
        Check("no unit oversold", run.oversold == 0, f"{run.oversold} units beyond the {run.units} stocked"),
    ]


def _unsettled(observed: Observed) -> str:
    settled = len(observed.orders) - len(observed.unsettled)
    detail = f"{settled} of {len(observed.orders)} settled"
    if observed.unsettled:
        first = observed.unsettled[0]
        detail += f"; first unsettled: {first} {observed.orders[first]['status']}"
    return detail
