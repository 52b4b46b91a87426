"""The goals of issue 13 (scale and speed), each with the figure a run reached: printed as a table,
kept in docs/benchmarks.json (one key per goal: `value`, `goal`, `met`) and at the top of
docs/benchmarks.md.

A run measures only some goals (`--only` runs one section): the goals it did not measure keep the
figure of the run that last did, with that run's date, so the file always holds every goal. A goal no
run has measured yet has `value` null and `met` false.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from benchmarks import pricing
from benchmarks.usage import PerOrder

# DynamoDB write units per single-shipment order when issue 13 began: the run of 2026-12-03 14:32 UTC
# (`python -m benchmarks --only orders --orders 20 --split-orders 10`), of which the AnalyticsAggregator
# 76.2. (88.18 in the run of 2026-12-02 19:08 UTC, before the aggregator existed.)
WRITE_UNITS_BEFORE = 165.2
# Fewer by a margin run-to-run noise does not reach (the analytics items' sizes move a few units).
WRITE_UNITS_GOAL = round(WRITE_UNITS_BEFORE * 0.9, 2)

Comparison = Literal["<=", ">=", "<"]


@dataclass(frozen=True)
class Goal:
    key: str
    title: str
    goal: float
    comparison: Comparison
    unit: str


GOALS = (
    Goal("transitions_single_shipment", "Step Functions transitions, single-shipment order", 5, "<=", ""),
    Goal("transitions_per_extra_shipment", "transitions per extra shipment", 2, "<=", ""),
    Goal(
        "cost_per_1000_single_shipment_orders",
        "modeled AWS cost per 1,000 single-shipment orders",
        0.15,
        "<=",
        "$",
    ),
    Goal(
        "write_units_per_single_shipment_order",
        "DynamoDB WRU per single-shipment order (10% fewer than when issue 13 began)",
        WRITE_UNITS_GOAL,
        "<=",
        "",
    ),
    Goal(
        "handler_import_ratio_worst", "handler import time / `import boto3`, worst function", 2.0, "<=", "x"
    ),
    Goal("hot_keys_at_target_rate", "DynamoDB keys over a partition's limit at 10,000 orders/s", 0, "<=", ""),
    Goal("local_orders_per_second", "local runtime, whole lifecycle, 8 clients", 40, ">=", "orders/s"),
    Goal("local_webhook_p99_ms", "local runtime, webhook p99 at 20 senders", 100, "<", "ms"),
    Goal("soak_flat", "30-minute soak: memory and latency flat (1 = yes)", 1, ">=", ""),
)
BY_KEY = {goal.key: goal for goal in GOALS}


@dataclass(frozen=True)
class Reached:
    """A goal's figure from one run, with a word on how it was counted."""

    key: str
    value: float
    note: str = ""


def met(goal: Goal, value: float | None) -> bool:
    if value is None:
        return False
    if goal.comparison == "<=":
        return value <= goal.goal
    if goal.comparison == "<":
        return value < goal.goal
    return value >= goal.goal


def from_order_runs(single: PerOrder, split: PerOrder | None) -> list[Reached]:
    """What the order scenarios (sections 1 to 3) reach."""
    reached = [
        Reached(
            "transitions_single_shipment", single.transitions.mean, "states entered + retries, per execution"
        ),
        Reached(
            "cost_per_1000_single_shipment_orders",
            round(pricing.total(pricing.cost_lines(single)), 4),
            "every service priced in section 2, e-mails included; without them "
            + f"${pricing.total(pricing.cost_lines(single), without=frozenset({pricing.EMAIL_SERVICE})):.4f}",
        ),
        Reached(
            "write_units_per_single_shipment_order",
            round(single.dynamodb.writes, 2),
            f"{WRITE_UNITS_BEFORE} when issue 13 began",
        ),
    ]
    extra_shipments = split.shipments - single.shipments if split else 0
    if split and extra_shipments > 0:
        per_extra = (split.transitions.mean - single.transitions.mean) / extra_shipments
        reached.append(
            Reached("transitions_per_extra_shipment", round(per_extra, 2), "split run vs single run")
        )
    return reached


def throughput(orders: int, seconds: float) -> Reached:
    return Reached(
        "local_orders_per_second", round(orders / seconds, 2), f"{orders} orders in {seconds:.1f} s"
    )


def merged(previous: Mapping[str, Any], reached: Iterable[Reached], measured_at: str) -> dict[str, Any]:
    """The JSON document: every goal, from this run where it measured it, else as it was."""
    document: dict[str, Any] = {}
    fresh = {r.key: r for r in reached}
    for goal in GOALS:
        if goal.key in fresh:
            found = fresh[goal.key]
            entry = {"value": found.value, "note": found.note, "measuredAt": measured_at}
        else:
            entry = {
                k: v
                for k, v in dict(previous.get(goal.key) or {}).items()
                if k in ("value", "note", "measuredAt")
            }
            entry.setdefault("value", None)
            entry.setdefault("note", "not measured yet")
            entry.setdefault("measuredAt", None)
        document[goal.key] = {
            "title": goal.title,
            "value": entry["value"],
            "goal": goal.goal,
            "comparison": goal.comparison,
            "unit": goal.unit,
            "met": met(goal, entry["value"]),
            "note": entry["note"],
            "measuredAt": entry["measuredAt"],
        }
    return document


def read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def write(path: Path, document: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def table(document: Mapping[str, Any]) -> str:
    rows = [
        "| goal | reached | target | met | measured | how |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for goal in GOALS:
        entry = document[goal.key]
        reached, target = _figure(goal, entry["value"]), f"{goal.comparison} {_figure(goal, goal.goal)}"
        verdict = "met" if entry["met"] else "not met"
        rows.append(
            f"| {goal.title} | {reached} | {target} | {verdict} | {entry['measuredAt'] or '-'} "
            f"| {entry['note']} |"
        )
    return "\n".join(rows)


def _figure(goal: Goal, value: float | None) -> str:
    if value is None:
        return "-"
    if goal.unit == "$":
        return f"${value:.4f}"
    number = f"{value:g}"
    return f"{number} {goal.unit}".strip() if goal.unit not in ("x",) else f"{number}x"


SECTION_START, SECTION_END = "<!-- goals: written by python -m benchmarks -->", "<!-- /goals -->"


def section(document: Mapping[str, Any]) -> str:
    return "\n".join(
        [
            SECTION_START,
            "## Goals (issue 13: scale and speed)",
            "",
            "Every goal with the figure last reached; the same in docs/benchmarks.json. A goal's row keeps",
            "the figure of the run that last measured it (the `measured` column): `--only` runs some.",
            "",
            table(document),
            SECTION_END,
        ]
    )


def splice(report: str, document: Mapping[str, Any]) -> str:
    """The report with its goals section replaced, or put after its first heading's paragraph."""
    block = section(document)
    pattern = re.compile(re.escape(SECTION_START) + ".*?" + re.escape(SECTION_END), re.DOTALL)
    if pattern.search(report):
        return pattern.sub(lambda _: block, report, count=1)
    title, _, rest = report.partition("\n")
    return f"{title}\n\n{block}\n{rest}"
