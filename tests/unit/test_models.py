from decimal import Decimal
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.ids import fulfillment_id, new_order_id, order_id_of_fulfillment
from shared.models.order import (
    ORDER_TRANSITIONS,
    CanonicalOrder,
    OrderStatus,
    statuses_leading_to,
)


def canonical(**overrides):
    order = {
        "channelOrderId": "1001",
        "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "shippingAddress": {"name": "Ada", "line1": "1 Main St", "city": "Boston", "country": "US"},
        "lines": [{"sku": "MUG-1", "quantity": 2, "unitPrice": "12.50"}],
        "shippingPrice": "5.00",
    }
    order.update(overrides)
    return order


def errors_of(data) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        CanonicalOrder.model_validate(data)
    return {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


def test_money_stays_decimal_and_totals_are_exact():
    order = CanonicalOrder.model_validate(canonical(lines=[{"sku": "A", "quantity": 3, "unitPrice": "0.10"}]))
    assert order.amount_due() == Decimal("5.30")
    assert order.model_dump(mode="json")["shippingPrice"] == "5.00"


def test_float_money_is_refused_because_it_loses_precision():
    assert errors_of(canonical(shippingPrice=0.1)) == {"shippingPrice"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "XXY"}, "currency"),
        ({"lines": [{"sku": "A", "quantity": 0, "unitPrice": "1"}]}, "lines.0.quantity"),
        ({"lines": [{"sku": "", "quantity": 1, "unitPrice": "1"}]}, "lines.0.sku"),
        ({"lines": [{"sku": "A", "quantity": 1, "unitPrice": "-1"}]}, "lines.0.unitPrice"),
        ({"lines": []}, "lines"),
        ({"customer": {"email": "nope", "name": "A"}}, "customer.email"),
        (
            {"shippingAddress": {"name": "A", "line1": "x", "city": "c", "country": "USA"}},
            "shippingAddress.country",
        ),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_each_malformed_field_is_named(overrides, field):
    assert field in errors_of(canonical(**overrides))


def test_a_sku_on_several_lines_is_shipped_as_their_sum():
    repeated = [
        {"sku": "A", "quantity": 1, "unitPrice": "10.00"},
        {"sku": "B", "quantity": 1, "unitPrice": "3.00"},
        {"sku": "A", "quantity": 2, "unitPrice": "9.00", "discountAmount": "1.00"},
    ]
    order = CanonicalOrder.model_validate(canonical(lines=repeated))
    assert order.units_by_sku() == {"A": 3, "B": 1}
    assert list(order.units_by_sku()) == ["A", "B"]


def test_a_line_may_carry_the_channel_s_ids_for_it_and_its_tax_rate():
    lines = [
        {"sku": "A", "quantity": 1, "unitPrice": "10.00", "channelLineId": " 7345112490018716500 "},
        {"sku": "B", "quantity": 1, "unitPrice": "3.00", "channelLineId": "1201", "channelTaxRateId": "3"},
        {"sku": "C", "quantity": 1, "unitPrice": "1.00"},
    ]
    order = CanonicalOrder.model_validate(canonical(lines=lines))
    assert [(line.channelLineId, line.channelTaxRateId) for line in order.lines] == [
        ("7345112490018716500", None),
        ("1201", "3"),
        (None, None),
    ]
    too_long = [
        {"sku": "A", "quantity": 1, "unitPrice": "1", "channelLineId": "9" * 65, "channelTaxRateId": ""}
    ]
    assert errors_of(canonical(lines=too_long)) == {"lines.0.channelLineId", "lines.0.channelTaxRateId"}
    numeric = [{"sku": "A", "quantity": 1, "unitPrice": "1", "channelLineId": 1201}]
    assert errors_of(canonical(lines=numeric)) == {"lines.0.channelLineId"}


def test_fulfillment_ids_lead_back_to_their_order():
    order_id = new_order_id()
    assert order_id_of_fulfillment(fulfillment_id(order_id, 1)) == order_id
    assert order_id_of_fulfillment("ord_x") is None
    assert order_id_of_fulfillment("nonsense-F1") is None


def test_order_ids_sort_by_creation():
    ids = [new_order_id() for _ in range(3)]
    assert ids[0][:14] <= ids[1][:14] <= ids[2][:14]


def test_terminal_statuses_lead_nowhere_and_shipping_is_past_cancelling():
    for terminal in ("DELIVERED", "CANCELLED", "REJECTED", "FAILED"):
        assert ORDER_TRANSITIONS[OrderStatus(terminal)] == frozenset()
    assert OrderStatus.SHIPPED not in statuses_leading_to(OrderStatus.CANCELLED)
    assert statuses_leading_to(OrderStatus.SHIPPED) == [OrderStatus.FULFILLING, OrderStatus.PARTIALLY_SHIPPED]
    assert OrderStatus.PARTIALLY_SHIPPED not in statuses_leading_to(OrderStatus.CANCELLED)


