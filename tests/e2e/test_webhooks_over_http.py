"""Outbound webhooks on the running local OMS (`python -m local`), over HTTP, as a retailer sets them
up: a subscription with a generated secret, an order's events POSTed to a receiver on this machine and
verified with the Standard Webhooks reference library, a refusal retried on the real schedule (5 s)."""

from __future__ import annotations

import time
from typing import Any

from tests.support.orders import Client
from tests.support.webhooks import OK, Receiver


def wait_for(client: Client, path: str, wanted: Any, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        status, body = client.call("GET", path)
        assert status == 200, body
        if wanted(body["deliveries"]):
            return list(body["deliveries"])
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def test_a_retailer_subscribes_and_receives_an_orders_events_signed(client: Client) -> None:
    with Receiver() as receiver:
        status, created = client.call(
            "PUT", "/subscriptions/e2e-erp", {"url": receiver.url, "eventTypes": ["order.created"]}
        )
        assert status == 201, created
        order_id = client.place()
        (request,) = receiver.wait_for(lambda got: any(r.event()["subject"] == order_id for r in got))
    assert request.verify(created["secret"])["type"] == "order.created"
    assert request.headers["webhook-id"] == request.event()["id"]
    assert client.call("DELETE", "/subscriptions/e2e-erp") == (204, None)


def test_a_refused_delivery_is_sent_again_five_seconds_later(client: Client) -> None:
    with Receiver([503, OK]) as receiver:
        status, created = client.call(
            "PUT", "/subscriptions/e2e-crm", {"url": receiver.url, "eventTypes": ["order.created"]}
        )
        assert status == 201, created
        order_id = client.place()
        path = "/subscriptions/e2e-crm/deliveries"
        wait_for(client, path, lambda found: found and found[0]["attemptCount"] == 1)
        (delivered,) = wait_for(client, path, lambda found: found and found[0]["status"] == "DELIVERED")
        received = receiver.wait_for(lambda got: len(got) >= 2)
    assert [r.answered for r in received] == [503, 200]
    assert all(r.verify(created["secret"])["subject"] == order_id for r in received)
    assert [a["result"] for a in delivered["attempts"]] == ["HTTP_ERROR", "DELIVERED"]
    assert client.call("DELETE", "/subscriptions/e2e-crm")[0] == 204
