"""Webhook latency under load: `senders` concurrent senders each POST `per_sender` signed order
webhooks, one after the other, to a fresh local OMS over HTTP (server mode, `benchmarks.over_http`).

Each latency is one `POST /webhooks/{channelId}` as its sender saw it, from the request sent to the
answer read. The orders go on through their workflows in the same process meanwhile, so later
webhooks compete with the earlier orders' work, as they would in a sale. Afterwards the run waits
until every order has settled (FULFILLING here: stock is plentiful) and checks that each did.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from benchmarks import goals
from benchmarks.flash_sale import wait_until_settled
from benchmarks.local_run import Check
from benchmarks.over_http import put, served
from benchmarks.report import percentile
from tests.support.orders import WAREHOUSES, Client, canonical_order

SETTLE_TIMEOUT_SECONDS = 600.0
PLENTY = 1_000_000


@dataclass(frozen=True)
class WebhookLoadSettings:
    senders: int = 20
    per_sender: int = 10
    warmup: int = 4  # sequential orders first, not measured (imports, first calls)


@dataclass(frozen=True)
class WebhookLoad:
    settings: WebhookLoadSettings
    latencies_ms: list[float]  # every measured webhook, in no particular order
    statuses: dict[int, int]  # HTTP status -> webhooks
    seconds: float  # first webhook sent -> last one answered
    checks: list[Check]

    def percentile(self, share: float) -> float:
        """Nearest-rank percentile of the latencies (share in 0..1)."""
        return percentile(self.latencies_ms, share * 100)


def run(settings: WebhookLoadSettings) -> WebhookLoad:
    with served() as running:
        client = running.client
        stock_plenty(client)
        for _ in range(settings.warmup):
            client.place(canonical_order())
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=settings.senders) as pool:
            sent = [
                result
                for batch in pool.map(lambda _: _send(client, settings.per_sender), range(settings.senders))
                for result in batch
            ]
        seconds = time.perf_counter() - started
        ids = [body["orderId"] for status, body, _ in sent if status == 202]
        orders, unsettled = wait_until_settled(client, ids, SETTLE_TIMEOUT_SECONDS)
    statuses = Counter(status for status, _, _ in sent)
    fulfilling = sum(order["status"] == "FULFILLING" for order in orders.values())
    checks = [
        Check(
            "every webhook accepted", statuses == Counter({202: len(sent)}), f"HTTP statuses {dict(statuses)}"
        ),
        Check(
            "every order reserved",
            not unsettled and fulfilling == len(sent),
            f"{fulfilling} of {len(sent)} FULFILLING, {len(unsettled)} not settled",
        ),
    ]
    result = WebhookLoad(settings, [ms for _, _, ms in sent], dict(statuses), seconds, checks)
    print(f"webhook load: p99 {result.percentile(0.99):.0f} ms over {len(sent)} webhooks", file=sys.stderr)
    return result


def _send(client: Client, count: int) -> list[tuple[int, dict[str, str], float]]:
    results = []
    for _ in range(count):
        started = time.perf_counter()
        status, body = client.deliver(canonical_order())
        results.append((status, body, (time.perf_counter() - started) * 1000))
    return results


def reached(result: WebhookLoad) -> goals.Reached:
    p50 = result.percentile(0.5)
    count = len(result.latencies_ms)
    return goals.Reached(
        "local_webhook_p99_ms",
        round(result.percentile(0.99)),
        f"{count} webhooks from {result.settings.senders} senders; p50 {p50:.0f} ms",
    )


def section(result: WebhookLoad) -> str:
    settings = result.settings
    rows = " | ".join(f"{result.percentile(q):.0f}" for q in (0.5, 0.95, 0.99, 1.0))
    checks = "\n".join(
        f"| {c.name} | {'passed' if c.passed else 'FAILED'} | {c.detail} |" for c in result.checks
    )
    return f"""## 10. Webhooks under load: {settings.senders} senders (local, over HTTP, not AWS)

{settings.senders} senders each POST {settings.per_sender} signed order webhooks, one after the other, to a
fresh local OMS in server mode, after {settings.warmup} sequential warm-up orders. A latency is one
`POST /webhooks/{{channelId}}` as its sender saw it. The orders' workflows run in the same process
meanwhile. {len(result.latencies_ms)} webhooks were answered in {result.seconds:.1f} s
({len(result.latencies_ms) / result.seconds:.1f}/s).

| latency (ms) | p50 | p95 | p99 | max |
| --- | --- | --- | --- | --- |
| webhook intake (`POST /webhooks/{{channelId}}`, signed) | {rows} |

| check | result | detail |
| --- | --- | --- |
{checks}
"""


def stock_plenty(client: Client) -> None:
    """Every order here is MUG-BLUE x2 (`canonical_order`): stock it so that none is short."""
    for warehouse in WAREHOUSES:
        put(client, f"/inventory/MUG-BLUE/locations/{warehouse}", {"onHand": PLENTY})
