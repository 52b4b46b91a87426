"""The partition heat model on small hand-made recordings: units put on the key values they land on
(table, item, an index's value left and entered), key values classified into patterns by what they
depend on, and a pattern's hottest value scaled to a rate, with the rate at which it stops holding;
the account quotas scaled the same way; section 8 put into a report in place. A read a settings cache
made is priced per container and TTL, not per order."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from benchmarks.dynamodb_units import ItemCatalog, TableInfo, UnitCounter
from benchmarks.heat_report import splice
from benchmarks.partition_heat import (
    AGGREGATOR_BATCH,
    ITEM,
    PARTITION,
    STATE_TRANSITION,
    Assumptions,
    HeatCounter,
    HotKey,
    KeyUnits,
    Known,
    Pattern,
    Sample,
    Workload,
    classify,
    hot_keys,
    quota_needs,
    table_totals,
    unsharded,
)
from benchmarks.recorder import DynamoCall
from blueprint import COMMON_ENVIRONMENT, Index
from shared.dal.analytics import ALL_SHARDS, COUNTER_SHARDS
from shared.dal.sharded import SHARDS
from shared.settings_cache import Load

ORDERS = "oms-Orders"
BY_STATUS = Index("byStatus", "status", "createdKey", "KEYS_ONLY")
TABLES = {ORDERS: TableInfo(key_attributes=("pk", "sk"), indexes=(BY_STATUS,))}
LOGICAL = {ORDERS: "Orders"}
KNOWN = Known(
    values={
        "order": frozenset({"ord_1", "ord_2"}),
        "sku": frozenset({"MUG-BLUE", "MUG"}),
        "warehouse": frozenset({"wh-east"}),
        "channel": frozenset({"shop"}),
        "status": frozenset({"RECEIVED", "RESERVED"}),
    },
    bucketed=frozenset({"LOC#wh-east", "LEDGER#MUG-BLUE#wh-east#0"}),
)


def s(text: str) -> dict[str, str]:
    return {"S": text}


def call(operation: str, request: dict[str, Any], failed: bool = False) -> DynamoCall:
    return DynamoCall("Fn", operation, request, {}, failed, 0.0)


def heat() -> HeatCounter:
    """As a run makes it: the unit counter knows the items' sizes and attributes (`item_catalog`)."""
    catalog = ItemCatalog(TABLES)
    catalog.remember(ORDERS, ORDER_ITEM)
    return HeatCounter(TABLES, LOGICAL, UnitCounter(TABLES, catalog))


ORDER_ITEM = {"pk": s("ORDER#ord_1"), "sk": s("ORDER"), "status": s("RECEIVED"), "createdKey": s("k")}
TO_RESERVED = {
    "TableName": ORDERS,
    "Key": {"pk": s("ORDER#ord_1"), "sk": s("ORDER")},
    "UpdateExpression": "SET #s = :s, revision = :r",
    "ExpressionAttributeNames": {"#s": "status"},
    "ExpressionAttributeValues": {":s": s("RESERVED"), ":r": {"N": "2"}},
}


def units_by_key(keys: list[KeyUnits]) -> dict[tuple[str, str, str], tuple[float, float]]:
    return {(k.where, k.kind, k.value): (k.writes, k.reads) for k in keys}


# -- attribution -----------------------------------------------------------------------------


def test_a_transaction_puts_each_actions_units_on_its_partition_item_and_index_value() -> None:
    put = {"Put": {"TableName": ORDERS, "Item": ORDER_ITEM}}
    check = {"ConditionCheck": {"TableName": ORDERS, "Key": {"pk": s("SKU#MUG"), "sk": s("LOC#wh-east")}}}

    found = units_by_key(heat().key_units([call("TransactWriteItems", {"TransactItems": [put, check]})]))

    assert found[("Orders", PARTITION, "ORDER#ord_1")] == (2.0, 0.0)  # transactional: 2 per KB
    assert found[("Orders", ITEM, "ORDER#ord_1 / ORDER")] == (2.0, 0.0)
    assert found[("Orders", PARTITION, "SKU#MUG")] == (2.0, 0.0)  # a condition check is billed as a write
    assert found[("Orders.byStatus", PARTITION, "RECEIVED")] == (1.0, 0.0)  # the item enters the index


