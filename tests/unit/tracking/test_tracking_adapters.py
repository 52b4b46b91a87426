"""EasyPost and AfterShip deliveries read as tracker updates: signatures (checked against EasyPost's own
client library), every status mapped, and bodies that cannot be used refused with the field named."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from easypost.errors import SignatureVerificationError
from easypost.util import validate_webhook

from shared.errors import InvalidRequest
from shared.models.tracking import (
    EXCEPTION_STATUSES,
    MAX_CHECKPOINTS,
    TrackerIgnored,
    TrackerUpdate,
    TrackingStatus,
    carrier_key,
    tracking_number_key,
)
from shared.signatures import SignatureError, base64_hmac_sha256, easypost_signature
from shared.tracking import aftership, easypost

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tracking"
EASYPOST_BODY = (FIXTURES / "easypost_tracker_delivered.json").read_bytes().rstrip(b"\n")
AFTERSHIP_BODY = (FIXTURES / "aftership_tracking_update.json").read_bytes()
SECRET = "sécret-of-the-webhook"  # not ASCII: EasyPost keys with its NFKD form


def easypost_update(body: bytes = EASYPOST_BODY) -> TrackerUpdate:
    update = easypost.interpret("ep", body)
    assert isinstance(update, TrackerUpdate)
    return update


def aftership_update(body: bytes = AFTERSHIP_BODY) -> TrackerUpdate:
    update = aftership.interpret("as", body)
    assert isinstance(update, TrackerUpdate)
    return update


# -- signatures --------------------------------------------------------------------------------------


def test_our_easypost_signature_is_what_easyposts_library_accepts() -> None:
    signature = easypost_signature(SECRET, EASYPOST_BODY)
    assert signature.startswith("hmac-sha256-hex=")
    assert validate_webhook(EASYPOST_BODY, {"X-Hmac-Signature": signature}, SECRET) == json.loads(
        EASYPOST_BODY
    )


def test_a_signature_made_by_easyposts_rule_is_accepted_and_a_tampered_body_is_not() -> None:
    signature = easypost_signature(SECRET, EASYPOST_BODY)
    easypost.authenticate([SECRET], {"x-hmac-signature": signature}, EASYPOST_BODY)
    tampered = EASYPOST_BODY.replace(b'"delivered"', b'"in_transit"', 1)
    with pytest.raises(SignatureError, match="does not match"):
        easypost.authenticate([SECRET], {"x-hmac-signature": signature}, tampered)
    with pytest.raises(SignatureVerificationError):  # EasyPost's library agrees
        validate_webhook(tampered, {"X-Hmac-Signature": signature}, SECRET)


def test_the_easypost_key_is_the_nfkd_secret_whichever_form_it_was_registered_in() -> None:
    composed, decomposed = unicodedata.normalize("NFC", SECRET), unicodedata.normalize("NFD", SECRET)
    assert composed != decomposed
    assert easypost_signature(composed, EASYPOST_BODY) == easypost_signature(decomposed, EASYPOST_BODY)
    # ...and not the composed bytes as they are:
    import hashlib
    import hmac

    as_is = "hmac-sha256-hex=" + hmac.new(composed.encode(), EASYPOST_BODY, hashlib.sha256).hexdigest()
    assert as_is != easypost_signature(composed, EASYPOST_BODY)


def test_a_missing_or_unmatched_signature_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing x-hmac-signature"):
        easypost.authenticate([SECRET], {}, EASYPOST_BODY)
    with pytest.raises(SignatureError):
        easypost.authenticate(
            [SECRET], {"x-hmac-signature": easypost_signature("other", EASYPOST_BODY)}, EASYPOST_BODY
        )
    with pytest.raises(SignatureError, match="no webhook secret"):
        easypost.authenticate(
            [""], {"x-hmac-signature": easypost_signature("", EASYPOST_BODY)}, EASYPOST_BODY
        )


def test_the_previous_secret_is_tried_too() -> None:
    signature = easypost_signature("old-secret", EASYPOST_BODY)
    easypost.authenticate(["new-secret", "old-secret"], {"x-hmac-signature": signature}, EASYPOST_BODY)


def test_aftership_signs_the_body_with_base64_hmac() -> None:
    signature = base64_hmac_sha256(SECRET, AFTERSHIP_BODY)
    aftership.authenticate([SECRET], {"aftership-hmac-sha256": signature}, AFTERSHIP_BODY)
    with pytest.raises(SignatureError):
        aftership.authenticate([SECRET], {"aftership-hmac-sha256": signature}, AFTERSHIP_BODY + b" ")
    with pytest.raises(SignatureError, match="missing aftership-hmac-sha256"):
        aftership.authenticate([SECRET], {}, AFTERSHIP_BODY)


# -- reading an EasyPost event -----------------------------------------------------------------------


def test_an_easypost_tracker_is_read_in_full() -> None:
    update = easypost_update()
    assert (update.eventId, update.carrier, update.trackingNumber) == (
        "evt_7f3c2a9e41d811f0a2b7",
        "UPS",
        "1Z4A77E20312345675",
    )
    tracking = update.tracking
    assert tracking.providerId == "ep" and tracking.trackerId == "trk_5b8e0c7d"
    assert tracking.status is TrackingStatus.DELIVERED and tracking.statusDetail == "arrived_at_destination"
    assert tracking.estimatedDelivery == "2026-11-21"  # the carrier's local date
    assert tracking.publicUrl == "https://track.easypost.com/djE6dHJrXzViOGUwYzdk"
    assert tracking.updatedAt == "2026-11-21T14:40:01.000Z"
    assert [c.status for c in tracking.checkpoints] == [
        TrackingStatus.PRE_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.OUT_FOR_DELIVERY,
        TrackingStatus.DELIVERED,
    ]
    last = tracking.checkpoints[-1]
    assert (last.at, last.message, last.city, last.region, last.country) == (
        "2026-11-21T14:38:00.000Z",
        "Delivered: Front Door",
        "BROOKLYN",
        "NY",
        "US",
    )
    assert tracking.checkpoints[0].city is None


@pytest.mark.parametrize("status", [s.value for s in TrackingStatus])
def test_every_easypost_status_is_mapped_to_itself(status: str) -> None:
    event = json.loads(EASYPOST_BODY)
    event["result"]["status"] = status
    assert easypost_update(json.dumps(event).encode()).tracking.status.value == status


def test_an_easypost_status_we_do_not_know_is_unknown() -> None:
    event = json.loads(EASYPOST_BODY)
    event["result"]["status"] = "teleported"
    event["result"]["tracking_details"][0]["status"] = None
    tracking = easypost_update(json.dumps(event).encode()).tracking
    assert (
        tracking.status is TrackingStatus.UNKNOWN and tracking.checkpoints[0].status is TrackingStatus.UNKNOWN
    )


def test_exception_statuses_are_the_ones_that_need_attention() -> None:
    assert {TrackingStatus.RETURN_TO_SENDER, TrackingStatus.FAILURE} == EXCEPTION_STATUSES


def test_checkpoints_are_kept_oldest_first_and_at_most_the_newest_hundred() -> None:
    event = json.loads(EASYPOST_BODY)
    scan = event["result"]["tracking_details"][1]
    event["result"]["tracking_details"] = [
        {**scan, "datetime": f"2026-11-{1 + n // 24:02d}T{n % 24:02d}:00:00Z", "message": f"scan {n}"}
        for n in reversed(range(MAX_CHECKPOINTS + 20))
    ]
    checkpoints = easypost_update(json.dumps(event).encode()).tracking.checkpoints
    assert len(checkpoints) == MAX_CHECKPOINTS
    assert checkpoints[0].message == "scan 20" and checkpoints[-1].message == f"scan {MAX_CHECKPOINTS + 19}"


@pytest.mark.parametrize("description", ["batch.updated", "refund.successful", "shipment.invoice.created"])
def test_other_easypost_events_are_acknowledged(description: str) -> None:
    body = json.dumps({"id": "evt_other", "description": description, "result": {"object": "Batch"}}).encode()
    ignored = easypost.interpret("ep", body)
    assert isinstance(ignored, TrackerIgnored) and ignored.eventId == "evt_other"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("id"), "id"),
        (lambda e: e["result"].pop("updated_at"), "result.updated_at"),
        (lambda e: e["result"].update(updated_at="2026-11-21 14:40"), "result.updated_at"),
        (lambda e: e["result"].update(tracking_code="  "), "trackingNumber"),
        (lambda e: e["result"].pop("carrier"), "carrier"),
        (
            lambda e: e["result"]["tracking_details"][2].update(datetime="yesterday"),
            "result.tracking_details.2.datetime",
        ),
    ],
    ids=["no-id", "no-updated-at", "no-offset", "blank-code", "no-carrier", "bad-scan-time"],
)
def test_an_unusable_easypost_event_is_refused_naming_the_field(change: Any, field: str) -> None:
    event = json.loads(EASYPOST_BODY)
    change(event)
    with pytest.raises(InvalidRequest) as refused:
        easypost.interpret("ep", json.dumps(event).encode())
    assert field in [problem["field"] for problem in refused.value.details]


# -- reading an AfterShip webhook --------------------------------------------------------------------


def test_an_aftership_tracking_is_read_in_full() -> None:
    update = aftership_update()
    assert (update.eventId, update.carrier, update.trackingNumber) == (
        "5f2c1e9a-8b1d-4c0e-9a37-2d6b1f0c8e41",
        "usps",
        "9400111899223197428490",
    )
    tracking = update.tracking
    assert (
        tracking.status is TrackingStatus.OUT_FOR_DELIVERY and tracking.statusDetail == "OutForDelivery_001"
    )
    assert tracking.estimatedDelivery == "2026-11-22"
    assert tracking.updatedAt == "2026-11-22T07:12:09.000Z"
    assert tracking.publicUrl is not None and tracking.publicUrl.startswith("https://tools.usps.com/")
    first = tracking.checkpoints[0]
    assert (first.at, first.status, first.city, first.region, first.country) == (
        "2026-11-19T17:58:00.000Z",  # -08:00 in UTC
        TrackingStatus.PRE_TRANSIT,
        "RENO",
        "NV",
        "USA",
    )


@pytest.mark.parametrize(
    ("tag", "returning", "status"),
    [
        ("Pending", False, TrackingStatus.UNKNOWN),
        ("InfoReceived", False, TrackingStatus.PRE_TRANSIT),
        ("InTransit", False, TrackingStatus.IN_TRANSIT),
        ("OutForDelivery", False, TrackingStatus.OUT_FOR_DELIVERY),
        ("AvailableForPickup", False, TrackingStatus.AVAILABLE_FOR_PICKUP),
        ("Delivered", False, TrackingStatus.DELIVERED),
        ("AttemptFail", False, TrackingStatus.FAILURE),
        ("Exception", False, TrackingStatus.FAILURE),
        ("Exception", True, TrackingStatus.RETURN_TO_SENDER),
        ("Expired", False, TrackingStatus.ERROR),
        ("SomethingNew", False, TrackingStatus.UNKNOWN),
    ],
)
def test_every_aftership_tag_is_mapped(tag: str, returning: bool, status: TrackingStatus) -> None:
    event = json.loads(AFTERSHIP_BODY)
    event["msg"].update(tag=tag, return_to_sender=returning)
    assert aftership_update(json.dumps(event).encode()).tracking.status is status


def test_an_aftership_tracking_without_updated_at_is_dated_by_the_event() -> None:
    event = json.loads(AFTERSHIP_BODY)
    del event["msg"]["updated_at"]
    assert aftership_update(json.dumps(event).encode()).tracking.updatedAt == "2026-11-22T07:12:09.000Z"


def test_other_aftership_events_are_acknowledged_and_a_missing_event_id_refused() -> None:
    pending = json.dumps({"event_id": "e1", "event": "tracking_pending_time", "msg": {}}).encode()
    assert isinstance(aftership.interpret("as", pending), TrackerIgnored)
    event = json.loads(AFTERSHIP_BODY)
    del event["event_id"]
    with pytest.raises(InvalidRequest, match="event_id"):
        aftership.interpret("as", json.dumps(event).encode())


# -- matching ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("UPS", "ups"),
        ("United Parcel Service", "UPS"),
        ("FedEx", "fedex"),
        ("Federal Express", "FEDEX"),
        ("USPS", "usps"),
    ],
)
def test_carriers_spelled_differently_are_the_same(one: str, other: str) -> None:
    assert carrier_key(one) == carrier_key(other)


def test_different_carriers_stay_different_and_numbers_ignore_spaces_and_case() -> None:
    assert carrier_key("UPS") != carrier_key("USPS")
    assert tracking_number_key(" 1z 999 aa1 ") == "1Z999AA1"
