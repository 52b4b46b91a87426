"""Counts in bulk (what the CSV import sends) and hot SKUs spread over several stock items."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from local.runtime import LocalOMS
from tests.integration.test_backorders import backordered
from tests.support.backorders import waiting_for
from tests.support.orders import Client, canonical_order


def test_counts_apply_row_by_row_and_a_refused_row_stops_nothing(client: Client) -> None:
    holder = client.place(canonical_order([("TEE-M", 2)]))
    client.wait_for_status(holder, "FULFILLING")
    counts = [
        {"sku": "CAP-RED", "warehouseId": "wh-east", "onHand": 7, "safetyStock": 1},
        {"sku": "CAP-RED", "warehouseId": "wh-nowhere", "onHand": 7},
        {"sku": "TEE-M", "warehouseId": "wh-west", "onHand": 1},  # 2 are reserved
        {"sku": "MUG-BLUE", "warehouseId": "wh-east", "onHand": 12},
    ]

    status, body = client.call("POST", "/stock-counts", {"counts": counts, "reference": "count-2026-12.csv"})

    assert status == 200, body
    assert [r["outcome"] for r in body["results"]] == ["APPLIED", "REFUSED", "REFUSED", "APPLIED"]
    assert (body["applied"], body["unchanged"], body["refused"]) == (2, 0, 2)
    assert body["results"][1]["error"]["code"] == "NOT_FOUND"
    assert body["results"][2]["error"]["code"] == "CONFLICT"
    assert body["results"][0]["location"]["available"] == 6
    (entry,) = client.ledger("CAP-RED")
    assert (entry["kind"], entry["reason"], entry["reference"]) == (
        "IMPORT",
        "CYCLE_COUNT",
        "count-2026-12.csv",
    )
    assert client.stock("TEE-M")["wh-west"]["onHand"] == 3  # the refused row changed nothing

    again = client.call("POST", "/stock-counts", {"counts": counts})[1]
    assert [r["outcome"] for r in again["results"]] == ["UNCHANGED", "REFUSED", "REFUSED", "UNCHANGED"]
    assert len(client.ledger("CAP-RED")) == 1
    client.assert_ledger_explains_stock("CAP-RED", "MUG-BLUE", "TEE-M")


def test_counts_a_client_can_fix_are_a_400_naming_the_row(client: Client) -> None:
    too_many = [{"sku": f"S{n}", "warehouseId": "wh-east", "onHand": 1} for n in range(101)]
    bad_row = [{"sku": "A", "warehouseId": "wh-east", "onHand": 1}, {"sku": "B", "warehouseId": "wh-east"}]
    for counts in (too_many, bad_row, []):
        status, body = client.call("POST", "/stock-counts", {"counts": counts})
        assert status == 400, body
    status, body = client.call("POST", "/stock-counts", {"counts": bad_row})
    assert body["error"]["details"][0]["field"] == "counts.1.onHand"


def test_an_import_wakes_a_backorder(oms: LocalOMS, client: Client) -> None:
    order_id = backordered(oms, client, [("TEE-M", 5)])

    counts = [{"sku": "TEE-M", "warehouseId": "wh-west", "onHand": 5}]
    assert client.call("POST", "/stock-counts", {"counts": counts})[0] == 200

    client.wait_for_status(order_id, "FULFILLING")
    assert waiting_for(oms, "TEE-M") == []
    client.assert_ledger_explains_stock("TEE-M")


def test_a_hot_sku_spread_over_buckets_never_oversells_under_concurrency(client: Client) -> None:
    assert (
        client.call("PUT", "/inventory/HOT-1/locations/wh-east", {"onHand": 20, "safetyStock": 2})[0] == 200
    )
    status, settings = client.call("PUT", "/inventory/HOT-1/settings", {"buckets": 4})
    assert status == 200, settings
    (location,) = settings["locations"]
    assert (location["buckets"], location["onHand"], location["available"]) == (4, 20, 18)

    with ThreadPoolExecutor(max_workers=8) as pool:
        order_ids = list(pool.map(lambda _: client.place(canonical_order([("HOT-1", 1)])), range(24)))
    final = [client.wait_for_status(o, "FULFILLING", "BACKORDERED", timeout=60)["status"] for o in order_ids]

    assert final.count("FULFILLING") == 18
    assert final.count("BACKORDERED") == 6
    level = client.stock("HOT-1")["wh-east"]
    assert (level["onHand"], level["reserved"], level["available"]) == (20, 18, 0)
    ledger = client.ledger("HOT-1")
    assert {e["kind"] for e in ledger} == {"COUNT", "REBALANCE", "RESERVE"}
    assert len({e["bucket"] for e in ledger if e["kind"] == "RESERVE"}) > 1  # spread over buckets
    assert all(e["available"] >= 0 for e in ledger)
    client.assert_ledger_explains_stock("HOT-1")


def test_bucket_settings_a_client_can_fix_are_a_400(client: Client) -> None:
    for settings in ({"buckets": 0}, {"buckets": 26}, {"buckets": True}, {"buckets": 2, "x": 1}, {}):
        status, body = client.call("PUT", "/inventory/TEE-M/settings", settings)
        assert status == 400, (settings, body)
    assert client.stock("TEE-M")["wh-west"]["buckets"] == 1