def test_an_update_that_changes_an_index_key_is_split_between_the_value_left_and_the_one_entered() -> None:
    calls = [call("PutItem", {"TableName": ORDERS, "Item": ORDER_ITEM}), call("UpdateItem", TO_RESERVED)]

    found = units_by_key(heat().key_units(calls))

    assert found[("Orders.byStatus", PARTITION, "RECEIVED")] == (2.0, 0.0)  # entered, then left
    assert found[("Orders.byStatus", PARTITION, "RESERVED")] == (1.0, 0.0)
    assert found[("Orders", PARTITION, "ORDER#ord_1")] == (2.0, 0.0)


def test_a_put_enters_its_index_value_only_even_when_the_run_ended_with_another() -> None:
    counter = heat()
    counter.remember_final({ORDERS: [dict(ORDER_ITEM, status=s("RESERVED"))]})

    found = units_by_key(counter.key_units([call("PutItem", {"TableName": ORDERS, "Item": ORDER_ITEM})]))

    assert found[("Orders.byStatus", PARTITION, "RECEIVED")] == (1.0, 0.0)
    assert ("Orders.byStatus", PARTITION, "RESERVED") not in found


def test_an_update_of_an_item_not_written_in_the_recording_leaves_the_value_the_run_ended_with() -> None:
    counter = heat()
    counter.remember_final({ORDERS: [ORDER_ITEM]})  # stands in for what the item had before

    found = units_by_key(counter.key_units([call("UpdateItem", TO_RESERVED)]))

    assert found[("Orders.byStatus", PARTITION, "RECEIVED")] == (1.0, 0.0)
    assert found[("Orders.byStatus", PARTITION, "RESERVED")] == (1.0, 0.0)


def test_a_failed_write_is_billed_but_writes_no_index_and_changes_nothing_later_writes_see() -> None:
    calls = [
        call("PutItem", {"TableName": ORDERS, "Item": ORDER_ITEM}),
        call("UpdateItem", TO_RESERVED, failed=True),
        call("UpdateItem", TO_RESERVED),
    ]

    found = units_by_key(heat().key_units(calls))

    assert found[("Orders", PARTITION, "ORDER#ord_1")] == (3.0, 0.0)
    assert found[("Orders.byStatus", PARTITION, "RECEIVED")] == (2.0, 0.0)  # left once, by the second


def test_reads_go_to_the_partition_a_query_names_and_to_the_item_a_get_reads() -> None:
    query = {
        "TableName": ORDERS,
        "IndexName": "byStatus",
        "KeyConditionExpression": "#s = :s AND createdKey > :k",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":s": s("RESERVED"), ":k": s("a")},
    }
    get = {"TableName": ORDERS, "Key": {"pk": s("ORDER#ord_1"), "sk": s("ORDER")}, "ConsistentRead": True}
    calls = [call("Query", query), DynamoCall("Fn", "GetItem", get, {"Item": ORDER_ITEM}, False, 0.0)]

    found = units_by_key(heat().key_units(calls))

    assert found[("Orders.byStatus", PARTITION, "RESERVED")] == (0.0, 0.5)  # a GSI read: eventual
    assert found[("Orders", ITEM, "ORDER#ord_1 / ORDER")] == (0.0, 1.0)


def test_a_read_a_settings_cache_made_is_kept_apart_as_units_per_fill_per_function() -> None:
    get = {"TableName": ORDERS, "Key": {"pk": s("ORDER#ord_1"), "sk": s("ORDER")}, "ConsistentRead": True}

    def cached_get(function: str, fill: int) -> DynamoCall:
        return DynamoCall(function, "GetItem", get, {"Item": ORDER_ITEM}, False, 0.0, Load("c", "k", fill))

    calls = [cached_get("Intake", 1), cached_get("Intake", 2), cached_get("Reserve", 3), call("GetItem", get)]

    (item,) = [k for k in heat().key_units(calls) if k.kind == ITEM]

    assert item.reads == 1.0  # the uncached one
    assert item.cached == (("Intake", 1.0), ("Reserve", 1.0))


