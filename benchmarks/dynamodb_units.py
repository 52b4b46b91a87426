"""DynamoDB request units of recorded calls, computed from item sizes (on-demand billing rules).

moto returns no ConsumedCapacity for TransactWriteItems, so units are computed here, for every call
alike, from the items in the requests and responses and from what the tables hold at the end:

- standard write (PutItem, UpdateItem, DeleteItem): 1 WRU per started KB of the item;
- transactional write (each Put, Update, Delete or ConditionCheck in TransactWriteItems): 2 WRU per
  started KB; a ConditionCheck is counted like a write (assumption: conservative);
- read: 1 RRU per started 4 KB for a strongly consistent read, 0.5 for an eventually consistent one
  (GSI queries always are); a Query is billed on the total size of the items it read;
- a global secondary index costs standard writes of the index entry: 1 when an item enters or
  leaves it, 2 when an update changes one of the index's key attributes (delete + put); with
  projection ALL also 1 whenever the item changes, with KEYS_ONLY (every index here) nothing when
  no key attribute changes; never doubled by a transaction (assumption);
- a failed conditional write is billed (DynamoDB consumes the units), and writes no index.

The size of an updated or deleted item is not in the request: the largest size the item is known
to have had (written by a Put, or held at the end of the run) stands in for it.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmarks.recorder import DynamoCall
from blueprint import Index

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
TRANSACTIONAL_FACTOR = 2
EVENTUAL_FACTOR = 0.5

Item = Mapping[str, Any]  # attribute name -> wire-format value ({"S": "..."}, {"N": "12"}, ...)


@dataclass(frozen=True)
class TableInfo:
    key_attributes: tuple[str, ...]
    indexes: tuple[Index, ...] = ()


@dataclass
class Units:
    transactional_writes: float = 0.0
    standard_writes: float = 0.0
    index_writes: float = 0.0
    strong_reads: float = 0.0
    eventual_reads: float = 0.0

    @property
    def writes(self) -> float:
        return self.transactional_writes + self.standard_writes + self.index_writes

    @property
    def reads(self) -> float:
        return self.strong_reads + self.eventual_reads

    def add(self, other: Units) -> None:
        self.transactional_writes += other.transactional_writes
        self.standard_writes += other.standard_writes
        self.index_writes += other.index_writes
        self.strong_reads += other.strong_reads
        self.eventual_reads += other.eventual_reads

    def scaled(self, factor: float) -> Units:
        return Units(
            self.transactional_writes * factor,
            self.standard_writes * factor,
            self.index_writes * factor,
            self.strong_reads * factor,
            self.eventual_reads * factor,
        )


# -- item sizes (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)


def _number_size(text: str) -> int:
    """About one byte per two significant digits, plus one."""
    mantissa = re.split("[eE]", text)[0]
    digits = mantissa.strip("+-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def _binary_size(data: str | bytes) -> int:
    return len(data) if isinstance(data, bytes) else len(base64.b64decode(data))


def _list_size(values: list[Any]) -> int:
    return 3 + sum(1 + attribute_size(v) for v in values)


def _map_size(values: Mapping[str, Any]) -> int:
    return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in values.items())


_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda data: len(data.encode()),
    "N": _number_size,
    "B": _binary_size,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "SS": lambda data: sum(len(s.encode()) for s in data),
    "NS": lambda data: sum(_number_size(n) for n in data),
    "BS": lambda data: sum(_binary_size(b) for b in data),
    "L": _list_size,
    "M": _map_size,
}


def attribute_size(value: Mapping[str, Any]) -> int:
    ((kind, data),) = value.items()
    return _SIZES[kind](data)


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def _units(size: int, unit_bytes: int) -> int:
    return max(1, math.ceil(size / unit_bytes))


# -- what is known about each item -----------------------------------------------------------


@dataclass
class _Known:
    size: int = 0
    attributes: set[str] = field(default_factory=set)


class ItemCatalog:
    """The largest size and the attribute names each item (table, key) is known to have had."""

    def __init__(self, tables: Mapping[str, TableInfo]) -> None:
        self._tables = tables
        self._items: dict[tuple[str, str], _Known] = {}

    def key_of(self, table: str, item_or_key: Item) -> tuple[str, str]:
        key = {name: item_or_key[name] for name in self._tables[table].key_attributes}
        return table, json.dumps(key, sort_keys=True, default=str)

    def remember(self, table: str, item: Item) -> None:
        known = self._items.setdefault(self.key_of(table, item), _Known())
        known.size = max(known.size, item_size(item))
        known.attributes |= set(item)

    def remember_all(self, table: str, items: Iterable[Item]) -> None:
        for item in items:
            self.remember(table, item)

    def known(self, table: str, key: Item) -> _Known:
        return self._items.get(self.key_of(table, key), _Known())


# -- units per call ----------------------------------------------------------------------------


_CLAUSE = re.compile(r"\b(SET|REMOVE|ADD|DELETE)\b", re.IGNORECASE)


def updated_attributes(expression: str, names: Mapping[str, str]) -> set[str]:
    """Top-level attribute names an UpdateExpression sets, removes, adds to or deletes from."""
    touched: set[str] = set()
    parts = _CLAUSE.split(expression)
    for keyword, clause in zip(parts[1::2], parts[2::2], strict=True):
        for action in _split_top_level(clause):
            path = action.split("=")[0] if keyword.upper() == "SET" else action.split()[0]
            name = re.split(r"[.\[]", path.strip())[0]
            touched.add(names.get(name, name))
    return touched


def _split_top_level(clause: str) -> list[str]:
    """Split on commas outside parentheses (`list_append(a, :b)` stays whole)."""
    actions, depth, current = [], 0, ""
    for char in clause:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            actions.append(current)
            current = ""
        else:
            current += char
    return [a.strip() for a in [*actions, current] if a.strip()]


class UnitCounter:
    """Request units of each recorded call, given the tables and what is known of their items."""

    def __init__(self, tables: Mapping[str, TableInfo], catalog: ItemCatalog) -> None:
        self._tables = tables
        self._catalog = catalog
        self.unpriced: dict[str, int] = {}  # operations these rules do not cover -> calls
        self.index_writes: dict[str, float] = {}  # index name -> write units, over all calls priced
        self._by_operation: dict[str, Callable[[DynamoCall], Units]] = {
            "PutItem": self._put_item,
            "UpdateItem": self._update_or_delete,
            "DeleteItem": self._update_or_delete,
            "TransactWriteItems": self._transact_write,
            "GetItem": self._get_item,
            "Query": self._query,
        }

    def units(self, call: DynamoCall) -> Units:
        priced = self._by_operation.get(call.operation)
        if priced is None:
            self.unpriced[call.operation] = self.unpriced.get(call.operation, 0) + 1
            return Units()
        return priced(call)

    # writes

    def _put_item(self, call: DynamoCall) -> Units:
        return self._write(dict(call.request, _kind="Put"), False, call.failed)

    def _update_or_delete(self, call: DynamoCall) -> Units:
        kind = "Update" if call.operation == "UpdateItem" else "Delete"
        return self._write(dict(call.request, _kind=kind), False, call.failed)

    def _transact_write(self, call: DynamoCall) -> Units:
        total = Units()
        for entry in call.request["TransactItems"]:
            ((kind, action),) = entry.items()
            total.add(self._write(dict(action, _kind=kind), True, call.failed))
        return total

    def _write(self, action: Mapping[str, Any], transactional: bool, failed: bool) -> Units:
        table, kind = action["TableName"], action["_kind"]
        item = action.get("Item") or action["Key"]
        known = self._catalog.known(table, item)
        size = item_size(item) if kind == "Put" else known.size
        units = float(_units(size, WRITE_UNIT_BYTES))
        result = (
            Units(transactional_writes=units * TRANSACTIONAL_FACTOR)
            if transactional
            else Units(standard_writes=units)
        )
        if not failed and kind != "ConditionCheck":
            attributes = set(item) if kind == "Put" else known.attributes
            result.index_writes = self._index_writes(table, action, attributes, max(size, known.size))
        return result

    def _index_writes(self, table: str, action: Mapping[str, Any], attributes: set[str], size: int) -> float:
        touched = (
            updated_attributes(action["UpdateExpression"], action.get("ExpressionAttributeNames", {}))
            if action["_kind"] == "Update"
            else set()
        )
        total = 0.0
        for index in self._tables[table].indexes:
            keys = {index.partition_key, index.sort_key}
            if not keys <= attributes:
                continue
            if action["_kind"] == "Update" and index.projection == "KEYS_ONLY" and not touched & keys:
                continue  # no projected attribute changed: a keys-only index is not written
            writes = 2 if touched & keys else 1
            # A keys-only entry holds the table and index keys only: well under 1 KB here.
            entry_size = 1 if index.projection == "KEYS_ONLY" else size
            units = float(writes * _units(entry_size, WRITE_UNIT_BYTES))
            self.index_writes[index.name] = self.index_writes.get(index.name, 0.0) + units
            total += units
        return total

    # reads

    def _get_item(self, call: DynamoCall) -> Units:
        size = item_size(call.response.get("Item", {}))
        return self._read(size, bool(call.request.get("ConsistentRead")))

    def _query(self, call: DynamoCall) -> Units:
        size = sum(item_size(item) for item in call.response.get("Items", []))
        consistent = bool(call.request.get("ConsistentRead")) and "IndexName" not in call.request
        return self._read(size, consistent)

    @staticmethod
    def _read(size: int, consistent: bool) -> Units:
        units = float(_units(size, READ_UNIT_BYTES))
        if consistent:
            return Units(strong_reads=units)
        return Units(eventual_reads=units * EVENTUAL_FACTOR)
