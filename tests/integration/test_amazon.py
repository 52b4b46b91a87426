"""Amazon: ORDER_CHANGE notifications on the SQS queue, orders fetched from a local SP-API server.

The queue is moto's; the local runtime's poller invokes AmazonIntake as Lambda's SQS event source
does; the SP-API client talks HTTP to `local.spapi_sandbox`, which answers in the published shapes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.runtime import LocalOMS
from local.spapi_sandbox import FULL_ORDER_ID, SANDBOX_ORDER_ID, FakeSpApi
from tests.support.channels import AMAZON_CHANNEL, amazon_channel, amazon_notification
from tests.support.orders import Client


@pytest.fixture
def spapi() -> Iterator[FakeSpApi]:
    with FakeSpApi() as server:
        yield server


@pytest.fixture
def amazon(client: Client, spapi: FakeSpApi) -> Client:
    status, view = client.call(
        "PUT", f"/channels/{AMAZON_CHANNEL}", amazon_channel(spapi.endpoint, spapi.token_endpoint)
    )
    assert status == 201, view
    assert "clientSecret" not in json.dumps(view) and "refreshToken" not in json.dumps(view)
    return client


def send(oms: LocalOMS, body: str) -> None:
    oms.client("sqs").send_message(
        QueueUrl=oms.deployment.queue_urls["AmazonNotifications"], MessageBody=body
    )


def wait_for_orders(client: Client, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        status, listed = client.call("GET", f"/orders?channelId={AMAZON_CHANNEL}&limit=100")
        assert status == 200
        if len(listed["orders"]) >= count:
            return list(listed["orders"])
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(listed['orders'])} Amazon orders after {timeout}s, expected {count}")
        time.sleep(0.05)


def wait_for_results(client: Client, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The channel's archived deliveries once `count` of them have a result, oldest first."""
    deadline = time.monotonic() + timeout
    while True:
        _, listed = client.call("GET", f"/channels/{AMAZON_CHANNEL}/deliveries?limit=100")
        done = [d for d in listed["deliveries"] if d.get("result")]
        if len(done) >= count:
            return list(reversed(done))
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(done)} processed deliveries after {timeout}s, expected {count}")
        time.sleep(0.05)