# -- classification --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "template", "name"),
    [
        ("ORDER#ord_1", "ORDER#{order}", "per order (scales away)"),
        ("SKU#MUG-BLUE", "SKU#{sku}", "per sku"),  # the longer SKU, not MUG inside it
        (
            "SKU#MUG-BLUE / LOC#wh-east",
            "SKU#{sku} / LOC#{warehouse}#{bucket}",
            "per sku and warehouse and bucket",
        ),
        (
            "LEDGER#MUG-BLUE#wh-east#0",
            "LEDGER#{sku}#{warehouse}#{bucket}",
            "per sku and warehouse and bucket",
        ),
        ("RESERVED", "{status}", "per status"),
        ("CH#shop / DAY#2026-12-03", "CH#{channel} / DAY#{day}", "per channel and day"),
        ("ORDERS", "ORDERS", "constant (one for the whole OMS)"),
        ("dlv_01M8Y45KPVWJTS851KWPZZ72Q1", "dlv_{id}", "per id (scales away)"),
        ("fn#aab1a707be3d0c50a1b2c3d4", "fn#{id}", "per id (scales away)"),
        ("EVENT#2026-12-03T14:00:00.123Z#RECEIVED", "EVENT#{time}#{status}", "per time (scales away)"),
    ],
)
def test_a_key_value_is_classified_by_what_it_depends_on(value: str, template: str, name: str) -> None:
    pattern = classify(value, KNOWN)

    assert (pattern.template, pattern.name) == (template, name)


def test_a_value_that_contains_nothing_known_is_one_for_the_whole_oms() -> None:
    assert classify("SUBSCRIPTIONS", KNOWN) == Pattern("SUBSCRIPTIONS", frozenset())


# -- scaling -----------------------------------------------------------------------------------


def sample(scenario: str, *keys: KeyUnits) -> Sample:
    return Sample(scenario, keys, KNOWN)


ASSUMPTIONS = Assumptions(
    rate=10_000,
    flash_share=0.3,
    warehouses=10,
    channels=4,
    hottest_bucket_share=0.05,
    mix={"happy": 0.8, "cancel": 0.2},
)


def test_the_hottest_value_of_a_pattern_is_scaled_by_the_mix_the_rate_and_its_share() -> None:
    samples = [
        sample("happy", KeyUnits("Inventory", PARTITION, "SKU#MUG-BLUE", writes=4)),
        sample("happy", KeyUnits("Inventory", PARTITION, "SKU#MUG", writes=6)),  # the same pattern
        sample("cancel", KeyUnits("Inventory", PARTITION, "SKU#MUG", writes=10)),
    ]

    (key,) = hot_keys(samples, ASSUMPTIONS)

    assert key.per_order == pytest.approx(0.8 * (4 + 6) / 2 + 0.2 * 10)  # 6 units per order placed
    assert key.share == 0.3
    assert key.per_second == pytest.approx(10_000 * 0.3 * 6)  # 18,000 WRU/s
    assert not key.holds
    assert key.breaking_rate == pytest.approx(1_000 / (0.3 * 6))  # about 556 orders/s


def test_statuses_and_constants_get_every_order_and_buckets_their_part_of_the_skus_share() -> None:
    share = ASSUMPTIONS.share
    assert share(frozenset({"status"})) == share(frozenset()) == 1.0
    assert share(frozenset({"warehouse"})) == pytest.approx(0.3 + 0.7 / 10)
    assert share(frozenset({"sku", "warehouse"})) == 0.3  # the same orders: the smallest share
    assert share(frozenset({"sku", "warehouse", "bucket"})) == pytest.approx(0.3 * 0.05)


def test_reads_are_held_against_3000_and_one_orders_own_keys_scale_away() -> None:
    samples = [
        sample(
            "happy",
            KeyUnits("Orders", PARTITION, "ORDER#ord_1", writes=50, reads=20),
            KeyUnits("Subscriptions", PARTITION, "SUBSCRIPTIONS", reads=0.2),
        )
    ]

    keys = {(k.where, k.units): k for k in hot_keys(samples, ASSUMPTIONS)}

    order = keys[("Orders", "WRU")]
    assert (order.per_second, order.holds, order.breaking_rate) == (None, True, None)
    subscriptions = keys[("Subscriptions", "RRU")]
    assert subscriptions.limit == 3_000
    assert subscriptions.per_second == pytest.approx(10_000 * 0.8 * 0.2)  # 1,600: holds
    assert subscriptions.holds
    assert subscriptions.breaking_rate == pytest.approx(3_000 / (0.8 * 0.2))


