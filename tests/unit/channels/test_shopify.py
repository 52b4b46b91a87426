import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from shared.channels import Acknowledged, OrderCancelled, OrderPlaced, oms_refund_id
from shared.channels.shopify import authenticate, interpret, signature, to_canonical
from shared.errors import InvalidRequest
from shared.models.order import CanonicalOrder, TotalMismatch
from shared.models.refunds import ChannelRefund
from shared.signatures import SignatureError

# An id above 2**53 (9007199254740992): a float would turn it into 7345112490018716672.
ORDER_ID = 7345112490018716421

# An orders/create body in the shape Shopify sends (bare Order object, money as strings in shop
# currency, `*_set` objects beside them). A 10% code is spread over the lines' discount
# allocations (2.90 + 0.80) and a 1.00 shipping discount sits on the shipping line:
# total_discounts = 4.70. total_price = 26.10 + 2.09 + 7.20 + 0.58 + 25.00 + 6.95 + 0.48 - 1.00.
ORDER: dict[str, Any] = {
    "id": ORDER_ID,
    "admin_graphql_api_id": f"gid://shopify/Order/{ORDER_ID}",
    "name": "#1042",
    "order_number": 1042,
    "email": "siobhan.obrien@example.ie",
    "contact_email": "siobhan.obrien@example.ie",
    "created_at": "2026-03-14T10:21:07+00:00",
    "currency": "EUR",
    "presentment_currency": "EUR",
    "financial_status": "paid",
    "fulfillment_status": None,
    "cancel_reason": None,
    "cancelled_at": None,
    "taxes_included": False,
    "test": False,
    "subtotal_price": "58.30",
    "total_line_items_price": "62.20",
    "total_discounts": "4.70",
    "total_tax": "3.15",
    "total_price": "67.40",
    "total_price_set": {
        "shop_money": {"amount": "67.40", "currency_code": "EUR"},
        "presentment_money": {"amount": "67.40", "currency_code": "EUR"},
    },
    "discount_codes": [{"code": "WELCOME10", "amount": "3.70", "type": "percentage"}],
    "tax_lines": [{"price": "3.15", "rate": 0.08, "title": "VAT"}],
    "customer": {
        "id": 7345112490018716999,
        "email": "siobhan.obrien@example.ie",
        "first_name": "Siobh&aacute;n",
        "last_name": "O&#39;Brien",
    },
    "billing_address": {
        "first_name": "Siobh&aacute;n",
        "last_name": "O&#39;Brien",
        "name": "Siobh&aacute;n O&#39;Brien",
        "address1": "4 Harcourt Street",
        "address2": "",
        "city": "Dublin",
        "province": "Dublin",
        "province_code": "D",
        "zip": "D02 X285",
        "country": "Ireland",
        "country_code": "IE",
        "latitude": 53.3361,
        "longitude": -6.2631,
    },
    "shipping_address": {
        "first_name": "Siobh&aacute;n",
        "last_name": "O&#39;Brien",
        "name": "Siobh&aacute;n O&#39;Brien",
        "company": None,
        "address1": "12 Fitzwilliam &amp; Baggot Lane",
        "address2": "Apt 3",
        "city": "Dublin",
        "province": "Dublin",
        "province_code": "D",
        "zip": "D02 X285",
        "country": "Ireland",
        "country_code": "IE",
        "phone": "+353 1 555 0100",
        "latitude": 53.3382,
        "longitude": -6.2591,
    },
    "line_items": [
        {
            "id": 7345112490018716500,
            "sku": "MUG-CAFE-12",
            "title": "Caf&eacute; Mug",
            "variant_title": "Blue &amp; White",
            "name": "Caf&eacute; Mug - Blue &amp; White",
            "quantity": 2,
            "current_quantity": 2,
            "price": "14.50",
            "price_set": {
                "shop_money": {"amount": "14.50", "currency_code": "EUR"},
                "presentment_money": {"amount": "14.50", "currency_code": "EUR"},
            },
            "requires_shipping": True,
            "gift_card": False,
            "taxable": True,
            "total_discount": "0.00",
            "discount_allocations": [{"amount": "2.90", "discount_application_index": 0}],
            "tax_lines": [{"price": "2.09", "rate": 0.08, "title": "VAT"}],
        },
        {
            "id": 7345112490018716501,
            "sku": "TEA-EB-100",
            "title": "English Breakfast Tea",
            "variant_title": None,
            "quantity": 1,
            "price": "8.00",
            "requires_shipping": True,
            "gift_card": False,
            "total_discount": "0.00",
            "discount_allocations": [{"amount": "0.80", "discount_application_index": 0}],
            "tax_lines": [{"price": "0.58", "rate": 0.08, "title": "VAT"}],
        },
        {
            "id": 7345112490018716502,
            "sku": "GIFT-25",
            "title": "Gift Card",
            "variant_title": "&euro;25",
            "quantity": 1,
            "price": "25.00",
            "requires_shipping": False,
            "gift_card": True,
            "taxable": False,
            "total_discount": "0.00",
            "discount_allocations": [],
            "tax_lines": [],
        },
    ],
    "shipping_lines": [
        {
            "id": 7345112490018716600,
            "code": "Standard",
            "title": "Standard",
            "price": "6.95",
            "discounted_price": "5.95",
            "is_removed": False,
            "tax_lines": [{"price": "0.48", "rate": 0.08, "title": "VAT"}],
            "discount_allocations": [{"amount": "1.00", "discount_application_index": 1}],
        }
    ],
}

