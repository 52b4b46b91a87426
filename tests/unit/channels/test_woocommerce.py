"""The WooCommerce adapter: signatures, the creation ping, order webhooks into canonical orders.

The orders below are written for these tests in the shape of WooCommerce's REST API v3 order (the
webhook body): money as decimal strings, `line_items[].price` a JSON number, HTML entities in names,
"" for absent fields, and sent as PHP's wp_json_encode sends them (compact, "/" escaped as "\\/").
"""

import copy
import hashlib
import json
from decimal import Decimal
from typing import Any

import pytest

from shared.channels import Acknowledged, OrderCancelled, OrderPlaced
from shared.channels import woocommerce as wc
from shared.errors import InvalidRequest
from shared.models.order import TotalMismatch
from shared.signatures import SignatureError

# Published vector: woocommerce/woocommerce plugins/woocommerce/tests/legacy/unit-tests/webhooks/crud.php
# test_generate_signature. A fresh WC_Webhook has the empty secret; "secret" is the signed PAYLOAD.
VECTOR_SECRET = ""
VECTOR_BODY = b"secret"
VECTOR_SIGNATURE = "GBDo00G55h6IiV+6CxqivQPLbI//KzaOZm747971tPs="

SECRET = "wc-current-5f2b8c0e9a71d4e3"
PREVIOUS_SECRET = "wc-previous-0b6e2d91c3a8f547"
DELIVERY_ID = "a3f1c2e4b5d6978812ab34cd56ef7890"


def us_order() -> dict[str, Any]:
    """A paid US order: a 10% coupon on both lines, 8.25% sales tax, flat-rate shipping (not taxed),
    shipped to another address than billing. 25.00 for 3 socks does not divide into cents."""
    return {
        "id": 4821,
        "parent_id": 0,
        "number": "4821",
        "order_key": "wc_order_Vq3kP0mZr8x1T",
        "created_via": "checkout",
        "version": "8.9.1",
        "status": "processing",
        "currency": "USD",
        "date_created": "2024-05-14T10:21:37",
        "date_created_gmt": "2024-05-14T17:21:37",
        "date_modified": "2024-05-14T10:21:41",
        "date_modified_gmt": "2024-05-14T17:21:41",
        "discount_total": "14.30",
        "discount_tax": "1.18",
        "shipping_total": "7.50",
        "shipping_tax": "0.00",
        "cart_tax": "10.62",
        "total": "146.82",
        "total_tax": "10.62",
        "prices_include_tax": False,
        "customer_id": 57,
        "customer_ip_address": "203.0.113.24",
        "customer_user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        "customer_note": "Please leave at the side door",
        "billing": {
            "first_name": "Zo\u00eb",
            "last_name": "Harper",
            "company": "",
            "address_1": "742 Evergreen Terrace",
            "address_2": "",
            "city": "Springfield",
            "state": "OR",
            "postcode": "97477",
            "country": "US",
            "email": "zoe.harper@example.com",
            "phone": "+1 541 555 0142",
        },
        "shipping": {
            "first_name": "Sam",
            "last_name": "Harper",
            "company": "Harper &amp; Daughters",
            "address_1": "1600 Amphitheatre Pkwy",
            "address_2": "Bldg 4 / Floor 2",
            "city": "Mountain View",
            "state": "CA",
            "postcode": "94043",
            "country": "US",
            "phone": "",
        },
        "payment_method": "stripe",
        "payment_method_title": "Credit Card (Stripe)",
        "transaction_id": "ch_3PGd2e2eZvKYlo2C1a9XyZ7Q",
        "date_paid": "2024-05-14T10:21:41",
        "date_paid_gmt": "2024-05-14T17:21:41",
        "date_completed": None,
        "date_completed_gmt": None,
        "cart_hash": "9b1f0c3c7d7e4a8fd0a1c2b3e4f50617",
        "meta_data": [{"id": 88211, "key": "_stripe_currency", "value": "USD"}],
        "line_items": [
            {
                "id": 1201,
                "name": "Trail Runner &ndash; Blue, 42",
                "product_id": 311,
                "variation_id": 318,
                "quantity": 2,
                "tax_class": "",
                "subtotal": "118.00",
                "subtotal_tax": "9.74",
                "total": "106.20",
                "total_tax": "8.76",
                "taxes": [{"id": 3, "total": "8.7615", "subtotal": "9.735"}],
                "meta_data": [{"id": 9901, "key": "pa_color", "value": "blue"}],
                "sku": "TR-BLU-42",
                "price": 53.1,
            },
            {
                "id": 1202,
                "name": "Merino Socks (3 pack)",
                "product_id": 402,
                "variation_id": 0,
                "quantity": 3,
                "tax_class": "",
                "subtotal": "25.00",
                "subtotal_tax": "2.06",
                "total": "22.50",
                "total_tax": "1.86",
                "taxes": [{"id": 3, "total": "1.85625", "subtotal": "2.0625"}],
                "meta_data": [],
                "sku": "SOCK-MER-3PK",
                "price": 7.5,
            },
        ],
        "tax_lines": [
            {
                "id": 1205,
                "rate_code": "US-OR-SALES-1",
                "rate_id": 3,
                "label": "Sales Tax",
                "compound": False,
                "tax_total": "10.62",
                "shipping_tax_total": "0.00",
                "meta_data": [],
            }
        ],
        "shipping_lines": [
            {
                "id": 1203,
                "method_title": "Flat rate",
                "method_id": "flat_rate",
                "instance_id": "2",
                "total": "7.50",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
            }
        ],
        "fee_lines": [],
        "coupon_lines": [
            {"id": 1204, "code": "spring10", "discount": "14.30", "discount_tax": "1.18", "meta_data": []}
        ],
        "refunds": [],
        "_links": {
            "self": [{"href": "https://shop.example.com/wp-json/wc/v3/orders/4821"}],
            "collection": [{"href": "https://shop.example.com/wp-json/wc/v3/orders"}],
            "customer": [{"href": "https://shop.example.com/wp-json/wc/v3/customers/57"}],
        },
    }


