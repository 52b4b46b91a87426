"""Amazon: ORDER_CHANGE notifications, what to do with them, and getOrder + getOrderItems -> canonical."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from local.spapi_sandbox import FULL_ITEMS, FULL_ORDER, SANDBOX_ITEMS, SANDBOX_ORDER
from shared.channels import Acknowledged, OrderCancelled
from shared.channels.amazon import (
    OrderChangeNotification,
    decide,
    decide_fetched,
    parse_notification,
    to_canonical,
)
from shared.errors import InvalidRequest
from shared.models.order import TotalMismatch


def notification(**summary: Any) -> dict[str, Any]:
    """An ORDER_CHANGE notification in the shape of the published example."""
    body: dict[str, Any] = {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": "2026-08-03T14:32:41.512Z",
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": "A1SELLERFAKE01",
                "AmazonOrderId": "113-4567890-1234567",
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": "2026-08-03T14:32:40.100Z",
                    "ChangeReason": "Order status changed",
                },
                "Summary": {
                    "MarketplaceId": "ATVPDKIKX0DER",
                    "OrderStatus": "Unshipped",
                    "PurchaseDate": "2026-08-03T14:02:11.000Z",
                    "DestinationPostalCode": "02108",
                    "FulfillmentType": "MFN",
                    "OrderType": "StandardOrder",
                    "NumberOfItemsShipped": 0,
                    "NumberOfItemsUnshipped": 4,
                    "OrderItems": [
                        {
                            "OrderItemId": "51234567890123",
                            "SellerSKU": "MUG-BLUE",
                            "SupplySourceId": None,
                            "OrderItemStatus": "Unshipped",
                            "Quantity": 3,
                            "QuantityShipped": 0,
                            "IsBuyerRequestedCancel": False,
                        }
                    ],
                    **summary,
                },
            }
        },
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sellerapps.app.fake",
            "SubscriptionId": "subscription-id-fake",
            "PublishTime": "2026-08-03T14:32:41.600Z",
            "NotificationId": "6a1f1a0e-5c1d-4d8e-9d7e-7f5d2d1f0c11",
        },
    }
    return body


def parsed(**summary: Any) -> OrderChangeNotification:
    return parse_notification(json.dumps(notification(**summary)))


def full_order(**changes: Any) -> dict[str, Any]:
    order = copy.deepcopy(FULL_ORDER)
    order.update(changes)
    return order


def full_items() -> list[dict[str, Any]]:
    return copy.deepcopy(FULL_ITEMS)


def usd(amount: str) -> dict[str, str]:
    return {"CurrencyCode": "USD", "Amount": amount}


def item(sku: str = "MUG-BLUE", quantity: int = 1, price: str = "10.00", **fields: Any) -> dict[str, Any]:
    return {
        "ASIN": "B0FAKE0009",
        "OrderItemId": f"9{sku}",
        "SellerSKU": sku,
        "Title": "Blue Mug",
        "QuantityOrdered": quantity,
        "ItemPrice": usd(price),
        "IsGift": "false",
        **fields,
    }


def problems(error: pytest.ExceptionInfo[InvalidRequest]) -> dict[str, str]:
    assert error.value.message == "order is invalid"
    return {problem["field"]: problem["message"] for problem in error.value.details}


# --- notifications ------------------------------------------------------------------------------------


def test_a_notification_keeps_what_the_oms_needs() -> None:
    result = parse_notification(json.dumps(notification()).encode())

    assert result == OrderChangeNotification(
        notificationId="6a1f1a0e-5c1d-4d8e-9d7e-7f5d2d1f0c11",
        eventTime="2026-08-03T14:32:41.512Z",
        sellerId="A1SELLERFAKE01",
        amazonOrderId="113-4567890-1234567",
        marketplaceId="ATVPDKIKX0DER",
        orderStatus="Unshipped",
        fulfillmentChannel="MFN",
        orderChangeType="OrderStatusChange",
        changeReason="Order status changed",
        buyerRequestedCancel=False,
    )


@pytest.mark.parametrize(
    ("flag", "expected"),
    [(True, True), ("true", True), ("TRUE", True), (False, False), ("false", False), (None, False)],
)
def test_a_buyer_cancel_request_is_read_as_a_boolean_or_as_a_string(flag: Any, expected: bool) -> None:
    body = notification()
    summary = body["Payload"]["OrderChangeNotification"]["Summary"]
    summary["OrderItems"][0]["IsBuyerRequestedCancel"] = flag

    assert parse_notification(json.dumps(body)).buyerRequestedCancel is expected


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", "[1, 2"])
def test_a_body_that_is_not_json_is_invalid(body: bytes | str) -> None:
    with pytest.raises(InvalidRequest) as error:
        parse_notification(body)

    assert error.value.message == "notification is not valid JSON"
    assert error.value.details[0]["field"] == "body"


def test_a_body_that_is_not_an_object_is_invalid() -> None:
    with pytest.raises(InvalidRequest) as error:
        parse_notification("[]")

    assert error.value.details == [{"field": "body", "message": "must be an object"}]


def test_another_notification_type_is_invalid() -> None:
    body = notification()
    body["NotificationType"] = "ANY_OFFER_CHANGED"

    with pytest.raises(InvalidRequest) as error:
        parse_notification(json.dumps(body))

    assert error.value.details[0]["field"] == "NotificationType"


def test_every_missing_field_of_a_notification_is_named() -> None:
    body = notification()
    change = body["Payload"]["OrderChangeNotification"]
    del change["AmazonOrderId"]
    del change["Summary"]["FulfillmentType"]
    change["Summary"]["OrderStatus"] = ""
    del body["NotificationMetadata"]

    with pytest.raises(InvalidRequest) as error:
        parse_notification(json.dumps(body))

    assert {p["field"] for p in error.value.details} == {
        "Payload.OrderChangeNotification.AmazonOrderId",
        "Payload.OrderChangeNotification.Summary.FulfillmentType",
        "Payload.OrderChangeNotification.Summary.OrderStatus",
        "NotificationMetadata.NotificationId",
    }


# --- decide -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Unshipped", "PartiallyShipped"])
def test_a_paid_seller_fulfilled_order_is_fetched(status: str) -> None:
    assert decide(parsed(OrderStatus=status)) == "fetch"


def test_a_buyer_cancel_request_alone_does_not_stop_the_fetch() -> None:
    body = notification()
    body["Payload"]["OrderChangeNotification"]["Summary"]["OrderItems"][0]["IsBuyerRequestedCancel"] = True

    assert decide(parse_notification(json.dumps(body))) == "fetch"


def test_a_cancelled_order_is_a_cancellation_with_amazons_reason() -> None:
    body = notification(OrderStatus="Canceled")
    body["Payload"]["OrderChangeNotification"]["OrderChangeTrigger"]["ChangeReason"] = (
        "Buyer Requested Cancel"
    )

    assert decide(parse_notification(json.dumps(body))) == OrderCancelled(
        channelOrderId="113-4567890-1234567", reason="cancelled on Amazon: Buyer Requested Cancel"
    )


@pytest.mark.parametrize("status", ["Unshipped", "Canceled", "Shipped"])
def test_an_order_fulfilled_by_amazon_is_acknowledged(status: str) -> None:
    action = decide(parsed(OrderStatus=status, FulfillmentType="AFN"))

    assert isinstance(action, Acknowledged)
    assert action.channelOrderId == "113-4567890-1234567"
    assert "AFN" in action.reason


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("Pending", "not yet paid"),
        ("PendingAvailability", "not yet paid"),
        ("Shipped", "already shipped"),
        ("InvoiceUnconfirmed", "already shipped"),
        ("Unfulfillable", "not one the OMS acts on"),
        ("SomethingNew", "not one the OMS acts on"),
    ],
)
def test_other_statuses_are_acknowledged(status: str, why: str) -> None:
    action = decide(parsed(OrderStatus=status))

    assert isinstance(action, Acknowledged)
    assert why in action.reason


def test_an_unknown_fulfillment_channel_is_acknowledged() -> None:
    action = decide(parsed(FulfillmentType="XFN"))

    assert isinstance(action, Acknowledged)


def test_the_fetched_order_is_decided_again_because_it_is_newer() -> None:
    assert decide_fetched(full_order()) == "convert"
    assert decide_fetched(full_order(FulfillmentChannel="SellerFulfilled")) == "convert"
    assert decide_fetched(full_order(OrderStatus="Canceled")) == OrderCancelled(
        channelOrderId="113-4567890-1234567", reason="cancelled on Amazon"
    )
    assert isinstance(decide_fetched(full_order(FulfillmentChannel="AFN")), Acknowledged)
    assert isinstance(decide_fetched(full_order(OrderStatus="Pending")), Acknowledged)


# --- to_canonical ------------------------------------------------------------------------------------


def test_a_complete_order_maps_every_canonical_field() -> None:
    order = to_canonical(full_order(), full_items())

    assert order.model_dump(mode="json") == {
        "channelOrderId": "113-4567890-1234567",
        "orderNumber": "113-4567890-1234567",
        "currency": "USD",
        "taxesIncluded": False,
        "customer": {"email": "q8xv2m3lz0k4bd7@marketplace.amazon.com", "name": "Ada Lovelace"},
        "shippingAddress": {
            "name": "Ada Lovelace",
            "line1": "1 Main St",
            "line2": "Apt 4",
            "city": "Boston",
            "region": "MA",
            "postalCode": "02108-1234",
            "country": "US",
            "latitude": None,
            "longitude": None,
        },
        "lines": [
            {
                "channelLineId": "51234567890123",
                "channelTaxRateId": None,
                "sku": "MUG-BLUE",
                "title": "Blue Mug & Coaster Set",
                "quantity": 3,
                "unitPrice": "10.00",
                "discountAmount": "3.00",
                "taxAmount": "2.16",
                "requiresShipping": True,
            },
            {
                "channelLineId": "51234567890124",
                "channelTaxRateId": None,
                "sku": "TEE-M",
                "title": "T-shirt, size M",
                "quantity": 1,
                "unitPrice": "9.99",
                "discountAmount": "0.00",
                "taxAmount": "0.80",
                "requiresShipping": True,
            },
        ],
        "shippingPrice": "4.99",
        "shippingTax": "0.00",
        "orderDiscount": "4.99",
        "declaredTotal": "39.95",
    }
    assert order.amount_due() == Decimal("39.95")
    assert order.total_mismatch() is None


def test_the_sandbox_order_lacks_its_restricted_data() -> None:
    with pytest.raises(InvalidRequest) as error:
        to_canonical(SANDBOX_ORDER, SANDBOX_ITEMS)

    found = problems(error)
    assert set(found) == {"ShippingAddress", "BuyerInfo"}
    assert "restricted data" in found["ShippingAddress"]


def test_the_sandbox_order_with_an_address_adds_up_to_its_total() -> None:
    order = copy.deepcopy(SANDBOX_ORDER)
    order["ShippingAddress"] = copy.deepcopy(FULL_ORDER["ShippingAddress"])
    order["BuyerInfo"] = {"BuyerEmail": "fzyrv6gwkhbb15c@example.com"}

    canonical = to_canonical(order, SANDBOX_ITEMS)

    assert canonical.customer.name == "Ada Lovelace"  # no BuyerName: the address's name
    line = canonical.lines[0]
    assert (line.sku, line.quantity, line.unitPrice, line.taxAmount) == (
        "NABetaASINB00551Q3CS",
        1,
        Decimal("10.00"),
        Decimal("1.01"),
    )
    assert canonical.amount_due() == canonical.declaredTotal == Decimal("11.01")


def test_an_order_fetched_without_a_restricted_data_token_names_what_is_missing() -> None:
    order = full_order(
        ShippingAddress={"City": "Boston", "StateOrRegion": "MA", "PostalCode": "02108", "CountryCode": "US"}
    )
    del order["BuyerInfo"]

    with pytest.raises(InvalidRequest) as error:
        to_canonical(order, full_items())

    assert set(problems(error)) == {"BuyerInfo", "ShippingAddress.Name", "ShippingAddress.AddressLine1"}


def test_item_price_is_for_all_the_units() -> None:
    canonical = to_canonical(full_order(OrderTotal=usd("10.00")), [item(quantity=4, price="10.00")])

    assert [(line.quantity, line.unitPrice) for line in canonical.lines] == [(4, Decimal("2.50"))]
    assert canonical.total_mismatch() is None


def test_an_item_price_that_does_not_divide_exactly_becomes_two_lines_that_add_up() -> None:
    items = [
        item(
            quantity=3,
            price="10.00",
            ItemTax=usd("1.00"),
            PromotionDiscount=usd("1.00"),
        )
    ]

    canonical = to_canonical(full_order(OrderTotal=usd("10.00")), items)

    assert [
        (line.channelLineId, line.sku, line.quantity, line.unitPrice, line.discountAmount, line.taxAmount)
        for line in canonical.lines
    ] == [
        # Both lines are the one Amazon item: each keeps its OrderItemId.
        ("9MUG-BLUE", "MUG-BLUE", 1, Decimal("3.34"), Decimal("0.33"), Decimal("0.33")),
        ("9MUG-BLUE", "MUG-BLUE", 2, Decimal("3.33"), Decimal("0.67"), Decimal("0.67")),
    ]
    assert canonical.units_by_sku() == {"MUG-BLUE": 3}
    assert canonical.amount_due() == Decimal("10.00")
    assert canonical.total_mismatch() is None


def test_an_amount_without_decimals_is_divided_in_whole_units() -> None:
    jpy = {"CurrencyCode": "JPY", "Amount": "1000"}
    order = full_order(MarketplaceId="A1VC38T7YXB528", OrderTotal=jpy)

    canonical = to_canonical(order, [item(quantity=3, ItemPrice=jpy)])

    assert canonical.currency == "JPY"
    assert canonical.taxesIncluded is True
    assert [(line.quantity, line.unitPrice) for line in canonical.lines] == [
        (1, Decimal("334")),
        (2, Decimal("333")),
    ]
    assert canonical.amount_due() == Decimal("1000")


def test_a_discount_as_large_as_an_unevenly_divided_item_stays_within_each_line() -> None:
    canonical = to_canonical(
        full_order(OrderTotal=usd("0.00")), [item(quantity=3, price="10.00", PromotionDiscount=usd("10.00"))]
    )

    assert [line.discountAmount for line in canonical.lines] == [Decimal("3.34"), Decimal("6.66")]
    assert canonical.amount_due() == Decimal("0.00")


def test_items_from_several_pages_become_lines_in_order() -> None:
    first_page, second_page = full_items()[:1], full_items()[1:]

    canonical = to_canonical(full_order(), [*first_page, *second_page])

    assert [line.sku for line in canonical.lines] == ["MUG-BLUE", "TEE-M"]
    assert canonical.total_mismatch() is None


def test_prices_include_tax_outside_the_us_and_canada() -> None:
    eur = lambda amount: {"CurrencyCode": "EUR", "Amount": amount}  # noqa: E731
    order = full_order(MarketplaceId="A1PA6795UKMFR9", OrderTotal=eur("23.80"))
    items = [item(quantity=2, ItemPrice=eur("23.80"), ItemTax=eur("3.80"))]

    canonical = to_canonical(order, items)

    assert canonical.taxesIncluded is True
    assert canonical.lines[0].taxAmount == Decimal("3.80")
    assert canonical.amount_due() == Decimal("23.80")


def test_canada_is_tax_exclusive_like_the_us() -> None:
    cad = {"CurrencyCode": "CAD", "Amount": "10.00"}
    canonical = to_canonical(
        full_order(MarketplaceId="A2EUQ1WTGCTBG2", OrderTotal=None), [item(ItemPrice=cad)]
    )

    assert canonical.taxesIncluded is False
    assert canonical.currency == "CAD"  # from the items: no OrderTotal
    assert canonical.declaredTotal is None


def test_a_declared_total_that_differs_is_recorded_as_a_mismatch() -> None:
    canonical = to_canonical(full_order(OrderTotal=usd("45.00")), full_items())

    assert canonical.total_mismatch() == TotalMismatch(declared=Decimal("45.00"), computed=Decimal("39.95"))


def test_discounts_are_reductions_whatever_their_sign() -> None:
    items = full_items()
    items[0]["PromotionDiscount"] = usd("-3.00")
    items[1]["ShippingDiscount"] = usd("-4.99")

    canonical = to_canonical(full_order(), items)

    assert canonical.lines[0].discountAmount == Decimal("3.00")
    assert canonical.orderDiscount == Decimal("4.99")
    assert canonical.total_mismatch() is None


def test_address_lines_skip_empty_ones_and_titles_are_unescaped_and_cut() -> None:
    address = {
        "Name": "Erika Mustermann",
        "AddressLine1": "",
        "AddressLine2": "Hauptstr. 5",
        "AddressLine3": "c/o Muster GmbH",
        "City": "Berlin",
        "PostalCode": "10115",
        "CountryCode": "DE",
    }
    long_title = "Caf&eacute; " + "x" * 300
    order = full_order(ShippingAddress=address, OrderTotal=None)

    canonical = to_canonical(order, [item(Title=long_title)])

    assert canonical.shippingAddress.line1 == "Hauptstr. 5"
    assert canonical.shippingAddress.line2 == "c/o Muster GmbH"
    assert canonical.shippingAddress.region is None
    title = canonical.lines[0].title
    assert title is not None and title.startswith("Café x") and len(title) == 256


def test_every_problem_is_named_in_sp_api_terms() -> None:
    items = full_items()
    del items[0]["SellerSKU"]
    items[1]["QuantityOrdered"] = 0
    items.append(item(sku="OK-SKU", ItemPrice={"CurrencyCode": "XXX", "Amount": "1.00"}))
    order = full_order(OrderTotal={"CurrencyCode": "ZZZ", "Amount": "39.95"})
    del order["ShippingAddress"]

    with pytest.raises(InvalidRequest) as error:
        to_canonical(order, items)

    found = problems(error)
    assert set(found) == {
        "OrderItems.0.SellerSKU",
        "OrderItems.1.QuantityOrdered",
        "OrderTotal.CurrencyCode",
        "ShippingAddress",
    }
    assert "cancelled item" in found["OrderItems.1.QuantityOrdered"]
    assert "ISO 4217" in found["OrderTotal.CurrencyCode"]


def test_amounts_must_be_decimal_strings_in_the_orders_currency() -> None:
    items = full_items()
    items[0]["ItemPrice"] = {"CurrencyCode": "USD", "Amount": 30.0}
    items[0]["ItemTax"] = {"CurrencyCode": "EUR", "Amount": "2.40"}
    items[1]["ItemPrice"] = usd("-9.99")
    items[1]["ShippingPrice"] = usd("4.99999")
    items[1]["ShippingTax"] = "0.40"
    items.append({"ASIN": "B0FAKE", "SellerSKU": "NO-PRICE", "QuantityOrdered": 1})

    with pytest.raises(InvalidRequest) as error:
        to_canonical(full_order(), items)

    found = problems(error)
    assert found == {
        "OrderItems.0.ItemPrice.Amount": "must be a decimal string such as '12.50'",
        "OrderItems.0.ItemTax.CurrencyCode": "is 'EUR'; the order's currency is USD",
        "OrderItems.1.ItemPrice.Amount": "must not be negative",
        "OrderItems.1.ShippingPrice.Amount": "has more than 4 decimal places",
        "OrderItems.1.ShippingTax": "must be a Money object {CurrencyCode, Amount}",
        "OrderItems.2.ItemPrice": "missing",
    }


def test_a_discount_tax_larger_than_the_tax_is_invalid() -> None:
    items = full_items()
    items[0]["PromotionDiscountTax"] = usd("2.41")
    items[1]["ShippingDiscountTax"] = usd("0.41")

    with pytest.raises(InvalidRequest) as error:
        to_canonical(full_order(), items)

    assert set(problems(error)) == {"OrderItems.0.PromotionDiscountTax", "OrderItems.1.ShippingDiscountTax"}


def test_values_the_canonical_order_refuses_are_named_in_sp_api_terms() -> None:
    items = full_items()
    items[0]["SellerSKU"] = "HAS SPACE"
    items[1]["PromotionDiscount"] = usd("10.00")  # more than the line's 9.99
    order = full_order(BuyerInfo={"BuyerEmail": "not-an-email", "BuyerName": "Ada"})
    order["ShippingAddress"]["CountryCode"] = "usa"

    with pytest.raises(InvalidRequest) as error:
        to_canonical(order, items)

    assert set(problems(error)) == {
        "OrderItems.0.SellerSKU",
        "OrderItems.1.PromotionDiscount",
        "BuyerInfo.BuyerEmail",
        "ShippingAddress.CountryCode",
    }


def test_an_item_without_an_order_item_id_has_no_channel_line_id_and_a_too_long_one_is_named() -> None:
    items = full_items()
    del items[0]["OrderItemId"]
    assert [line.channelLineId for line in to_canonical(full_order(), items).lines] == [
        None,
        "51234567890124",
    ]

    items[1]["OrderItemId"] = "5" * 65
    with pytest.raises(InvalidRequest) as error:
        to_canonical(full_order(), items)
    assert set(problems(error)) == {"OrderItems.1.OrderItemId"}


def test_an_order_without_items_or_id_or_marketplace_is_invalid() -> None:
    order = full_order()
    del order["AmazonOrderId"], order["MarketplaceId"]

    with pytest.raises(InvalidRequest) as error:
        to_canonical(order, [])

    assert set(problems(error)) == {"AmazonOrderId", "MarketplaceId", "OrderItems"}


def test_a_shipping_discount_larger_than_the_order_is_named() -> None:
    items = full_items()
    items[1]["ShippingDiscount"] = usd("100.00")

    with pytest.raises(InvalidRequest) as error:
        to_canonical(full_order(), items)

    assert set(problems(error)) == {"OrderItems.ShippingDiscount"}


def test_a_notification_nested_thousands_deep_is_invalid_not_a_crash() -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_notification('{"a":' * 5000 + "1" + "}" * 5000)
    assert refused.value.details[0]["field"] == "body"


def test_an_amount_finer_than_the_currency_is_a_problem_named_by_its_sp_api_field() -> None:
    with pytest.raises(InvalidRequest) as error:
        to_canonical(full_order(OrderTotal=usd("10.001")), [item(price="10.001")])

    assert problems(error) == {
        "OrderTotal.Amount": "has more decimal places than USD has (2)",
        "OrderItems.0.ItemPrice.Amount": "has more decimal places than USD has (2)",
    }
