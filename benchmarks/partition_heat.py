"""Partition heat: which DynamoDB key values the OMS's write paths make hot, scaled to a target rate.

The pure part of the load model (`benchmarks.heat_runs` records the scenarios on the local OMS):

1. **Attribution.** Every recorded DynamoDB call is priced action by action with the benchmarks' own
   unit rules (`benchmarks.dynamodb_units.UnitCounter`, one transaction action at a time), and its
   units are put on the key values they land on: the table's partition key value and the item
   (table, partition and sort key), and for the index writes the index's partition key value
   (the value the item leaves and the one it enters, from the items as the recording wrote them).
   Reads go to the partition read (a Query's key condition) and, for GetItem, the item.
2. **Classification.** Each key value becomes a *pattern* by replacing what the scenario knows it
   depends on (order, fulfillment and return ids, SKUs, warehouses, channel, statuses, dates) and
   anything that looks like a generated id: `ORDER#8f3…` is `ORDER#{order}`, per order, so it scales
   away; `SKU#MUG-BLUE` is `SKU#{sku}`, hot with the flash-sale SKU's share; a value with nothing
   replaced is one value for the whole OMS. Nothing here lists the keys: a new key shows up by itself.
3. **Scaling.** At a target rate of orders a second, a pattern's hottest value takes
   rate x share x units per order, the share being what the hottest value of each thing the
   pattern depends on gets (`Assumptions`), against AWS's limits per partition (and per item).
   A read a settings cache made (`shared.settings_cache`; the recordings run it in pass-through, so
   every reader shows) is not per order: each container of a reading function re-reads the value
   once per TTL, so the value takes the sum over its readers of containers / TTL x units per read,
   a function's containers being its handler seconds per order x the rate (Little's law, the local
   handler time standing in for the duration on AWS), at least `min_containers`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.dynamodb_units import TableInfo, UnitCounter
from benchmarks.recorder import DynamoCall
from blueprint import COMMON_ENVIRONMENT
from shared import settings_cache
from shared.dal import analytics, deliveries, sharded

# AWS: a partition (and so an item) takes about 1,000 write units and 3,000 read units a second,
# a GSI partition the same; a throttled GSI throttles the table writes that feed it.
WRITE_UNITS_PER_PARTITION = 1_000
READ_UNITS_PER_PARTITION = 3_000

PARTITION, ITEM = "partition", "item"
# What a key value can depend on. The first group is unique to one order (or its fulfillment,
# return, an event, a time or a sequence number): such keys scale away.
UNIQUE_DIMENSIONS = ("order", "fulfillment", "return", "id", "time", "seq")
SHARED_DIMENSIONS = ("sku", "warehouse", "channel", "status", "day", "bucket", "shard", "counter shard")
# Indexes whose partition key values end in a write shard, "<value>#<NN>" (shared/dal/sharded.py): a
# value takes its list's share spread over SHARDS values, each key's shard from the item's id.
SHARDED_INDEXES = frozenset(
    {sharded.BY_STATUS.name, sharded.BY_CHANNEL.name, sharded.BY_CREATION.name, deliveries.BY_CHANNEL.name}
)
_SHARD_SUFFIX = re.compile(rf"#\d{{{sharded.SHARD_WIDTH}}}$")
# Tables whose partition key values end in a counter shard each transaction picks at random
# (shared/dal/analytics.py), so one order's writes to a scope land on several shards: a shard takes
# the units of all the scope's shards spread evenly over them (`shards_of`). Their writers combine a queue
# batch's changes into one write per item (functions/analytics_aggregator): at the peak every batch is
# full (AGGREGATOR_BATCH events, of as many orders), so an item takes one write where the recording,
# one order at a time, made up to one per event.
COUNTER_TABLES = frozenset({"Analytics"})
AGGREGATOR_BATCH = 10
_COUNTER_SHARD = re.compile(rf"#\d{{{analytics.SHARD_WIDTH}}}(?= / |$)")

_GENERATED_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # uuid
    r"|(?<![0-9A-Z])[0-9A-HJKMNP-TV-Z]{26}(?![0-9A-Z])"  # ULID, also after a prefix (`dlv_…`)
    r"|(?<![0-9a-fA-F])[0-9a-fA-F]{16,}(?![0-9a-fA-F])"  # hex digests, uuid4().hex
)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEQUENCE = re.compile(r"(?<![\w{])\d{6,}(?![\w}])")
_ASSIGNMENT = re.compile(r"^\s*([#\w]+)\s*=\s*(:\w+)\s*$")
_EQUALITY = re.compile(r"([#\w]+)\s*=\s*(:\w+)")


# -- 1. attribution ------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyUnits:
    """Units one recording put on one key value of a table or index (`where`: `Orders.byStatus`)."""

    where: str
    kind: str  # PARTITION or ITEM
    value: str
    writes: float = 0.0
    reads: float = 0.0  # made on every request
    # Cached reads: (function, read units per fill of its cache entry), per function that read it.
    cached: tuple[tuple[str, float], ...] = ()


@dataclass
class _Tally:
    writes: dict[tuple[str, str, str], float] = field(default_factory=dict)
    reads: dict[tuple[str, str, str], float] = field(default_factory=dict)
    # key -> function -> (units, the cache fills they were made in)
    cached: dict[tuple[str, str, str], dict[str, tuple[float, frozenset[int]]]] = field(default_factory=dict)

    def add(self, counts: dict[tuple[str, str, str], float], key: tuple[str, str, str], units: float) -> None:
        if units:
            counts[key] = counts.get(key, 0.0) + units

    def add_cached(self, key: tuple[str, str, str], function: str, units: float, fill: int) -> None:
        by_function = self.cached.setdefault(key, {})
        total, fills = by_function.get(function, (0.0, frozenset()))
        by_function[function] = (total + units, fills | {fill})

    def result(self) -> list[KeyUnits]:
        keys = sorted(set(self.writes) | set(self.reads) | set(self.cached))
        return [
            KeyUnits(*key, self.writes.get(key, 0.0), self.reads.get(key, 0.0), self._per_fill(key))
            for key in keys
        ]

    def _per_fill(self, key: tuple[str, str, str]) -> tuple[tuple[str, float], ...]:
        found = self.cached.get(key, {})
        return tuple((function, units / len(fills)) for function, (units, fills) in sorted(found.items()))


def text_of(value: Mapping[str, Any]) -> str:
    """A wire-format key attribute as text: {"S": "ORDER#1"} -> ORDER#1."""
    ((_kind, data),) = value.items()
    return str(data)