EXPECTED = CanonicalOrder(
    channelOrderId=str(ORDER_ID),
    orderNumber="#1042",  # `name`, what the buyer is shown
    currency="EUR",
    taxesIncluded=False,
    customer={"email": "siobhan.obrien@example.ie", "name": "Siobhán O'Brien"},
    shippingAddress={
        "name": "Siobhán O'Brien",
        "line1": "12 Fitzwilliam & Baggot Lane",
        "line2": "Apt 3",
        "city": "Dublin",
        "region": "D",
        "postalCode": "D02 X285",
        "country": "IE",
        "latitude": 53.3382,
        "longitude": -6.2591,
    },
    lines=[
        {
            "channelLineId": "7345112490018716500",
            "sku": "MUG-CAFE-12",
            "title": "Café Mug - Blue & White",
            "quantity": 2,
            "unitPrice": "14.50",
            "discountAmount": "2.90",
            "taxAmount": "2.09",
            "requiresShipping": True,
        },
        {
            "channelLineId": "7345112490018716501",
            "sku": "TEA-EB-100",
            "title": "English Breakfast Tea",
            "quantity": 1,
            "unitPrice": "8.00",
            "discountAmount": "0.80",
            "taxAmount": "0.58",
            "requiresShipping": True,
        },
        {
            "channelLineId": "7345112490018716502",
            "sku": "GIFT-25",
            "title": "Gift Card - €25",
            "quantity": 1,
            "unitPrice": "25.00",
            "discountAmount": "0",
            "taxAmount": "0",
            "requiresShipping": False,
        },
    ],
    shippingPrice="6.95",
    shippingTax="0.48",
    orderDiscount="1.00",
    declaredTotal="67.40",
)


