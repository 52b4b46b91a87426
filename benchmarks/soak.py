"""Soak: orders at a steady rate through their whole lifecycle, for `minutes`, on one local OMS over
HTTP (server mode, `benchmarks.over_http`).

A scheduler starts one order every 1/rate seconds (bounded: at most `in_flight` at once; an order
that finds them all busy waits, and is counted late). Each order is placed by a signed webhook, then
shipped and delivered by its warehouse's events, and is done when the OMS shows it DELIVERED. Every
minute the run records the webhook latencies of the orders placed in it, the orders done and the
process's resident memory (the OMS, moto and the clients share this process).

Flat means: after the first minute (imports, first calls), the last third's webhook p99 is at most
`LATENCY_GROWTH` times the first third's, and resident memory grew by at most `MEMORY_GROWTH` of
what it was at the end of the first third. moto keeps every item, execution history and message in
memory, so memory grows with the data stored; the report gives that growth per order done.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import goals
from benchmarks.local_run import Check
from benchmarks.over_http import served
from benchmarks.report import percentile
from benchmarks.webhook_load import stock_plenty
from tests.support.orders import Client, canonical_order

LATENCY_GROWTH = 1.5
MEMORY_GROWTH = 0.10
POLL_SECONDS = 0.2
ORDER_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class SoakSettings:
    minutes: float = 30.0
    # Orders started per second: below what the local runtime sustains (about 1 order/s through the
    # whole lifecycle on a quiet 2-core machine, section 1), or the run measures a queue growing.
    rate: float = 0.5
    in_flight: int = 16  # orders going through their lifecycle at once, at most


@dataclass
class Minute:
    index: int
    webhook_ms: list[float] = field(default_factory=list)
    done: int = 0
    failed: int = 0
    late: int = 0  # orders started more than a second after their slot (every worker busy)
    rss_mb: float = 0.0


@dataclass(frozen=True)
class Soak:
    settings: SoakSettings
    minutes: list[Minute]
    checks: list[Check]

    @property
    def done(self) -> int:
        return sum(m.done for m in self.minutes)


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def p99(values: list[float]) -> float:
    return percentile(values, 99) if values else 0.0


def run(settings: SoakSettings) -> Soak:
    count = max(1, round(settings.minutes * 60 * settings.rate))
    minutes = [Minute(i) for i in range(math.ceil(settings.minutes) + 1)]
    lock = threading.Lock()
    with served() as running, ThreadPoolExecutor(max_workers=settings.in_flight) as pool:
        client, started = running.client, time.monotonic()
        stock_plenty(client)
        slots = threading.BoundedSemaphore(settings.in_flight)
        futures: list[Future[None]] = []
        for number in range(count):
            due = started + number / settings.rate
            time.sleep(max(0.0, due - time.monotonic()))
            slots.acquire()
            if time.monotonic() - started > settings.minutes * 60:
                slots.release()
                break  # bounded: an OMS that fell behind is not given the rest after the time is up
            minute = minutes[min(len(minutes) - 1, int((time.monotonic() - started) // 60))]
            minute.late += time.monotonic() - due > 1.0
            futures.append(pool.submit(_lifecycle, client, minute, lock, slots))
            _sample_memory(minutes, started)
        for future in futures:
            future.result()
        _sample_memory(minutes, started)
    print(f"soak: {sum(m.done for m in minutes)} orders done in {settings.minutes:g} min", file=sys.stderr)
    return Soak(settings, minutes, _checks(settings, minutes, count))


def _sample_memory(minutes: list[Minute], started: float) -> None:
    minutes[min(len(minutes) - 1, int((time.monotonic() - started) // 60))].rss_mb = resident_mb()


def _lifecycle(
    client: Client, minute: Minute, lock: threading.Lock, slots: threading.BoundedSemaphore
) -> None:
    try:
        sent = time.perf_counter()
        status, receipt = client.deliver(canonical_order())
        latency = (time.perf_counter() - sent) * 1000
        ok = status == 202 and _ship_and_deliver(client, str(receipt["orderId"]))
        with lock:
            minute.webhook_ms.append(latency)
            minute.done += ok
            minute.failed += not ok
    finally:
        slots.release()


def _ship_and_deliver(client: Client, order_id: str) -> bool:
    order = _wait(client, order_id, "FULFILLING")
    if order is None:
        return False
    fulfillment_id = order["fulfillments"][0]["fulfillmentId"]
    for event in ("PICKED", "PACKED", "SHIPPED", "DELIVERED"):
        if client.fulfillment_event(fulfillment_id, event)[0] != 200:
            return False
    return _wait(client, order_id, "DELIVERED") is not None


def _wait(client: Client, order_id: str, status: str) -> dict[str, object] | None:
    deadline = time.monotonic() + ORDER_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        order = client.order(order_id)
        if order["status"] == status:
            return order
        time.sleep(POLL_SECONDS)
    return None


def thirds(minutes: list[Minute]) -> tuple[list[Minute], list[Minute]]:
    """The first and last third of the minutes after the first (warm-up) one, with orders in them."""
    measured = [m for m in minutes[1:] if m.webhook_ms]
    third = max(1, len(measured) // 3)
    return measured[:third], measured[-third:]


def _checks(settings: SoakSettings, minutes: list[Minute], count: int) -> list[Check]:
    done, failed = sum(m.done for m in minutes), sum(m.failed for m in minutes)
    first, last = thirds(minutes)
    early, late = p99([v for m in first for v in m.webhook_ms]), p99([v for m in last for v in m.webhook_ms])
    memory_before, memory_after = (
        first[-1].rss_mb if first else 0.0,
        max((m.rss_mb for m in minutes), default=0.0),
    )
    grown = (memory_after - memory_before) / memory_before if memory_before else 0.0
    return [
        Check(
            "every order delivered",
            done == count and not failed,
            f"{done} of {count} DELIVERED, {failed} not",
        ),
        Check(
            "latency flat",
            late <= LATENCY_GROWTH * early,
            f"webhook p99 {early:.0f} ms in the first third, {late:.0f} ms in the last "
            f"(at most x{LATENCY_GROWTH})",
        ),
        Check(
            "memory flat",
            grown <= MEMORY_GROWTH,
            f"resident {memory_before:.0f} MB after the first third, {memory_after:.0f} MB at most later "
            f"(+{grown:.0%}; at most +{MEMORY_GROWTH:.0%}); "
            f"{(memory_after - memory_before) * 1024 / max(1, done):.0f} KB per order done",
        ),
    ]


GOAL_MINUTES = 30.0


def reached(result: Soak) -> goals.Reached:
    """1 when the soak ran for the goal's 30 minutes at least and stayed flat; a shorter run is
    reported, not counted."""
    flat = all(c.passed for c in result.checks if c.name in ("latency flat", "memory flat"))
    detail = "; ".join(c.detail for c in result.checks if c.name != "every order delivered")
    long_enough = result.settings.minutes >= GOAL_MINUTES
    counted = "" if long_enough else f" (shorter than {GOAL_MINUTES:g} min: not counted)"
    value = 1 if flat and long_enough else 0
    return goals.Reached("soak_flat", value, f"{result.settings.minutes:g} min{counted}: {detail}")


def section(result: Soak) -> str:
    settings = result.settings
    rows = "\n".join(
        f"| {m.index} | {len(m.webhook_ms)} | {m.done} | {m.failed} | {m.late} | "
        f"{percentile(m.webhook_ms, 50):.0f} | {p99(m.webhook_ms):.0f} | {m.rss_mb:.0f} |"
        for m in result.minutes
        if m.webhook_ms or m.done
    )
    checks = "\n".join(
        f"| {c.name} | {'passed' if c.passed else 'FAILED'} | {c.detail} |" for c in result.checks
    )
    heading = (
        f"## 11. Soak: {settings.rate:g} order/s for {settings.minutes:g} minutes (local, over HTTP, not AWS)"
    )
    return f"""{heading}

One order every {1 / settings.rate:g} s through its whole lifecycle (webhook, PICKED, PACKED, SHIPPED,
DELIVERED), at most {settings.in_flight} at once, on one local OMS in server mode; per minute, the
orders placed and done, their webhook latency and the process's resident memory (the OMS, moto and
the clients share it). Flat: after the first minute, the last third's webhook p99 at most
x{LATENCY_GROWTH} the first third's, and memory grown by at most {MEMORY_GROWTH:.0%}.

| minute | placed | done | failed | late | webhook p50 (ms) | webhook p99 (ms) | resident (MB) |
| --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

| check | result | detail |
| --- | --- | --- |
{checks}
"""
