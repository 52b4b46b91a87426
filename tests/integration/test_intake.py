"""POST /webhooks/{channelId}: authentic, valid, and once only."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.runtime import LocalOMS
from shared.api import MAX_BODY_BYTES
from tests.support.orders import CHANNEL_ID, Client, canonical_order, signed_headers


def executions(oms: LocalOMS) -> list[dict]:
    sfn = oms.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=oms.deployment.order_workflow_arn)["executions"]


def stored_orders(client: Client) -> list[dict]:
    status, body = client.call("GET", "/orders")
    assert status == 200
    return body["orders"]


def test_the_same_delivery_again_returns_the_same_order(oms: LocalOMS, client: Client) -> None:
    order = canonical_order()
    first_status, first = client.deliver(order, webhook_id="msg_same")
    again_status, again = client.deliver(order, webhook_id="msg_same")

    assert (first_status, again_status) == (202, 200)
    assert again["orderId"] == first["orderId"]
    assert len(stored_orders(client)) == 1
    assert len(executions(oms)) == 1


def test_the_same_channel_order_in_a_new_delivery_is_not_a_new_order(oms: LocalOMS, client: Client) -> None:
    order = canonical_order()
    _, first = client.deliver(order)
    status, again = client.deliver(order)

    assert status == 200
    assert again["orderId"] == first["orderId"]
    assert len(executions(oms)) == 1


def test_concurrent_duplicates_create_one_order_and_one_execution(oms: LocalOMS, client: Client) -> None:
    order = canonical_order()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: client.deliver(order), range(8)))

    order_ids = {body["orderId"] for status, body in results if status in (200, 202)}
    assert len(order_ids) == 1
    assert sorted(status for status, _ in results).count(202) == 1
    assert len(stored_orders(client)) == 1
    assert len(executions(oms)) == 1


def test_a_reused_delivery_id_with_another_body_is_refused(client: Client) -> None:
    client.deliver(canonical_order(), webhook_id="msg_reused")
    status, body = client.deliver(canonical_order(), webhook_id="msg_reused")

    assert status == 409
    assert body["error"]["code"] == "DELIVERY_ID_REUSED"


def test_a_bad_signature_is_401_and_stores_nothing(oms: LocalOMS, client: Client) -> None:
    body = json.dumps(canonical_order()).encode()
    headers = signed_headers(body, secret="whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==")

    status, error = client.send("POST", f"/webhooks/{CHANNEL_ID}", headers, body)

    assert status == 401
    assert error["error"]["code"] == "UNAUTHORIZED"
    assert stored_orders(client) == []
    assert executions(oms) == []


def test_a_stale_timestamp_is_401(client: Client) -> None:
    body = json.dumps(canonical_order()).encode()
    headers = signed_headers(body)
    headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 3600)

    assert client.send("POST", f"/webhooks/{CHANNEL_ID}", headers, body)[0] == 401


def test_a_malformed_order_is_400_naming_every_bad_field(oms: LocalOMS, client: Client) -> None:
    order = canonical_order([("MUG-BLUE", 0)], currency="DOLLARS", shippingPrice=5.0)
    del order["customer"]

    status, body = client.deliver(order)

    assert status == 400
    fields = {d["field"] for d in body["error"]["details"]}
    assert fields == {"currency", "customer", "lines.0.quantity", "shippingPrice"}
    assert stored_orders(client) == []
    assert executions(oms) == []


def test_a_body_that_is_not_json_is_400(client: Client) -> None:
    body = b"{not json"
    status, error = client.send("POST", f"/webhooks/{CHANNEL_ID}", signed_headers(body), body)

    assert status == 400
    assert error["error"]["details"][0]["field"] == "body"


def test_an_unknown_channel_is_404(client: Client) -> None:
    body = json.dumps(canonical_order()).encode()
    status, error = client.send("POST", "/webhooks/nobody", signed_headers(body), body)

    assert (status, error["error"]["code"]) == (404, "NOT_FOUND")


def test_a_channel_secret_is_never_returned(client: Client) -> None:
    registered = client.call("PUT", "/channels/another-store", {"type": "api", "webhookSecret": "s" * 32})
    updated = client.call("PUT", "/channels/another-store", {"type": "api", "webhookSecret": "t" * 32})
    fetched = client.call("GET", "/channels/another-store")

    assert [status for status, _ in (registered, updated, fetched)] == [201, 200, 200]
    for _, body in (registered, updated, fetched):
        assert "s" * 32 not in json.dumps(body) and "t" * 32 not in json.dumps(body)
        assert not {"webhookSecret", "previousWebhookSecret"} & set(body)
    assert registered[1]["previousSecretValidUntil"] is None
    assert updated[1]["previousSecretValidUntil"] > updated[1]["updatedAt"]
    assert client.call("GET", "/channels/nobody")[0] == 404


def test_a_total_that_differs_from_the_channels_is_recorded_and_the_order_proceeds(client: Client) -> None:
    order = canonical_order(
        [("MUG-BLUE", 2)], shippingTax="0.40", orderDiscount="1.00", declaredTotal="29.00"
    )
    order["lines"][0] |= {"discountAmount": "2.50", "taxAmount": "1.80"}

    status, receipt = client.deliver(order)
    stored = client.wait_for_status(receipt["orderId"], "FULFILLING")

    assert status == 202
    # 2 x 12.50 - 2.50 + 1.80 + 5.00 shipping + 0.40 shipping tax - 1.00 = 28.70
    assert stored["total"] == "28.70"
    assert stored["totalMismatch"] == {"declared": "29.00", "computed": "28.70"}
    assert stored["lines"][0]["discountAmount"] == "2.50"


def test_a_body_over_the_webhook_limit_is_413_and_stores_nothing(oms: LocalOMS, client: Client) -> None:
    order = canonical_order()
    order["customer"]["name"] = "x" * MAX_BODY_BYTES  # still signed: size is checked first
    body = json.dumps(order).encode()

    status, error = client.send("POST", f"/webhooks/{CHANNEL_ID}", signed_headers(body), body)

    assert (status, error["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    assert error["error"]["details"] == {"limitBytes": MAX_BODY_BYTES}
    assert stored_orders(client) == []
    assert executions(oms) == []


def test_a_refusal_after_an_order_is_logged_without_that_order(
    client: Client, json_logs: list[dict[str, Any]]
) -> None:
    order_id = client.place()
    body = json.dumps(canonical_order()).encode()
    forged = signed_headers(body, secret="whsec_" + base64.b64encode(b"not the channel's").decode())
    status, _ = client.send("POST", f"/webhooks/{CHANNEL_ID}", forged, body)

    assert status == 401
    [refusal] = [line for line in json_logs if line["message"] == "webhook signature refused"]
    assert "order_id" not in refusal
    assert refusal.get("correlation_id") != order_id
    assert refusal["service"] == "oms"
    assert refusal["function_name"] == "oms-Intake"


def test_a_price_finer_than_its_currency_is_400_naming_the_field(client: Client) -> None:
    order = canonical_order()
    order["lines"][0]["unitPrice"] = "10.001"

    status, error = client.deliver(order)

    assert status == 400
    assert error["error"]["details"] == [
        {"field": "lines.0.unitPrice", "message": "has more decimal places than USD has (2)"}
    ]
    assert stored_orders(client) == []