def order(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(ORDER)
    payload.update(changes)
    return payload


def body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def headers(topic: str = "orders/create", **extra: str) -> dict[str, str]:
    return {
        "x-shopify-topic": topic,
        "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-shop-domain": "example-tea.myshopify.com",
        "x-shopify-api-version": "2026-07",
        **extra,
    }


def placed(payload: Any, topic: str = "orders/create") -> CanonicalOrder:
    action = interpret(headers(topic), body(payload)).action
    assert isinstance(action, OrderPlaced)
    return action.order


def problems(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as refused:
        to_canonical(payload)
    assert refused.value.message == "order is invalid"
    return {detail["field"]: detail["message"] for detail in refused.value.details}


def line(index: int, **changes: Any) -> list[dict[str, Any]]:
    lines = copy.deepcopy(ORDER["line_items"])
    lines[index].update(changes)
    return lines


# --- signature ---------------------------------------------------------------------------------

# Published vectors:
# - Shopify/shopify-api-php tests/Webhooks/RegistryTest.php + tests/BaseTestCase.php
#   (commit 4a144a84f767708515458689fc2bf769c9e465d6);
# - Shopify/shopify_app test/controllers/extension_verification_controller_test.rb
#   (commit 9228701a393b2af7eaf76f4fc7d666e4465559ec).
PHP_VECTOR = (
    "7008c5f4da4718b9b45d26d3fcbbb157",
    b'{"foo":"bar"}',
    "+R9TwYM4mbLTk3hEAOBkpA7zW2lc9vNFmVKs2u2jtyY=",
)
RUBY_VECTOR = ("secret", b"foo=anything", "yCGX/RrK4fcuNtr3ztk5tQGsOBjcAzHpGLdMUrbV8yI=")
CURRENT, PREVIOUS = "shpss_current_0123456789abcdef", "shpss_previous_fedcba9876543210"


@pytest.mark.parametrize(("secret", "payload", "expected"), [PHP_VECTOR, RUBY_VECTOR])
def test_signature_matches_the_published_vectors(secret: str, payload: bytes, expected: str):
    assert signature(secret, payload) == expected


@pytest.mark.parametrize("secret", [CURRENT, PREVIOUS])
def test_authenticate_accepts_the_current_and_the_previous_secret(secret: str):
    delivery = body(ORDER)
    signed = {"x-shopify-hmac-sha256": signature(secret, delivery)}
    assert authenticate([CURRENT, PREVIOUS], signed, delivery) is None


def test_authenticate_accepts_a_published_vector():
    secret, payload, expected = PHP_VECTOR
    authenticate([secret], {"x-shopify-hmac-sha256": expected}, payload)


def refusal(secrets: list[str], signed: dict[str, str], payload: bytes) -> str:
    with pytest.raises(SignatureError) as refused:
        authenticate(secrets, signed, payload)
    message = str(refused.value)
    for secret in [*secrets, "wrong-secret"]:
        if secret:
            assert secret not in message
    return message


def test_authenticate_refuses_a_wrong_secret():
    delivery = body(ORDER)
    message = refusal(
        [CURRENT, PREVIOUS], {"x-shopify-hmac-sha256": signature("wrong-secret", delivery)}, delivery
    )
    assert "does not match" in message


def test_authenticate_refuses_a_tampered_body():
    delivery = body(ORDER)
    tampered = delivery.replace(b'"67.40"', b'"0.01"')
    assert tampered != delivery
    message = refusal([CURRENT], {"x-shopify-hmac-sha256": signature(CURRENT, delivery)}, tampered)
    assert "does not match" in message


@pytest.mark.parametrize("signed", [{}, {"x-shopify-hmac-sha256": ""}, {"x-shopify-hmac-sha256": "  "}])
def test_authenticate_refuses_a_missing_header(signed: dict[str, str]):
    assert "missing x-shopify-hmac-sha256" in refusal([CURRENT], signed, body(ORDER))


def test_authenticate_refuses_when_no_secret_is_configured():
    delivery = body(ORDER)
    assert "no webhook secret" in refusal(
        ["", ""], {"x-shopify-hmac-sha256": signature("", delivery)}, delivery
    )


def test_authenticate_refuses_a_non_ascii_signature_without_crashing():
    assert "does not match" in refusal([CURRENT], {"x-shopify-hmac-sha256": "é" * 44}, body(ORDER))


# --- orders/create -----------------------------------------------------------------------------


def test_orders_create_maps_every_canonical_field():
    inbound = interpret(headers(), body(ORDER))
    assert inbound.eventId == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert inbound.topic == "orders/create"
    assert inbound.fingerprint == f"orders/create:{ORDER_ID}"
    assert isinstance(inbound.action, OrderPlaced)
    assert inbound.action.order.model_dump() == EXPECTED.model_dump()
    assert inbound.action.order.amount_due() == Decimal("67.40")
    assert inbound.action.order.total_mismatch() is None


def test_money_stays_decimal_with_its_scale():
    mapped = placed(ORDER)
    assert mapped.lines[0].unitPrice == Decimal("14.50")
    assert str(mapped.lines[0].unitPrice) == "14.50"
    assert all(isinstance(line.unitPrice, Decimal) for line in mapped.lines)
    assert mapped.model_dump(mode="json")["declaredTotal"] == "67.40"


def test_ids_above_2_to_the_53_stay_exact_strings():
    assert ORDER_ID > 2**53 and float(ORDER_ID) != ORDER_ID
    assert placed(ORDER).channelOrderId == "7345112490018716421"
    assert placed(order(id="7345112490018716421")).channelOrderId == "7345112490018716421"
    # Line ids too: a float would turn 7345112490018716501 into 7345112490018716672.
    assert float(7345112490018716501) != 7345112490018716501
    assert [line.channelLineId for line in placed(ORDER).lines] == [
        "7345112490018716500",
        "7345112490018716501",
        "7345112490018716502",
    ]
    assert placed(order(line_items=line(1, id="7345112490018716501"))).lines[1].channelLineId == (
        "7345112490018716501"
    )


def test_a_line_without_an_id_has_no_channel_line_id_and_an_invalid_one_is_refused():
    lines = line(0)
    del lines[0]["id"]
    mapped = placed(order(line_items=lines))
    assert [line.channelLineId for line in mapped.lines] == [
        None,
        "7345112490018716501",
        "7345112490018716502",
    ]
    assert all(line.channelTaxRateId is None for line in mapped.lines)
    assert set(problems(order(line_items=line(1, id=12.5)))) == {"line_items.1.id"}
    assert set(problems(order(line_items=line(1, id="gid://shopify/LineItem/1")))) == {"line_items.1.id"}


def test_html_entities_are_unescaped_in_names_titles_and_address():
    mapped = placed(ORDER)
    assert mapped.customer.name == "Siobhán O'Brien"
    assert mapped.shippingAddress.name == "Siobhán O'Brien"
    assert mapped.shippingAddress.line1 == "12 Fitzwilliam & Baggot Lane"
    assert [line.title for line in mapped.lines] == [
        "Café Mug - Blue & White",
        "English Breakfast Tea",
        "Gift Card - €25",
    ]


def test_coordinates_given_as_strings_as_in_old_payloads():
    address = {**ORDER["shipping_address"], "latitude": "53.3382", "longitude": "-6.2591"}
    mapped = placed(order(shipping_address=address))
    assert (mapped.shippingAddress.latitude, mapped.shippingAddress.longitude) == (53.3382, -6.2591)


@pytest.mark.parametrize(("latitude", "longitude"), [(None, None), ("", ""), ("n/a", 12), (91, -181)])
def test_missing_unusable_or_half_coordinates_are_dropped_not_refused(latitude: Any, longitude: Any):
    address = {**ORDER["shipping_address"], "latitude": latitude, "longitude": longitude}
    mapped = placed(order(shipping_address=address))
    assert (mapped.shippingAddress.latitude, mapped.shippingAddress.longitude) == (None, None)


def test_a_rest_wrapped_body_maps_like_the_bare_order():
    inbound = interpret(headers(), body({"order": ORDER}))
    assert isinstance(inbound.action, OrderPlaced)
    assert inbound.action.order == EXPECTED
    assert inbound.fingerprint == f"orders/create:{ORDER_ID}"


def test_the_fingerprint_names_the_order_not_the_bytes():
    # The same event delivered to a subscription on another API version has other fields.
    other_version = order(current_total_price="67.40", merchant_business_entity_id="MTU0ODM4MDAwOQ")
    first = interpret(headers(), body(ORDER))
    second = interpret(headers(**{"x-shopify-api-version": "2025-10"}), body(other_version))
    assert body(ORDER) != body(other_version)
    assert first.fingerprint == second.fingerprint == f"orders/create:{ORDER_ID}"


def test_an_order_with_nothing_to_ship_is_acknowledged():
    digital = [ORDER["line_items"][2], {**ORDER["line_items"][2], "sku": "EBOOK-1", "title": "E-book"}]
    inbound = interpret(headers(), body(order(line_items=digital, shipping_address=None)))
    assert isinstance(inbound.action, Acknowledged)
    assert inbound.action.channelOrderId == str(ORDER_ID)
    assert "no line requires shipping" in inbound.action.reason
    assert inbound.fingerprint == f"orders/create:{ORDER_ID}"


def test_taxes_included_prices_do_not_get_their_tax_added_again():
    # A UK-style order: 24.00 includes 4.00 VAT; shipping 4.80 includes 0.80 VAT.
    lines = [
        {
            "sku": "MUG-CAFE-12",
            "title": "Caf&eacute; Mug",
            "quantity": 1,
            "price": "24.00",
            "requires_shipping": True,
            "discount_allocations": [],
            "tax_lines": [{"price": "4.00", "rate": 0.2, "title": "GB VAT"}],
        }
    ]
    shipping = [{"price": "4.80", "tax_lines": [{"price": "0.80"}], "discount_allocations": []}]
    payload = order(
        currency="GBP", taxes_included=True, line_items=lines, shipping_lines=shipping, total_price="28.80"
    )
    mapped = placed(payload)
    assert mapped.taxesIncluded is True
    assert (mapped.lines[0].taxAmount, mapped.shippingTax) == (Decimal("4.00"), Decimal("0.80"))
    assert mapped.amount_due() == Decimal("28.80")
    assert mapped.total_mismatch() is None


def test_a_total_that_does_not_add_up_is_mapped_and_the_mismatch_computed():
    mapped = placed(order(total_price="70.00"))
    assert mapped.declaredTotal == Decimal("70.00")
    assert mapped.total_mismatch() == TotalMismatch(declared=Decimal("70.00"), computed=Decimal("67.40"))


def test_json_numbers_for_money_are_read_as_exact_decimals():
    # Shopify sends some money as JSON numbers (e.g. refund subtotals); the body is parsed with
    # parse_float=Decimal, so 14.50 arrives as Decimal("14.50"), never as a float.
    raw = (
        body(ORDER).replace(b'"price": "14.50"', b'"price": 14.50').replace(b'"price": "8.00"', b'"price": 8')
    )
    mapped = interpret(headers(), raw).action
    assert isinstance(mapped, OrderPlaced)
    assert (mapped.order.lines[0].unitPrice, mapped.order.lines[1].unitPrice) == (
        Decimal("14.50"),
        Decimal(8),
    )
    assert mapped.order.amount_due() == Decimal("67.40")


def test_a_float_amount_is_refused():
    assert "precision" in problems(order(line_items=line(0, price=14.5)))["line_items.0.price"]


def test_legacy_lines_without_discount_allocations_use_total_discount():
    lines = line(0, total_discount="2.90")
    for item in lines:
        del item["discount_allocations"]
    lines[1]["total_discount"] = "0.80"
    mapped = placed(order(line_items=lines))
    assert [line.discountAmount for line in mapped.lines] == [Decimal("2.90"), Decimal("0.80"), Decimal("0")]
    assert mapped.amount_due() == Decimal("67.40")


def test_removed_shipping_lines_are_not_charged():
    removed = {
        "price": "12.00",
        "is_removed": True,
        "tax_lines": [{"price": "0.96"}],
        "discount_allocations": [],
    }
    mapped = placed(order(shipping_lines=[*ORDER["shipping_lines"], removed]))
    assert (mapped.shippingPrice, mapped.shippingTax) == (Decimal("6.95"), Decimal("0.48"))


def test_no_shipping_lines_means_free_shipping():
    mapped = placed(order(shipping_lines=[]))
    assert (mapped.shippingPrice, mapped.shippingTax, mapped.orderDiscount) == (0, 0, 0)


def test_email_falls_back_to_contact_email_then_the_customer():
    assert placed(order(email="", contact_email="c@example.ie")).customer.email == "c@example.ie"
    assert placed(order(email=None, contact_email=None)).customer.email == "siobhan.obrien@example.ie"


def test_name_falls_back_to_the_shipping_then_the_billing_address():
    assert placed(order(customer=None)).customer.name == "Siobhán O'Brien"
    billing = {**ORDER["billing_address"], "name": "Bill &amp; Co"}
    nameless = {**ORDER["shipping_address"], "name": None, "first_name": None, "last_name": None}
    mapped = placed(
        order(customer=None, shipping_address={**nameless, "company": "Acme"}, billing_address=billing)
    )
    assert mapped.customer.name == "Bill & Co"
    assert mapped.shippingAddress.name == "Acme"


def test_address_region_falls_back_to_province_and_blanks_become_null():
    address = {**ORDER["shipping_address"], "province_code": None, "address2": "", "zip": ""}
    mapped = placed(order(shipping_address=address))
    assert (mapped.shippingAddress.region, mapped.shippingAddress.line2) == ("Dublin", None)
    assert mapped.shippingAddress.postalCode is None


# --- refusals ----------------------------------------------------------------------------------


def test_all_problems_are_reported_at_once_in_shopify_terms():
    lines = line(0, sku=None)
    lines[1]["quantity"] = 0
    found = problems(order(currency="EURO", line_items=lines, shipping_address=None))
    assert set(found) == {"currency", "line_items.0.sku", "line_items.1.quantity", "shipping_address"}
    assert "ISO 4217" in found["currency"]
    assert "SKU" in found["line_items.0.sku"]
    assert "greater than or equal to 1" in found["line_items.1.quantity"]
    assert "requires shipping" in found["shipping_address"]


@pytest.mark.parametrize("sku", [None, "", "   "])
def test_a_line_without_sku_is_refused(sku: Any):
    assert set(problems(order(line_items=line(1, sku=sku)))) == {"line_items.1.sku"}


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5])
def test_a_line_quantity_must_be_a_whole_number_of_at_least_one(quantity: Any):
    assert set(problems(order(line_items=line(0, quantity=quantity)))) == {"line_items.0.quantity"}