class HeatCounter:
    """Puts the units of recorded calls on the key values they land on, in the order they ran.

    `logical` maps each physical table name to the blueprint's (`Orders`); `tables` are the
    physical tables' keys and indexes; `counter` prices every action (it knows the item sizes)."""

    def __init__(self, tables: Mapping[str, TableInfo], logical: Mapping[str, str], counter: UnitCounter):
        self._tables, self._logical, self._counter = tables, logical, counter
        self._items: dict[tuple[str, str], dict[str, Any]] = {}  # what the recordings wrote, per item
        self._final: dict[tuple[str, str], dict[str, Any]] = {}  # as the run left them: a stand-in

    def remember_final(self, final_items: Mapping[str, list[dict[str, Any]]]) -> None:
        """The tables as the run left them: what an item not written in a recording had (its index
        keys, for the index writes of an update to it; a changed key's old value is then a guess)."""
        for table, items in final_items.items():
            if table in self._tables:
                for item in items:
                    self._final[(table, json.dumps(self._key(table, item)))] = dict(item)

    def key_units(self, calls: Iterable[DynamoCall]) -> list[KeyUnits]:
        tally = _Tally()
        for call in calls:
            if call.operation == "TransactWriteItems":
                for entry in call.request["TransactItems"]:
                    ((kind, action),) = entry.items()
                    single = DynamoCall(
                        call.function, call.operation, {"TransactItems": [entry]}, {}, call.failed, 0
                    )
                    self._write(tally, single, kind, action)
            elif call.operation in ("PutItem", "UpdateItem", "DeleteItem"):
                kind = {"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[call.operation]
                self._write(tally, call, kind, call.request)
            elif call.operation in ("GetItem", "Query"):
                self._read(tally, call)
            else:
                self._counter.units(call)  # counted as unpriced there
        return tally.result()

    @property
    def unpriced(self) -> dict[str, int]:
        return dict(self._counter.unpriced)

    def _write(self, tally: _Tally, call: DynamoCall, kind: str, action: Mapping[str, Any]) -> None:
        table = action["TableName"]
        key = self._key(table, action.get("Item") or action["Key"])
        before = dict(self._counter.index_writes)
        units = self._counter.units(call)
        name = self._logical.get(table, table)
        base = units.transactional_writes + units.standard_writes
        tally.add(tally.writes, (name, PARTITION, key[0]), base)
        tally.add(tally.writes, (name, ITEM, " / ".join(key)), base)
        stored = (table, json.dumps(key))
        # A Put's index entry is counted as entering (`UnitCounter`): it leaves no value behind.
        old = {} if kind == "Put" else self._items.get(stored, self._final.get(stored, {}))
        new = self._after(kind, action, old, call.failed)
        for index in self._tables[table].indexes:
            delta = self._counter.index_writes.get(index.name, 0.0) - before.get(index.name, 0.0)
            landed = _index_values(old.get(index.partition_key), new.get(index.partition_key))
            for value, share in landed or [("(unknown)", 1.0)]:
                tally.add(tally.writes, (f"{name}.{index.name}", PARTITION, value), delta * share)
        if not call.failed and kind != "ConditionCheck":
            self._items[stored] = new

    def _after(
        self, kind: str, action: Mapping[str, Any], old: dict[str, Any], failed: bool
    ) -> dict[str, Any]:
        if failed or kind == "ConditionCheck":
            return old
        if kind == "Put":
            return dict(action["Item"])
        if kind == "Delete":
            return {}
        return _updated(old, action)

    def _read(self, tally: _Tally, call: DynamoCall) -> None:
        table, request = call.request["TableName"], call.request
        units = self._counter.units(call).reads
        name = self._logical.get(table, table)
        if call.operation == "GetItem":
            key = self._key(table, request["Key"])
            landed = [(name, PARTITION, key[0]), (name, ITEM, " / ".join(key))]
        else:
            index = request.get("IndexName")
            value = _queried_value(request, self._partition_attribute(table, index))
            landed = [(f"{name}.{index}" if index else name, PARTITION, value)]
        for where in landed:
            if call.cached is not None:
                tally.add_cached(where, call.function or "(none)", units, call.cached.number)
            else:
                tally.add(tally.reads, where, units)

    def _key(self, table: str, item: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(text_of(item[name]) for name in self._tables[table].key_attributes)

    def _partition_attribute(self, table: str, index: str | None) -> str:
        if index is None:
            return self._tables[table].key_attributes[0]
        return next(i.partition_key for i in self._tables[table].indexes if i.name == index)


def _index_values(old: Any, new: Any) -> list[tuple[str, float]]:
    """Where an index write lands: half on the value left and half on the one entered when the key
    changed, else all on the one value the item has (entered, kept or left)."""
    old_text, new_text = (text_of(v) if v else None for v in (old, new))
    if old_text and new_text and old_text != new_text:
        return [(old_text, 0.5), (new_text, 0.5)]
    present = new_text or old_text
    return [(present, 1.0)] if present else []


def _updated(old: dict[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    """The item after an UpdateItem, as far as plain `SET name = :value` and REMOVE tell it."""
    item = dict(old)
    item.update({name: action["Key"][name] for name in action["Key"]})
    names = action.get("ExpressionAttributeNames", {})
    values = action.get("ExpressionAttributeValues", {})
    for keyword, clause in _clauses(action.get("UpdateExpression", "")):
        for part in clause.split(","):
            if keyword == "SET" and (found := _ASSIGNMENT.match(part)) and found.group(2) in values:
                item[names.get(found.group(1), found.group(1))] = values[found.group(2)]
            elif keyword == "REMOVE" and part.strip():
                item.pop(names.get(part.strip(), part.strip()), None)
    return item


def _clauses(expression: str) -> list[tuple[str, str]]:
    parts = re.split(r"\b(SET|REMOVE|ADD|DELETE)\b", expression, flags=re.IGNORECASE)
    return [(keyword.upper(), clause) for keyword, clause in zip(parts[1::2], parts[2::2], strict=True)]


def _queried_value(request: Mapping[str, Any], attribute: str) -> str:
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    for name, placeholder in _EQUALITY.findall(request.get("KeyConditionExpression", "")):
        if names.get(name, name) == attribute and placeholder in values:
            return text_of(values[placeholder])
    return "(unknown)"


# -- 2. classification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Known:
    """What the scenarios know their key values may contain, by the dimension it stands for."""

    values: Mapping[str, frozenset[str]]  # dimension -> its values (e.g. "sku" -> {"MUG-BLUE"})
    bucketed: frozenset[str] = frozenset()  # values that are a stock bucket (or a bucket's ledger)


@dataclass(frozen=True)
class Pattern:
    template: str  # the value with what it depends on replaced, e.g. `SKU#{sku} / LOC#{warehouse}`
    dimensions: frozenset[str]

    @property
    def unique(self) -> bool:
        return bool(self.dimensions & set(UNIQUE_DIMENSIONS))

    @property
    def name(self) -> str:
        if self.unique:
            first = next(d for d in UNIQUE_DIMENSIONS if d in self.dimensions)
            return f"per {first} (scales away)"
        shared = [d for d in SHARED_DIMENSIONS if d in self.dimensions]
        return "per " + " and ".join(shared) if shared else "constant (one for the whole OMS)"


def classify(value: str, known: Known) -> Pattern:
    """The pattern of a key value (an item's is `pk / sk`): what it depends on, and its template."""
    parts = value.split(" / ")
    templated, dimensions = [], set()
    for part in parts:
        template, found = _template(part, known)
        if part in known.bucketed:  # bucket 0 of a location, or its ledger: stands for bucket k
            template, found = template.removesuffix("#0") + "#{bucket}", found | {"bucket"}
        templated.append(template)
        dimensions |= found
    return Pattern(" / ".join(templated), frozenset(dimensions))


def _template(text: str, known: Known) -> tuple[str, set[str]]:
    found: set[str] = set()
    tokens = sorted(
        ((token, dimension) for dimension, values in known.values.items() for token in values if token),
        key=lambda pair: -len(pair[0]),
    )
    for token, dimension in tokens:
        pattern = re.compile(rf"(?<![\w-]){re.escape(token)}(?![\w-])")
        if pattern.search(text):
            text, found = pattern.sub("{" + dimension + "}", text), found | {dimension}
    for expression, dimension in (
        (_GENERATED_ID, "id"),
        (_TIMESTAMP, "time"),
        (_DAY, "day"),
        (_SEQUENCE, "seq"),
    ):
        if expression.search(text):
            text, found = expression.sub("{" + dimension + "}", text), found | {dimension}
    return text, found


# -- 3. scaling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One run of a scenario (one order, or one return) and the units it put on each key value."""

    scenario: str
    keys: tuple[KeyUnits, ...]
    known: Known
    busy: tuple[tuple[str, float], ...] = ()  # (function, its handlers' seconds in this run)


def _deployed_cache_seconds() -> float:
    return float(COMMON_ENVIRONMENT.get(settings_cache.TTL_VARIABLE, settings_cache.DEFAULT_SECONDS))


@dataclass(frozen=True)
class Assumptions:
    rate: float = 10_000.0  # orders a second at the peak
    flash_share: float = 0.30  # of the orders carry the one flash-sale SKU
    warehouses: int = 10
    channels: int = 4
    flash_buckets: int = 25  # the flash SKU's stock buckets (MAX_BUCKETS)
    hottest_bucket_share: float = 1 / 25  # of the flash SKU's reservations on its busiest bucket
    # scenario -> orders of that kind per order placed (returns: per order, on top of its order)
    mix: Mapping[str, float] = field(default_factory=dict)
    # Queue messages the counters' writer received per write it made, in the recording: at the peak
    # a full batch is one write, so a write there stands for this many of the recording's.
    events_per_counter_write: float = 1.0
    cache_seconds: float = field(default_factory=_deployed_cache_seconds)  # the settings cache's TTL
    min_containers: float = 1.0  # of a function that runs at all, however short its handler

    def containers(self, samples: Sequence[Sample]) -> dict[str, float]:
        """Per function, its containers at the target rate: invocations/s x mean duration (Little's
        law) = its handler seconds per order x the rate, at least `min_containers`."""
        functions = sorted({function for sample in samples for function, _ in sample.busy})
        return {
            function: max(
                self.min_containers,
                self.rate * mixed(((s.scenario, dict(s.busy).get(function, 0.0)) for s in samples), self.mix),
            )
            for function in functions
        }

    def share(self, dimensions: frozenset[str]) -> float:
        """What the hottest value of a pattern gets of all orders. The flash sale is one SKU, sold
        on one channel and shipped from one warehouse (the worst case): a value that depends on
        several of these gets the smallest of their shares (they are the same orders); statuses
        and days are one value for every order; a bucket gets its part of its SKU's share, a
        write shard its part (1 of SHARDS, the ids spread evenly) of its list's, and a counter shard
        (its units already its part of its scope's) one write per full batch (COUNTER_TABLES)."""
        shares = {
            "sku": self.flash_share,
            "warehouse": self.flash_share + (1 - self.flash_share) / self.warehouses,
            "channel": self.flash_share + (1 - self.flash_share) / self.channels,
        }
        found = [shares[d] for d in dimensions if d in shares]
        share = min(found) if found else 1.0
        share *= 1 / sharded.SHARDS if "shard" in dimensions else 1.0
        if "counter shard" in dimensions:
            share *= self.events_per_counter_write / AGGREGATOR_BATCH
        return share * (self.hottest_bucket_share if "bucket" in dimensions else 1.0)


@dataclass(frozen=True)
class HotKey:
    """A pattern's hottest value at the target rate, on one table or index, for writes or reads."""

    where: str
    kind: str  # PARTITION or ITEM
    units: str  # "WRU" or "RRU"
    pattern: Pattern
    example: str
    per_order: float  # units on the hottest value per order placed, over the mix (cached reads apart)
    share: float
    rate: float  # the target rate, orders/s
    cached: CachedLoad | None = None  # the reads settings caches make of the value, if any

    @property
    def limit(self) -> float:
        return WRITE_UNITS_PER_PARTITION if self.units == "WRU" else READ_UNITS_PER_PARTITION

    @property
    def per_second(self) -> float | None:
        """Units a second on the hottest value at the target rate (None: one value per order)."""
        if self.pattern.unique:
            return None
        return self.rate * self.share * self.per_order + (self.cached.per_second if self.cached else 0.0)

    @property
    def holds(self) -> bool:
        per_second = self.per_second
        return per_second is None or per_second <= self.limit

    @property
    def breaking_rate(self) -> float | None:
        """Orders a second at which the hottest value reaches its limit (None: never, it scales away).
        Cached reads grow with the rate too (containers do), so both parts scale linearly."""
        per_second = self.per_second
        if per_second is None or per_second <= 0:
            return None
        return self.limit * self.rate / per_second

    @property
    def note(self) -> str:
        """The pattern's name, and how a settings cache reads it."""
        if self.cached is None:
            return self.pattern.name
        return f"{self.pattern.name}; {self.cached.note}"


@dataclass(frozen=True)
class CachedLoad:
    """A value settings caches hold: each reading function's containers re-read it once per TTL."""

    readers: tuple[tuple[str, float, float], ...]  # (function, containers, units per read)
    ttl: float

    @property
    def containers(self) -> float:
        return sum(containers for _, containers, _ in self.readers)

    @property
    def per_second(self) -> float:
        return sum(containers * units for _, containers, units in self.readers) / self.ttl

    @property
    def note(self) -> str:
        readers = len(self.readers)
        return f"cached, TTL {self.ttl:g} s: {self.containers:,.0f} containers of {readers} function(s)"


Row = tuple[str, str, str, Pattern]  # (where, kind, "WRU" or "RRU", pattern)


def hot_keys(samples: Sequence[Sample], assumptions: Assumptions) -> list[HotKey]:
    """Every (table or index, partition or item, pattern), writes and reads, hottest first."""
    scenarios = {sample.scenario for sample in samples}
    counts = {name: sum(s.scenario == name for s in samples) for name in scenarios}
    found: dict[Row, tuple[float, str]] = {}
    for sample in samples:
        weight = assumptions.mix.get(sample.scenario, 0.0) / counts[sample.scenario]
        for row, (units, example) in _hottest_in(sample).items():
            total, kept = found.get(row, (0.0, example))
            found[row] = (total + weight * units, kept)
    cached = _cached_loads(samples, assumptions)
    for row, (_, example) in cached.items():
        found.setdefault(row, (0.0, example))
    keys = [
        HotKey(
            where,
            kind,
            units,
            pattern,
            example,
            per_order,
            assumptions.share(pattern.dimensions),
            assumptions.rate,
            cached[(where, kind, units, pattern)][0] if (where, kind, units, pattern) in cached else None,
        )
        for (where, kind, units, pattern), (per_order, example) in found.items()
        if per_order > 0 or (where, kind, units, pattern) in cached
    ]
    return sorted(keys, key=lambda k: (k.holds, -(k.per_second or 0), k.where, k.kind))


def _cached_loads(samples: Sequence[Sample], assumptions: Assumptions) -> dict[Row, tuple[CachedLoad, str]]:
    """Per read row a settings cache fills: who reads its busiest value, and its units per read
    (the most any recording saw), with an example value. Every container of a reader is taken to
    read the row's hottest value (each serves orders of every channel and warehouse within a TTL)."""
    containers = assumptions.containers(samples)
    per_read: dict[Row, dict[str, float]] = {}
    examples: dict[Row, str] = {}
    for sample in samples:
        for key in sample.keys:
            row = (key.where, key.kind, "RRU", _pattern_of(key, sample.known))
            for function, units in key.cached:
                readers = per_read.setdefault(row, {})
                if units > readers.get(function, 0.0):
                    readers[function], examples[row] = units, key.value
    return {
        row: (
            CachedLoad(
                tuple(
                    (f, containers.get(f, assumptions.min_containers), u) for f, u in sorted(readers.items())
                ),
                assumptions.cache_seconds,
            ),
            examples[row],
        )
        for row, readers in per_read.items()
    }


def _pattern_of(key: KeyUnits, known: Known) -> Pattern:
    pattern = classify(key.value, known)
    if key.kind == PARTITION and key.where.partition(".")[2] in SHARDED_INDEXES:
        return unsharded(key.value, pattern)
    if key.where in COUNTER_TABLES and "{counter shard}" in key.value:
        return Pattern(pattern.template, pattern.dimensions | {"counter shard"})
    return pattern


def _hottest_in(sample: Sample) -> dict[tuple[str, str, str, Pattern], tuple[float, str]]:
    """Per (where, kind, WRU or RRU, pattern): the units of its hottest value in this sample (for a
    counter table, of all shards of a value together)."""
    hottest: dict[tuple[str, str, str, Pattern], tuple[float, str]] = {}
    for key in _counter_shards_summed(sample.keys):
        pattern = _pattern_of(key, sample.known)
        for units_name, units in (("WRU", key.writes), ("RRU", key.reads)):
            row = (key.where, key.kind, units_name, pattern)
            if units > hottest.get(row, (0.0, ""))[0]:
                hottest[row] = (units, key.value)
    return hottest


def _counter_shards_summed(keys: Iterable[KeyUnits]) -> list[KeyUnits]:
    """The keys with every counter table value's shards as one value, `<scope>#{counter shard}`, which
    takes its part of their units: where a write lands is chance, so each shard gets as much."""
    summed: dict[tuple[str, str, str], KeyUnits] = {}
    rest = []
    for key in keys:
        if key.where not in COUNTER_TABLES or not _COUNTER_SHARD.search(key.value):
            rest.append(key)
            continue
        value = _COUNTER_SHARD.sub("#{counter shard}", key.value, count=1)
        shards = analytics.shards_of(value.split("#{counter shard}", 1)[0])
        before = summed.get((key.where, key.kind, value), KeyUnits(key.where, key.kind, value))
        summed[(key.where, key.kind, value)] = KeyUnits(
            key.where,
            key.kind,
            value,
            before.writes + key.writes / shards,
            before.reads + key.reads / shards,
        )
    return rest + list(summed.values())


def unsharded(value: str, pattern: Pattern) -> Pattern:
    """A write-sharded index's partition value `<value>#<NN>` as one of SHARDS values of its list."""
    if not _SHARD_SUFFIX.search(value):
        return pattern
    template = _SHARD_SUFFIX.sub("", pattern.template) + "#{shard}"
    return Pattern(template, pattern.dimensions | {"shard"})


def not_holding(keys: Iterable[HotKey]) -> list[HotKey]:
    return [key for key in keys if not key.holds]


def lowest_breaking_rate(keys: Iterable[HotKey]) -> float:
    rates = [key.breaking_rate for key in keys if key.breaking_rate is not None]
    return min(rates) if rates else math.inf


# -- 4. account quotas ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """What one recording asked of the account-wide services (one order, or one return)."""

    scenario: str
    transitions: int  # Step Functions state transitions (states entered, retries)
    start_executions: int
    task_callbacks: int  # SendTaskSuccess and SendTaskFailure
    invocations: int  # Lambda invocations, every function
    invocation_seconds: float  # their local handler time, in all
    api_requests: int  # API Gateway requests


@dataclass(frozen=True)
class Quota:
    service: str
    name: str  # as Service Quotas names it
    default: float  # per second (concurrency: executions at once)
    unit: str
    source: str  # where the default is stated
    note: str = ""


STEP_FUNCTIONS_QUOTAS = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
LAMBDA_QUOTAS = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
API_GATEWAY_QUOTAS = "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html"
DYNAMODB_MAXIMUM = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html"
START_EXECUTION = Quota(
    "Step Functions",
    "StartExecution throttle token refill rate per second (Standard)",
    300,
    "executions/s",
    STEP_FUNCTIONS_QUOTAS,
    "with StartExecution throttle token bucket size 1,300; us-east-1, us-west-2, eu-west-1 "
    "(elsewhere 150/s, bucket 800)",
)
STATE_TRANSITION = Quota(
    "Step Functions",
    "StateTransition throttle token refill rate per second (Standard)",
    5_000,
    "transitions/s",
    STEP_FUNCTIONS_QUOTAS,
    "with StateTransition throttle token bucket size 5,000; us-east-1, us-west-2, eu-west-1 "
    "(elsewhere 800/s); new accounts start lower",
)
CONCURRENT_EXECUTIONS = Quota(
    "Lambda", "Concurrent executions", 1_000, "executions at once", LAMBDA_QUOTAS, "new accounts start lower"
)
API_THROTTLE = Quota(
    "API Gateway",
    "Throttle rate (per account, per Region)",
    10_000,
    "requests/s",
    API_GATEWAY_QUOTAS,
    "burst 5,000 (set by AWS from the rate); 2,500/s in some newer Regions",
)
TABLE_WRITES = Quota(
    "DynamoDB",
    "Table-level write throughput limit (on-demand, per table)",
    40_000,
    "WRU/s",
    DYNAMODB_MAXIMUM,
    "the busiest table; its indexes are counted apart",
)
TABLE_READS = Quota(
    "DynamoDB",
    "Table-level read throughput limit (on-demand, per table)",
    40_000,
    "RRU/s",
    DYNAMODB_MAXIMUM,
    "the busiest table",
)


@dataclass(frozen=True)
class QuotaNeed:
    quota: Quota
    per_order: float  # over the mix
    needed: float  # at the target rate
    how: str  # how `needed` follows from `per_order`
    rate: float  # the target rate, orders/s

    @property
    def holds(self) -> bool:
        return self.needed <= self.quota.default

    @property
    def breaking_rate(self) -> float:
        """Orders a second at which the default quota is reached (inf: never)."""
        return self.quota.default * self.rate / self.needed if self.needed else math.inf


def mixed(values: Iterable[tuple[str, float]], mix: Mapping[str, float]) -> float:
    """The mean per order over the mix of per-scenario values (each scenario's recordings averaged)."""
    by_scenario: dict[str, list[float]] = {}
    for scenario, value in values:
        by_scenario.setdefault(scenario, []).append(value)
    return sum(mix.get(name, 0.0) * sum(found) / len(found) for name, found in by_scenario.items())


def quota_needs(
    workloads: Sequence[Workload], tables: Mapping[str, tuple[float, float]], assumptions: Assumptions
) -> list[QuotaNeed]:
    """Each quota against what the target rate needs. `tables`: WRU and RRU per order of each table
    and index (`table_totals`), of which the busiest counts. Lambda concurrency is invocations/s x
    their mean duration, the local handler time standing in for the duration on AWS."""
    rate, mix = assumptions.rate, assumptions.mix
    invocations = mixed(((w.scenario, w.invocations) for w in workloads), mix)
    seconds = mixed(((w.scenario, w.invocation_seconds) for w in workloads), mix)
    mean = seconds / invocations if invocations else 0.0
    writer = max(tables, key=lambda name: tables[name][0])
    reader = max(tables, key=lambda name: tables[name][1])
    rows = [
        (START_EXECUTION, mixed(((w.scenario, w.start_executions) for w in workloads), mix), 1.0, "x rate"),
        (STATE_TRANSITION, mixed(((w.scenario, w.transitions) for w in workloads), mix), 1.0, "x rate"),
        (CONCURRENT_EXECUTIONS, invocations, mean, f"x rate x {1000 * mean:.0f} ms mean (local)"),
        (API_THROTTLE, mixed(((w.scenario, w.api_requests) for w in workloads), mix), 1.0, "x rate"),
        (TABLE_WRITES, tables[writer][0], 1.0, f"x rate, `{writer}`"),
        (TABLE_READS, tables[reader][1], 1.0, f"x rate, `{reader}`"),
    ]
    return [
        QuotaNeed(quota, per_order, per_order * rate * factor, how, rate)
        for quota, per_order, factor, how in rows
    ]


def table_totals(samples: Sequence[Sample], mix: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    """Per table or index: WRU and RRU per order over the mix (every partition of it together)."""
    totals: dict[str, tuple[float, float]] = {}
    for where in sorted({key.where for sample in samples for key in sample.keys}):
        writes = mixed(((s.scenario, _sum(s, where, "writes")) for s in samples), mix)
        reads = mixed(((s.scenario, _sum(s, where, "reads")) for s in samples), mix)
        totals[where] = (writes, reads)
    return totals


def _sum(sample: Sample, where: str, units: str) -> float:
    return sum(getattr(key, units) for key in sample.keys if key.where == where and key.kind == PARTITION)
