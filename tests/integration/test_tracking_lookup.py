"""The customer tracking lookup on moto through the real workflow: orders found by the number the
customer knows or the channel's order id (the byNumber index), two stores sharing a number, no oracle
between a wrong number and a wrong e-mail, rejected orders hidden, returns shown, signed links minted
and checked, the lookup throttled per client, and the page's headers on every answer."""

from __future__ import annotations

import json
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from blueprint import TRACKING_LOOKUP_THROTTLE
from local import gateway
from local.runtime import LocalOMS
from shared.logic.tracking_links import sign
from tests.support.channels import (
    SHOPIFY_CHANNEL,
    SHOPIFY_SECRET,
    SHOPIFY_SHOP,
    shopify_delivery,
    shopify_order,
)
from tests.support.orders import Client, canonical_order
from tests.support.returns import authorized, deliver_all

NO_MATCH = {
    "error": {
        "code": "NOT_FOUND",
        "message": "no order matches this order number with this e-mail address or postal code",
        "details": None,
    }
}


def look_up(oms: LocalOMS, body: Any, source_ip: str = "127.0.0.1") -> tuple[int, Any, dict[str, str]]:
    """POST /track/lookup as a browser sends it: no API key."""
    response = gateway.handle(
        "POST", "/track/lookup", {"Content-Type": "application/json"}, json.dumps(body).encode(), source_ip
    )
    return response.status, response.json(), {name.lower(): value for name, value in response.headers}


@pytest.fixture
def shopify(client: Client) -> Client:
    channel = {"type": "shopify", "webhookSecret": SHOPIFY_SECRET, "shopDomain": SHOPIFY_SHOP}
    assert client.call("PUT", f"/channels/{SHOPIFY_CHANNEL}", channel)[0] in (200, 201)
    return client


def place_on_shopify(client: Client, **changes: Any) -> tuple[str, dict[str, Any]]:
    payload = shopify_order(**changes)
    headers, body = shopify_delivery(payload)
    status, receipt = client.send("POST", f"/webhooks/{SHOPIFY_CHANNEL}", headers, body)
    assert status == 202, receipt
    return str(receipt["orderId"]), payload


def test_a_shopify_order_is_found_by_its_name_and_by_its_id(shopify: Client, oms: LocalOMS) -> None:
    order_id, payload = place_on_shopify(shopify, name="#1042")
    shopify.wait_for_status(order_id, "FULFILLING")

    for number in ("#1042", "1042", " #1042 ", str(payload["id"])):
        status, view, _ = look_up(oms, {"orderNumber": number, "email": "ADA@example.com"})
        assert status == 200, (number, view)
        assert view["orderNumber"] == "#1042"
        assert view["status"] == "FULFILLING"
        [shipment] = view["shipments"]
        assert shipment["stage"] == "PREPARING"
        assert shipment["destinationCity"] == "Boston"
        assert shipment["lines"] == [{"sku": "MUG-BLUE", "title": "Café Mug - Blue", "quantity": 2}]
        assert view["prices"] is None

    # Two entries in the index: the order item (its number) and one for the channel's id.
    index = oms.client("dynamodb")
    for number in ("1042", str(payload["id"])):
        found = index.query(
            TableName=oms.deployment.table_names["Orders"],
            IndexName="byNumber",
            KeyConditionExpression="lookupNumber = :n",
            ExpressionAttributeValues={":n": {"S": number}},
        )["Items"]
        assert [item["pk"]["S"] for item in found] == [f"ORDER#{order_id}"]


def test_a_postal_code_proves_the_order_too(client: Client, oms: LocalOMS) -> None:
    order_id = client.place(canonical_order(orderNumber="A-77"))
    client.wait_for_status(order_id, "FULFILLING")

    for postal_code in ("02108", " 021 08 ", "02108-4402"):
        status, view, _ = look_up(oms, {"orderNumber": "a-77", "postalCode": postal_code})
        assert status == 200, (postal_code, view)
        assert view["orderNumber"] == "A-77"


