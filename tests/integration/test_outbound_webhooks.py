"""Outbound webhooks on the local runtime: events from the real bus, through the rule's queue, the
fan-out and the sender, POSTed to a receiver on this machine and verified with the Standard Webhooks
reference library; retries, timeouts, dead letters and redelivery; bad subscriptions refused."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from local.runtime import LocalOMS
from shared.logic import webhook_delivery
from shared.logic.webhook_delivery import DeliveryMessage
from shared.models.events import EventType
from tests.support.events import has, wait_for_events
from tests.support.orders import Client
from tests.support.webhooks import HANG, OK, Received, Receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes, base64


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch, oms: LocalOMS) -> None:
    """Seconds between attempts instead of hours: 1 s, then 1 s (three attempts in all)."""
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "1,1")
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "1")


def subscribe(client: Client, url: str, types: list[str], sub: str = "erp", **extra: Any) -> dict[str, Any]:
    status, body = client.call("PUT", f"/subscriptions/{sub}", {"url": url, "eventTypes": types, **extra})
    assert status == 201, body
    return dict(body)


def deliveries(client: Client, sub: str = "erp", query: str = "") -> list[dict[str, Any]]:
    status, body = client.call("GET", f"/subscriptions/{sub}/deliveries{query}")
    assert status == 200, body
    return list(body["deliveries"])


def wait_for_delivery(client: Client, status: str, sub: str = "erp", count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while True:
        found = [d for d in deliveries(client, sub) if d["status"] == status]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, deliveries(client, sub)
        time.sleep(0.1)


def of_type(received: list[Received], event_type: str) -> list[Received]:
    return [r for r in received if r.event()["type"] == event_type]


def test_subscribed_events_arrive_signed_with_the_event_id_and_nothing_else(
    oms: LocalOMS, client: Client
) -> None:
    with Receiver() as receiver:
        created = subscribe(client, receiver.url, ["order.created", "fulfillment.shipped"])
        secret = created["secret"]
        assert secret.startswith("whsec_")
        shown = client.call("GET", "/subscriptions/erp")[1]
        assert "secret" not in shown or shown["secret"] is None
        assert shown["secretHint"] == secret[:10] + "…"

        order_id = client.place()
        client.ship_and_deliver(order_id)
        received = receiver.wait_for(lambda got: len(got) >= 2)
        wait_for_events(oms, has(order_id, "fulfillment.delivered"))

    types = sorted(r.event()["type"] for r in received)
    assert types == ["fulfillment.shipped", "order.created"]
    for request in received:
        payload = request.verify(secret)  # the reference library checks the signature and timestamp
        assert request.headers["webhook-id"] == payload["id"]
        assert request.headers["content-type"] == "application/json"
        assert payload["subject"] == order_id and payload["version"] == 1
    shipped = of_type(received, "fulfillment.shipped")[0].event()
    assert shipped["data"]["trackingNumber"] == "1Z999AA10123456784"
    listed = wait_for_delivery(client, "DELIVERED", count=2)
    assert {d["eventType"] for d in listed} == {"order.created", "fulfillment.shipped"}
    assert all(d["attemptCount"] == 1 and d["attempts"][0]["httpStatus"] == 200 for d in listed)


def test_a_receiver_that_fails_twice_gets_the_same_event_again_until_it_answers_2xx(
    oms: LocalOMS, client: Client, quick_retries: None
) -> None:
    with Receiver([500, 503, OK]) as receiver:
        subscribe(client, receiver.url, ["order.created"], secret=SECRET)
        order_id = client.place()
        received = receiver.wait_for(lambda got: len(got) >= 3)
        (delivered,) = wait_for_delivery(client, "DELIVERED")

    assert [r.answered for r in received] == [500, 503, 200]
    assert len({r.headers["webhook-id"] for r in received}) == 1  # the same message each time
    assert all(r.verify(SECRET)["subject"] == order_id for r in received)
    assert [(a["number"], a["result"], a["httpStatus"]) for a in delivered["attempts"]] == [
        (1, "HTTP_ERROR", 500),
        (2, "HTTP_ERROR", 503),
        (3, "DELIVERED", 200),
    ]
    assert "receiver is down" in delivered["attempts"][0]["error"]


def test_a_timeout_is_retried_and_a_hanging_receiver_does_not_hold_up_orders(
    oms: LocalOMS, client: Client, quick_retries: None
) -> None:
    with Receiver([HANG, OK]) as receiver:
        subscribe(client, receiver.url, ["order.created"], secret=SECRET)
        order_id = client.place()
        receiver.wait_for(lambda got: len(got) >= 1)
        # While the receiver holds the first delivery open, the order goes on through its workflow.
        client.ship_and_deliver(order_id)
        (delivered,) = wait_for_delivery(client, "DELIVERED")

    assert [a["result"] for a in delivered["attempts"]] == ["TIMEOUT", "DELIVERED"]
    assert delivered["attempts"][0]["httpStatus"] is None
    assert client.order(order_id)["status"] == "DELIVERED"


def test_after_the_last_attempt_a_delivery_is_a_dead_letter_until_redelivered(
    oms: LocalOMS, client: Client, quick_retries: None
) -> None:
    with Receiver([500, 500, 500, OK]) as receiver:
        subscribe(client, receiver.url, ["order.created"], secret=SECRET)
        client.place()
        (failed,) = wait_for_delivery(client, "FAILED")
        assert failed["attemptCount"] == 3 and failed["failedAt"]
        assert [d["deliveryId"] for d in deliveries(client, query="?status=FAILED")] == [failed["deliveryId"]]

        status, result = client.call("POST", "/subscriptions/erp/redeliver")
        assert status == 202, result
        assert result == {
            "redeliveries": [{"deliveryId": failed["deliveryId"], "outcome": "QUEUED"}],
            "more": False,
        }
        (delivered,) = wait_for_delivery(client, "DELIVERED")
        received = receiver.wait_for(lambda got: len(got) >= 4)

    assert delivered["redeliveries"] == 1 and delivered["attemptCount"] == 4
    assert [a["result"] for a in delivered["attempts"]][-1] == "DELIVERED"
    assert len({r.headers["webhook-id"] for r in received}) == 1
    assert deliveries(client, query="?status=FAILED") == []
    # Named: a delivered one may be sent again; unknown ids are reported, not refused.
    status, again = client.call(
        "POST", "/subscriptions/erp/redeliver", {"deliveryIds": [delivered["deliveryId"], "nope"]}
    )
    assert status == 202
    assert [r["outcome"] for r in again["redeliveries"]] == ["QUEUED", "NOT_FOUND"]


def test_an_event_fanned_out_twice_is_delivered_once_and_a_stale_message_is_dropped(
    oms: LocalOMS, client: Client
) -> None:
    with Receiver() as receiver:
        subscribe(client, receiver.url, ["order.created"], secret=SECRET)
        order_id = client.place()
        receiver.wait_for(lambda got: len(got) >= 1)
        (delivered,) = wait_for_delivery(client, "DELIVERED")
        event = json.loads(receiver.received[0].body)
        bus_event = {"detail-type": event["type"], "source": "oms", "detail": event}

        assert webhook_delivery.fan_out(bus_event) == 0  # the rule's queue delivered it again
        stale = DeliveryMessage(subscriptionId="erp", deliveryId=delivered["deliveryId"], version=0, dueAt=0)
        webhook_delivery.attempt(stale)  # the first attempt's message, seen again
        assert len(receiver.received) == 1
    assert receiver.received[0].verify(SECRET)["subject"] == order_id


def test_every_event_type_reaches_a_star_subscription(oms: LocalOMS, client: Client) -> None:
    with Receiver() as receiver:
        subscribe(client, receiver.url, ["*"], secret=SECRET)
        order_id = client.place()
        client.ship_and_deliver(order_id)
        received = receiver.wait_for(lambda got: "fulfillment.delivered" in {r.event()["type"] for r in got})
    types = {r.event()["type"] for r in received}
    assert {"order.created", "order.status_changed", "fulfillment.planned", "fulfillment.shipped"} <= types
    assert types <= {t.value for t in EventType}


def test_a_deleted_subscription_gets_nothing_more(oms: LocalOMS, client: Client) -> None:
    with Receiver() as receiver:
        subscribe(client, receiver.url, ["order.created"], secret=SECRET)
        assert client.call("DELETE", "/subscriptions/erp") == (204, None)
        order_id = client.place()
        wait_for_events(oms, has(order_id, "order.created"))
        client.wait_for_status(order_id, "FULFILLING")
        assert receiver.received == []
    assert client.call("GET", "/subscriptions/erp")[0] == 404
    assert client.call("DELETE", "/subscriptions/erp")[0] == 404


def test_subscriptions_are_listed_and_updated_keeping_their_secret(client: Client) -> None:
    first = subscribe(client, "http://127.0.0.1:9/a", ["order.created"], sub="crm")
    subscribe(client, "https://hooks.example.com/oms", ["*"], sub="erp", secret=SECRET, description="ERP")
    status, updated = client.call(
        "PUT", "/subscriptions/crm", {"url": "http://localhost:9/b", "eventTypes": ["return.refunded"]}
    )
    assert status == 200 and updated.get("secret") is None
    assert updated["secretHint"] == first["secretHint"]  # kept: no new secret was asked for
    assert updated["createdAt"] == first["createdAt"]
    listed = client.call("GET", "/subscriptions")[1]["subscriptions"]
    assert [(s["subscriptionId"], s["eventTypes"]) for s in listed] == [
        ("crm", ["return.refunded"]),
        ("erp", ["*"]),
    ]
    assert all("secret" not in s or s["secret"] is None for s in listed)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "ftp://example.com/x", "eventTypes": ["*"]}, "url", "https"),
        ({"url": "http://example.com/x", "eventTypes": ["*"]}, "url", "https"),
        ({"url": "https://10.1.2.3/x", "eventTypes": ["*"]}, "url", "public host"),
        ({"url": "https://169.254.169.254/latest", "eventTypes": ["*"]}, "url", "public host"),
        ({"url": "https://user:pw@example.com/x", "eventTypes": ["*"]}, "url", "credentials"),
        ({"url": "https://example.com:99999/x", "eventTypes": ["*"]}, "url", "not a URL"),
        ({"url": "https://example.com/x", "eventTypes": []}, "eventTypes", "at least 1"),
        ({"url": "https://example.com/x", "eventTypes": ["order.shipped"]}, "eventTypes.0", ""),
        ({"url": "https://example.com/x", "eventTypes": ["*", "order.created"]}, "eventTypes", "alone"),
        ({"url": "https://example.com/x", "eventTypes": ["*"], "secret": "plain"}, "secret", "whsec_"),
        ({"url": "https://example.com/x", "eventTypes": ["*"], "secret": "whsec_AAAA"}, "secret", "bytes"),
        ({"url": "https://example.com/x", "eventTypes": ["*"], "extra": 1}, "extra", ""),
    ],
)
def test_a_bad_subscription_is_a_400_naming_the_field(
    client: Client, body: dict[str, Any], field: str, words: str
) -> None:
    status, answer = client.call("PUT", "/subscriptions/erp", body)
    assert status == 400, answer
    fields = [d["field"] for d in answer["error"]["details"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), answer
    assert words in json.dumps(answer)
    assert client.call("GET", "/subscriptions/erp")[0] == 404


def test_unknown_subscriptions_are_404_everywhere(client: Client) -> None:
    for method, path in [
        ("GET", "/subscriptions/nope"),
        ("DELETE", "/subscriptions/nope"),
        ("GET", "/subscriptions/nope/deliveries"),
        ("POST", "/subscriptions/nope/redeliver"),
    ]:
        status, body = client.call(method, path)
        assert status == 404 and "nope" in body["error"]["message"], (method, path)
    subscribe(client, "https://hooks.example.com/x", ["*"])
    assert client.call("GET", "/subscriptions/erp/deliveries?status=LOST")[0] == 400
    assert client.call("GET", "/subscriptions/erp/deliveries?cursor=bm9wZQ")[0] == 400
    status, body = client.call("POST", "/subscriptions/erp/redeliver", {"deliveryIds": []})
    assert status == 400 and body["error"]["details"][0]["field"] == "deliveryIds"