def test_a_cached_value_takes_containers_over_ttl_per_reader_however_often_an_order_reads_it() -> None:
    def recorded(scenario: str, reads_per_order: int) -> Sample:
        channel = KeyUnits("Channels", ITEM, "shop", cached=(("Intake", 1.0), ("Notify", 1.0)))
        busy = (("Intake", 0.020 * reads_per_order), ("Notify", 0.050))
        return Sample(scenario, (channel,), KNOWN, busy)

    for reads_per_order in (1, 5):
        (key,) = hot_keys([recorded("happy", reads_per_order)], replace(ASSUMPTIONS, mix={"happy": 1.0}))

        intake, notify = 10_000 * 0.020 * reads_per_order, 10_000 * 0.050  # Little's law: containers
        assert key.per_order == 0.0
        assert key.cached is not None and key.cached.containers == pytest.approx(intake + notify)
        assert key.per_second == pytest.approx((intake + notify) * 1.0 / 5.0)
        assert key.holds
        assert key.note == f"per channel; cached, TTL 5 s: {intake + notify:,.0f} containers of 2 function(s)"
    assert key.breaking_rate == pytest.approx(3_000 * 10_000 / key.per_second)


def test_a_function_has_at_least_min_containers_and_uncached_reads_add_to_cached_ones() -> None:
    channel = KeyUnits("Channels", ITEM, "shop", reads=0.1, cached=(("ChannelsApi", 2.0),))
    assumptions = replace(ASSUMPTIONS, mix={"happy": 1.0}, cache_seconds=10, min_containers=3)

    (key,) = hot_keys([Sample("happy", (channel,), KNOWN, (("ChannelsApi", 0.0),))], assumptions)

    assert key.cached is not None and key.cached.containers == 3
    assert key.per_second == pytest.approx(10_000 * (0.3 + 0.7 / 4) * 0.1 + 3 * 2.0 / 10)


def test_the_deployed_ttl_is_the_models_default() -> None:
    assert Assumptions().cache_seconds == float(COMMON_ENVIRONMENT["SETTINGS_CACHE_SECONDS"])


def test_keys_that_do_not_hold_come_first_hottest_first() -> None:
    def key(where: str, per_order: float) -> HotKey:
        return HotKey(where, PARTITION, "WRU", Pattern("X", frozenset()), "X", per_order, 1.0, 10_000)

    ordered = sorted(
        [key("a", 0.01), key("b", 1), key("c", 5)], key=lambda k: (k.holds, -(k.per_second or 0))
    )

    assert [k.where for k in ordered] == ["c", "b", "a"]
    assert [k.holds for k in ordered] == [False, False, True]


# -- quotas ------------------------------------------------------------------------------------


def test_quotas_are_scaled_per_order_over_the_mix_and_lambda_concurrency_by_the_mean_duration() -> None:
    workloads = [
        Workload("happy", 10, 1, 2, invocations=20, invocation_seconds=2.0, api_requests=5),
        Workload("cancel", 5, 1, 1, invocations=10, invocation_seconds=1.0, api_requests=2),
    ]
    tables = {"Orders": (40.0, 10.0), "Analytics": (60.0, 1.0)}

    needs = {need.quota.name: need for need in quota_needs(workloads, tables, ASSUMPTIONS)}

    transitions = needs[STATE_TRANSITION.name]
    assert transitions.per_order == pytest.approx(0.8 * 10 + 0.2 * 5)  # 9
    assert transitions.needed == pytest.approx(90_000)
    assert transitions.breaking_rate == pytest.approx(5_000 / 9)
    concurrency = needs["Concurrent executions"]
    assert concurrency.needed == pytest.approx(10_000 * 18 * 0.1)  # 18 invocations of 100 ms each
    writes = needs["Table-level write throughput limit (on-demand, per table)"]
    assert (writes.per_order, "`Analytics`" in writes.how) == (60.0, True)


