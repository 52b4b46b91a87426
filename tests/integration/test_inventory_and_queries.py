"""Stock is never oversold; stock and order queries answer from indexes, page by page."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from local.runtime import LocalOMS
from tests.support.orders import CHANNEL_ID, STOCK, Client, canonical_order


def test_concurrent_orders_never_take_more_stock_than_there_is(oms: LocalOMS, client: Client) -> None:
    # TEE-M: 3 units, in wh-west only. Eight orders of one unit race for them.
    with ThreadPoolExecutor(max_workers=8) as pool:
        order_ids = list(pool.map(lambda _: client.place(canonical_order([("TEE-M", 1)])), range(8)))

    final = [client.wait_for_status(o, "FULFILLING", "BACKORDERED")["status"] for o in order_ids]

    assert final.count("FULFILLING") == 3
    assert final.count("BACKORDERED") == 5
    level = client.stock("TEE-M")["wh-west"]
    assert (level["onHand"], level["reserved"], level["available"]) == (3, 3, 0)


def test_on_hand_cannot_drop_below_what_is_reserved(client: Client) -> None:
    order_id = client.place(canonical_order([("TEE-M", 2)]))
    client.wait_for_status(order_id, "FULFILLING")

    status, body = client.call("PUT", "/inventory/TEE-M/locations/wh-west", {"onHand": 1})

    assert status == 409
    assert body["error"]["details"]["reserved"] == 2
    assert client.call("PUT", "/inventory/TEE-M/locations/wh-west", {"onHand": 6})[0] == 200
    assert client.stock("TEE-M")["wh-west"]["available"] == 4


def test_a_warehouse_put_is_201_when_it_creates_and_200_when_it_updates(client: Client) -> None:
    warehouse = {"name": "Austin TX", "latitude": 30.2672, "longitude": -97.7431, "country": "US"}

    created = client.call("PUT", "/warehouses/wh-south", warehouse)
    updated = client.call("PUT", "/warehouses/wh-south", {**warehouse, "name": "Austin TX 2"})

    assert (created[0], created[1]["name"]) == (201, "Austin TX")
    assert (updated[0], updated[1]["name"]) == (200, "Austin TX 2")


def test_stock_is_listed_page_by_page_per_sku_and_warehouse(client: Client) -> None:
    client.wait_for_status(client.place(canonical_order([("TEE-M", 2)])), "FULFILLING")  # holds stock

    listed, cursor, sizes = [], "", []
    while cursor is not None:
        status, page = client.call(
            "GET", f"/inventory?limit=2&cursor={cursor}" if cursor else "/inventory?limit=2"
        )
        assert status == 200, page
        sizes.append(len(page["inventory"]))
        listed += page["inventory"]
        cursor = page["nextCursor"]

    # Skipped items never make a page short: every page but the last is full.
    assert all(size == 2 for size in sizes[:-1]) and 1 <= sizes[-1] <= 2, sizes

    # Warehouses and the order's reservation live in the same table; only stock is listed.
    assert {(level["sku"], level["warehouseId"]): level["onHand"] for level in listed} == STOCK
    assert len(listed) == len(STOCK)
    tee = next(level for level in listed if level["sku"] == "TEE-M")
    assert tee == {
        "sku": "TEE-M",
        "warehouseId": "wh-west",
        "onHand": 3,
        "reserved": 2,
        "safetyStock": 0,
        "available": 1,
        "buckets": 1,
    }


def test_a_stock_list_cursor_must_come_from_the_stock_list(client: Client) -> None:
    client.call("PUT", "/channels/another-store", {"type": "woocommerce", "webhookSecret": "s" * 32})
    _, channels_page = client.call("GET", "/channels?limit=1")
    _, stock_page = client.call("GET", "/inventory?limit=1")

    for cursor in ("garbage", channels_page["nextCursor"]):
        status, error = client.call("GET", f"/inventory?cursor={cursor}")
        assert (status, error["error"]["details"]) == (400, {"field": "cursor"}), cursor
    status, error = client.call("GET", f"/channels?cursor={stock_page['nextCursor']}")
    assert (status, error["error"]["details"]) == (400, {"field": "cursor"})
    assert client.call("GET", "/inventory?limit=0")[0] == 400


def test_stock_for_an_unknown_warehouse_is_404(client: Client) -> None:
    assert client.call("PUT", "/inventory/MUG-BLUE/locations/wh-nowhere", {"onHand": 1})[0] == 404


def test_orders_are_listed_newest_first_page_by_page(client: Client) -> None:
    placed = [client.place() for _ in range(3)]
    for order_id in placed:
        client.wait_for_status(order_id, "FULFILLING")

    status, first = client.call("GET", "/orders?limit=2")
    assert status == 200
    assert [o["orderId"] for o in first["orders"]] == placed[::-1][:2]
    _, second = client.call("GET", f"/orders?limit=2&cursor={first['nextCursor']}")
    assert [o["orderId"] for o in second["orders"]] == placed[:1]
    assert second["nextCursor"] is None


def test_orders_can_be_filtered_by_status_and_channel(client: Client) -> None:
    fulfilling = client.place()
    backordered = client.place(canonical_order([("TEE-M", 99)]))
    client.wait_for_status(fulfilling, "FULFILLING")
    client.wait_for_status(backordered, "BACKORDERED")

    def listed(query: str) -> list[str]:
        status, body = client.call("GET", f"/orders?{query}")
        assert status == 200, body
        return [o["orderId"] for o in body["orders"]]

    assert listed("status=BACKORDERED") == [backordered]
    assert listed(f"channelId={CHANNEL_ID}&status=FULFILLING") == [fulfilling]
    assert listed("channelId=other-store") == []
    assert client.call("GET", "/orders?status=LOST")[0] == 400
    assert client.call("GET", "/orders?cursor=garbage")[0] == 400
    _, page = client.call("GET", "/orders?status=BACKORDERED&limit=1")
    _, page = client.call("GET", "/orders?limit=1")
    status, body = client.call("GET", f"/orders?status=BACKORDERED&cursor={page['nextCursor']}")
    assert (status, body["error"]["details"]) == (400, {"field": "cursor"})


def test_the_api_key_is_required_except_for_health_and_webhooks(oms: LocalOMS) -> None:
    assert oms.request("GET", "/orders", authenticated=False).status == 401
    assert oms.request("GET", "/orders", headers={"x-api-key": "wrong"}).status == 403
    assert oms.request("GET", "/health", authenticated=False).status == 200
    assert oms.request("POST", f"/webhooks/{CHANNEL_ID}", authenticated=False, body=b"{}").status == 404


def test_an_unknown_order_is_404(client: Client) -> None:
    status, body = client.call("GET", "/orders/ord_nope")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


def test_percent_encoded_path_parameters_are_decoded(client: Client) -> None:
    status, body = client.call("GET", "/inventory/MUG%2DBLUE")

    assert (status, body["sku"]) == (200, "MUG-BLUE")


def test_an_empty_channel_filter_is_400(client: Client) -> None:
    status, body = client.call("GET", "/orders?channelId=")

    assert (status, body["error"]["code"]) == (400, "VALIDATION_ERROR")