def queue_depth(oms: LocalOMS, visible: bool | None = None) -> int:
    """Messages on the Amazon queue: visible, in flight (received, not deleted), or both (None)."""
    attributes = oms.client("sqs").get_queue_attributes(
        QueueUrl=oms.deployment.queue_urls["AmazonNotifications"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    waiting = int(attributes["ApproximateNumberOfMessages"])
    in_flight = int(attributes["ApproximateNumberOfMessagesNotVisible"])
    return {True: waiting, False: in_flight, None: waiting + in_flight}[visible]


def test_an_amazon_order_goes_from_the_queue_through_sp_api_to_fulfilment(
    amazon: Client, oms: LocalOMS, spapi: FakeSpApi
) -> None:
    send(oms, amazon_notification(FULL_ORDER_ID))

    [order] = wait_for_orders(amazon, 1)

    order = amazon.wait_for_status(order["orderId"], "FULFILLING")
    assert order["channelOrderId"] == FULL_ORDER_ID
    assert order["customer"] == {"email": "q8xv2m3lz0k4bd7@marketplace.amazon.com", "name": "Ada Lovelace"}
    assert order["shippingAddress"]["city"] == "Boston"
    assert [(line["sku"], line["quantity"], line["unitPrice"]) for line in order["lines"]] == [
        ("MUG-BLUE", 3, "10.00"),
        ("TEE-M", 1, "9.99"),
    ]
    assert order["lines"][0]["title"] == "Blue Mug & Coaster Set"
    assert order["total"] == "39.95"
    assert order["totalMismatch"] is None
    # Traceable: the notification as queued, and the SP-API documents the order was built from.
    _, archived = amazon.call("GET", f"/channels/{AMAZON_CHANNEL}/deliveries/{order['deliveryId']}")
    assert (
        json.loads(archived["body"])["Payload"]["OrderChangeNotification"]["AmazonOrderId"] == FULL_ORDER_ID
    )
    assert json.loads(archived["fetched"]["getOrder"])["OrderTotal"]["Amount"] == "39.95"
    assert len(json.loads(archived["fetched"]["getOrderItems"])) == 2
    assert spapi.calls("restrictedDataToken", "POST"), "the address needs a restricted data token"
    assert queue_depth(oms) == 0


def test_the_same_notification_twice_and_the_same_order_twice_make_one_order(
    amazon: Client, oms: LocalOMS, spapi: FakeSpApi
) -> None:
    notification = amazon_notification(FULL_ORDER_ID, notification_id="7d0c1f4e-same")
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(
            pool.map(
                lambda body: send(oms, body), [notification, notification, amazon_notification(FULL_ORDER_ID)]
            )
        )

    results = wait_for_results(amazon, 3)

    outcomes = sorted(d["result"]["outcome"] for d in results)
    assert outcomes == ["CREATED", "DUPLICATE", "DUPLICATE"]
    [order] = wait_for_orders(amazon, 1)
    assert {d["result"]["orderId"] for d in results} == {order["orderId"]}
    executions = oms.client("stepfunctions").list_executions(
        stateMachineArn=oms.deployment.order_workflow_arn
    )
    assert [e["name"] for e in executions["executions"]] == [order["orderId"]]
    # The repeated notification id was answered from the idempotency record: fetched once for it.
    assert len(spapi.calls(f"/orders/v0/orders/{FULL_ORDER_ID}/orderItems")) == 2


def test_an_order_amazon_sends_without_an_address_is_rejected_naming_the_fields(
    amazon: Client, oms: LocalOMS
) -> None:
    send(oms, amazon_notification(SANDBOX_ORDER_ID))  # the sandbox order has no restricted data

    [order] = wait_for_orders(amazon, 1)

    assert order["status"] == "REJECTED"
    assert order["channelOrderId"] == SANDBOX_ORDER_ID
    assert {"ShippingAddress", "BuyerInfo"} <= {problem["field"] for problem in order["problems"]}
    assert "ShippingAddress" in order["statusReason"]
    assert oms.execution_status(order["orderId"]) is None  # nothing to run
    [delivery] = wait_for_results(amazon, 1)
    assert delivery["result"]["outcome"] == "REJECTED"


def test_an_amazon_cancellation_cancels_the_order(amazon: Client, oms: LocalOMS) -> None:
    send(oms, amazon_notification(FULL_ORDER_ID))
    [order] = wait_for_orders(amazon, 1)
    amazon.wait_for_status(order["orderId"], "FULFILLING")

    send(oms, amazon_notification(FULL_ORDER_ID, status="Canceled"))

    cancelled = amazon.wait_for_status(order["orderId"], "CANCELLED")
    assert cancelled["statusReason"].startswith("cancelled on Amazon")
    oms.wait_for_execution(order["orderId"])
    assert sum(level["reserved"] for level in amazon.stock("MUG-BLUE").values()) == 0


@pytest.mark.parametrize(
    ("notification", "reason"),
    [
        (amazon_notification(FULL_ORDER_ID, fulfillment="AFN"), "Amazon"),
        (amazon_notification(FULL_ORDER_ID, status="Pending"), "paid"),
    ],
    ids=["fulfilled-by-amazon", "not-yet-paid"],
)
def test_notifications_with_nothing_to_do_are_acknowledged(
    amazon: Client, oms: LocalOMS, spapi: FakeSpApi, notification: str, reason: str
) -> None:
    send(oms, notification)

    [delivery] = wait_for_results(amazon, 1)

    assert delivery["result"]["outcome"] == "IGNORED"
    assert reason in delivery["result"]["reason"]
    assert spapi.calls("/orders/v0/orders/") == []


def test_a_failing_message_is_reported_alone_and_retried(
    amazon: Client, oms: LocalOMS, spapi: FakeSpApi
) -> None:
    """SP-API unavailable for one message: that record fails (it will come back after the
    visibility timeout), the other record of the batch succeeds."""
    spapi.fail_next(f"/orders/v0/orders/{SANDBOX_ORDER_ID}", 503, times=10)
    event = {
        "Records": [
            sqs_record("m-1", amazon_notification(SANDBOX_ORDER_ID)),
            sqs_record("m-2", amazon_notification(FULL_ORDER_ID)),
        ]
    }

    response = oms_invoke(oms, event)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert [o["channelOrderId"] for o in wait_for_orders(amazon, 1)] == [FULL_ORDER_ID]


def test_a_notification_for_an_unregistered_seller_is_not_lost(client: Client, oms: LocalOMS) -> None:
    """Every record failed: the invocation fails (Powertools' BatchProcessingError), so SQS keeps
    the message, delivers it again and finally moves it to the dead-letter queue."""
    send(oms, amazon_notification(FULL_ORDER_ID, seller="A1NOBODY"))

    deadline = time.monotonic() + 10
    while queue_depth(oms, visible=False) == 0:  # the poller received it ...
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.5)

    assert queue_depth(oms, visible=False) == 1  # ... and did not delete it
    answer = oms.client("lambda").invoke(
        FunctionName=oms.deployment.function_names["AmazonIntake"],
        Payload=json.dumps(
            {"Records": [sqs_record("m-9", amazon_notification(FULL_ORDER_ID, seller="A1NOBODY"))]}
        ),
    )
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "BatchProcessingError"


def test_one_amazon_seller_and_marketplace_belong_to_one_channel(amazon: Client, spapi: FakeSpApi) -> None:
    status, error = amazon.call(
        "PUT", "/channels/amazon-again", amazon_channel(spapi.endpoint, spapi.token_endpoint)
    )
    assert status == 409
    assert error["error"]["details"]["sellerId"]


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1764151200000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:oms-AmazonNotifications",
        "awsRegion": "us-east-1",
    }


