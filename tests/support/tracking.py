"""Carrier tracking as EasyPost and AfterShip send it: events built like theirs, signed like theirs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared.signatures import base64_hmac_sha256, easypost_signature
from tests.support.orders import Client

EASYPOST_ID = "easypost-main"
EASYPOST_SECRET = "easypost-webhook-sécret"
AFTERSHIP_ID = "aftership-main"
AFTERSHIP_SECRET = "aftership-webhook-secret-1"

# (status, when, message, city): a checkpoint as a test writes it.
Scan = tuple[str, str, str, str | None]


def easypost_event(
    tracking_code: str,
    status: str,
    *,
    carrier: str = "UPS",
    updated_at: str = "2026-11-20T10:00:00Z",
    scans: list[Scan] | None = None,
    event_id: str | None = None,
    description: str = "tracker.updated",
) -> dict[str, Any]:
    """A `tracker.updated` Event as EasyPost sends it (the shape of its published event body)."""
    details = [
        {
            "object": "TrackingDetail",
            "message": message,
            "description": message,
            "status": scan_status,
            "status_detail": "unknown",
            "datetime": at,
            "source": carrier,
            "tracking_location": {"object": "TrackingLocation", "city": city, "state": None, "country": "US"},
        }
        for scan_status, at, message, city in scans
        or [(status, updated_at, status.replace("_", " "), "RENO")]
    ]
    return {
        "description": description,
        "mode": "production",
        "previous_attributes": {"status": "pre_transit"},
        "created_at": updated_at,
        "pending_urls": ["https://oms.example.com/tracking/easypost-main/webhooks"],
        "completed_urls": [],
        "updated_at": updated_at,
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "user_id": "user_test",
        "status": "pending",
        "object": "Event",
        "result": {
            "id": f"trk_{tracking_code}",
            "object": "Tracker",
            "mode": "production",
            "tracking_code": tracking_code,
            "status": status,
            "status_detail": "arrived_at_facility",
            "created_at": "2026-11-18T09:00:00Z",
            "updated_at": updated_at,
            "est_delivery_date": "2026-11-24T00:00:00Z",
            "carrier": carrier,
            "tracking_details": details,
            "carrier_detail": {"object": "CarrierDetail", "est_delivery_date_local": "2026-11-24"},
            "public_url": f"https://track.easypost.com/{tracking_code}",
        },
    }


def aftership_event(
    tracking_number: str,
    tag: str,
    *,
    slug: str = "ups",
    updated_at: str = "2026-11-20T10:00:00+00:00",
    scans: list[Scan] | None = None,
    event_id: str | None = None,
    return_to_sender: bool = False,
) -> dict[str, Any]:
    """A `tracking_update` webhook as AfterShip sends it."""
    checkpoints = [
        {
            "slug": slug,
            "city": city,
            "state": "NV",
            "country_iso3": "USA",
            "message": message,
            "tag": scan_tag,
            "subtag": f"{scan_tag}_001",
            "checkpoint_time": at,
        }
        for scan_tag, at, message, city in scans or [(tag, updated_at, tag, "RENO")]
    ]
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event": "tracking_update",
        "is_tracking_first_tag": True,
        "msg": {
            "id": f"as-{tracking_number}",
            "tracking_number": tracking_number,
            "slug": slug,
            "tag": tag,
            "subtag": f"{tag}_001",
            "return_to_sender": return_to_sender,
            "expected_delivery": "2026-11-25",
            "updated_at": updated_at,
            "courier_tracking_link": f"https://www.ups.com/track?tracknum={tracking_number}",
            "checkpoints": checkpoints,
        },
        "ts": 1_795_000_000,
    }


def easypost_headers(body: bytes, secret: str = EASYPOST_SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "x-hmac-signature": easypost_signature(secret, body)}


def aftership_headers(body: bytes, secret: str = AFTERSHIP_SECRET) -> dict[str, str]:
    return {"content-type": "application/json", "aftership-hmac-sha256": base64_hmac_sha256(secret, body)}


def register_providers(client: Client) -> None:
    for provider_id, kind, secret in (
        (EASYPOST_ID, "easypost", EASYPOST_SECRET),
        (AFTERSHIP_ID, "aftership", AFTERSHIP_SECRET),
    ):
        status, body = client.call(
            "PUT", f"/tracking-providers/{provider_id}", {"type": kind, "webhookSecret": secret}
        )
        assert status in (200, 201), body


def send_easypost(client: Client, event: dict[str, Any], secret: str = EASYPOST_SECRET) -> tuple[int, Any]:
    body = json.dumps(event, separators=(",", ":")).encode()
    return client.send("POST", f"/tracking/{EASYPOST_ID}/webhooks", easypost_headers(body, secret), body)


def send_aftership(client: Client, event: dict[str, Any]) -> tuple[int, Any]:
    body = json.dumps(event).encode()
    return client.send("POST", f"/tracking/{AFTERSHIP_ID}/webhooks", aftership_headers(body), body)


def shipped_order(client: Client, tracking_number: str, carrier: str = "UPS") -> tuple[str, str]:
    """An order placed and shipped with `carrier` and `tracking_number`: (order id, fulfillment id)."""
    order_id = client.place()
    order = client.wait_for_status(order_id, "FULFILLING")
    fulfillment_id = order["fulfillments"][0]["fulfillmentId"]
    shipped = client.fulfillment_event(
        fulfillment_id, "SHIPPED", carrier=carrier, trackingNumber=tracking_number
    )
    assert shipped[0] == 200, shipped
    return order_id, fulfillment_id


def fulfillment_of(client: Client, order_id: str, fulfillment_id: str) -> dict[str, Any]:
    order = client.order(order_id)
    return next(f for f in order["fulfillments"] if f["fulfillmentId"] == fulfillment_id)
