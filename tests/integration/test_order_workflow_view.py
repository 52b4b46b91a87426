"""GET /orders/{orderId}/workflow on the real ASL executed by moto, and the order list's filters the
console uses (creation time, order number, customer e-mail)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from local.runtime import LocalOMS
from tests.support.orders import Client, canonical_order


def workflow(oms: LocalOMS, order_id: str) -> dict[str, Any]:
    response = oms.request("GET", f"/orders/{order_id}/workflow")
    assert response.status == 200, response.body
    return dict(response.json())


def wait_until_waiting(oms: LocalOMS, order_id: str, count: int, timeout: float = 15) -> dict[str, Any]:
    """The view once `count` states wait for a task token (the task has parked its token)."""
    deadline = time.monotonic() + timeout
    while True:
        view = workflow(oms, order_id)
        if sum(step["outcome"] == "WAITING" for step in view["path"]) == count:
            return view
        assert time.monotonic() < deadline, view["path"]
        time.sleep(0.05)


def entered(view: dict[str, Any]) -> list[str]:
    return [step["state"] for step in view["path"]]


def test_a_split_order_waits_in_one_await_shipment_per_fulfillment(oms: LocalOMS, client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 12)]))  # 10 per warehouse: two shipments
    view = wait_until_waiting(oms, order_id, 2)

    assert view["orderId"] == order_id
    assert view["definition"]["StartAt"] == "AcceptOrder"
    assert "FulfilEachShipment" in view["definition"]["States"]
    assert view["stateMachineArn"] == oms.deployment.order_workflow_arn
    assert view["execution"]["status"] == "RUNNING"
    assert view["execution"]["executionArn"] == oms.execution_arn(order_id)
    assert entered(view) == ["AcceptOrder", "FulfilEachShipment", "AwaitShipment", "AwaitShipment"]
    *done, fulfil, first, second = view["path"]
    assert [step["outcome"] for step in done] == ["SUCCEEDED"]
    assert all(step["exitedAt"] >= step["enteredAt"] for step in done)
    assert [step["attempts"] for step in done] == [1]
    assert (fulfil["type"], fulfil["outcome"], fulfil["iteration"]) == ("Map", "ACTIVE", None)
    assert sorted([first["iteration"], second["iteration"]]) == [0, 1]
    assert {first["outcome"], second["outcome"]} == {"WAITING"}
    assert view["waitingIn"] == ["AwaitShipment"]
    assert view["failedIn"] == []


def test_a_backordered_order_waits_for_a_restock(oms: LocalOMS, client: Client) -> None:
    order_id = client.place(canonical_order([("TEE-M", 5)]))  # 3 on hand
    client.wait_for_status(order_id, "BACKORDERED")
    view = wait_until_waiting(oms, order_id, 1)

    assert entered(view)[-1] == "AwaitRestock"
    assert view["path"][-1]["outcome"] == "WAITING"
    assert view["waitingIn"] == ["AwaitRestock"]


def test_a_cancelled_order_shows_the_caught_failure_and_its_end(oms: LocalOMS, client: Client) -> None:
    order_id = client.place()
    wait_until_waiting(oms, order_id, 1)
    assert oms.request("POST", f"/orders/{order_id}/cancel").status == 200
    oms.wait_for_execution(order_id)

    view = workflow(oms, order_id)
    assert view["execution"]["status"] == "SUCCEEDED"
    assert view["execution"]["stoppedAt"] >= view["execution"]["startedAt"]
    assert entered(view)[-4:] == [
        "AwaitShipment",
        "ReleaseCancelledFulfillment",
        "ConcludeOrder",
        "Cancelled",
    ]
    await_shipment = view["path"][-4]
    assert (await_shipment["outcome"], await_shipment["caught"]) == ("FAILED", True)
    assert await_shipment["error"] == "OrderCancelled"
    assert view["path"][-1]["outcome"] == "SUCCEEDED"
    conclude = view["path"][-2]
    assert conclude["iteration"] is None  # ConcludeOrder runs after the Map, in no iteration
    assert (conclude["outcome"], conclude["caught"], conclude["error"]) == ("FAILED", True, "OrderCancelled")
    assert view["failedIn"] == ["AwaitShipment", "ConcludeOrder"]
    assert view["waitingIn"] == []


def test_an_unknown_order_is_a_404_and_a_bad_id_a_400(oms: LocalOMS) -> None:
    missing = oms.request("GET", "/orders/ord_NOPE/workflow")
    assert missing.status == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert "ord_NOPE" in missing.json()["error"]["message"]
    too_long = oms.request("GET", f"/orders/{'x' * 65}/workflow")
    assert too_long.status == 400
    assert too_long.json()["error"]["details"][0]["field"] == "orderId"


def test_an_order_never_started_has_no_execution_and_an_empty_path(oms: LocalOMS, client: Client) -> None:
    # As an order rejected at intake is stored: an order item whose execution was never started.
    table = oms.client("dynamodb")
    placed = client.place()
    item = table.get_item(TableName=oms.deployment.table_names["Orders"], Key=_key(placed))["Item"]
    unstarted = f"ord_UNSTARTED{uuid.uuid4().hex[:8].upper()}"
    copy = item | {
        "pk": {"S": f"ORDER#{unstarted}"},
        "orderId": {"S": unstarted},
        "status": {"S": "REJECTED"},
    }
    table.put_item(TableName=oms.deployment.table_names["Orders"], Item=copy)

    view = workflow(oms, unstarted)
    assert (view["execution"], view["path"], view["waitingIn"], view["failedIn"]) == (None, [], [], [])
    assert view["definition"]["StartAt"] == "AcceptOrder"


def _key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}


def list_orders(oms: LocalOMS, query: str) -> tuple[int, Any]:
    response = oms.request("GET", f"/orders?{query}")
    return response.status, response.json()


def test_orders_are_found_by_number_as_the_customer_writes_it(oms: LocalOMS, client: Client) -> None:
    number = f"#C-{uuid.uuid4().hex[:6].upper()}"
    order_id = client.place(canonical_order(orderNumber=number))
    client.place()  # another order, not found

    for written in (number, number.lstrip("#").lower()):
        status, body = list_orders(oms, f"orderNumber={written.replace('#', '%23')}")
        assert status == 200, body
        assert [o["orderId"] for o in body["orders"]] == [order_id]
        assert body["nextCursor"] is None
    status, body = list_orders(oms, f"orderNumber={number.lstrip('#')}&status=CANCELLED")
    assert (status, body["orders"]) == (200, [])

    for blank in ("%23", "%20%23%20"):
        status, body = list_orders(oms, f"orderNumber={blank}&limit=5")
        assert status == 400
        assert [d["field"] for d in body["error"]["details"]] == ["orderNumber"]
    status, body = list_orders(oms, f"orderNumber=x&cursor={'a' * 8}")
    assert status == 400
    assert body["error"]["details"][0]["field"] == "cursor"


def test_orders_are_found_by_the_customers_email_in_any_case(oms: LocalOMS, client: Client) -> None:
    email = f"Grace.{uuid.uuid4().hex[:6]}@Example.com"
    customer = {"email": email, "name": "Grace Hopper"}
    first = client.place(canonical_order(customer=customer))
    time.sleep(0.01)
    second = client.place(canonical_order(customer={**customer, "email": email.upper()}))
    client.place()  # another customer's, not found

    for written in (email, email.lower(), f"%20{email.upper()}%20"):
        status, body = list_orders(oms, f"email={written}")
        assert status == 200, body
        assert [o["orderId"] for o in body["orders"]] == [second, first]  # newest first
        assert body["nextCursor"] is None
    status, body = list_orders(oms, f"email={email}&limit=1")
    assert [o["orderId"] for o in body["orders"]] == [second]
    status, body = list_orders(oms, f"email={email}&createdBefore={client.order(second)['createdAt']}")
    assert [o["orderId"] for o in body["orders"]] == [first]
    status, body = list_orders(oms, f"email=nobody-{uuid.uuid4().hex[:6]}@example.com")
    assert (status, body["orders"]) == (200, [])
    number = client.order(first)["channelOrderId"].replace("#", "%23")
    status, body = list_orders(oms, f"orderNumber={number}&email={email}")
    assert [o["orderId"] for o in body["orders"]] == [first]
    status, body = list_orders(oms, f"orderNumber={number}&email=someone@else.example")
    assert body["orders"] == []

    for bad in ("not-an-address", "a@b", "a%20b@example.com"):
        status, body = list_orders(oms, f"email={bad}")
        assert status == 400, (bad, body)
        assert [d["field"] for d in body["error"]["details"]] == ["email"]
    status, body = list_orders(oms, f"email={email}&cursor={'a' * 8}")
    assert (status, body["error"]["details"][0]["field"]) == (400, "cursor")


def test_orders_are_listed_by_creation_time_newest_first_in_pages(oms: LocalOMS, client: Client) -> None:
    first = client.place()
    time.sleep(0.01)
    second = client.place()
    created = {o: client.order(o)["createdAt"] for o in (first, second)}

    status, body = list_orders(oms, f"createdFrom={created[first][:10]}&limit=1")
    assert status == 200, body
    assert [o["orderId"] for o in body["orders"]] == [second]
    status, body = list_orders(oms, f"createdFrom={created[first][:10]}&limit=1&cursor={body['nextCursor']}")
    assert [o["orderId"] for o in body["orders"]] == [first]

    status, body = list_orders(oms, f"createdBefore={created[second]}&channelId=test-store")
    assert status == 200, body
    assert [o["orderId"] for o in body["orders"]] == [first]
    status, body = list_orders(oms, f"createdFrom={created[second]}&status={client.order(second)['status']}")
    assert second in [o["orderId"] for o in body["orders"]]
    assert first not in [o["orderId"] for o in body["orders"]]
    status, body = list_orders(oms, "createdBefore=2000-01-01")
    assert (status, body["orders"], body["nextCursor"]) == (200, [], None)


def test_a_bad_creation_time_is_a_400_naming_it(oms: LocalOMS) -> None:
    for query, field in (
        ("createdFrom=yesterday", "createdFrom"),
        ("createdBefore=2026-12-01T10:00:00%2B01:00", "createdBefore"),  # UTC only
        ("createdFrom=2026-12-02&createdBefore=2026-12-01", "createdBefore"),
        ("createdFrom=2026-12-02&createdBefore=2026-12-02", "createdBefore"),
    ):
        status, body = list_orders(oms, query)
        assert status == 400, (query, body)
        assert body["error"]["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in body["error"]["details"]] == [field], (query, json.dumps(body))
