"""EasyPost: `tracker.created` / `tracker.updated` events (an Event whose `result` is the Tracker).

Wire format: `X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256 of the raw body>`, keyed with the
NFKD-normalized webhook secret (EasyPost's `validate_webhook`). The event `id` is the de-duplication
key (EasyPost retries an event with the same id).

Mapping (Tracker -> ShipmentTracking): `id` -> trackerId, `tracking_code` -> trackingNumber,
`carrier` -> carrier, `status`/`status_detail` as they are (the OMS's vocabulary is EasyPost's; an
unknown status is `unknown`), `carrier_detail.est_delivery_date_local`, else the date of
`est_delivery_date` -> estimatedDelivery, `public_url` -> publicUrl, `updated_at` -> updatedAt (what
orders a late event behind a newer one), each `tracking_details[]` -> a checkpoint (`datetime`,
`status`, `message` else `description`, `tracking_location.city/state/country`).
Any other event (`batch.updated`, `refund.successful`...) is acknowledged and ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.channels import json_object
from shared.models.tracking import Checkpoint, TrackerIgnored, TrackerUpdate, TrackingStatus
from shared.signatures import verify_easypost
from shared.tracking import (
    Headers,
    build,
    date_only,
    invalid,
    latest_checkpoints,
    mapping,
    text,
    utc_timestamp,
)

TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})


def authenticate(secrets: Sequence[str], headers: Headers, body: bytes) -> None:
    verify_easypost(secrets, headers, body)


def status_of(value: Any) -> TrackingStatus:
    try:
        return TrackingStatus(str(value))
    except ValueError:
        return TrackingStatus.UNKNOWN


def interpret(provider_id: str, body: bytes) -> TrackerUpdate | TrackerIgnored:
    event = json_object(body, "an EasyPost event")
    event_id = text(event.get("id"))
    if event_id is None:
        raise invalid("id", "is required (the EasyPost event id)")
    result = event.get("result")
    if event.get("description") not in TRACKER_EVENTS or not isinstance(result, dict):
        return TrackerIgnored(eventId=event_id, reason=f"not a tracker event: {event.get('description')}")
    if result.get("object") != "Tracker":
        return TrackerIgnored(eventId=event_id, reason="the event's result is not a Tracker")
    return build(
        TrackerUpdate,
        {
            "eventId": event_id,
            "carrier": text(result.get("carrier")) or "",
            "trackingNumber": text(result.get("tracking_code")) or "",
            "tracking": {**_tracking(result), "providerId": provider_id},
        },
    )


def _tracking(tracker: dict[str, Any]) -> dict[str, Any]:
    if not tracker.get("updated_at"):
        raise invalid("result.updated_at", "is required")
    detail = mapping(tracker.get("carrier_detail"))
    return {
        "trackerId": text(tracker.get("id")) or "",
        "status": status_of(tracker.get("status")),
        "statusDetail": text(tracker.get("status_detail")),
        "estimatedDelivery": date_only(detail.get("est_delivery_date_local"))
        or date_only(tracker.get("est_delivery_date")),
        "publicUrl": text(tracker.get("public_url"), 512),
        "updatedAt": utc_timestamp(tracker["updated_at"], "result.updated_at"),
        "checkpoints": latest_checkpoints(_checkpoints(tracker.get("tracking_details"))),
    }


def _checkpoints(details: Any) -> list[Checkpoint]:
    if not isinstance(details, list):
        return []
    checkpoints = []
    for number, detail in enumerate(details):
        if not isinstance(detail, dict) or not detail.get("datetime"):
            continue
        location = mapping(detail.get("tracking_location"))
        checkpoints.append(
            Checkpoint(
                at=utc_timestamp(detail["datetime"], f"result.tracking_details.{number}.datetime"),
                status=status_of(detail.get("status")),
                message=text(detail.get("message") or detail.get("description"), 512) or "",
                city=text(location.get("city")),
                region=text(location.get("state")),
                country=text(location.get("country")),
            )
        )
    return checkpoints