def test_refusals_reach_interpret_as_invalid_request():
    with pytest.raises(InvalidRequest) as refused:
        interpret(headers(), body(order(currency="XYZ", shipping_address=None)))
    assert {d["field"] for d in refused.value.details} == {"currency", "shipping_address"}


def test_problems_in_the_shipping_address_name_its_shopify_fields():
    address = {**ORDER["shipping_address"], "country_code": "ie", "city": " ", "address1": None}
    found = problems(order(shipping_address=address))
    assert set(found) == {
        "shipping_address.country_code",
        "shipping_address.city",
        "shipping_address.address1",
    }


def test_problems_in_derived_fields_name_the_field_they_came_from():
    no_email = order(email=None, contact_email="", customer={"first_name": "Siobh&aacute;n"})
    assert set(problems(no_email)) == {"email"}
    assert set(problems(order(email=None, contact_email="not-an-email"))) == {"contact_email"}
    too_much = line(1, discount_allocations=[{"amount": "9.00"}])
    assert problems(order(line_items=too_much)) == {
        "line_items.1.discount_allocations": "exceeds unitPrice x quantity"
    }


def test_an_invalid_or_missing_order_id_is_refused():
    assert "id" in problems(order(id=12.5))
    assert "id" in problems(order(id="gid://shopify/Order/1"))
    payload = order()
    del payload["id"]
    assert "id" in problems(payload)


