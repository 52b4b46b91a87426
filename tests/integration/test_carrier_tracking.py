"""Carrier tracking webhooks (EasyPost, AfterShip) on the real handlers and the real ASL: a tracker is
matched to the shipment by carrier and tracking number, kept as its tracking history, delivers it
(moving the workflow), flags exceptions, and never goes backward or applies an event twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.runtime import LocalOMS
from tests.support.orders import Client, canonical_order
from tests.support.tracking import (
    AFTERSHIP_ID,
    EASYPOST_ID,
    EASYPOST_SECRET,
    aftership_event,
    easypost_event,
    easypost_headers,
    fulfillment_of,
    register_providers,
    send_aftership,
    send_easypost,
    shipped_order,
)


@pytest.fixture
def tracked(client: Client) -> Client:
    register_providers(client)
    return client


def timeline(client: Client, order_id: str) -> list[str]:
    return [entry["status"] for entry in client.order(order_id)["timeline"]]


def deliveries(client: Client, provider_id: str) -> list[dict[str, Any]]:
    status, body = client.call("GET", f"/tracking-providers/{provider_id}/deliveries")
    assert status == 200, body
    return list(body["deliveries"])


# -- registering a provider --------------------------------------------------------------------------


def test_a_provider_is_registered_like_a_channel_and_never_shows_its_secret(client: Client) -> None:
    status, created = client.call(
        "PUT", "/tracking-providers/ep", {"type": "easypost", "webhookSecret": EASYPOST_SECRET}
    )
    assert status == 201, created
    assert created["webhookUrl"] == "/tracking/ep/webhooks"
    status, again = client.call(
        "PUT", "/tracking-providers/ep", {"type": "easypost", "webhookSecret": "rotated-secret"}
    )
    assert status == 200 and again["previousSecretValidUntil"]
    status, listed = client.call("GET", "/tracking-providers")
    assert status == 200 and [p["providerId"] for p in listed["providers"]] == ["ep"]
    assert EASYPOST_SECRET not in json.dumps(listed) and "rotated-secret" not in json.dumps(listed)

    status, refused = client.call(
        "PUT", "/tracking-providers/ep", {"type": "aftership", "webhookSecret": "another-one"}
    )
    assert status == 409 and refused["error"]["details"]["type"] == "easypost"
    status, refused = client.call(
        "PUT", "/tracking-providers/ep", {"type": "shippo", "webhookSecret": "another-one"}
    )
    assert status == 400 and refused["error"]["code"] == "VALIDATION_ERROR"
    assert client.call("GET", "/tracking-providers/nobody")[0] == 404


def test_the_previous_secret_stays_valid_while_a_rotation_lasts(tracked: Client) -> None:
    client = tracked
    _order_id, _fulfillment_id = shipped_order(client, "1ZROTATE")
    assert (
        client.call(
            "PUT",
            f"/tracking-providers/{EASYPOST_ID}",
            {"type": "easypost", "webhookSecret": "the-new-secret"},
        )[0]
        == 200
    )
    status, receipt = send_easypost(client, easypost_event("1ZROTATE", "in_transit"), secret=EASYPOST_SECRET)
    assert status == 200 and receipt["outcome"] == "UPDATED", receipt
    status, receipt = send_easypost(
        client,
        easypost_event("1ZROTATE", "in_transit", updated_at="2026-11-20T11:00:00Z"),
        secret="the-new-secret",
    )
    assert status == 200 and receipt["outcome"] == "UPDATED", receipt


# -- what a tracker does ----------------------------------------------------------------------------


def test_an_easypost_tracker_becomes_the_shipments_tracking_history(tracked: Client) -> None:
    client = tracked
    order_id, fulfillment_id = shipped_order(client, "1Z999AA10123456784")
    event = easypost_event(
        "1Z 999 AA1 0123 456 784",  # spaced as a carrier may print it
        "in_transit",
        carrier="United Parcel Service",  # spelled otherwise than the warehouse did
        scans=[
            ("in_transit", "2026-11-19T18:00:00Z", "Departed facility", "RENO"),
            ("pre_transit", "2026-11-19T09:00:00Z", "Label created", None),
        ],
    )
    status, receipt = send_easypost(client, event)
    assert status == 200, receipt
    assert receipt["outcome"] == "UPDATED"
    assert receipt["fulfillmentId"] == fulfillment_id and receipt["orderId"] == order_id
    assert receipt["deliveryId"].startswith("dlv_")

    tracking = fulfillment_of(client, order_id, fulfillment_id)["tracking"]
    assert tracking["providerId"] == EASYPOST_ID and tracking["status"] == "in_transit"
    assert tracking["estimatedDelivery"] == "2026-11-24"
    assert tracking["publicUrl"] == "https://track.easypost.com/1Z 999 AA1 0123 456 784"
    assert [c["message"] for c in tracking["checkpoints"]] == [
        "Label created",
        "Departed facility",
    ]  # oldest first
    assert tracking["checkpoints"][1] == {
        "at": "2026-11-19T18:00:00.000Z",
        "status": "in_transit",
        "message": "Departed facility",
        "city": "RENO",
        "region": None,
        "country": "US",
    }
    assert "TRACKING_IN_TRANSIT" in timeline(client, order_id)
    assert client.order(order_id)["status"] == "SHIPPED"

    archived = deliveries(client, EASYPOST_ID)
    assert (
        archived[0]["deliveryId"] == receipt["deliveryId"] and archived[0]["result"]["outcome"] == "UPDATED"
    )
    status, kept = client.call("GET", f"/tracking-providers/{EASYPOST_ID}/deliveries/{receipt['deliveryId']}")
    assert status == 200 and json.loads(kept["body"]) == event


def test_delivered_by_the_tracker_moves_the_real_workflow_to_delivered(
    oms: LocalOMS, tracked: Client
) -> None:
    client = tracked
    order_id, fulfillment_id = shipped_order(client, "1ZDELIVER")
    event = easypost_event(
        "1ZDELIVER",
        "delivered",
        updated_at="2026-11-21T15:00:00Z",
        scans=[
            ("out_for_delivery", "2026-11-21T08:00:00Z", "Out for delivery", "RENO"),
            ("delivered", "2026-11-21T14:32:00Z", "Delivered, front door", "RENO"),
        ],
    )
    status, receipt = send_easypost(client, event)
    assert status == 200 and receipt["outcome"] == "DELIVERED", receipt
    order = client.wait_for_status(order_id, "DELIVERED")
    fulfillment = fulfillment_of(client, order_id, fulfillment_id)
    assert fulfillment["status"] == "DELIVERED"
    assert fulfillment["deliveredAt"] == "2026-11-21T14:32:00.000Z"  # the carrier's delivered scan
    assert oms.wait_for_execution(order_id, timeout=15)["status"] == "SUCCEEDED"
    assert order["timeline"][-1]["status"] == "DELIVERED"


def test_an_aftership_delivery_moves_the_workflow_too(oms: LocalOMS, tracked: Client) -> None:
    client = tracked
    order_id, fulfillment_id = shipped_order(client, "9400111899223197428490", carrier="USPS")
    status, receipt = send_aftership(
        client, aftership_event("9400111899223197428490", "Delivered", slug="usps")
    )
    assert status == 200 and receipt["outcome"] == "DELIVERED", receipt
    client.wait_for_status(order_id, "DELIVERED")
    tracking = fulfillment_of(client, order_id, fulfillment_id)["tracking"]
    assert tracking["providerId"] == AFTERSHIP_ID and tracking["status"] == "delivered"
    assert tracking["estimatedDelivery"] == "2026-11-25"


def test_a_late_older_event_never_moves_the_shipment_backward(tracked: Client) -> None:
    client = tracked
    order_id, fulfillment_id = shipped_order(client, "1ZLATE")
    newer = easypost_event("1ZLATE", "out_for_delivery", updated_at="2026-11-21T08:00:00Z")
    older = easypost_event("1ZLATE", "in_transit", updated_at="2026-11-20T08:00:00Z")
    assert send_easypost(client, newer)[1]["outcome"] == "UPDATED"
    status, receipt = send_easypost(client, older)
    assert status == 200 and receipt["outcome"] == "STALE", receipt
    assert receipt["trackingStatus"] == "out_for_delivery"
    assert fulfillment_of(client, order_id, fulfillment_id)["tracking"]["status"] == "out_for_delivery"
    assert timeline(client, order_id).count("TRACKING_OUT_FOR_DELIVERY") == 1
    assert "TRACKING_IN_TRANSIT" not in timeline(client, order_id)


def test_a_duplicate_event_is_applied_once(tracked: Client) -> None:
    client = tracked
    order_id, fulfillment_id = shipped_order(client, "1ZTWICE")
    event = easypost_event("1ZTWICE", "in_transit", event_id="evt_twice")
    first = send_easypost(client, event)[1]
    # EasyPost retries an event with the same id; its bookkeeping fields may differ.
    retried = {
        **event,
        "completed_urls": ["https://elsewhere.example.com"],
        "updated_at": "2026-11-22T00:00:00Z",
    }
    status, second = send_easypost(client, retried)
    assert first["outcome"] == "UPDATED"
    assert status == 200 and second["outcome"] == "DUPLICATE" and second["fulfillmentId"] == fulfillment_id
    assert second["deliveryId"] != first["deliveryId"]  # both deliveries are archived
    assert timeline(client, order_id).count("TRACKING_IN_TRANSIT") == 1


@pytest.mark.parametrize(
    ("send", "status_word"),
    [
        (lambda c, n: send_easypost(c, easypost_event(n, "return_to_sender")), "return_to_sender"),
        (lambda c, n: send_easypost(c, easypost_event(n, "failure")), "failure"),
        (
            lambda c, n: send_aftership(c, aftership_event(n, "Exception", return_to_sender=True)),
            "return_to_sender",
        ),
        (lambda c, n: send_aftership(c, aftership_event(n, "AttemptFail")), "failure"),
    ],
    ids=["easypost-return", "easypost-failure", "aftership-exception-returning", "aftership-attempt-failed"],
)
def test_a_carrier_exception_flags_the_order_for_attention(
    tracked: Client, send: Any, status_word: str
) -> None:
    client = tracked
    order_id, fulfillment_id = shipped_order(client, "1ZEXCEPT")
    status, receipt = send(client, "1ZEXCEPT")
    assert status == 200 and receipt["outcome"] == "UPDATED", receipt
    order = client.order(order_id)
    assert order["attention"]["kind"] == "CARRIER_EXCEPTION"
    assert order["attention"]["trackingStatus"] == status_word
    assert order["attention"]["fulfillmentId"] == fulfillment_id
    assert order["status"] == "SHIPPED"  # flagged, not moved
    assert f"TRACKING_{status_word.upper()}" in timeline(client, order_id)


def test_an_ordinary_update_flags_nothing(tracked: Client) -> None:
    client = tracked
    order_id, _ = shipped_order(client, "1ZCALM")
    send_easypost(client, easypost_event("1ZCALM", "out_for_delivery"))
    assert client.order(order_id).get("attention") is None


def test_a_tracker_for_no_known_shipment_is_archived_and_acknowledged(tracked: Client) -> None:
    client = tracked
    status, receipt = send_easypost(client, easypost_event("NOT-OURS-123", "in_transit"))
    assert status == 200 and receipt["outcome"] == "UNMATCHED", receipt
    assert receipt["fulfillmentId"] is None
    assert deliveries(client, EASYPOST_ID)[0]["result"]["outcome"] == "UNMATCHED"


def test_the_same_number_with_another_carrier_is_not_the_shipment(tracked: Client) -> None:
    client = tracked
    _order_id, _fulfillment_id = shipped_order(client, "123456789012", carrier="FedEx")
    assert (
        send_easypost(client, easypost_event("123456789012", "in_transit", carrier="USPS"))[1]["outcome"]
        == "UNMATCHED"
    )
    assert (
        send_easypost(client, easypost_event("123456789012", "in_transit", carrier="FEDEX"))[1]["outcome"]
        == "UPDATED"
    )


def test_a_corrected_tracking_number_is_the_one_matched(tracked: Client) -> None:
    client = tracked
    _order_id, fulfillment_id = shipped_order(client, "1ZTYPO")
    assert (
        client.fulfillment_event(fulfillment_id, "SHIPPED", carrier="UPS", trackingNumber="1ZRIGHT")[0] == 200
    )
    assert send_easypost(client, easypost_event("1ZTYPO", "in_transit"))[1]["outcome"] == "UNMATCHED"
    assert send_easypost(client, easypost_event("1ZRIGHT", "in_transit"))[1]["outcome"] == "UPDATED"


def test_each_tracker_of_a_split_order_moves_its_own_shipment(oms: LocalOMS, tracked: Client) -> None:
    client = tracked
    assert client.call("PUT", "/inventory/CAP-RED/locations/wh-east", {"onHand": 5})[0] == 200
    order_id = client.place(canonical_order([("CAP-RED", 2), ("TEE-M", 1)]))
    order = client.wait_for_status(order_id, "FULFILLING")
    first, second = order["fulfillments"]
    for fulfillment, number in ((first, "1ZSPLITA"), (second, "1ZSPLITB")):
        shipped = client.fulfillment_event(
            fulfillment["fulfillmentId"], "SHIPPED", carrier="UPS", trackingNumber=number
        )
        assert shipped[0] == 200
    assert send_easypost(client, easypost_event("1ZSPLITA", "delivered"))[1]["outcome"] == "DELIVERED"
    assert client.wait_for_status(order_id, "PARTIALLY_DELIVERED", "SHIPPED")["status"] != "DELIVERED"
    assert fulfillment_of(client, order_id, second["fulfillmentId"]).get("tracking") is None
    assert send_easypost(client, easypost_event("1ZSPLITB", "delivered"))[1]["outcome"] == "DELIVERED"
    client.wait_for_status(order_id, "DELIVERED")


# -- refusals ---------------------------------------------------------------------------------------


def test_a_tampered_body_is_refused_and_not_archived(tracked: Client) -> None:
    client = tracked
    body = json.dumps(easypost_event("1ZTAMPER", "delivered")).encode()
    headers = easypost_headers(body)
    tampered = body.replace(b'"delivered"', b'"in_transit"', 1)
    status, refused = client.send("POST", f"/tracking/{EASYPOST_ID}/webhooks", headers, tampered)
    assert status == 401 and refused["error"]["code"] == "UNAUTHORIZED", refused
    status, refused = client.send(
        "POST", f"/tracking/{EASYPOST_ID}/webhooks", {"content-type": "application/json"}, body
    )
    assert status == 401 and "x-hmac-signature" in refused["error"]["message"]
    assert deliveries(client, EASYPOST_ID) == []


def test_an_unknown_provider_is_404(tracked: Client) -> None:
    body = json.dumps(easypost_event("1Z", "in_transit")).encode()
    status, refused = tracked.send("POST", "/tracking/nobody/webhooks", easypost_headers(body), body)
    assert status == 404 and refused["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (json.dumps({"description": "tracker.updated", "result": {"object": "Tracker"}}).encode(), "id"),
        (
            json.dumps(
                {
                    "id": "evt_x",
                    "description": "tracker.updated",
                    "result": {"object": "Tracker", "updated_at": "soon"},
                }
            ).encode(),
            "result.updated_at",
        ),
        (
            json.dumps(
                {
                    "id": "evt_y",
                    "description": "tracker.updated",
                    "result": {"object": "Tracker", "updated_at": "2026-11-20T10:00:00Z"},
                }
            ).encode(),
            "carrier",
        ),
    ],
    ids=["not-json", "not-an-object", "no-event-id", "bad-time", "no-carrier"],
)
def test_an_authentic_but_unreadable_body_is_400_naming_the_field_and_archived(
    tracked: Client, body: bytes, field: str
) -> None:
    status, refused = tracked.send("POST", f"/tracking/{EASYPOST_ID}/webhooks", easypost_headers(body), body)
    assert status == 400, refused
    assert field in [problem["field"] for problem in refused["error"]["details"]]
    archived = deliveries(tracked, EASYPOST_ID)
    assert archived[0]["result"]["outcome"] == "INVALID"


def test_an_event_about_something_else_is_acknowledged(tracked: Client) -> None:
    event = {
        "id": "evt_batch",
        "description": "batch.updated",
        "object": "Event",
        "result": {"object": "Batch"},
    }
    status, receipt = send_easypost(tracked, event)
    assert status == 200 and receipt["outcome"] == "IGNORED" and "batch.updated" in receipt["reason"]


def test_a_body_over_the_limit_is_413(tracked: Client) -> None:
    body = json.dumps({"id": "evt_big", "padding": "x" * (256 * 1024)}).encode()
    status, refused = tracked.send("POST", f"/tracking/{EASYPOST_ID}/webhooks", easypost_headers(body), body)
    assert status == 413 and refused["error"]["code"] == "PAYLOAD_TOO_LARGE"