def test_a_channel_secret_with_the_whsec_prefix_must_be_base64() -> None:
    from shared.models.catalog import ApiChannelIn, ChannelIn

    channel_in = TypeAdapter(ChannelIn)
    with pytest.raises(ValidationError, match="valid base64"):
        channel_in.validate_python({"type": "api", "webhookSecret": "whsec_not base64 at all!"})
    accepted = channel_in.validate_python(
        {"type": "api", "webhookSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    )
    assert isinstance(accepted, ApiChannelIn)
    # Other channel types use the secret as raw bytes, whatever it looks like.
    assert channel_in.validate_python({"type": "shopify", "webhookSecret": "whsec_not base64 at all!"})


@pytest.mark.parametrize(
    ("channel", "field"),
    [
        ({"type": "shopify"}, "webhookSecret"),
        ({"type": "amazon", "webhookSecret": "s" * 32}, "amazon"),
        ({"type": "woocommerce", "webhookSecret": "s" * 32, "shopDomain": "x.myshopify.com"}, "shopDomain"),
        ({"type": "api", "webhookSecret": "s" * 32, "amazon": {}}, "amazon"),
        ({"type": "ebay", "webhookSecret": "s" * 32}, "type"),
    ],
)
def test_a_channel_has_exactly_the_settings_of_its_type(channel: dict[str, Any], field: str) -> None:
    from shared.models.catalog import ChannelIn

    with pytest.raises(ValidationError) as refused:
        TypeAdapter(ChannelIn).validate_python(channel)
    assert field in str(refused.value)


def test_the_previous_secret_is_accepted_only_until_its_grace_period_ends() -> None:
    from shared.models.catalog import Channel

    channel = Channel(
        channelId="shop",
        type="shopify",
        webhookSecret="new-secret-0123456789",
        previousWebhookSecret="old-secret-0123456789",
        previousSecretValidUntil="2026-11-27T10:00:00.000Z",
        createdAt="2026-01-01T00:00:00.000Z",
        updatedAt="2026-11-26T10:00:00.000Z",
    )

    assert channel.secrets("2026-11-27T09:59:59.999Z") == ["new-secret-0123456789", "old-secret-0123456789"]
    assert channel.secrets("2026-11-27T10:00:00.000Z") == ["new-secret-0123456789"]
    assert "secret" not in channel.public_view().model_dump_json().replace("previousSecretValidUntil", "")


def test_an_order_with_nothing_to_ship_is_refused_and_included_taxes_are_not_added_twice() -> None:
    base = {
        "channelOrderId": "1",
        "currency": "GBP",
        "customer": {"email": "a@example.com", "name": "A"},
        "shippingAddress": {"name": "A", "line1": "1 High St", "city": "London", "country": "GB"},
        "shippingPrice": "4.00",
        "shippingTax": "0.67",
    }
    gift_card = {"sku": "GIFT", "quantity": 1, "unitPrice": "20.00", "requiresShipping": False}
    mug = {"sku": "MUG", "quantity": 2, "unitPrice": "12.00", "taxAmount": "4.00"}

    with pytest.raises(ValidationError, match="no line requires shipping"):
        CanonicalOrder.model_validate({**base, "lines": [gift_card]})
    order = CanonicalOrder.model_validate({**base, "lines": [mug, gift_card], "taxesIncluded": True})
    assert order.amount_due() == Decimal("48.00")  # 24.00 + 20.00 + 4.00, VAT inside
    assert order.units_by_sku() == {"MUG": 2}  # the gift card is charged, not shipped
    excluded = CanonicalOrder.model_validate({**base, "lines": [mug, gift_card]})
    assert excluded.amount_due() == Decimal("52.67")


def test_booleans_are_not_numbers() -> None:
    from shared.models.catalog import StockIn, WarehouseIn

    with pytest.raises(ValidationError, match="not a boolean"):
        StockIn.model_validate({"onHand": False})
    with pytest.raises(ValidationError, match="not a boolean"):
        WarehouseIn.model_validate({"name": "W", "latitude": 1, "longitude": True, "country": "US"})
    assert errors_of(canonical(lines=[{"sku": "A", "quantity": True, "unitPrice": "1"}])) == {
        "lines.0.quantity"
    }
    assert StockIn.model_validate({"onHand": 982.0}).onHand == 982  # JSON Schema's integer includes 982.0


def test_coordinates_keep_centimetre_precision_and_stay_storable() -> None:
    from shared.models.catalog import WarehouseIn

    warehouse = WarehouseIn.model_validate(
        {"name": "W", "latitude": 1e-200, "longitude": 12.345678912, "country": "US"}
    )
    assert (warehouse.latitude, warehouse.longitude) == (0.0, 12.3456789)


def test_line_discounts_line_tax_shipping_tax_and_order_discount_make_the_total() -> None:
    order = CanonicalOrder.model_validate(
        canonical(
            lines=[
                {
                    "sku": "A",
                    "quantity": 2,
                    "unitPrice": "10.00",
                    "discountAmount": "3.00",
                    "taxAmount": "1.36",
                },
                {"sku": "B", "quantity": 1, "unitPrice": "5.00"},
            ],
            shippingPrice="4.00",
            shippingTax="0.32",
            orderDiscount="1.00",
        )
    )
    # (20 - 3 + 1.36) + 5 + 4 + 0.32 - 1
    assert order.amount_due() == Decimal("26.68")
    assert order.total_mismatch() is None


def test_a_declared_total_that_differs_is_recorded_not_fixed() -> None:
    order = CanonicalOrder.model_validate(canonical(declaredTotal="30.01"))

    mismatch = order.total_mismatch()

    assert mismatch is not None
    assert (mismatch.declared, mismatch.computed) == (Decimal("30.01"), Decimal("30.00"))
    assert CanonicalOrder.model_validate(canonical(declaredTotal="30.00")).total_mismatch() is None


def test_discounts_cannot_exceed_what_they_discount() -> None:
    too_much = [{"sku": "A", "quantity": 1, "unitPrice": "5.00", "discountAmount": "5.01"}]
    assert errors_of(canonical(lines=too_much)) == {"lines.0.discountAmount"}
    assert errors_of(canonical(orderDiscount="100.00")) == {"orderDiscount"}


@pytest.mark.parametrize(
    ("currency", "amount", "accepted"),
    [
        ("USD", "10.001", False),
        ("USD", "10.010", True),  # trailing zeros carry no value
        ("JPY", "1000.5", False),
        ("JPY", "1000.00", True),
        ("KWD", "1.234", True),
        ("KWD", "1.2345", False),
    ],
)
def test_no_amount_is_finer_than_its_currency(currency: str, amount: str, accepted: bool) -> None:
    lines = [{"sku": "MUG-1", "quantity": 1, "unitPrice": amount}]
    data = canonical(currency=currency, lines=lines, shippingPrice="0")
    if accepted:
        assert CanonicalOrder.model_validate(data).amount_due() == Decimal(amount)
        return
    with pytest.raises(ValidationError) as refused:
        CanonicalOrder.model_validate(data)
    [error] = refused.value.errors()
    assert error["loc"] == ("lines", 0, "unitPrice")
    assert error["msg"].startswith(f"has more decimal places than {currency} has")


def test_every_amount_field_is_held_to_the_currency() -> None:
    data = canonical(
        lines=[{"sku": "MUG-1", "quantity": 1, "unitPrice": "12.50", "taxAmount": "0.125"}],
        shippingPrice="5.001",
        declaredTotal="17.6251",
    )
    assert errors_of(data) == {"lines.0.taxAmount", "shippingPrice", "declaredTotal"}


@pytest.mark.parametrize(
    ("sourcing", "field"),
    [
        ({"maxShipments": 0}, "maxShipments"),
        ({"maxShipments": 25}, "maxShipments"),
        ({"maxShipments": True}, "maxShipments"),
        ({"allowedWarehouses": []}, "allowedWarehouses"),
        ({"allowedWarehouses": ["wh-a", "wh-a"]}, "allowedWarehouses"),
        ({"allowedWarehouses": ["no spaces"]}, "allowedWarehouses"),
        ({"maxShipment": 2}, "maxShipment"),
    ],
)
def test_a_channel_s_sourcing_rules_are_validated(sourcing: dict[str, object], field: str) -> None:
    from shared.models.catalog import ChannelIn

    with pytest.raises(ValidationError) as refused:
        TypeAdapter(ChannelIn).validate_python(
            {"type": "api", "webhookSecret": "s" * 16, "sourcing": sourcing}
        )
    assert {str(error["loc"][2]) for error in refused.value.errors()} == {field}


def test_a_channel_without_sourcing_rules_gets_the_defaults() -> None:
    from shared.models.catalog import ChannelIn

    channel = TypeAdapter(ChannelIn).validate_python({"type": "api", "webhookSecret": "s" * 16})
    assert (channel.sourcing.maxShipments, channel.sourcing.allowedWarehouses) == (3, None)