def test_an_order_without_lines_is_refused():
    assert set(problems(order(line_items=[]))) == {"line_items"}


# --- other topics and headers ------------------------------------------------------------------


def test_orders_cancelled_becomes_a_cancellation():
    cancelled = order(cancel_reason="customer", cancelled_at="2026-03-14T12:00:00+00:00")
    inbound = interpret(headers("orders/cancelled"), body(cancelled))
    assert inbound.action == OrderCancelled(
        channelOrderId=str(ORDER_ID), reason="cancelled in Shopify: customer"
    )
    assert inbound.fingerprint == f"orders/cancelled:{ORDER_ID}"
    assert inbound.topic == "orders/cancelled"


def test_a_cancellation_needs_only_the_order_id():
    inbound = interpret(headers("orders/cancelled"), body({"order": {"id": ORDER_ID, "cancel_reason": None}}))
    assert isinstance(inbound.action, OrderCancelled)
    assert inbound.action.channelOrderId == str(ORDER_ID)
    assert inbound.action.reason == "cancelled in Shopify: no reason given"


def test_an_unknown_topic_is_acknowledged():
    inbound = interpret(headers("orders/updated"), body(ORDER))
    assert inbound.action == Acknowledged(
        reason="topic orders/updated is not handled", channelOrderId=str(ORDER_ID)
    )
    assert inbound.fingerprint == f"orders/updated:{ORDER_ID}"


def test_an_unknown_topic_without_an_order_id_is_acknowledged():
    inbound = interpret(headers("app/uninstalled"), body({"domain": "example-tea.myshopify.com"}))
    assert isinstance(inbound.action, Acknowledged)
    assert inbound.action.channelOrderId is None


def test_the_event_id_falls_back_to_the_webhook_id():
    without_event_id = {k: v for k, v in headers().items() if k != "x-shopify-event-id"}
    assert interpret(without_event_id, body(ORDER)).eventId == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def test_a_delivery_without_event_or_webhook_id_is_refused():
    bare = {k: v for k, v in headers().items() if k not in ("x-shopify-event-id", "x-shopify-webhook-id")}
    with pytest.raises(InvalidRequest) as refused:
        interpret(bare, body(ORDER))
    assert "x-shopify-event-id" in refused.value.message
    assert refused.value.details[0]["field"] == "headers.x-shopify-event-id"


def test_a_delivery_without_topic_is_refused():
    with pytest.raises(InvalidRequest) as refused:
        interpret({k: v for k, v in headers().items() if k != "x-shopify-topic"}, body(ORDER))
    assert refused.value.details == [{"field": "headers.x-shopify-topic", "message": "is required"}]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"order"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused(raw: bytes):
    with pytest.raises(InvalidRequest) as refused:
        interpret(headers(), raw)
    assert refused.value.details[0]["field"] == "body"


def test_an_empty_shipping_address_names_each_missing_field():
    found = problems(order(shipping_address={}))
    assert set(found) == {
        "shipping_address.address1",
        "shipping_address.city",
        "shipping_address.country_code",
    }


def test_orders_paid_places_the_order_like_orders_create() -> None:
    created = interpret(headers("orders/create"), body(ORDER))
    paid = interpret(headers("orders/paid"), body(ORDER))

    assert isinstance(paid.action, OrderPlaced)
    assert paid.action == created.action
    assert paid.fingerprint == f"orders/paid:{ORDER_ID}"