def test_table_totals_add_every_partition_of_a_table_but_not_its_items_twice() -> None:
    samples = [
        sample(
            "happy",
            KeyUnits("Orders", PARTITION, "ORDER#ord_1", writes=4),
            KeyUnits("Orders", ITEM, "ORDER#ord_1 / ORDER", writes=4),
            KeyUnits("Orders", PARTITION, "ORDER#ord_2", writes=2, reads=1),
        )
    ]

    assert table_totals(samples, {"happy": 1.0}) == {"Orders": (6.0, 1.0)}


def test_no_quota_need_never_breaks() -> None:
    workloads = [Workload("happy", 0, 0, 0, 0, 0.0, 0)]

    needs = quota_needs(workloads, {"Orders": (0.0, 0.0)}, ASSUMPTIONS)

    assert all(need.holds and math.isinf(need.breaking_rate) for need in needs)


# -- the report --------------------------------------------------------------------------------


def test_section_8_replaces_its_old_self_or_goes_before_what_is_not_measured() -> None:
    document = "# OMS benchmarks\n\n## 7. Returns\n\nr\n\n## What this does not measure\n\nn\n"

    first = splice(document, "## 8. Partition heat and quotas\n\nold")
    second = splice(first, "## 8. Partition heat and quotas\n\nnew\n")

    assert second == (
        "# OMS benchmarks\n\n## 7. Returns\n\nr\n\n## 8. Partition heat and quotas\n\nnew\n\n"
        "## What this does not measure\n\nn\n"
    )


def test_a_write_sharded_index_value_is_one_of_its_lists_shards() -> None:
    pattern = unsharded("RESERVED#06", classify("RESERVED#06", KNOWN))

    assert pattern == Pattern("{status}#{shard}", frozenset({"status", "shard"}))
    assert Assumptions().share(frozenset({"status", "shard"})) == 1 / SHARDS
    assert unsharded("SUBSCRIPTIONS", classify("SUBSCRIPTIONS", KNOWN)) == Pattern(
        "SUBSCRIPTIONS", frozenset()
    )


def test_a_counter_scope_takes_the_units_of_all_its_shards_spread_over_them_once_per_batch() -> None:
    # One order's three writes to the scope ALL landed on two shards of its day's counters.
    keys = (
        KeyUnits("Analytics", ITEM, "ALL#03 / DAY#2026-12-03", writes=4.0),
        KeyUnits("Analytics", ITEM, "ALL#11 / DAY#2026-12-03", writes=2.0),
        KeyUnits("Analytics", PARTITION, "ALL#03", writes=4.0),
        KeyUnits("Analytics", PARTITION, "ALL#11", writes=2.0),
    )
    assumptions = Assumptions(rate=10_000.0, mix={"happy": 1.0})

    found = {(k.kind, k.pattern.template): k for k in hot_keys([Sample("happy", keys, KNOWN)], assumptions)}

    item = found[(ITEM, "ALL#{counter shard} / DAY#{day}")]
    assert item.per_order == 6.0 / ALL_SHARDS  # both shards' units, spread: where one lands is chance
    assert item.pattern.name == "per day and counter shard"
    assert item.share == 1 / AGGREGATOR_BATCH
    assert item.per_second == pytest.approx(10_000 * 6.0 / (ALL_SHARDS * AGGREGATOR_BATCH))
    assert found[(PARTITION, "ALL#{counter shard}")].per_order == 6.0 / ALL_SHARDS


def test_a_counter_write_stands_for_the_events_the_recording_needed_for_one() -> None:
    keys = (KeyUnits("Analytics", ITEM, "CH#shop#07 / DAY#2026-12-03", writes=8.0),)
    assumptions = Assumptions(rate=1_000.0, mix={"happy": 1.0}, events_per_counter_write=2.5)

    (key,) = hot_keys([Sample("happy", keys, KNOWN)], assumptions)

    assert key.pattern.template == "CH#{channel}#{counter shard} / DAY#{day}"
    # the channel's share of the orders, its part of 16 shards, one write per 10 events of 2.5 each
    expected = 1_000 * assumptions.share(frozenset({"channel"})) * 8.0 / COUNTER_SHARDS * 2.5 / 10
    assert key.per_second == pytest.approx(expected)