def test_every_pair_that_does_not_match_gets_the_same_answer(client: Client, oms: LocalOMS) -> None:
    order_id = client.place(canonical_order(orderNumber="#5150"))
    client.wait_for_status(order_id, "FULFILLING")
    rejected = client.place(canonical_order(orderNumber="#5151", lines=[("NO-SUCH-SKU", 1)]))
    client.wait_for_status(rejected, "REJECTED")

    answers = [
        look_up(oms, body)[:2]
        for body in (
            {"orderNumber": "#5150", "email": "eve@example.com"},  # the wrong e-mail
            {"orderNumber": "#5150", "postalCode": "10001"},  # the wrong postal code
            {"orderNumber": "#9999", "email": "ada@example.com"},  # no such number
            {"orderNumber": "#", "email": "ada@example.com"},  # nothing left of the number
            {"orderNumber": "#5151", "email": "ada@example.com"},  # a rejected order, right e-mail
        )
    ]
    assert answers == [(404, NO_MATCH)] * 5


def test_two_stores_with_the_same_number_each_show_their_own_order(shopify: Client, oms: LocalOMS) -> None:
    shopify_id, _ = place_on_shopify(shopify, name="#2001", email="grace@example.com")
    api_id = shopify.place(canonical_order(orderNumber="#2001"))  # ada@example.com, another store
    shopify.wait_for_status(shopify_id, "FULFILLING")
    shopify.wait_for_status(api_id, "FULFILLING")

    status, graces, _ = look_up(oms, {"orderNumber": "2001", "email": "grace@example.com"})
    assert status == 200
    status, adas, _ = look_up(oms, {"orderNumber": "2001", "email": "ada@example.com"})
    assert status == 200
    assert graces["shipments"][0]["lines"][0]["title"] == "Café Mug - Blue"  # Shopify's title
    assert adas["shipments"][0]["lines"][0]["title"] is None  # the api order has none


def test_a_delivered_order_shows_its_carrier_link_and_its_open_return(client: Client, oms: LocalOMS) -> None:
    order = deliver_all(client, client.place(canonical_order(orderNumber="#3003")))
    answer = authorized(client, order["orderId"], [("MUG-BLUE", 1)])

    status, view, _ = look_up(oms, {"orderNumber": "3003", "email": "ada@example.com"})

    assert status == 200, view
    [shipment] = view["shipments"]
    assert shipment["stage"] == "DELIVERED"
    assert (shipment["carrier"], shipment["trackingNumber"]) == ("UPS", "1Z999")
    assert shipment["trackingUrl"] == "https://www.ups.com/track?tracknum=1Z999"
    assert shipment["deliveredAt"]
    assert view["returns"] == [
        {
            "status": "AUTHORIZED",
            "statusLabel": "Return accepted: send the items back",
            "lines": [{"sku": "MUG-BLUE", "title": None, "quantity": 1}],
            "sendBackBy": answer["deadline"],
            "refund": None,
        }
    ]


def test_a_minted_link_shows_the_order_with_prices(client: Client, oms: LocalOMS) -> None:
    order_id = client.place(canonical_order(orderNumber="#4004"))
    client.wait_for_status(order_id, "FULFILLING")

    status, link = client.call("POST", f"/orders/{order_id}/tracking-link", None, {"Host": "shop.example"})
    assert status == 200, link
    assert link["url"] == f"http://shop.example/track?token={link['token']}"
    status, view, headers = look_up(oms, {"token": link["token"]})

    assert status == 200, view
    assert view["orderNumber"] == "#4004"
    assert view["prices"] == {
        "currency": "USD",
        "lines": [{"sku": "MUG-BLUE", "title": None, "quantity": 2, "unitPrice": "12.50", "total": "25.00"}],
        "shipping": "5.00",
        "discount": "0",
        "total": "30.00",
    }
    assert view["linkExpiresAt"] == link["expiresAt"]
    assert headers["cache-control"] == "no-store"