def test_a_price_finer_than_the_currency_is_refused_naming_the_shopify_field():
    payload = order(line_items=line(0, price="10.001"))
    found = problems(payload)
    [(field, message)] = found.items()
    assert field.startswith("line_items.0.")
    assert message.startswith(f"has more decimal places than {payload['currency']} has (")


# --- refunds/create ----------------------------------------------------------------------------

REFUND_ID = 7345112490018717001


def shop(amount: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": amount, "currency_code": "EUR"},
        "presentment_money": {"amount": amount, "currency_code": "EUR"},
    }


# A refunds/create body in the shape Shopify sends (the bare Refund object): one of the two mugs
# and the tea of ORDER, with its shipping, refunded from the Shopify admin. `subtotal` and
# `total_tax` are JSON numbers, their `*_set` amounts strings. Shopify reports the shipping twice,
# as a refund shipping line and as a `shipping_refund` order adjustment (as its published example
# does), and a failed transaction beside the successful one. 13.05 + 1.05 + 7.20 + 0.58 + 5.95 + 0.48.
REFUND: dict[str, Any] = {
    "id": REFUND_ID,
    "order_id": ORDER_ID,
    "created_at": "2026-03-20T09:12:44+00:00",
    "processed_at": "2026-03-20T09:12:45+00:00",
    "note": "Mug arrived chipped",
    "user_id": 7345112490018716990,
    "restock": False,
    "admin_graphql_api_id": f"gid://shopify/Refund/{REFUND_ID}",
    "duties": [],
    "additional_fees": [],
    "return": None,
    "refund_line_items": [
        {
            "id": 7345112490018717101,
            "line_item_id": 7345112490018716500,
            "quantity": 1,
            "restock_type": "no_restock",
            "location_id": None,
            "subtotal": 13.05,
            "total_tax": 1.05,
            "subtotal_set": shop("13.05"),
            "total_tax_set": shop("1.05"),
            "line_item": {
                "id": 7345112490018716500,
                "sku": "MUG-CAFE-12",
                "title": "Caf&eacute; Mug",
                "quantity": 2,
                "price": "14.50",
            },
        },
        {
            "id": 7345112490018717102,
            "line_item_id": 7345112490018716501,
            "quantity": 1,
            "restock_type": "return",
            "location_id": 7345112490018716800,
            "subtotal": 7.2,
            "total_tax": 0.58,
            "subtotal_set": shop("7.20"),
            "total_tax_set": shop("0.58"),
            "line_item": {"id": 7345112490018716501, "sku": "TEA-EB-100", "quantity": 1, "price": "8.00"},
        },
    ],
    "refund_shipping_lines": [
        {
            "id": 7345112490018717201,
            "shipping_line_id": 7345112490018716600,
            "subtotal_amount_set": shop("5.95"),
            "tax_amount_set": shop("0.48"),
            "shipping_line": {"id": 7345112490018716600, "code": "Standard", "price": "6.95"},
        }
    ],
    "order_adjustments": [
        {
            "id": 7345112490018717301,
            "order_id": ORDER_ID,
            "refund_id": REFUND_ID,
            "amount": "-5.95",
            "tax_amount": "-0.48",
            "kind": "shipping_refund",
            "reason": "Shipping refund",
            "amount_set": shop("-5.95"),
            "tax_amount_set": shop("-0.48"),
        }
    ],
    "transactions": [
        {
            "id": 7345112490018717401,
            "order_id": ORDER_ID,
            "kind": "refund",
            "gateway": "shopify_payments",
            "status": "failure",
            "amount": "28.31",
            "currency": "EUR",
            "parent_id": 7345112490018716700,
        },
        {
            "id": 7345112490018717402,
            "order_id": ORDER_ID,
            "kind": "refund",
            "gateway": "shopify_payments",
            "status": "success",
            "amount": "28.31",
            "currency": "EUR",
            "parent_id": 7345112490018716700,
        },
    ],
}

EXPECTED_REFUND = {
    "channelRefundId": str(REFUND_ID),
    "channelOrderId": str(ORDER_ID),
    "lines": [
        {
            "channelLineId": "7345112490018716500",
            "sku": "MUG-CAFE-12",
            "quantity": 1,
            "amount": "14.10",
            "tax": "1.05",
        },
        {
            "channelLineId": "7345112490018716501",
            "sku": "TEA-EB-100",
            "quantity": 1,
            "amount": "7.78",
            "tax": "0.58",
        },
    ],
    "shipping": "6.43",
    "unallocated": "0",
    "total": "28.31",
    "note": "Mug arrived chipped",
    "processedAt": "2026-03-20T09:12:45+00:00",
    "omsRefundId": None,
}


