"""Every unit accounted for: safety stock, the ledger after every path, adjustments applied once,
and stock of many SKUs in one call; on the real ASL and the real handlers."""

from __future__ import annotations

import base64
import json
import time
import uuid

from tests.support.orders import Client, canonical_order

ADJUST = "/inventory/{sku}/locations/{wh}/adjustments"


def adjust(client: Client, sku: str, wh: str, body: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return client.call("POST", ADJUST.format(sku=sku, wh=wh), body, headers)


def wait_for_stock(client: Client, sku: str, wh: str, **figures: int) -> dict:
    deadline = time.monotonic() + 10
    while True:
        level = client.stock(sku)[wh]
        if all(level[name] == value for name, value in figures.items()):
            return level
        assert time.monotonic() < deadline, (level, figures)
        time.sleep(0.05)


def test_the_ledger_explains_stock_after_reserve_ship_and_cancel(client: Client) -> None:
    shipped = client.place(canonical_order([("MUG-BLUE", 2)]))
    client.ship_and_deliver(shipped)
    cancelled = client.place(canonical_order([("TEE-M", 1)]))
    client.wait_for_status(cancelled, "FULFILLING")
    assert client.call("POST", f"/orders/{cancelled}/cancel")[0] == 200
    wait_for_stock(client, "TEE-M", "wh-west", reserved=0)

    client.assert_ledger_explains_stock("MUG-BLUE", "TEE-M")
    tee = client.ledger("TEE-M", "wh-west")
    assert [e["kind"] for e in tee] == ["RELEASE", "RESERVE", "COUNT"]  # newest first
    release, reserve, count = tee
    assert (release["orderId"], release["reservedDelta"], release["actor"]) == (
        cancelled,
        -1,
        "workflow:Compensate",
    )
    assert (reserve["reservedDelta"], reserve["onHand"], reserve["reserved"], reserve["available"]) == (
        1,
        3,
        1,
        2,
    )
    assert (count["actor"], count["reason"], count["onHandDelta"], count["seq"]) == (
        "api",
        "CYCLE_COUNT",
        3,
        1,
    )
    mug = client.ledger("MUG-BLUE")
    commit = next(e for e in mug if e["kind"] == "COMMIT")
    assert (commit["orderId"], commit["onHandDelta"], commit["reservedDelta"]) == (shipped, -2, -2)
    assert commit["actor"].startswith("warehouse:")


def test_an_adjustment_is_applied_once_per_key(client: Client) -> None:
    key = str(uuid.uuid4())
    body = {"delta": 5, "reason": "RECEIPT", "reference": "PO-1001", "note": "pallet 3"}

    first = adjust(client, "TEE-M", "wh-west", body, key)
    again = adjust(client, "TEE-M", "wh-west", body, key)
    other_body = adjust(client, "TEE-M", "wh-west", {**body, "delta": 6}, key)

    assert first[0] == 201, first
    assert first[1]["location"]["onHand"] == 8
    (entry,) = first[1]["entries"]
    assert (entry["kind"], entry["reason"], entry["reference"], entry["note"]) == (
        "ADJUSTMENT",
        "RECEIPT",
        "PO-1001",
        "pallet 3",
    )
    assert again == (200, first[1])  # the first answer, and nothing applied twice
    assert client.stock("TEE-M")["wh-west"]["onHand"] == 8
    assert other_body[0] == 409
    assert other_body[1]["error"]["details"] == {"header": "Idempotency-Key"}
    assert len(client.ledger("TEE-M")) == 2
    client.assert_ledger_explains_stock("TEE-M")


def test_an_adjustment_below_what_is_reserved_is_refused(client: Client) -> None:
    order_id = client.place(canonical_order([("TEE-M", 2)]))
    client.wait_for_status(order_id, "FULFILLING")

    status, body = adjust(client, "TEE-M", "wh-west", {"delta": -2, "reason": "DAMAGE"})

    assert status == 409, body
    assert body["error"]["details"]["reserved"] == 2
    assert adjust(client, "TEE-M", "wh-west", {"delta": -1, "reason": "DAMAGE"})[0] == 201
    level = client.stock("TEE-M")["wh-west"]
    assert (level["onHand"], level["reserved"], level["available"]) == (2, 2, 0)
    client.assert_ledger_explains_stock("TEE-M")


def test_what_a_client_can_fix_in_an_adjustment_is_a_400_naming_it(client: Client) -> None:
    path = ADJUST.format(sku="TEE-M", wh="wh-west")
    missing_key = client.call("POST", path, {"delta": 1, "reason": "RECEIPT"})
    zero = adjust(client, "TEE-M", "wh-west", {"delta": 0, "reason": "RECEIPT"})
    unknown_reason = adjust(client, "TEE-M", "wh-west", {"delta": 1, "reason": "THEFT"})
    boolean = adjust(client, "TEE-M", "wh-west", {"delta": True, "reason": "RECEIPT"})
    unknown_warehouse = adjust(client, "TEE-M", "wh-nowhere", {"delta": 1, "reason": "RECEIPT"})

    assert missing_key[0] == 400 and "idempotency-key" in json.dumps(missing_key[1]).lower(), missing_key
    assert zero[0] == 400 and "delta" in json.dumps(zero[1])
    assert unknown_reason[0] == 400 and "reason" in json.dumps(unknown_reason[1])
    assert boolean[0] == 400
    assert unknown_warehouse[0] == 404
    assert client.stock("TEE-M")["wh-west"]["onHand"] == 3
    assert len(client.ledger("TEE-M")) == 1


def test_sourcing_never_promises_safety_stock(client: Client) -> None:
    # MUG-BLUE: 10 at wh-east (nearest Boston) and 10 at wh-west. Keep 9 back at wh-east.
    status, level = client.call(
        "PUT", "/inventory/MUG-BLUE/locations/wh-east", {"onHand": 10, "safetyStock": 9}
    )
    assert (status, level["available"], level["safetyStock"]) == (200, 1, 9)

    two = client.wait_for_status(client.place(canonical_order([("MUG-BLUE", 2)])), "FULFILLING")
    one = client.wait_for_status(client.place(canonical_order([("MUG-BLUE", 1)])), "FULFILLING")

    assert [f["warehouseId"] for f in two["fulfillments"]] == ["wh-west"]
    assert [f["warehouseId"] for f in one["fulfillments"]] == ["wh-east"]
    assert client.stock("MUG-BLUE")["wh-east"]["available"] == 0
    # A count without safetyStock keeps it; below the safety stock nothing is promised, never < 0.
    status, level = client.call("PUT", "/inventory/MUG-BLUE/locations/wh-east", {"onHand": 4})
    assert (status, level["safetyStock"], level["available"]) == (200, 9, 0)
    client.assert_ledger_explains_stock("MUG-BLUE")


def test_stock_of_many_skus_in_one_call(client: Client) -> None:
    status, body = client.call("GET", "/inventory?skus=TEE-M,NOPE,MUG-BLUE")

    assert status == 200, body
    assert [view["sku"] for view in body["inventory"]] == ["TEE-M", "MUG-BLUE"]
    assert body["unknown"] == ["NOPE"]
    mug = body["inventory"][1]
    assert (mug["onHand"], mug["available"], len(mug["locations"])) == (20, 20, 2)

    too_many = client.call("GET", "/inventory?skus=" + ",".join(f"S{n}" for n in range(101)))
    not_a_sku = client.call("GET", "/inventory?skus=TEE-M,A%23B")
    empty = client.call("GET", "/inventory?skus=TEE-M,")
    assert too_many[0] == 400 and too_many[1]["error"]["details"] == {"field": "skus"}
    # A '#' breaks the parameter's pattern: refused by the request's validation, naming the parameter.
    assert not_a_sku[0] == 400 and [d["field"] for d in not_a_sku[1]["error"]["details"]] == ["skus"]
    assert empty[0] == 400


def test_the_ledger_pages_newest_first_across_warehouses(client: Client) -> None:
    for n in range(3):
        assert (
            adjust(client, "MUG-BLUE", "wh-east" if n % 2 else "wh-west", {"delta": 1, "reason": "RECEIPT"})[
                0
            ]
            == 201
        )

    seen, cursor = [], None
    while True:
        after = f"&cursor={cursor}" if cursor else ""
        status, page = client.call("GET", f"/inventory/MUG-BLUE/ledger?limit=2{after}")
        assert status == 200, page
        assert len(page["entries"]) <= 2
        seen += page["entries"]
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert len(seen) == 5  # two counts, three adjustments
    assert [e["at"] for e in seen] == sorted((e["at"] for e in seen), reverse=True)
    assert len({(e["warehouseId"], e["seq"]) for e in seen}) == 5
    west_only = client.ledger("MUG-BLUE", "wh-west")
    assert {e["warehouseId"] for e in west_only} == {"wh-west"} and len(west_only) == 3

    status, page = client.call("GET", "/inventory/MUG-BLUE/ledger?limit=1")
    foreign = client.call("GET", f"/inventory/TEE-M/ledger?cursor={page['nextCursor']}")
    made_up = base64.urlsafe_b64encode(b'{"sku": "MUG-BLUE", "warehouseId": null, "below": {"x#0": 3}}')
    invented = client.call("GET", f"/inventory/MUG-BLUE/ledger?cursor={made_up.decode()}")
    assert foreign[0] == 400 and invented[0] == 400
    assert client.call("GET", "/inventory/NOPE/ledger")[0] == 404
    assert client.call("GET", "/inventory/TEE-M/ledger?warehouseId=wh-east")[0] == 404
