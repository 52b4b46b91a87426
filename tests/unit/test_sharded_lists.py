"""Write-sharded list indexes: pages merged from every shard are the one list, newest first, exactly."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from blueprint import DELIVERIES, ORDERS, RETURNS
from cli.__main__ import main as cli_main
from local.provision import DEFAULT_NAMING, _create_table
from shared import aws
from shared.dal import deliveries, sharded
from shared.dal.dynamo import encode_cursor
from shared.errors import InvalidRequest

TABLE = DEFAULT_NAMING.table(ORDERS)


@pytest.fixture
def orders_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        aws.reset()
        _create_table(aws.dynamodb().meta.client, ORDERS, DEFAULT_NAMING)
        yield aws.dynamodb().Table(TABLE)
    aws.reset()


def put(table: Any, order_id: str, created_at: str, status: str = "RECEIVED", channel: str = "shop") -> str:
    """An order item as the Orders table holds one (only what the lists read); its createdKey."""
    created_key = f"{created_at}#{order_id}"
    item = {"pk": f"ORDER#{order_id}", "sk": "ORDER", "orderId": order_id, "status": status}
    item |= {"channelId": channel, "createdKey": created_key}
    table.put_item(Item=item | sharded.list_keys("ORDERS", order_id, status, channel))
    return created_key


def every_page(index: sharded.ShardedIndex, value: str, limit: int, **options: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    keep = options.pop("keep", lambda _: True)
    while True:
        page = sharded.newest_page(
            TABLE,
            index,
            value,
            limit=limit,
            cursor=cursor,
            keep=keep,
            **options,
        )
        pages.append([item["createdKey"] for item in page.items])
        if page.cursor is None:
            return pages
        cursor = page.cursor


def spread(table: Any, count: int) -> list[str]:
    """`count` orders over many shards, in groups of three created at the same second."""
    keys = [
        put(table, f"ord_{n:04d}", f"2026-12-01T10:{n // 3 // 60:02d}:{n // 3 % 60:02d}Z")
        for n in range(count)
    ]
    return sorted(keys, reverse=True)


def test_an_order_stays_in_one_shard_whatever_its_status() -> None:
    keys = sharded.list_keys("ORDERS", "ord_1", "RECEIVED", "shop")
    moved = sharded.list_keys("ORDERS", "ord_1", "SHIPPED", "shop")
    shards = {value.rsplit("#", 1)[1] for value in [*keys.values(), *moved.values()]}
    assert len(shards) == 1
    assert moved["statusShard"] == f"SHIPPED#{shards.pop()}" and keys["listPartition"].startswith("ORDERS#")


def test_ids_spread_evenly_over_the_shards() -> None:
    counts = Counter(sharded.shard_of(f"ord_{n:05d}") for n in range(sharded.SHARDS * 200))
    assert set(counts) == set(range(sharded.SHARDS))
    assert max(counts.values()) < 1.3 * 200 and min(counts.values()) > 0.7 * 200


@pytest.mark.parametrize(("limit", "count"), [(1, 12), (2, 40), (7, 60), (25, 60), (100, 60)])
def test_pages_are_the_whole_list_newest_first_without_gaps_or_repeats(
    orders_table: Any, limit: int, count: int
) -> None:
    expected = spread(orders_table, count)
    pages = every_page(sharded.BY_CREATION, "ORDERS", limit)
    assert [key for page in pages for key in page] == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert pages[-1]


def test_a_page_boundary_falls_between_orders_of_the_same_second(orders_table: Any) -> None:
    same_second = [put(orders_table, f"ord_{n}", "2026-12-01T10:00:00Z") for n in "abcdefgh"]
    pages = every_page(sharded.BY_CREATION, "ORDERS", 3)
    assert pages == [sorted(same_second, reverse=True)[i : i + 3] for i in (0, 3, 6)]


def test_orders_arriving_between_pages_neither_shift_nor_repeat_the_next(orders_table: Any) -> None:
    expected = spread(orders_table, 20)
    first = sharded.newest_page(
        TABLE, sharded.BY_CREATION, "ORDERS", limit=5, cursor=None, keep=lambda _: True
    )
    for n in range(10):
        put(orders_table, f"ord_new{n}", "2026-12-02T00:00:00Z")
    rest: list[str] = [item["createdKey"] for item in first.items]
    cursor = first.cursor
    while cursor:
        page = sharded.newest_page(
            TABLE, sharded.BY_CREATION, "ORDERS", limit=5, cursor=cursor, keep=lambda _: True
        )
        rest += [item["createdKey"] for item in page.items]
        cursor = page.cursor
    assert rest == expected


def test_an_empty_list_or_one_order_is_one_page(orders_table: Any) -> None:
    assert every_page(sharded.BY_CREATION, "ORDERS", 25) == [[]]
    only = put(orders_table, "ord_only", "2026-12-01T10:00:00Z")
    assert every_page(sharded.BY_CREATION, "ORDERS", 1) == [[only]]


def test_a_status_list_holds_only_that_status_and_bounds_hold(orders_table: Any) -> None:
    shipped = [put(orders_table, f"ord_s{n}", f"2026-12-01T10:00:0{n}Z", status="SHIPPED") for n in range(6)]
    put(orders_table, "ord_r", "2026-12-01T10:00:03Z")
    assert every_page(sharded.BY_STATUS, "SHIPPED", 4) == [shipped[::-1][:4], shipped[::-1][4:]]
    bounded = every_page(
        sharded.BY_STATUS,
        "SHIPPED",
        2,
        created=sharded.Created("2026-12-01T10:00:02Z", "2026-12-01T10:00:05Z"),
    )
    assert bounded == [[shipped[4], shipped[3]], [shipped[2]]]


def test_items_the_index_lists_wrongly_are_left_out_and_the_page_still_fills(orders_table: Any) -> None:
    expected = spread(orders_table, 30)
    unwanted = set(expected[1:20:2])
    keep = lambda item: item["createdKey"] not in unwanted  # noqa: E731
    pages = every_page(sharded.BY_CREATION, "ORDERS", 4, keep=keep)
    assert [key for page in pages for key in page] == [key for key in expected if key not in unwanted]
    assert all(len(page) == 4 for page in pages[:-1])


def test_a_cursor_from_before_sharding_reads_on_and_one_of_another_list_is_refused(orders_table: Any) -> None:
    expected = spread(orders_table, 10)
    order_id = expected[3].split("#")[1]
    old = encode_cursor(
        {"pk": f"ORDER#{order_id}", "sk": "ORDER", "createdKey": expected[3], "listPartition": "ORDERS"}
    )
    page = sharded.newest_page(TABLE, sharded.BY_CREATION, "ORDERS", limit=3, cursor=old, keep=lambda _: True)
    assert [item["createdKey"] for item in page.items] == expected[4:7]
    assert page.cursor and json.loads(base64.urlsafe_b64decode(page.cursor + "==")) == {
        "pk": f"ORDER#{expected[6].split('#')[1]}",
        "sk": "ORDER",
        "createdKey": expected[6],
        "listPartition": "ORDERS",
    }
    with pytest.raises(InvalidRequest):
        sharded.newest_page(
            TABLE, sharded.BY_STATUS, "RECEIVED", limit=3, cursor=page.cursor, keep=lambda _: True
        )
    with pytest.raises(InvalidRequest):
        sharded.newest_page(
            TABLE, sharded.BY_CREATION, "ORDERS", limit=3, cursor="garbage", keep=lambda _: True
        )


def test_keys_merge_oldest_first_across_shards_and_pages(orders_table: Any) -> None:
    expected = spread(orders_table, 50)[::-1]
    keys = sharded.merged_keys(TABLE, sharded.BY_CHANNEL, "shop", newest_first=False, per_query=2)
    assert [key["createdKey"] for key in keys] == expected


def test_backfill_gives_orders_stored_before_sharding_their_list_keys(orders_table: Any) -> None:
    kept = put(orders_table, "ord_new", "2026-12-01T11:00:00Z")
    for n, status in enumerate(["RECEIVED", "SHIPPED"]):
        item = {"pk": f"ORDER#ord_old{n}", "sk": "ORDER", "orderId": f"ord_old{n}", "status": status}
        orders_table.put_item(
            Item=item
            | {"channelId": "shop", "createdKey": f"2026-11-01T00:00:0{n}Z#ord_old{n}"}
            | {"listPartition": "ORDERS"}
        )
    assert every_page(sharded.BY_CREATION, "ORDERS", 25) == [[kept]]
    assert sharded.backfill(TABLE, "orderId", "ORDERS") == 2
    assert every_page(sharded.BY_CREATION, "ORDERS", 25) == [
        [kept, "2026-11-01T00:00:01Z#ord_old1", "2026-11-01T00:00:00Z#ord_old0"]
    ]
    assert every_page(sharded.BY_STATUS, "SHIPPED", 25) == [["2026-11-01T00:00:01Z#ord_old1"]]
    assert every_page(sharded.BY_CHANNEL, "shop", 1)[2] == ["2026-11-01T00:00:00Z#ord_old0"]
    assert sharded.backfill(TABLE, "orderId", "ORDERS") == 0


def test_backfill_reads_again_an_order_whose_status_changed_since_it_was_scanned(orders_table: Any) -> None:
    item = {"pk": "ORDER#ord_old", "sk": "ORDER", "orderId": "ord_old", "channelId": "shop"}
    item |= {"createdKey": "2026-11-01T00:00:00Z#ord_old", "listPartition": "ORDERS"}
    orders_table.put_item(Item=item | {"status": "SHIPPED"})
    assert sharded._give_list_keys(TABLE, item | {"status": "RECEIVED"}, "orderId", "ORDERS") == 1
    assert every_page(sharded.BY_STATUS, "SHIPPED", 25) == [[item["createdKey"]]]
    assert every_page(sharded.BY_STATUS, "RECEIVED", 25) == [[]]


def test_the_shard_backfill_command_fills_both_tables(
    orders_table: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    returns_name = DEFAULT_NAMING.table(RETURNS)
    _create_table(aws.dynamodb().meta.client, RETURNS, DEFAULT_NAMING)
    old = {"sk": "ORDER", "status": "RECEIVED", "channelId": "shop", "listPartition": "ORDERS"}
    orders_table.put_item(
        Item=old | {"pk": "ORDER#o1", "orderId": "o1", "createdKey": "2026-11-01T00:00:00Z#o1"}
    )
    old_return = {"pk": "ORDER#o1", "sk": "RETURN#o1-R1", "returnId": "o1-R1", "status": "AUTHORIZED"}
    old_return |= {
        "channelId": "shop",
        "createdKey": "2026-11-02T00:00:00Z#o1-R1",
        "listPartition": "RETURNS",
    }
    aws.dynamodb().Table(returns_name).put_item(Item=old_return)
    deliveries_name = DEFAULT_NAMING.table(DELIVERIES)
    _create_table(aws.dynamodb().meta.client, DELIVERIES, DEFAULT_NAMING)
    old_delivery = {
        "deliveryId": "dlv_01KBJ0000000000000000000AA",
        "channelId": "shop",
        "receivedAt": "2026-11-01",
    }
    aws.dynamodb().Table(deliveries_name).put_item(Item=old_delivery | {"source": "webhook"})
    for table in (ORDERS, RETURNS, DELIVERIES):
        monkeypatch.setenv(table.env, "unset")  # restored after the command sets it
    names = ["--orders-table", TABLE, "--returns-table", returns_name, "--deliveries-table", deliveries_name]

    assert cli_main(["shard-backfill", *names]) == 0

    assert "1 orders, 1 returns and 1 deliveries" in capsys.readouterr().out
    monkeypatch.setenv(DELIVERIES.env, deliveries_name)
    assert [d.deliveryId for d in deliveries.list_for_channel("shop", 5, None).deliveries] == [
        old_delivery["deliveryId"]
    ]
    assert every_page(sharded.BY_CHANNEL, "shop", 25) == [["2026-11-01T00:00:00Z#o1"]]
    returned = sharded.newest_page(
        returns_name, sharded.BY_STATUS, "AUTHORIZED", limit=5, cursor=None, keep=bool
    )
    assert [item["returnId"] for item in returned.items] == ["o1-R1"]


def test_a_channels_deliveries_page_newest_first_across_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv(DELIVERIES.env, DEFAULT_NAMING.table(DELIVERIES))
    with mock_aws():
        aws.reset()
        _create_table(aws.dynamodb().meta.client, DELIVERIES, DEFAULT_NAMING)
        archived = [deliveries.archive("shop", "webhook", {}, b"{}").deliveryId for _ in range(23)]
        deliveries.archive("other", "webhook", {}, b"{}")
        listed: list[str] = []
        cursor = None
        while True:
            page = deliveries.list_for_channel("shop", 5, cursor)
            listed += [delivery.deliveryId for delivery in page.deliveries]
            if page.nextCursor is None:
                break
            cursor = page.nextCursor
    aws.reset()
    assert listed == sorted(archived, reverse=True)


@pytest.mark.parametrize("table", [ORDERS, RETURNS])
def test_the_tables_define_the_sharded_indexes_the_lists_read(table: Any) -> None:
    indexes = {index.name: index for index in table.indexes}
    for listed in (sharded.BY_STATUS, sharded.BY_CHANNEL, sharded.BY_CREATION):
        index = indexes[listed.name]
        assert (index.partition_key, index.sort_key, index.projection) == (
            listed.attribute,
            "createdKey",
            "KEYS_ONLY",
        )


def test_the_deliveries_table_defines_the_sharded_channel_index() -> None:
    index = next(index for index in DELIVERIES.indexes if index.name == deliveries.BY_CHANNEL.name)
    assert (index.partition_key, index.sort_key) == (deliveries.BY_CHANNEL.attribute, "deliveryId")