def refund(**changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(REFUND)
    payload.update(changes)
    return payload


def refunded(payload: Any) -> ChannelRefund:
    inbound = interpret(headers("refunds/create"), body(payload))
    assert inbound.action == Acknowledged(
        reason="refund recorded against the order", channelOrderId=str(ORDER_ID)
    )
    [found] = inbound.refunds
    return found


def refund_problems(payload: Any) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as refused:
        interpret(headers("refunds/create"), body(payload))
    assert refused.value.message == "refund is invalid"
    return {detail["field"]: detail["message"] for detail in refused.value.details}


def test_refunds_create_is_acknowledged_and_lists_the_refund():
    inbound = interpret(headers("refunds/create"), body(REFUND))
    assert inbound.eventId == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert inbound.topic == "refunds/create"
    assert inbound.fingerprint == f"refunds/create:{REFUND_ID}"
    assert inbound.action == Acknowledged(
        reason="refund recorded against the order", channelOrderId=str(ORDER_ID)
    )
    assert [found.model_dump(mode="json") for found in inbound.refunds] == [EXPECTED_REFUND]


def test_refund_money_is_exact_decimal_with_its_scale_never_float():
    found = refunded(REFUND)
    assert [line.amount for line in found.lines] == [Decimal("14.10"), Decimal("7.78")]
    assert all(isinstance(line.amount, Decimal) and isinstance(line.tax, Decimal) for line in found.lines)
    assert str(found.lines[0].amount) == "14.10"  # 13.05 + 1.05, the scale kept
    assert (found.shipping, found.total) == (Decimal("6.43"), Decimal("28.31"))
    assert sum((line.amount for line in found.lines), found.shipping) == found.total


def test_refund_amounts_prefer_the_shop_money_sets_over_the_numbers():
    lines = copy.deepcopy(REFUND["refund_line_items"])
    lines[0]["subtotal"] = 99.99  # a number that disagrees: the *_set string wins
    del lines[1]["subtotal_set"], lines[1]["total_tax_set"]  # only the numbers: read exactly
    found = refunded(refund(refund_line_items=lines))
    assert [(line.amount, line.tax) for line in found.lines] == [
        (Decimal("14.10"), Decimal("1.05")),
        (Decimal("7.78"), Decimal("0.58")),
    ]
    assert str(found.lines[1].amount) == "7.78"


def test_shipping_given_only_as_a_shipping_refund_adjustment_is_its_negated_amount():
    adjustments = [
        *REFUND["order_adjustments"],
        {"kind": "refund_discrepancy", "amount": "-1.50", "tax_amount": "0.00", "amount_set": shop("-1.50")},
    ]
    found = refunded(refund(refund_shipping_lines=[], order_adjustments=adjustments))
    assert found.shipping == Decimal("6.43")  # 5.95 + 0.48; the discrepancy is no shipping
    legacy = [{"kind": "shipping_refund", "amount": "-5.95", "tax_amount": "-0.48"}]  # no *_set
    assert refunded(refund(refund_shipping_lines=[], order_adjustments=legacy)).shipping == Decimal("6.43")


def test_shipping_reported_both_ways_is_counted_once():
    assert refunded(REFUND).shipping == Decimal("6.43")
    only_lines = refunded(refund(order_adjustments=[]))
    assert only_lines.shipping == Decimal("6.43")
    untaxed = [{**REFUND["refund_shipping_lines"][0], "tax_amount_set": None}]
    assert refunded(refund(refund_shipping_lines=untaxed, order_adjustments=[])).shipping == Decimal("5.95")


def test_a_refund_the_oms_made_is_recognised_by_its_note():
    # The OMS's refund port asked Shopify for this one: its note names the OMS refund.
    oms = refund(
        note="OMS refund rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D: damaged in transit",
        refund_line_items=REFUND["refund_line_items"][1:],
        refund_shipping_lines=[],
        order_adjustments=[],
        transactions=[{**REFUND["transactions"][1], "amount": "7.78"}],
    )
    found = refunded(oms)
    assert found.omsRefundId == "rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D"
    assert found.note == "OMS refund rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D: damaged in transit"
    assert (found.total, found.shipping) == (Decimal("7.78"), Decimal("0"))
    for note in (None, "", "Refund for OMS refund rfd_1: quoted", "OMS refund rfd_1 without colon"):
        assert refunded(refund(note=note)).omsRefundId is None


def test_the_total_is_what_successful_refund_transactions_returned():
    partial = [
        {"kind": "refund", "status": "success", "amount": "20.00"},
        {"kind": "refund", "status": "success", "amount": "5.00", "amount_set": shop("5.00")},
        {"kind": "refund", "status": "pending", "amount": "3.31"},
        {"kind": "sale", "status": "success", "amount": "67.40"},
    ]
    assert refunded(refund(transactions=partial)).total == Decimal("25.00")


def test_without_successful_transactions_the_total_is_lines_and_shipping():
    pending = [{**REFUND["transactions"][1], "status": "pending"}]
    for transactions in ([], pending):
        found = refunded(refund(transactions=transactions))
        assert found.total == Decimal("28.31")  # 14.10 + 7.78 + 6.43


def test_a_refund_without_lines_or_shipping_still_records_the_money():
    found = refunded(refund(refund_line_items=[], refund_shipping_lines=[], order_adjustments=[]))
    assert (found.lines, found.shipping, found.total) == ([], Decimal("0"), Decimal("28.31"))
    nulls = refunded(refund(refund_line_items=None, refund_shipping_lines=None, order_adjustments=None))
    assert nulls == found
    older = refund()
    del older["refund_shipping_lines"], older["order_adjustments"]  # as an older API version may send it
    assert refunded(older).shipping == Decimal("0")
    assert found.processedAt == "2026-03-20T09:12:45+00:00"
    assert refunded(refund(processed_at=None)).processedAt == "2026-03-20T09:12:44+00:00"


def test_a_rest_wrapped_refund_maps_like_the_bare_one():
    inbound = interpret(headers("refunds/create"), body({"refund": REFUND}))
    assert [found.model_dump(mode="json") for found in inbound.refunds] == [EXPECTED_REFUND]
    assert inbound.fingerprint == f"refunds/create:{REFUND_ID}"


def test_the_refund_fingerprint_names_the_refund_not_the_bytes():
    other_version = refund(total_duties_set=shop("0.00"), return_id=None)
    first = interpret(headers("refunds/create"), body(REFUND))
    second = interpret(headers("refunds/create", **{"x-shopify-api-version": "2025-10"}), body(other_version))
    assert body(REFUND) != body(other_version)
    assert first.fingerprint == second.fingerprint == f"refunds/create:{REFUND_ID}"


def test_an_invalid_refund_is_refused_naming_its_shopify_fields():
    lines = copy.deepcopy(REFUND["refund_line_items"])
    lines[0]["line_item_id"] = "gid://shopify/LineItem/1"
    lines[1]["quantity"] = -1
    payload = refund(refund_line_items=lines, order_id=None)
    del payload["id"]
    found = refund_problems(payload)
    assert set(found) == {
        "id",
        "order_id",
        "refund_line_items.0.line_item_id",
        "refund_line_items.1.quantity",
    }


def test_refund_amounts_that_are_missing_or_not_money_are_refused():
    lines = copy.deepcopy(REFUND["refund_line_items"])
    del lines[0]["subtotal"], lines[0]["subtotal_set"]
    lines[1]["total_tax_set"] = shop("-0.58")
    transactions = [{"kind": "refund", "status": "success"}]
    adjustments = [{"kind": "shipping_refund", "amount": "5.95", "tax_amount": "0.48"}]
    found = refund_problems(
        refund(
            refund_line_items=lines,
            refund_shipping_lines=[],
            order_adjustments=adjustments,
            transactions=transactions,
        )
    )
    assert set(found) == {"refund_line_items.1.total_tax_set.shop_money.amount"}
    lines[1]["total_tax_set"] = shop("0.58")
    found = refund_problems(
        refund(
            refund_line_items=lines,
            refund_shipping_lines=[],
            order_adjustments=adjustments,
            transactions=transactions,
        )
    )
    assert set(found) == {
        "refund_line_items.0.subtotal_set",
        "order_adjustments.0.amount",
        "transactions.0.amount",
    }
    assert "negative" in found["order_adjustments.0.amount"]


def test_a_refund_body_that_is_not_a_json_object_is_refused():
    with pytest.raises(InvalidRequest) as refused:
        interpret(headers("refunds/create"), b"[]")
    assert refused.value.details == [{"field": "body", "message": "must be a JSON object"}]


def test_order_deliveries_report_no_refunds():
    assert interpret(headers(), body(ORDER)).refunds == []
    assert interpret(headers("orders/cancelled"), body(ORDER)).refunds == []


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("OMS refund rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D: damaged", "rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D"),
        ("  OMS refund r-1:", "r-1"),
        ("OMS refund : no id", None),
        ("oms refund r-1: lower case", None),
        ("Customer says: OMS refund r-1: quoted", None),
        (None, None),
    ],
)
def test_the_oms_refund_id_is_read_from_the_start_of_a_note(note: str | None, expected: str | None):
    assert oms_refund_id(note) == expected


