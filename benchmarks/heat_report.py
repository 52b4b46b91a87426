"""Section 8 of the report: the partition heat model at a target rate (`benchmarks.partition_heat`
on the recordings of `benchmarks.heat_runs`), and how to put it alone into a report written before
(`splice`), for `python -m benchmarks --only heat`."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from benchmarks import goals, heat_runs, hot_sku
from benchmarks.heat_runs import BACKORDER, CANCEL, HAPPY, RETURN, SPLIT, HeatRuns
from benchmarks.partition_heat import (
    AGGREGATOR_BATCH,
    READ_UNITS_PER_PARTITION,
    WRITE_UNITS_PER_PARTITION,
    Assumptions,
    HotKey,
    QuotaNeed,
    hot_keys,
    not_holding,
    quota_needs,
    table_totals,
)
from benchmarks.report import Environment, table
from shared.dal.analytics import ALL_SHARDS, COUNTER_SHARDS
from shared.models.inventory import MAX_BUCKETS

TITLE = "## 8. Partition heat and account quotas at a target rate (a model, not a measurement)"
SECTION_START = re.compile(r"^## 8\. Partition heat\b", re.MULTILINE)
NEXT_SECTION = "## What this does not measure"
# Orders of each kind per order placed; a return is on top of its order (counted in the happy path).
DEFAULT_MIX: Mapping[str, float] = {HAPPY: 0.80, SPLIT: 0.10, CANCEL: 0.05, BACKORDER: 0.05, RETURN: 0.05}
ROWS_PER_PLACE = 5  # hottest patterns shown per table or index (every one that does not hold, always)
SIMULATED_RESERVATIONS = 5_000  # a second of the flash SKU's reservations, for its busiest bucket's share


@dataclass(frozen=True)
class HeatResult:
    assumptions: Assumptions
    keys: list[HotKey]
    quotas: list[QuotaNeed]
    recordings: dict[str, int]  # scenario -> recordings
    unpriced: dict[str, int]  # DynamoDB operations the unit rules do not price -> calls
    seconds: float
    failing: list[HotKey] = field(default_factory=list)

    @property
    def value(self) -> int:
        """For the goal table: key patterns that do not hold at the target rate (goal: 0)."""
        return len(self.failing)

    @property
    def goal(self) -> int:
        return int(goals.BY_KEY["hot_keys_at_target_rate"].goal)

    @property
    def met(self) -> bool:
        return self.value <= self.goal


def default_assumptions(rate: float = 10_000.0, flash_share: float = 0.30) -> Assumptions:
    spread = hot_sku.simulate(MAX_BUCKETS, SIMULATED_RESERVATIONS)
    return Assumptions(
        rate=rate,
        flash_share=flash_share,
        flash_buckets=MAX_BUCKETS,
        hottest_bucket_share=spread.max_writes / SIMULATED_RESERVATIONS,
        mix=dict(DEFAULT_MIX),
    )


def analyse(runs: HeatRuns, assumptions: Assumptions) -> HeatResult:
    samples, unpriced = heat_runs.attributed(runs)
    assumptions = replace(assumptions, events_per_counter_write=heat_runs.events_per_counter_write(runs))
    keys = hot_keys(samples, assumptions)
    quotas = quota_needs(heat_runs.workloads(runs), table_totals(samples, assumptions.mix), assumptions)
    recordings: dict[str, int] = {}
    for sample in samples:
        recordings[sample.scenario] = recordings.get(sample.scenario, 0) + 1
    return HeatResult(assumptions, keys, quotas, recordings, unpriced, runs.seconds, not_holding(keys))


# -- the section ---------------------------------------------------------------------------------


def section(result: HeatResult, environment: Environment) -> str:
    parts = [TITLE, _intro(result, environment), _assumptions(result.assumptions)]
    parts += [_failing(result), "### Hottest keys per table and index", *_tables(result)]
    parts += [
        "### Account quotas at the target rate",
        _quotas(result),
        _notes(result, environment.load_average),
    ]
    return "\n\n".join(parts)


def _intro(result: HeatResult, environment: Environment) -> str:
    counts = ", ".join(f"{name} {n}" for name, n in result.recordings.items())
    return (
        f"Recorded by `{environment.command}` in {result.seconds:.0f} s on a fresh in-process local OMS "
        f"(the real handlers and workflows on moto), one order or return at a time, each in its own "
        f"window until the asynchronous side drained (recordings per scenario: {counts}; "
        f"`benchmarks/heat_runs.py` says what each does). Every write and read unit of every "
        "DynamoDB call (priced by the same rules as section 2) is put on the key value it lands on: "
        "the table's partition key value and the item, and for each index write the index's partition "
        "key value. Each value is turned into a pattern by replacing the ids, SKUs, warehouses, "
        "channel, statuses and dates the run knows, and anything that looks generated "
        "(`benchmarks/partition_heat.py`): no key is listed by hand. A pattern's hottest value at the "
        "target rate takes rate x share x units per order, against AWS's about "
        f"{WRITE_UNITS_PER_PARTITION:,} WRU/s and {READ_UNITS_PER_PARTITION:,} RRU/s per partition "
        "(an item cannot take more than its partition). GSI partitions have the same limits, and a "
        "throttled GSI throttles the table writes that feed it."
    )


def _assumptions(assumptions: Assumptions) -> str:
    mix = ", ".join(f"{name} {share:.0%}" for name, share in assumptions.mix.items())
    return "\n".join(
        [
            "Assumptions (`--heat-rate`, `--heat-flash-share`; the rest are constants in "
            "`benchmarks/heat_report.py` and `partition_heat.Assumptions`):",
            "",
            f"- **{assumptions.rate:,.0f} orders/s** at the peak; mix per order placed: {mix} "
            "(returns on top of their orders, whose own writes are in the happy path).",
            f"- **{assumptions.flash_share:.0%} of the orders carry one flash-sale SKU**, sold on one "
            f"channel of {assumptions.channels} and shipped from one warehouse of {assumptions.warehouses} "
            "(the worst case): the hottest SKU value gets that share, the hottest warehouse "
            f"{assumptions.share(frozenset({'warehouse'})):.0%}, the hottest channel "
            f"{assumptions.share(frozenset({'channel'})):.0%}; a value that depends on several gets the "
            "smallest of their shares (the same orders). A status, a day or a constant value gets "
            "every order.",
            f"- The flash SKU's stock is spread over {assumptions.flash_buckets} buckets (MAX_BUCKETS); its "
            f"busiest bucket takes {assumptions.hottest_bucket_share:.1%} of its reservations (section 6's "
            f"simulation, `hot_sku.simulate`, {SIMULATED_RESERVATIONS:,} reservations). The runs "
            "themselves stock every location in one bucket: bucket 0's item and ledger stand for bucket k.",
            "- The buckets share the partition key `SKU#<sku>`. docs/design.md: DynamoDB splits a hot "
            'partition by sort key ("split for heat", which applies here: the keys do not increase), but '
            "not at once, so a sudden flash sale has about one partition's 1,000 write units/s until it "
            "does. The `SKU#{sku}` partition row below is that unsplit partition; the bucket item rows are "
            "what each bucket takes once split.",
            "- One order's own keys (`per order`, `per fulfillment`, `per return`, `per id`: generated "
            "ids, times, sequence numbers) scale away: a new value per order. They are listed with their "
            "units per order and hold unless one order alone exceeded a limit.",
            f"- **Cached settings** (`shared/settings_cache.py`: a channel, its e-mail settings, the "
            f"subscriptions, the warehouses) are read once per container and TTL "
            f"({assumptions.cache_seconds:g} s, `SETTINGS_CACHE_SECONDS`), not per order: the recordings "
            "run the caches in pass-through, so every function reading a cached value shows with its "
            "units per read, and the value takes the sum over those functions of containers / TTL x "
            "units per read. A function's containers are its invocations/s x mean duration (Little's "
            "law): its handler seconds per order (local, as for Lambda concurrency below) x the rate, "
            f"at least {assumptions.min_containers:g}; every container is taken to read the hottest value "
            "(its channel, say) within each TTL. `per order` then shows only the uncached units; those "
            "rows say `cached` in their pattern.",
        ]
    )


def _failing(result: HeatResult) -> str:
    rate = result.assumptions.rate
    if not result.failing:
        return f"**Every key holds at {rate:,.0f} orders/s.**"
    lines = [f"**Keys that do not hold at {rate:,.0f} orders/s** ({len(result.failing)}):", ""]
    for key in result.failing:
        lines.append(
            f"- `{key.where}` {key.kind} `{key.pattern.template}` ({key.note}): "
            f"{_per_second(key)} {key.units}/s against {key.limit:,.0f}; stops holding at about "
            f"{_rate(key.breaking_rate)} orders/s"
        )
    return "\n".join(lines)


def _tables(result: HeatResult) -> list[str]:
    places = sorted({key.where for key in result.keys})
    return [_place_table(place, [k for k in result.keys if k.where == place]) for place in places]


def _place_table(place: str, keys: list[HotKey]) -> str:
    shared = [k for k in keys if not k.pattern.unique]
    unique = sorted((k for k in keys if k.pattern.unique), key=lambda k: -k.per_order)
    shown = [k for k in shared if not k.holds] + [k for k in shared if k.holds][:ROWS_PER_PLACE]
    shown += unique[:1]  # the busiest of one order's own keys
    header = [
        "key",
        "units",
        "pattern",
        "example value",
        "per order",
        "/s at rate",
        "limit",
        "holds?",
        "breaks at",
    ]
    rows = [
        [
            f"{key.kind} `{key.pattern.template}`",
            key.units,
            key.note,
            f"`{_short(key.example)}`",
            f"{key.per_order:.2f}",
            _per_second(key),
            f"{key.limit:,.0f}",
            "yes" if key.holds else "**no**",
            _rate(key.breaking_rate),
        ]
        for key in shown
    ]
    hidden = len(keys) - len(shown)
    more = f"\n\n{hidden} more pattern(s) of `{place}`, each below those shown." if hidden else ""
    return f"`{place}`:\n\n" + table(header, rows) + more


def _quotas(result: HeatResult) -> str:
    header = [
        "service",
        "quota (Service Quotas name)",
        "default",
        "per order",
        "needed at rate",
        "holds?",
        "breaks at",
    ]
    rows = [
        [
            need.quota.service,
            need.quota.name,
            f"{need.quota.default:,.0f} {need.quota.unit}",
            f"{need.per_order:.2f}",
            f"{need.needed:,.0f} ({need.how})",
            "yes" if need.holds else "**no: raise it**",
            _rate(need.breaking_rate),
        ]
        for need in result.quotas
    ]
    sources = sorted({(need.quota.service, need.quota.source) for need in result.quotas})
    notes = [
        f"- {need.quota.service}, {need.quota.name}: {need.quota.note}"
        for need in result.quotas
        if need.quota.note
    ]
    cited = [f"- {service}: <{source}>" for service, source in sources]
    return "\n".join(
        [table(header, rows), "", "Defaults per account and Region:", *notes, "", "Sources:", *cited]
    )


def _notes(result: HeatResult, load: float) -> str:
    unpriced = ", ".join(f"{op} {n}" for op, n in sorted(result.unpriced.items())) or "none"
    return "\n".join(
        [
            "Notes:",
            "",
            "- Units per order are means over each scenario's recordings of the busiest value of the "
            "pattern in each recording, weighted by the mix: for a status it takes the busiest status "
            "of each order (conservative), for a SKU the SKU the order writes most.",
            "- An index write that changes the index's key is split between the value left and the one "
            "entered; item values come from what the recordings wrote (plain `SET a = :v` and REMOVE "
            "are followed), else from the tables as the run left them.",
            "- Values the model does not know the meaning of are taken as one value for every order "
            "(constant): a country (`CTRY#US`) or a geographic cell of the shipping address is that for "
            "one country's orders, less so for cells; the benchmark's orders all ship to one address.",
            "- Lambda concurrency uses the local handler time (moto in-process, one order at a time, "
            f"load average {load:.2f} when the run started) as the duration on AWS: a stand-in, not an "
            "AWS figure, and it follows the machine's load. The invocations count every function, the "
            "stream- and queue-fed ones per batch as the local pollers made them (AWS may batch more). "
            "The Step Functions figures could not be "
            "re-read here (the quota page's tables were not in the offline copy; the names are those "
            "Service Quotas lists): check them in the account's Service Quotas console.",
            "- Units per write follow item sizes, as in section 2: the analytics day items "
            "(`ALL#{counter shard} / DAY#…` and the like) gain an attribute per new figure (histogram "
            "bins, statuses, reasons, and in the per-SKU item each SKU), so they pass 1 KB within a few "
            "orders and a real day's are larger: their units per order here are a floor, and vary from "
            "run to run with the sizes the run reached.",
            "- The analytics counters: one order's writes to a scope are summed over the shards they "
            "landed on (each transaction picks one at random) and spread over the scope's "
            f"{COUNTER_SHARDS} counter shards ({ALL_SHARDS} for `ALL`), so `per order` is one shard's "
            "part, and "
            f"taken once per full batch of {AGGREGATOR_BATCH} events (the aggregator combines a batch into "
            "one write per item; at the peak every batch is full, and its events are of different "
            "orders). The recording, one order at a time, wrote once per "
            f"{result.assumptions.events_per_counter_write:.2f} events the aggregator received (some "
            "change nothing, some arrived together), so a peak write stands for that many of its writes: "
            "the units per order are multiplied by that and divided by the batch.",
            f"- DynamoDB operations not priced by the unit rules, and so not in the figures: {unpriced}.",
            "- The table totals behind the DynamoDB table quotas leave out the cached reads (a few "
            "per container and TTL, not per order).",
        ]
    )


def _per_second(key: HotKey) -> str:
    return "one value per order" if key.per_second is None else f"{key.per_second:,.0f}"


def _rate(rate: float | None) -> str:
    return "never (scales away)" if rate is None or math.isinf(rate) else f"{rate:,.0f}"


def _short(value: str, most: int = 48) -> str:
    return value if len(value) <= most else value[: most - 1] + "…"


def splice(document: str, section_text: str) -> str:
    """`document` with its section 8 replaced by `section_text` (or put before "What this does not
    measure", or at the end, if it has none): the rest is left as it was."""
    section_text = section_text.strip("\n")
    found = SECTION_START.search(document)
    if found:
        end = document.find("\n## ", found.start() + 1)
        rest = document[end + 1 :] if end >= 0 else ""
        return document[: found.start()] + section_text + ("\n\n" + rest if rest else "\n")
    at = document.find(NEXT_SECTION)
    if at >= 0:
        return document[:at] + section_text + "\n\n" + document[at:]
    return document.rstrip("\n") + "\n\n" + section_text + "\n"