def uk_order() -> dict[str, Any]:
    """A paid UK order in a store whose prices include 20% VAT. WooCommerce still reports line and
    shipping amounts without VAT. A 5.00 coupon (VAT included) on the towels, a taxable gift-wrap fee
    and a negative fee (a loyalty reward)."""
    order = us_order()
    order.update(
        id=1093,
        number="1093",
        currency="GBP",
        prices_include_tax=True,
        discount_total="4.17",
        discount_tax="0.83",
        shipping_total="4.00",
        shipping_tax="0.80",
        cart_tax="7.17",
        total_tax="8.07",
        total="48.40",
        billing={
            "first_name": "Oliver",
            "last_name": "Bennett",
            "company": "",
            "address_1": "14 Mill Lane",
            "address_2": "",
            "city": "Bath",
            "state": "",
            "postcode": "BA1 1AA",
            "country": "GB",
            "email": "oliver.bennett@example.co.uk",
            "phone": "01225 496000",
        },
        shipping={
            "first_name": "Oliver",
            "last_name": "Bennett",
            "company": "",
            "address_1": "14 Mill Lane",
            "address_2": "",
            "city": "Bath",
            "state": "",
            "postcode": "BA1 1AA",
            "country": "GB",
            "phone": "",
        },
        line_items=[
            {
                "id": 77,
                "name": "Linen Apron &ndash; Sage",
                "product_id": 12,
                "variation_id": 14,
                "quantity": 1,
                "subtotal": "20.00",
                "subtotal_tax": "4.00",
                "total": "20.00",
                "total_tax": "4.00",
                "sku": "APRON-SAGE",
                "price": 20,
            },
            {
                "id": 78,
                "name": "Tea Towel Set",
                "product_id": 19,
                "variation_id": 0,
                "quantity": 2,
                "subtotal": "20.00",
                "subtotal_tax": "4.00",
                "total": "15.83",
                "total_tax": "3.17",
                "sku": "TOWEL-SET",
                "price": 7.915,
            },
        ],
        shipping_lines=[
            {
                "id": 79,
                "method_title": "Royal Mail",
                "method_id": "flat_rate",
                "total": "4.00",
                "total_tax": "0.80",
            }
        ],
        fee_lines=[
            {"id": 80, "name": "Gift wrap", "tax_status": "taxable", "total": "2.50", "total_tax": "0.50"},
            {
                "id": 81,
                "name": "Loyalty reward",
                "tax_status": "taxable",
                "total": "-2.00",
                "total_tax": "-0.40",
            },
        ],
        coupon_lines=[{"id": 82, "code": "towels5", "discount": "4.17", "discount_tax": "0.83"}],
    )
    return order