def test_a_shipping_adjustment_finer_than_an_amount_is_refused_not_a_crash():
    adjustments = [{"kind": "shipping_refund", "amount": "-5.95000", "tax_amount": "-0.48"}]
    found = refund_problems(refund(refund_shipping_lines=[], order_adjustments=adjustments))
    assert found == {"order_adjustments.0.amount": "has more than 4 decimal places"}
    adjustments = [{"kind": "shipping_refund", "amount": "-5.95", "tax_amount": "lots"}]
    assert set(refund_problems(refund(refund_shipping_lines=[], order_adjustments=adjustments))) == {
        "order_adjustments.0.tax_amount"
    }


def test_a_line_refunded_for_nothing_keeps_the_scale_of_its_zero_amounts():
    # As in Shopify's published refund example: a line refunded (restocked) for "0.00", while a
    # transaction returns money. Zero is still "0.00", never "0".
    lines = [
        {
            **REFUND["refund_line_items"][0],
            "subtotal": 0.0,
            "total_tax": 0.0,
            "subtotal_set": shop("0.00"),
            "total_tax_set": shop("0.00"),
        }
    ]
    found = refunded(refund(refund_line_items=lines))
    assert found.model_dump(mode="json")["lines"] == [
        {
            "channelLineId": "7345112490018716500",
            "sku": "MUG-CAFE-12",
            "quantity": 1,
            "amount": "0.00",
            "tax": "0.00",
        }
    ]
    del lines[0]["subtotal_set"], lines[0]["total_tax_set"]  # the numbers 0.0: read as Decimal("0.0")
    assert found.lines[0].amount == refunded(refund(refund_line_items=lines)).lines[0].amount == 0
    assert str(refunded(refund(refund_line_items=lines)).lines[0].amount) == "0.0"


@pytest.mark.parametrize("name", [None, "", "   ", "#" + "9" * 64, ["#1042"]])
def test_a_name_the_oms_cannot_keep_leaves_the_order_number_unset_and_the_order_placed(name: Any) -> None:
    inbound = interpret(headers(), body(order(name=name)))
    assert isinstance(inbound.action, OrderPlaced)
    assert inbound.action.order.orderNumber is None  # the customer looks it up by the order id then
