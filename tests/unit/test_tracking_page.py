"""The customer tracking page's pure parts: normalizing what a customer types, the stage of a shipment,
carrier links, the signed links, the lookup body, and what the public view leaves out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from functions.tracking_page.page import SCRIPT, STYLE, content_security_policy, page
from shared.channels import order_number
from shared.logic import tracking_links
from shared.logic.tracking_links import LinkExpired, LinkInvalid, sign, verify
from shared.logic.tracking_view import carrier_key, public_view, safe_url, stage_of, tracking_url
from shared.models.order import Fulfillment, FulfillmentStatus, OrderStatus, OrderView
from shared.models.returns import Return
from shared.models.tracking import ShipmentTracking, TrackingStatus
from shared.models.tracking_view import (
    Stage,
    TrackingLookupIn,
    normalized_email,
    normalized_number,
    normalized_postal_code,
    postal_codes_match,
)

KEY = b"k" * 64
ORDER_ID = "ord_01M8V4DEP29QCB23ATN36K0AEE"
NOW = 1_800_000_000


# --- what the customer types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [("#1001", "1001"), ("  # 1001 ", "1001"), ("1001", "1001"), ("SHOP-1001-x", "shop-1001-x"), ("#", None)],
)
def test_an_order_number_is_trimmed_unhashed_and_case_folded(typed: str, normalized: str | None) -> None:
    assert normalized_number(typed) == normalized


def test_emails_compare_case_insensitively() -> None:
    assert normalized_email("  Ada.Lovelace@Example.COM ") == normalized_email("ada.lovelace@example.com")


@pytest.mark.parametrize(
    ("given", "stored", "country", "match"),
    [
        ("sw1a 1aa", "SW1A 1AA", "GB", True),
        ("SW1A1AA", "SW1A 1AA", "GB", True),
        ("02108", "02108-1234", "US", True),  # a ZIP code matches its ZIP+4
        ("02108-1234", "02108", "US", True),
        ("02109", "02108-1234", "US", False),
        ("02108", "021081234", "DE", False),  # only US ZIP codes have a +4
        ("", "02108", "US", False),
        ("02108", None, "US", False),
    ],
)
def test_postal_codes_match_normalized(given: str, stored: str | None, country: str, match: bool) -> None:
    assert normalized_postal_code("  75 001 ") == "75001"
    assert postal_codes_match(given, stored, country) is match


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("#1001", "#1001"), (1001, "1001"), ("  #1001 ", "#1001"), ("", None), (None, None), (True, None)],
)
def test_a_channel_order_number_is_kept_only_if_usable(sent: Any, kept: str | None) -> None:
    assert order_number(sent) == kept
    assert order_number("9" * 65) is None


@pytest.mark.parametrize(
    "body",
    [
        {"orderNumber": "1001"},  # no proof
        {"orderNumber": "1001", "email": "a@b.c", "postalCode": "02108"},  # two proofs
        {"email": "a@b.c"},  # no number
        {"token": "x", "orderNumber": "1001"},  # a token with a number
        {"orderNumber": "1" * 65, "email": "a@b.c"},
        {"orderNumber": "1001", "email": "a@b.c", "extra": 1},
        {"orderNumber": "   ", "email": "a@b.c"},
    ],
)
def test_a_lookup_needs_a_number_with_one_proof_or_a_token_alone(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TrackingLookupIn.model_validate(body)


def test_a_lookup_may_be_a_number_with_an_email_or_a_postal_code_or_a_token() -> None:
    assert TrackingLookupIn.model_validate({"orderNumber": "#1001", "email": "a@b.c"}).email == "a@b.c"
    assert TrackingLookupIn.model_validate({"orderNumber": "#1001", "postalCode": "02108"}).postalCode
    assert TrackingLookupIn.model_validate({"token": "t"}).token == "t"


# --- signed links -------------------------------------------------------------------------------------


def test_a_signed_link_verifies_until_it_expires() -> None:
    token = sign(KEY, ORDER_ID, NOW + 60)
    assert verify(KEY, token, now=NOW).order_id == ORDER_ID
    assert verify(KEY, token, now=NOW + 59).expires_at == NOW + 60
    with pytest.raises(LinkExpired) as expired:
        verify(KEY, token, now=NOW + 60)
    assert expired.value.status_code == 401
    assert expired.value.code == "LINK_EXPIRED"


def _tampered(token: str) -> list[str]:
    order, expiry, mac = token.split(".")
    other_order = order[:-1] + ("B" if order[-1] != "B" else "C")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    return [
        f"{other_order}.{expiry}.{mac}",  # another order
        f"{order}.{int(expiry) + 86400}.{mac}",  # a later expiry
        f"{order}.{expiry}.{flipped}",  # another signature
        f"{order}.{expiry}",
        token + "=",
        "",
        "ord_x.1.y",
    ]


@pytest.mark.parametrize("index", range(7))
def test_a_tampered_link_is_invalid_not_expired(index: int) -> None:
    token = sign(KEY, ORDER_ID, NOW - 60)  # expired too: the signature is checked first
    with pytest.raises(LinkInvalid) as invalid:
        verify(KEY, _tampered(token)[index], now=NOW)
    assert invalid.value.code == "LINK_INVALID"
    assert invalid.value.status_code == 401


def test_a_link_signed_with_another_key_is_invalid() -> None:
    with pytest.raises(LinkInvalid):
        verify(b"another key", sign(KEY, ORDER_ID, NOW + 60), now=NOW)


def test_only_order_ids_are_signed() -> None:
    with pytest.raises(ValueError, match="cannot sign"):
        sign(KEY, "ord_1.2", NOW)


def test_expiry_is_shown_in_utc() -> None:
    assert tracking_links.iso_of(NOW) == "2027-01-15T08:00:00.000Z"


# --- stages and carrier links -------------------------------------------------------------------------


def fulfillment(status: FulfillmentStatus, tracking: str | None = None, **extra: Any) -> Fulfillment:
    data: dict[str, Any] = {
        "fulfillmentId": f"{ORDER_ID}-F1",
        "orderId": ORDER_ID,
        "warehouseId": "wh-east",
        "lines": [{"sku": "MUG", "quantity": 1}],
        "status": status,
        "createdAt": "2026-12-01T00:00:00.000Z",
        "updatedAt": "2026-12-01T00:00:00.000Z",
        **extra,
    }
    if tracking:
        data["tracking"] = {
            "providerId": "p",
            "trackerId": "t",
            "status": tracking,
            "updatedAt": "2026-12-01",
        }
    return Fulfillment.model_validate(data)


SHIPPED = {"carrier": "UPS", "trackingNumber": "1Z"}


@pytest.mark.parametrize(
    ("status", "tracking", "extra", "expected"),
    [
        (FulfillmentStatus.PENDING, None, {}, (Stage.CONFIRMED, Stage.CONFIRMED)),
        (FulfillmentStatus.REQUESTED, None, {}, (Stage.PREPARING, Stage.PREPARING)),
        (FulfillmentStatus.PACKED, None, {}, (Stage.PREPARING, Stage.PREPARING)),
        (FulfillmentStatus.SHIPPED, None, SHIPPED, (Stage.ON_ITS_WAY, Stage.ON_ITS_WAY)),
        (FulfillmentStatus.SHIPPED, "in_transit", SHIPPED, (Stage.ON_ITS_WAY, Stage.ON_ITS_WAY)),
        (
            FulfillmentStatus.SHIPPED,
            "out_for_delivery",
            SHIPPED,
            (Stage.OUT_FOR_DELIVERY, Stage.OUT_FOR_DELIVERY),
        ),
        (FulfillmentStatus.SHIPPED, "delivered", SHIPPED, (Stage.DELIVERED, Stage.DELIVERED)),
        (FulfillmentStatus.SHIPPED, "return_to_sender", SHIPPED, (Stage.EXCEPTION, Stage.ON_ITS_WAY)),
        (FulfillmentStatus.SHIPPED, "failure", SHIPPED, (Stage.EXCEPTION, Stage.ON_ITS_WAY)),
        (FulfillmentStatus.DELIVERED, "in_transit", SHIPPED, (Stage.DELIVERED, Stage.DELIVERED)),
        (FulfillmentStatus.CANCELLED, None, {}, (Stage.CANCELLED, Stage.CONFIRMED)),
        (FulfillmentStatus.FAILED, None, {}, (Stage.EXCEPTION, Stage.PREPARING)),  # never shipped
        (FulfillmentStatus.FAILED, None, SHIPPED, (Stage.EXCEPTION, Stage.ON_ITS_WAY)),  # never delivered
    ],
)
def test_the_stage_of_a_shipment(
    status: FulfillmentStatus, tracking: str | None, extra: dict[str, Any], expected: tuple[Stage, Stage]
) -> None:
    stage, reached, detail = stage_of(fulfillment(status, tracking, **extra))
    assert (stage, reached) == expected
    assert (detail is not None) == (stage is Stage.EXCEPTION)


@pytest.mark.parametrize(
    ("carrier", "key"),
    [("UPS", "ups"), ("FedEx Ground", "fedex"), ("Federal Express", "fedex"), ("usps", "usps"),
     ("DHL Express", "dhl"), ("DPD", None), (None, None), ("", None)],
)  # fmt: skip
def test_well_known_carriers_are_recognized(carrier: str | None, key: str | None) -> None:
    assert carrier_key(carrier) == key


def test_the_carrier_link_is_the_providers_then_the_carriers_then_none() -> None:
    published = ShipmentTracking(
        providerId="p",
        trackerId="t",
        status=TrackingStatus.IN_TRANSIT,
        updatedAt="x",
        publicUrl="https://t.example/1",
    )
    assert tracking_url("UPS", "1Z 99", published) == "https://t.example/1"
    assert tracking_url("UPS", "1Z 99", None) == "https://www.ups.com/track?tracknum=1Z%2099"
    assert (
        tracking_url("USPS", "9400/1", None)
        == "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400%2F1"
    )
    assert tracking_url("DHL", "123", None).startswith("https://www.dhl.com/")  # type: ignore[union-attr]
    assert tracking_url("DPD", "123", None) is None
    assert tracking_url("UPS", None, None) is None


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "http://t.example/1", "data:text/html,x", "https:///nohost", "", None]
)
def test_only_https_links_are_shown(url: str | None) -> None:
    assert safe_url(url) is None
    tracking = ShipmentTracking(
        providerId="p", trackerId="t", status=TrackingStatus.IN_TRANSIT, updatedAt="x"
    )
    tracking.publicUrl = url
    assert tracking_url("DPD", "1", tracking) is None


# --- the public view ----------------------------------------------------------------------------------


def order_view(
    status: OrderStatus = OrderStatus.SHIPPED, fulfillments: list[Fulfillment] | None = None
) -> OrderView:
    return OrderView.model_validate(
        {
            "orderId": ORDER_ID,
            "channelId": "shop",
            "channelOrderId": "820982911946154508",
            "orderNumber": "#1001",
            "status": status,
            "currency": "USD",
            "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
            "shippingAddress": {
                "name": "Ada Lovelace",
                "line1": "1 Main St",
                "city": "Boston",
                "postalCode": "02108",
                "country": "US",
            },
            "lines": [
                {"sku": "MUG", "title": "Blue mug", "quantity": 2, "unitPrice": "12.50", "taxAmount": "2.00"}
            ],
            "shippingPrice": "5.00",
            "total": "32.00",
            "fulfillments": fulfillments
            if fulfillments is not None
            else [fulfillment(FulfillmentStatus.SHIPPED, **SHIPPED)],
            "createdAt": "2026-12-01T00:00:00.000Z",
            "updatedAt": "2026-12-01T00:00:00.000Z",
        }
    )


def a_return(status: str) -> Return:
    return Return.model_validate(
        {
            "returnId": f"{ORDER_ID}-R1",
            "orderId": ORDER_ID,
            "channelId": "shop",
            "status": status,
            "resolution": "REFUND",
            "requestedResolution": "REFUND",
            "lines": [{"sku": "MUG", "quantity": 1, "reason": "broken"}],
            "policy": {},
            "deadline": "2026-12-31T00:00:00.000Z",
            "currency": "USD",
            "expectedRefund": "14.50",
            "createdAt": "2026-12-01T00:00:00.000Z",
            "updatedAt": "2026-12-01T00:00:00.000Z",
        }
    )


def test_a_lookup_shows_no_address_beyond_the_city_no_email_and_no_prices() -> None:
    view = public_view(order_view(), [a_return("AUTHORIZED")], with_prices=False)
    text = view.model_dump_json()
    for private in (
        "1 Main St",
        "02108",
        "ada@example.com",
        "Lovelace",
        "12.50",
        "32.00",
        "14.50",
        "wh-east",
    ):
        assert private not in text
    assert view.orderNumber == "#1001"
    assert view.shipments[0].destinationCity == "Boston"
    assert view.shipments[0].lines[0].title == "Blue mug"
    assert view.returns[0].refund is None
    assert view.prices is None


def test_a_signed_link_shows_the_prices() -> None:
    view = public_view(order_view(), [a_return("RECEIVED")], with_prices=True, link_expires_at="2027-01-01")
    assert view.prices is not None
    assert view.prices.total == Decimal("32.00")
    assert view.prices.lines[0].total == Decimal("27.00")  # 2 x 12.50 + 2.00 tax
    assert view.returns[0].refund == Decimal("14.50")
    assert view.linkExpiresAt == "2027-01-01"


@pytest.mark.parametrize(
    ("status", "shown"),
    [("AUTHORIZED", True), ("RECEIVED", True), ("REFUND_FAILED", True), ("FAILED", True),
     ("CLOSED", False), ("EXPIRED", False)],
)  # fmt: skip
def test_only_returns_the_customer_still_waits_on_are_shown(status: str, shown: bool) -> None:
    view = public_view(order_view(), [a_return(status)], with_prices=False)
    assert len(view.returns) == int(shown)
    if shown and status == "AUTHORIZED":
        assert view.returns[0].sendBackBy == "2026-12-31T00:00:00.000Z"


@pytest.mark.parametrize(
    ("status", "stage"),
    [(OrderStatus.RECEIVED, Stage.CONFIRMED), (OrderStatus.BACKORDERED, Stage.CONFIRMED),
     (OrderStatus.CANCELLED, Stage.CANCELLED), (OrderStatus.FAILED, Stage.EXCEPTION)],
)  # fmt: skip
def test_an_order_not_split_into_shipments_shows_its_lines_as_one(status: OrderStatus, stage: Stage) -> None:
    view = public_view(order_view(status, fulfillments=[]), [], with_prices=False)
    [shipment] = view.shipments
    assert shipment.stage is stage
    assert [(line.sku, line.quantity) for line in shipment.lines] == [("MUG", 2)]


def test_the_number_shown_is_the_channel_order_id_without_an_order_number() -> None:
    order = order_view().model_copy(update={"orderNumber": None})
    assert public_view(order, [], with_prices=False).orderNumber == "820982911946154508"


# --- the page -----------------------------------------------------------------------------------------


def test_the_page_is_self_contained_and_its_policy_allows_only_its_own_script_and_style() -> None:
    html = page()
    assert html.count("<script>") == 1 and html.count("<style>") == 1
    assert "http://" not in html and "https://" not in html  # nothing from another host
    assert "innerHTML" not in SCRIPT and "insertAdjacentHTML" not in SCRIPT and "eval(" not in SCRIPT
    policy = content_security_policy()
    assert "default-src 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert f"<script>{SCRIPT}</script>" in html and f"<style>{STYLE}</style>" in html
