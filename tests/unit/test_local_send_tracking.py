"""`python -m local.send_tracking`: the events it sends are what EasyPost and AfterShip send, signed as
they sign, and read back by the OMS's own adapters as the journey it claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.demo import DEMO_TRACKING_PROVIDERS
from local.send_tracking import describe, journey, signed_event
from shared.models.tracking import TrackerUpdate
from shared.tracking import aftership, easypost

SHIPMENT = {"fulfillmentId": "ord_X-F1", "carrier": "UPS", "trackingNumber": "1ZOMSABC", "status": "SHIPPED"}
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_the_journey_goes_as_far_as_asked_or_turns_into_the_exception() -> None:
    assert journey("delivered") == ["pre_transit", "in_transit", "out_for_delivery", "delivered"]
    assert journey("out_for_delivery") == ["pre_transit", "in_transit", "out_for_delivery"]
    assert journey("return_to_sender") == ["pre_transit", "in_transit", "return_to_sender"]


@pytest.mark.parametrize(
    ("provider_id", "adapter"), [("demo-easypost", easypost), ("demo-aftership", aftership)]
)
@pytest.mark.parametrize("until", ["delivered", "return_to_sender", "failure"])
def test_each_event_is_signed_and_read_back_as_the_scans_sent(
    provider_id: str, adapter: object, until: str
) -> None:
    provider = DEMO_TRACKING_PROVIDERS[provider_id]
    scans = [(status, START + timedelta(hours=n)) for n, status in enumerate(journey(until))]
    body, headers = signed_event(provider, SHIPMENT, scans)
    adapter.authenticate([provider["webhookSecret"]], headers, body)  # type: ignore[attr-defined]
    update = adapter.interpret(provider_id, body)  # type: ignore[attr-defined]
    assert isinstance(update, TrackerUpdate)
    assert (update.trackingNumber, update.tracking.status.value) == ("1ZOMSABC", until)
    # An AfterShip checkpoint has no return_to_sender flag of its own: its Exception is a failure.
    assert [c.status.value for c in update.tracking.checkpoints][:-1] == journey(until)[:-1]
    assert len(update.tracking.checkpoints) == len(scans)
    assert update.tracking.updatedAt == f"2026-11-20T{8 + len(scans):02d}:00:00.000Z"


def test_the_order_is_described_with_each_shipments_tracking_and_its_attention_flag() -> None:
    tracked = {
        **SHIPMENT,
        "tracking": {
            "status": "return_to_sender",
            "estimatedDelivery": "2026-11-23",
            "checkpoints": [{"message": "Returned to sender"}],
        },
    }
    order = {
        "orderId": "ord_X",
        "status": "SHIPPED",
        "fulfillments": [tracked],
        "attention": {"reason": "why"},
    }
    assert describe(order) == [
        "Order ord_X is SHIPPED.",
        "  ord_X-F1: SHIPPED, carrier says return_to_sender (Returned to sender), expected 2026-11-23",
        "  Needs attention: why",
    ]
