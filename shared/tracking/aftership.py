"""AfterShip: `tracking_update` (and `edd_revise`) webhooks, whose `msg` is the Tracking.

Wire format: `aftership-hmac-sha256` = base64(HMAC-SHA256(webhook secret, raw body)); `event_id`
(a UUID) is the de-duplication key.

Mapping (Tracking -> ShipmentTracking): `id` -> trackerId, `tracking_number`, `slug` -> carrier,
`tag` -> status (InfoReceived: pre_transit, InTransit: in_transit, OutForDelivery: out_for_delivery,
AvailableForPickup: available_for_pickup, Delivered: delivered, AttemptFail: failure, Exception:
return_to_sender when `return_to_sender` is true, else failure, Expired: error, Pending: unknown),
`subtag` -> statusDetail, `aftership_estimated_delivery_date.estimated_delivery_date`, else
`expected_delivery` -> estimatedDelivery, `courier_tracking_link` -> publicUrl, `updated_at` (else the
event's `ts`) -> updatedAt, each `checkpoints[]` -> a checkpoint (`checkpoint_time`, `tag`, `message`,
`city`, `state`, `country_iso3` else `country_name`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.channels import json_object
from shared.models.tracking import Checkpoint, TrackerIgnored, TrackerUpdate, TrackingStatus
from shared.signatures import verify_base64_hmac
from shared.tracking import Headers, build, date_only, invalid, latest_checkpoints, text, utc_timestamp

SIGNATURE_HEADER = "aftership-hmac-sha256"
TRACKING_EVENTS = frozenset({"tracking_update", "edd_revise"})
TAGS = {
    "Pending": TrackingStatus.UNKNOWN,
    "InfoReceived": TrackingStatus.PRE_TRANSIT,
    "InTransit": TrackingStatus.IN_TRANSIT,
    "OutForDelivery": TrackingStatus.OUT_FOR_DELIVERY,
    "AvailableForPickup": TrackingStatus.AVAILABLE_FOR_PICKUP,
    "Delivered": TrackingStatus.DELIVERED,
    "AttemptFail": TrackingStatus.FAILURE,
    "Exception": TrackingStatus.FAILURE,
    "Expired": TrackingStatus.ERROR,
}


def authenticate(secrets: Sequence[str], headers: Headers, body: bytes) -> None:
    verify_base64_hmac(SIGNATURE_HEADER, secrets, headers, body)


def status_of(tag: Any, returning: bool = False) -> TrackingStatus:
    status = TAGS.get(str(tag), TrackingStatus.UNKNOWN)
    if status is TrackingStatus.FAILURE and returning and tag == "Exception":
        return TrackingStatus.RETURN_TO_SENDER
    return status


def interpret(provider_id: str, body: bytes) -> TrackerUpdate | TrackerIgnored:
    event = json_object(body, "an AfterShip webhook")
    event_id = text(event.get("event_id"))
    if event_id is None:
        raise invalid("event_id", "is required (the AfterShip event id)")
    tracking = event.get("msg")
    if event.get("event") not in TRACKING_EVENTS or not isinstance(tracking, dict):
        return TrackerIgnored(eventId=event_id, reason=f"not a tracking event: {event.get('event')}")
    return build(
        TrackerUpdate,
        {
            "eventId": event_id,
            "carrier": text(tracking.get("slug")) or "",
            "trackingNumber": text(tracking.get("tracking_number")) or "",
            "tracking": {**_tracking(tracking, event.get("ts")), "providerId": provider_id},
        },
    )


def _tracking(tracking: dict[str, Any], sent_at: Any) -> dict[str, Any]:
    updated = tracking.get("updated_at") or sent_at
    if not updated:
        raise invalid("msg.updated_at", "is required")
    estimate = tracking.get("aftership_estimated_delivery_date")
    estimated = estimate.get("estimated_delivery_date") if isinstance(estimate, dict) else None
    return {
        "trackerId": text(tracking.get("id")) or "",
        "status": status_of(tracking.get("tag"), tracking.get("return_to_sender") is True),
        "statusDetail": text(tracking.get("subtag")),
        "estimatedDelivery": date_only(estimated) or date_only(tracking.get("expected_delivery")),
        "publicUrl": text(tracking.get("courier_tracking_link"), 512),
        "updatedAt": utc_timestamp(updated, "msg.updated_at"),
        "checkpoints": latest_checkpoints(_checkpoints(tracking.get("checkpoints"))),
    }


def _checkpoints(entries: Any) -> list[Checkpoint]:
    if not isinstance(entries, list):
        return []
    checkpoints = []
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("checkpoint_time"):
            continue
        checkpoints.append(
            Checkpoint(
                at=utc_timestamp(entry["checkpoint_time"], f"msg.checkpoints.{number}.checkpoint_time"),
                status=status_of(entry.get("tag")),
                message=text(entry.get("message"), 512) or "",
                city=text(entry.get("city")),
                region=text(entry.get("state")),
                country=text(entry.get("country_iso3") or entry.get("country_name")),
            )
        )
    return checkpoints