def wire(payload: dict[str, Any]) -> bytes:
    """The body as WooCommerce sends it: trim(wp_json_encode($payload)), "/" escaped, \\u escapes."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode("utf-8")


def delivery(
    payload: dict[str, Any], topic: str = "order.created", secret: str = SECRET
) -> tuple[dict[str, str], bytes]:
    body = wire(payload)
    resource, event = topic.split(".", 1)
    headers = {
        "user-agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)",
        "content-type": "application/json",
        "x-wc-webhook-source": "https://shop.example.com/",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": resource,
        "x-wc-webhook-event": event,
        "x-wc-webhook-signature": wc.signature(secret, body),
        "x-wc-webhook-id": "12",
        "x-wc-webhook-delivery-id": DELIVERY_ID,
    }
    return headers, body


def problems(raised: pytest.ExceptionInfo[InvalidRequest]) -> dict[str, str]:
    return {problem["field"]: problem["message"] for problem in raised.value.details}


# --- signature / authenticate / ping ------------------------------------------------------------------


def test_signature_matches_the_published_vector():
    assert wc.signature(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE


def test_authenticate_accepts_the_current_and_the_previous_secret():
    for secret in (SECRET, PREVIOUS_SECRET):
        headers, body = delivery(us_order(), secret=secret)
        assert wc.authenticate([SECRET, PREVIOUS_SECRET], headers, body) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: ({**h, "x-wc-webhook-signature": wc.signature("another secret", b)}, b), "not match"),
        (lambda h, b: (h, b.replace(b'"total":"146.82"', b'"total":"1.00"')), "not match"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "x-wc-webhook-signature"}, b), "missing"),
        (lambda h, b: ({**h, "x-wc-webhook-signature": ""}, b), "missing"),
    ],
    ids=["wrong secret", "tampered body", "no header", "empty header"],
)
def test_authenticate_refuses(change, reason):
    headers, body = change(*delivery(us_order()))
    with pytest.raises(SignatureError, match=reason) as refused:
        wc.authenticate([SECRET, PREVIOUS_SECRET], headers, body)
    assert SECRET not in str(refused.value)
    assert PREVIOUS_SECRET not in str(refused.value)


def test_an_empty_secret_is_never_accepted():
    # The empty key is WooCommerce's own default: anyone could compute that signature.
    headers, body = delivery(us_order(), secret="")
    with pytest.raises(SignatureError, match="no webhook secret"):
        wc.authenticate([""], headers, body)
    with pytest.raises(SignatureError, match="does not match"):
        wc.authenticate([SECRET, ""], headers, body)


def test_the_creation_ping_is_recognised_only_in_its_exact_unsigned_form():
    assert wc.is_ping({"user-agent": "WooCommerce/8.9.1 Hookshot"}, b"webhook_id=12")
    assert not wc.is_ping({"x-wc-webhook-signature": "x"}, b"webhook_id=12")
    for body in (b"webhook_id=12\n", b"webhook_id=", b"webhook_id=12&x=1", b'{"webhook_id":12}', b""):
        assert not wc.is_ping({}, body), body


def test_the_ping_passes_unsigned_but_not_with_a_wrong_signature():
    assert wc.authenticate([SECRET], {}, b"webhook_id=12") is None
    with pytest.raises(SignatureError, match="does not match"):
        wc.authenticate([SECRET], {"x-wc-webhook-signature": "bm90IGl0"}, b"webhook_id=12")


def test_an_unsigned_body_that_is_not_the_ping_is_refused():
    with pytest.raises(SignatureError, match="missing x-wc-webhook-signature"):
        wc.authenticate([SECRET], {}, wire(us_order()))


def test_interpret_acknowledges_the_ping():
    inbound = wc.interpret({}, b"webhook_id=12")
    assert inbound.model_dump() == {
        "eventId": "ping-12",
        "fingerprint": hashlib.sha256(b"webhook_id=12").hexdigest(),
        "topic": "ping",
        "action": {"kind": "ignore", "reason": "webhook creation ping", "channelOrderId": None},
        "refunds": [],
    }


# --- interpret: orders ----------------------------------------------------------------------------------

EXPECTED_US_ORDER = {
    "channelOrderId": "4821",
    "orderNumber": "4821",
    "currency": "USD",
    "taxesIncluded": False,
    "customer": {"email": "zoe.harper@example.com", "name": "Zo\u00eb Harper"},
    "shippingAddress": {
        "name": "Sam Harper",
        "line1": "1600 Amphitheatre Pkwy",
        "line2": "Bldg 4 / Floor 2",
        "city": "Mountain View",
        "region": "CA",
        "postalCode": "94043",
        "country": "US",
        "latitude": None,
        "longitude": None,
    },
    "lines": [
        {
            "channelLineId": "1201",
            "channelTaxRateId": "3",
            "sku": "TR-BLU-42",
            "title": "Trail Runner \u2013 Blue, 42",
            "quantity": 2,
            "unitPrice": "59.00",
            "discountAmount": "11.80",
            "taxAmount": "8.76",
            "requiresShipping": True,
        },
        # 25.00 for 3 is no price in cents: one at 8.34 and two at 8.33, the line's discount (2.50)
        # and tax (1.86) shared in proportion, so the lines still cost exactly what the buyer paid.
        # Both are WooCommerce's line item 1202: each keeps its id and its tax rate's.
        {
            "channelLineId": "1202",
            "channelTaxRateId": "3",
            "sku": "SOCK-MER-3PK",
            "title": "Merino Socks (3 pack)",
            "quantity": 1,
            "unitPrice": "8.34",
            "discountAmount": "0.83",
            "taxAmount": "0.62",
            "requiresShipping": True,
        },
        {
            "channelLineId": "1202",
            "channelTaxRateId": "3",
            "sku": "SOCK-MER-3PK",
            "title": "Merino Socks (3 pack)",
            "quantity": 2,
            "unitPrice": "8.33",
            "discountAmount": "1.67",
            "taxAmount": "1.24",
            "requiresShipping": True,
        },
    ],
    "shippingPrice": "7.50",
    "shippingTax": "0.00",
    "orderDiscount": "0",
    "declaredTotal": "146.82",
}


def test_a_paid_order_is_placed_with_every_canonical_field():
    headers, body = delivery(us_order())
    assert b"https:\\/\\/shop.example.com\\/wp-json" in body  # PHP's escaped slashes
    assert b"Bldg 4 \\/ Floor 2" in body
    assert b"Zo\\u00eb" in body
    inbound = wc.interpret(headers, body)
    assert inbound.topic == "order.created"
    assert inbound.fingerprint == hashlib.sha256(body).hexdigest()
    assert isinstance(inbound.action, OrderPlaced)
    assert inbound.action.order.model_dump(mode="json") == EXPECTED_US_ORDER
    assert inbound.action.order.amount_due() == Decimal("146.82")
    assert inbound.action.order.total_mismatch() is None


def test_event_ids_start_with_the_delivery_id_and_tell_same_second_deliveries_apart():
    headers, body = delivery(us_order())
    first = wc.interpret(headers, body)
    assert first.eventId.startswith(DELIVERY_ID + ".")
    assert wc.interpret(headers, body).eventId == first.eventId  # the same delivery again
    # WooCommerce's delivery id is wp_hash(webhook id . time()): another order in the same second has it too.
    other = us_order()
    other["id"] = 4822
    other_headers, other_body = delivery(other)
    assert other_headers["x-wc-webhook-delivery-id"] == headers["x-wc-webhook-delivery-id"]
    assert wc.interpret(other_headers, other_body).eventId != first.eventId


def test_prices_including_tax_are_carried_with_their_tax_and_fees_kept_in_the_total():
    headers, body = delivery(uk_order(), topic="order.updated")
    action = wc.interpret(headers, body).action
    assert isinstance(action, OrderPlaced)
    order = action.order.model_dump(mode="json")
    assert order["taxesIncluded"] is True
    assert order["lines"] == [
        {
            # These line items list no `taxes`: no tax rate id.
            "channelLineId": "77",
            "channelTaxRateId": None,
            "sku": "APRON-SAGE",
            "title": "Linen Apron \u2013 Sage",
            "quantity": 1,
            "unitPrice": "24.00",
            "discountAmount": "0.00",
            "taxAmount": "4.00",
            "requiresShipping": True,
        },
        {
            "channelLineId": "78",
            "channelTaxRateId": None,
            "sku": "TOWEL-SET",
            "title": "Tea Towel Set",
            "quantity": 2,
            "unitPrice": "12.00",
            "discountAmount": "5.00",
            "taxAmount": "3.17",
            "requiresShipping": True,
        },
    ]
    # Shipping 4.00 + 0.80 VAT, and the gift-wrap fee 2.50 + 0.50 VAT charged with it.
    assert (order["shippingPrice"], order["shippingTax"]) == ("7.80", "1.30")
    assert order["orderDiscount"] == "2.40"  # the negative fee, VAT included
    assert order["shippingAddress"]["region"] is None  # "" in WooCommerce
    assert action.order.amount_due() == Decimal("48.40") == action.order.declaredTotal


def test_a_declared_total_that_differs_is_kept_and_the_mismatch_computed():
    payload = us_order()
    payload["total"] = "150.00"
    order = wc.to_canonical(payload)
    assert order.total_mismatch() == TotalMismatch(declared=Decimal("150.00"), computed=Decimal("146.82"))


def test_string_ids_are_accepted():
    payload = us_order()
    payload["id"] = "4821"
    assert wc.to_canonical(payload).channelOrderId == "4821"


def test_a_blank_shipping_address_falls_back_to_billing():
    payload = us_order()
    payload["shipping"] = {key: "" for key in payload["shipping"]}
    address = wc.to_canonical(payload).shippingAddress
    assert address.model_dump(exclude_none=True) == {
        "name": "Zo\u00eb Harper",
        "line1": "742 Evergreen Terrace",
        "city": "Springfield",
        "region": "OR",
        "postalCode": "97477",
        "country": "US",
    }


def test_a_shipping_address_without_a_person_uses_its_company():
    payload = us_order()
    payload["shipping"].update(first_name="", last_name="")
    assert wc.to_canonical(payload).shippingAddress.name == "Harper & Daughters"


@pytest.mark.parametrize("status", ["pending", "on-hold", "failed", "checkout-draft"])
def test_an_unpaid_order_is_acknowledged(status):
    payload = us_order()
    payload["status"] = status
    payload["line_items"][0]["sku"] = ""  # not checked before the order is paid
    action = wc.interpret(*delivery(payload)).action
    assert isinstance(action, Acknowledged)
    assert action.channelOrderId == "4821"
    assert status in action.reason
    assert "awaiting payment" in action.reason


@pytest.mark.parametrize("status", ["completed", "refunded", "shipped-by-plugin"])
def test_other_statuses_are_acknowledged_by_name(status):
    payload = us_order()
    payload["status"] = status
    action = wc.interpret(*delivery(payload, topic="order.updated")).action
    assert action == Acknowledged(
        reason=f"order status {status} is not fulfilled by the OMS", channelOrderId="4821"
    )


def test_a_cancelled_order_is_a_cancellation():
    payload = us_order()
    payload["status"] = "cancelled"
    inbound = wc.interpret(*delivery(payload, topic="order.updated"))
    assert inbound.topic == "order.updated"
    assert inbound.action == OrderCancelled(channelOrderId="4821", reason="cancelled in WooCommerce")


def test_other_topics_are_acknowledged_without_reading_the_body():
    headers, _ = delivery(us_order(), topic="product.updated")
    inbound = wc.interpret(headers, b'{"id":311,"name":"Trail Runner"}')
    assert inbound.action == Acknowledged(reason="topic product.updated is not handled")
    deleted_headers, _ = delivery(us_order(), topic="order.deleted")
    assert wc.interpret(deleted_headers, b'{"id":4821}').action == Acknowledged(
        reason="topic order.deleted is not handled"
    )


@pytest.mark.parametrize("header", ["x-wc-webhook-delivery-id", "x-wc-webhook-topic"])
def test_a_delivery_without_its_id_or_topic_is_invalid(header):
    headers, body = delivery(us_order())
    del headers[header]
    with pytest.raises(InvalidRequest, match=header) as raised:
        wc.interpret(headers, body)
    assert problems(raised) == {f"headers.{header}": "is required"}


@pytest.mark.parametrize("body", [b"<html>oops</html>", b"[1, 2]", b'"order"', b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_invalid(body):
    headers, _ = delivery(us_order())
    with pytest.raises(InvalidRequest) as raised:
        wc.interpret(headers, body)
    assert list(problems(raised)) == ["body"]


def test_every_problem_of_an_order_is_reported_at_once_in_woocommerce_terms():
    payload = us_order()
    payload["currency"] = "XBT"
    payload["line_items"][0]["sku"] = ""
    payload["line_items"][1]["quantity"] = 0
    payload["shipping"] = {key: "" for key in payload["shipping"]}
    payload["billing"].update(address_1="", city="", postcode="", state="", country="")
    with pytest.raises(InvalidRequest, match="order is invalid") as raised:
        wc.interpret(*delivery(payload))
    found = problems(raised)
    assert set(found) == {
        "currency",
        "line_items.0.sku",
        "line_items.1.quantity",
        "shipping.address_1",
        "shipping.city",
        "shipping.country",
    }
    assert "ISO 4217" in found["currency"]
    assert "SKU" in found["line_items.0.sku"]
    assert "greater than or equal to 1" in found["line_items.1.quantity"]


def test_line_and_tax_rate_ids_are_read_as_strings_and_checked():
    payload = us_order()
    payload["line_items"][0].update(id="1201", taxes=None)
    del payload["line_items"][1]["id"]
    lines = wc.to_canonical(payload).lines
    assert [(line.channelLineId, line.channelTaxRateId) for line in lines] == [
        ("1201", None),
        (None, "3"),
        (None, "3"),
    ]

    payload = us_order()
    payload["line_items"][0]["id"] = True
    payload["line_items"][1]["taxes"] = [{"id": "", "total": "1.85625"}]
    with pytest.raises(InvalidRequest) as raised:
        wc.to_canonical(payload)
    assert set(problems(raised)) == {"line_items.0.id", "line_items.1.taxes.0.id"}

    payload = us_order()
    payload["line_items"][1]["taxes"][0]["id"] = "7" * 65
    with pytest.raises(InvalidRequest) as raised:
        wc.to_canonical(payload)
    assert set(problems(raised)) == {"line_items.1.taxes.0.id"}


def test_a_deleted_product_has_a_null_sku():
    payload = us_order()
    payload["line_items"][1]["sku"] = None
    with pytest.raises(InvalidRequest) as raised:
        wc.to_canonical(payload)
    assert list(problems(raised)) == ["line_items.1.sku"]


def test_the_buyer_must_have_an_email_and_a_name():
    payload = us_order()
    payload["billing"].update(email="", first_name="", last_name="")
    payload["shipping"].update(first_name="", last_name="", company="")
    with pytest.raises(InvalidRequest) as raised:
        wc.to_canonical(payload)
    assert set(problems(raised)) == {"billing.email", "billing.first_name", "shipping.first_name"}


def test_canonical_checks_are_reported_in_woocommerce_terms():
    payload = us_order()
    payload["billing"]["email"] = "zoe.harper at example.com"
    payload["shipping"]["country"] = "usa"
    payload["line_items"][0]["total"] = "106.20000"
    with pytest.raises(InvalidRequest) as raised:
        wc.to_canonical(payload)
    assert set(problems(raised)) == {"billing.email", "shipping.country", "line_items.0.total"}


def test_a_discount_larger_than_the_order_is_reported_on_the_fees():
    payload = us_order()
    payload["fee_lines"] = [{"id": 9, "name": "Goodwill", "total": "-500.00", "total_tax": "0.00"}]
    with pytest.raises(InvalidRequest) as raised:
        wc.to_canonical(payload)
    assert list(problems(raised)) == ["fee_lines"]


def test_money_must_be_decimal_strings_not_floats():
    payload = copy.deepcopy(us_order())
    payload["line_items"][0]["subtotal"] = 118.0
    with pytest.raises(InvalidRequest) as raised:
        wc.to_canonical(payload)
    assert list(problems(raised)) == ["line_items.0.subtotal"]


def test_amounts_finer_than_the_currency_are_rounded_as_woocommerce_rounds():
    # A store set to 3 price decimals: WooCommerce rounds each amount half away from zero.
    payload = us_order()
    payload["line_items"] = [payload["line_items"][0]]
    item = payload["line_items"][0]
    item.update(quantity=1, subtotal="10.005", total="10.005", subtotal_tax="0.804", total_tax="0.804")
    payload["shipping_lines"][0].update(total="7.495", total_tax="0")
    payload["fee_lines"] = []
    payload["total"] = "18.304"

    order = wc.to_canonical(payload)

    [line] = order.lines
    assert (line.unitPrice, line.discountAmount, line.taxAmount) == (Decimal("10.01"), 0, Decimal("0.80"))
    assert order.shippingPrice == Decimal("7.50")
    assert order.total_mismatch() == TotalMismatch(declared=Decimal("18.30"), computed=Decimal("18.31"))


def test_a_problem_on_a_split_line_names_the_line_item_it_came_from():
    # Line item 1 became canonical lines 1 and 2.
    rename = wc._woo_path([0, 1, 1])
    assert rename(["lines", "2", "unitPrice"]) == ["line_items", "1", "subtotal"]
    assert rename(["lines", "0", "taxAmount"]) == ["line_items", "0", "total_tax"]
    assert rename(["declaredTotal"]) == ["total"]


# --- refunds listed in the order ------------------------------------------------------------------

# What WooCommerce's order payload lists for each refund: id, reason, and the total as a negative
# decimal string. The second was made by the OMS's refund port, which gives its refunds that reason.
REFUNDS = [
    {"id": 4830, "reason": "Trail runners scuffed on arrival", "total": "-10.00"},
    {"id": 4836, "reason": "OMS refund rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D: late delivery", "total": "-5.25"},
]

EXPECTED_REFUNDS = [
    {
        "channelRefundId": "4830",
        "channelOrderId": "4821",
        "lines": [],
        "shipping": "0",
        "unallocated": "10.00",
        "total": "10.00",
        "note": "Trail runners scuffed on arrival",
        "processedAt": None,
        "omsRefundId": None,
    },
    {
        "channelRefundId": "4836",
        "channelOrderId": "4821",
        "lines": [],
        "shipping": "0",
        "unallocated": "5.25",
        "total": "5.25",
        "note": "OMS refund rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D: late delivery",
        "processedAt": None,
        "omsRefundId": "rfd_01JBW8Q1ZP4V6N2M3K5H7G9F0D",
    },
]


def with_refunds(refunds: Any, status: str = "processing") -> dict[str, Any]:
    payload = us_order()
    payload.update(status=status, refunds=refunds)
    return payload


def test_an_order_still_processing_is_placed_and_its_two_refunds_listed():
    headers, body = delivery(with_refunds(REFUNDS), topic="order.updated")
    inbound = wc.interpret(headers, body)
    assert isinstance(inbound.action, OrderPlaced)
    assert inbound.action.order.model_dump(mode="json") == EXPECTED_US_ORDER  # the refunds change nothing
    assert [refund.model_dump(mode="json") for refund in inbound.refunds] == EXPECTED_REFUNDS
    assert [refund.total for refund in inbound.refunds] == [Decimal("10.00"), Decimal("5.25")]
    assert all(isinstance(refund.total, Decimal) for refund in inbound.refunds)


def test_a_refunded_order_is_acknowledged_with_its_refunds():
    full = [{"id": 4840, "reason": "", "total": "-146.82"}]
    inbound = wc.interpret(*delivery(with_refunds(full, status="refunded"), topic="order.updated"))
    assert inbound.action == Acknowledged(
        reason="order status refunded is not fulfilled by the OMS", channelOrderId="4821"
    )
    [refund] = inbound.refunds
    assert (refund.channelRefundId, refund.channelOrderId) == ("4840", "4821")
    assert (refund.total, refund.unallocated, refund.lines) == (Decimal("146.82"), Decimal("146.82"), [])
    assert (refund.note, refund.omsRefundId) == (None, None)  # "" is no reason


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("cancelled", OrderCancelled(channelOrderId="4821", reason="cancelled in WooCommerce")),
        (
            "completed",
            Acknowledged(reason="order status completed is not fulfilled by the OMS", channelOrderId="4821"),
        ),
    ],
)
def test_refunds_are_listed_whatever_the_action(status, action):
    inbound = wc.interpret(*delivery(with_refunds(REFUNDS, status=status), topic="order.updated"))
    assert inbound.action == action
    assert [refund.model_dump(mode="json") for refund in inbound.refunds] == EXPECTED_REFUNDS


def test_order_created_lists_refunds_too():
    inbound = wc.interpret(*delivery(with_refunds(REFUNDS[:1]), topic="order.created"))
    assert isinstance(inbound.action, OrderPlaced)
    assert [refund.channelRefundId for refund in inbound.refunds] == ["4830"]


@pytest.mark.parametrize("refunds", [[], None, "absent"])
def test_an_order_without_refunds_lists_none(refunds):
    payload = with_refunds(refunds)
    if refunds == "absent":
        del payload["refunds"]
    inbound = wc.interpret(*delivery(payload, topic="order.updated"))
    assert isinstance(inbound.action, OrderPlaced)
    assert inbound.refunds == []


def test_other_topics_and_the_ping_list_no_refunds():
    headers, _ = delivery(us_order(), topic="product.updated")
    assert wc.interpret(headers, b'{"id":311,"refunds":[{"id":1,"total":"-1.00"}]}').refunds == []
    assert wc.interpret({}, b"webhook_id=12").refunds == []


def test_the_reason_under_its_v1_name_and_a_total_without_its_sign_are_read():
    # A webhook on the v1 API names the reason `refund`; old WooCommerce versions sent the total as a
    # positive JSON number, read as an exact Decimal (the body is parsed with parse_float=Decimal).
    legacy = [{"id": "4830", "refund": "OMS refund rfd_7: wrong size", "total": "10.00"}]
    [refund] = wc.interpret(*delivery(with_refunds(legacy), topic="order.updated")).refunds
    assert (refund.channelRefundId, refund.total, refund.note) == (
        "4830",
        Decimal("10.00"),
        legacy[0]["refund"],
    )
    assert refund.omsRefundId == "rfd_7"
    headers, body = delivery(with_refunds([{"id": 4830, "total": 10.1}]), topic="order.updated")
    assert b'"total":10.1}' in body
    [number] = wc.interpret(headers, body).refunds
    assert (number.total, str(number.total)) == (Decimal("10.1"), "10.1")


def test_an_invalid_refund_is_reported_in_woocommerce_terms():
    refunds = [
        {"reason": "no id", "total": "-1.00"},
        {"id": 4836, "reason": "no total"},
        {"id": 4837, "total": "ten"},
    ]
    with pytest.raises(InvalidRequest, match="order is invalid") as raised:
        wc.interpret(*delivery(with_refunds(refunds, status="completed"), topic="order.updated"))
    assert set(problems(raised)) == {"refunds.0.id", "refunds.1.total", "refunds.2.total"}
    finer = [{"id": 4838, "total": "-1.00001"}]
    with pytest.raises(InvalidRequest) as raised:
        wc.interpret(*delivery(with_refunds(finer, status="completed"), topic="order.updated"))
    assert set(problems(raised)) == {"refunds.0.total"}


def test_problems_in_the_order_and_its_refunds_are_reported_together():
    payload = with_refunds([{"id": 4830, "total": "-"}])
    payload["line_items"][0]["sku"] = ""
    with pytest.raises(InvalidRequest, match="order is invalid") as raised:
        wc.interpret(*delivery(payload, topic="order.updated"))
    assert set(problems(raised)) == {"line_items.0.sku", "refunds.0.total"}
