"""Return windows and which delivered units a return takes (pure parts of shared/logic/returns.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from shared.logic.returns import Delivered, _take, delivered_units, returnable_until
from shared.models.catalog import FulfillmentLine, ReturnPolicy
from shared.models.order import Fulfillment, FulfillmentStatus
from shared.models.returns import ReturnEventIn, ReturnIn


def test_the_window_ends_with_the_last_utc_calendar_day() -> None:
    assert returnable_until("2026-11-01T23:59:00.000Z", 30) == "2026-12-01T23:59:59.999Z"
    assert returnable_until("2026-11-01T00:00:01.000Z", 30) == "2026-12-01T23:59:59.999Z"
    assert returnable_until("2026-11-01T10:00:00.000Z", 0) == "2026-11-01T23:59:59.999Z"
    # A delivery reported with a UTC offset counts by its UTC day.
    assert returnable_until("2026-11-01T22:30:00-05:00", 1) == "2026-11-03T23:59:59.999Z"


def fulfillment(fid: str, status: FulfillmentStatus, units: int, delivered_at: str | None) -> Fulfillment:
    return Fulfillment(
        fulfillmentId=fid,
        orderId="ord_X",
        warehouseId="wh",
        lines=[FulfillmentLine(sku="MUG", quantity=units)],
        status=status,
        deliveredAt=delivered_at,
        createdAt="2026-11-01T00:00:00.000Z",
        updatedAt="2026-11-02T00:00:00.000Z",
    )


def test_only_delivered_fulfillments_count_the_one_closing_first_first() -> None:
    found = delivered_units(
        [
            fulfillment("F1", FulfillmentStatus.DELIVERED, 2, "2026-11-20T10:00:00.000Z"),
            fulfillment("F2", FulfillmentStatus.SHIPPED, 5, None),
            fulfillment("F3", FulfillmentStatus.DELIVERED, 1, "2026-11-10T10:00:00.000Z"),
        ],
        "MUG",
        30,
    )
    assert [(d.fulfillment_id, d.quantity) for d in found] == [("F3", 1), ("F1", 2)]


def deliveries() -> list[Delivered]:
    return [
        Delivered("F3", 1, "2026-10-01T10:00:00.000Z", "2026-10-31T23:59:59.999Z"),
        Delivered("F1", 2, "2026-11-20T10:00:00.000Z", "2026-12-20T23:59:59.999Z"),
        Delivered("F4", 2, "2026-11-25T10:00:00.000Z", "2026-12-25T23:59:59.999Z"),
    ]


def test_units_come_from_deliveries_still_in_their_window_less_what_returns_hold() -> None:
    taken = _take("MUG", 3, deliveries(), {"U#F1#MUG": 1}, now="2026-12-01T00:00:00.000Z")
    assert not isinstance(taken, dict)
    assert [(t.fulfillmentId, t.quantity) for t in taken] == [("F1", 1), ("F4", 2)]


@pytest.mark.parametrize(
    ("quantity", "held", "code", "extra"),
    [
        (6, {}, "MORE_THAN_DELIVERED", {"delivered": 5, "returnable": 5}),
        (5, {}, "OUTSIDE_WINDOW", {"returnable": 4}),
        (4, {"U#F4#MUG": 1}, "OUTSIDE_WINDOW", {"returnable": 3}),
    ],
)
def test_why_units_cannot_be_taken(
    quantity: int, held: dict[str, int], code: str, extra: dict[str, Any]
) -> None:
    refused = _take("MUG", quantity, deliveries(), held, now="2026-12-01T00:00:00.000Z")
    assert isinstance(refused, dict)
    assert refused["code"] == code
    assert {key: refused[key] for key in extra} == extra


def test_a_policy_takes_decimal_strings_and_refuses_floats_and_repeats() -> None:
    assert ReturnPolicy(restockingFeePercent="12.5").restockingFeePercent == Decimal("12.5")  # type: ignore[arg-type]
    for bad in ({"restockingFeePercent": 10.0}, {"restockingFeePercent": "101"}, {"windowDays": -1}):
        with pytest.raises(ValidationError):
            ReturnPolicy.model_validate(bad)
    with pytest.raises(ValidationError, match="twice"):
        ReturnPolicy(nonReturnableSkus=["A", "A"])


def test_a_return_request_is_consistent_with_its_resolution() -> None:
    line = {"sku": "MUG", "quantity": 1, "reason": "too small"}
    with pytest.raises(ValidationError, match="needs the replacement"):
        ReturnIn.model_validate({"lines": [line], "resolution": "EXCHANGE"})
    with pytest.raises(ValidationError, match="only an EXCHANGE"):
        ReturnIn.model_validate(
            {"lines": [line], "resolution": "REFUND", "exchangeLines": [{"sku": "MUG", "quantity": 1}]}
        )
    with pytest.raises(ValidationError, match="twice"):
        ReturnIn.model_validate({"lines": [line, line], "resolution": "REFUND"})


def test_a_receipt_names_each_sku_once_per_condition() -> None:
    line = {"sku": "MUG", "quantity": 1, "condition": "RESELLABLE"}
    with pytest.raises(ValidationError, match="twice"):
        ReturnEventIn.model_validate({"type": "RECEIVED", "warehouseId": "wh", "lines": [line, line]})
    both = [line, line | {"condition": "DAMAGED"}]
    assert (
        len(ReturnEventIn.model_validate({"type": "RECEIVED", "warehouseId": "wh", "lines": both}).lines) == 2
    )


def test_a_delivery_reported_later_than_now_counts_from_now() -> None:
    from shared.logic.fulfillment import FulfillmentEventIn

    recorded = "2026-12-02T10:00:00.000Z"
    ahead = FulfillmentEventIn.model_validate(
        {"type": "DELIVERED", "occurredAt": "2026-12-02T11:30:00+01:00"}
    )
    earlier = FulfillmentEventIn.model_validate({"type": "DELIVERED", "occurredAt": "2000-01-01T00:00:00Z"})
    assert ahead.occurred(recorded) == "2026-12-02T10:00:00.000Z"  # 10:30 UTC, after it was recorded
    assert earlier.occurred(recorded) == "2000-01-01T00:00:00.000Z"
    assert FulfillmentEventIn(type="DELIVERED").occurred(recorded) == recorded


def test_each_channel_type_refunds_its_own_way() -> None:
    from shared.logic.refund_ledger import _method
    from shared.models.catalog import Channel
    from shared.models.returns import RefundMethod

    def channel(kind: str, **settings: Any) -> Channel:
        at = "2026-12-01T00:00:00.000Z"
        return Channel.model_validate(
            {"channelId": "c", "type": kind, "createdAt": at, "updatedAt": at, **settings}
        )

    shopify_api = {"adminUrl": "https://shop.myshopify.com", "accessToken": "shpat_x"}
    woo_api = {"storeUrl": "https://store.example", "consumerKey": "ck_x", "consumerSecret": "cs_x"}
    assert _method(channel("shopify", refundApi=shopify_api)) is RefundMethod.CHANNEL
    assert _method(channel("woocommerce", refundApi=woo_api)) is RefundMethod.CHANNEL
    assert _method(channel("api", refundUrl="https://store.example/refunds", webhookSecret="s" * 16)) is (
        RefundMethod.WEBHOOK
    )
    # Seller Central has no refund API the OMS may call; a shop without its Admin API is refunded by hand.
    assert _method(channel("amazon")) is RefundMethod.MANUAL
    assert _method(channel("shopify")) is RefundMethod.MANUAL
    assert _method(channel("api")) is RefundMethod.MANUAL