def oms_invoke(oms: LocalOMS, event: dict[str, Any]) -> Any:
    lambda_client = oms.client("lambda")
    answer = lambda_client.invoke(
        FunctionName=oms.deployment.function_names["AmazonIntake"], Payload=json.dumps(event)
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def test_concurrent_invocations_for_one_amazon_order_make_one_order(
    amazon: Client, oms: LocalOMS, spapi: FakeSpApi
) -> None:
    """Redelivered and repeated notifications processed at the same moment by several Lambda instances."""
    same = amazon_notification(FULL_ORDER_ID, notification_id="c0ffee00-same")
    bodies = [same] * 3 + [amazon_notification(FULL_ORDER_ID) for _ in range(3)]
    events = [{"Records": [sqs_record(f"m-{i}", body)]} for i, body in enumerate(bodies)]
    lambda_client = oms.client("lambda")
    name = oms.deployment.function_names["AmazonIntake"]

    def invoke(event: dict[str, Any]) -> str:
        answer = lambda_client.invoke(FunctionName=name, Payload=json.dumps(event))
        payload = json.loads(answer["Payload"].read())
        # A copy of a notification still in progress elsewhere fails (its batch of one fails whole:
        # Powertools' BatchProcessingError), and SQS delivers it again later.
        return payload["errorType"] if "FunctionError" in answer else "ok"

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(invoke, events))

    assert set(answers) <= {"ok", "BatchProcessingError"}
    assert "ok" in answers
    [order] = wait_for_orders(amazon, 1)
    executions = oms.client("stepfunctions").list_executions(
        stateMachineArn=oms.deployment.order_workflow_arn
    )
    assert [e["name"] for e in executions["executions"]] == [order["orderId"]]