def test_a_link_for_an_order_that_is_gone_or_was_never_made_is_refused(client: Client, oms: LocalOMS) -> None:
    secrets = oms.client("secretsmanager")
    key = secrets.get_secret_value(SecretId="oms-TrackingLinkKey")["SecretString"].encode()
    unknown = sign(key, "ord_01M8V4DEP29QCB23ATN36K0AEE", 4_000_000_000)
    assert look_up(oms, {"token": unknown})[:2] == (404, NO_MATCH)
    status, refused, _ = look_up(oms, {"token": unknown[:-1] + ("A" if unknown[-1] != "A" else "B")})
    assert (status, refused["error"]["code"]) == (401, "LINK_INVALID")
    status, refused, _ = look_up(oms, {"token": sign(key, "ord_01M8V4DEP29QCB23ATN36K0AEE", 1)})
    assert (status, refused["error"]["code"]) == (401, "LINK_EXPIRED")
    assert refused["error"]["details"] == {"expiredAt": "1970-01-01T00:00:01.000Z"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"expiresInDays": 0}, 400),
        ({"expiresInDays": 91}, 400),
        ({"expiresInDays": "x"}, 400),
        ([None, None], 400),  # not an object (Powertools alone would take it for no body)
        ({}, 200),
        (None, 200),
    ],
)
def test_minting_a_link_checks_its_expiry(client: Client, body: Any, status: int) -> None:
    order_id = client.place(canonical_order())
    answer = client.call("POST", f"/orders/{order_id}/tracking-link", body)
    assert answer[0] == status, answer
    assert client.call("POST", "/orders/ord_01M8V4DEP29QCB23ATN36K0AEE/tracking-link")[0] == 404


def test_the_lookup_is_throttled_per_client_with_the_blueprints_numbers(oms: LocalOMS) -> None:
    body = {"orderNumber": "1", "email": "a@example.com"}
    burst = TRACKING_LOOKUP_THROTTLE.burst
    answers = []
    while not answers or answers[-1][0] != 429:
        answers.append(look_up(oms, body, source_ip="203.0.113.7"))
        assert len(answers) <= 2 * burst, [status for status, _, _ in answers]

    # The burst at once, and the few tokens the bucket refilled while they were answered (5 a second).
    assert burst <= len(answers) - 1 <= burst + 3, len(answers)
    assert {status for status, _, _ in answers[:-1]} == {404}
    _, refused, headers = answers[-1]
    assert refused == {"error": {"code": "THROTTLED", "message": "Too Many Requests", "details": None}}
    assert int(headers["retry-after"]) >= 1
    assert look_up(oms, body, source_ip="203.0.113.8")[0] == 404  # another client has its own bucket
    # The page itself is not throttled.
    assert gateway.handle("GET", "/track", {}, None, "203.0.113.7").status == 200


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"orderNumber": 1001, "email": "a@b.c"}',
        b'{"orderNumber": "1", "email": "a@b.c", "x": 1}',
    ],
)
def test_bad_input_is_400_with_the_error_envelope_and_the_pages_headers(oms: LocalOMS, body: bytes) -> None:
    response = gateway.handle("POST", "/track/lookup", {"Content-Type": "application/json"}, body)
    assert response.status == 400, response.body
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    headers = {name.lower(): value for name, value in response.headers}
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_the_page_is_public_and_sent_with_its_security_policy(oms: LocalOMS) -> None:
    response = gateway.handle("GET", "/track?token=anything", {}, None)
    headers = {name.lower(): value for name, value in response.headers}
    assert response.status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["content-security-policy"].startswith("default-src 'none'; script-src 'sha256-")
    assert headers["referrer-policy"] == "no-referrer"
    assert b'<form id="lookup"' in response.body


def test_orders_stored_without_a_number_entry_are_not_found(client: Client, oms: LocalOMS) -> None:
    order_id = client.place(canonical_order(orderNumber="#6006"))
    client.wait_for_status(order_id, "FULFILLING")
    table = oms.session.resource("dynamodb").Table(oms.deployment.table_names["Orders"])  # type: ignore[union-attr]
    table.update_item(Key={"pk": f"ORDER#{order_id}", "sk": "ORDER"}, UpdateExpression="REMOVE lookupNumber")
    for item in table.query(KeyConditionExpression=Key("pk").eq(f"ORDER#{order_id}"))["Items"]:
        if item["sk"] == "TRACKING#NUMBER":
            table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})

    assert look_up(oms, {"orderNumber": "6006", "email": "ada@example.com"})[:2] == (404, NO_MATCH)
