"""Shopify and WooCommerce webhooks through the whole OMS: gateway, Intake, archive, workflow."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.runtime import LocalOMS
from shared.channels import shopify
from shared.errors import InvalidRequest
from tests.support.channels import (
    AMAZON_CHANNEL,
    SHOPIFY_CHANNEL,
    SHOPIFY_SECRET,
    SHOPIFY_SHOP,
    WOO_CHANNEL,
    WOO_SECRET,
    amazon_channel,
    shopify_delivery,
    shopify_order,
    woo_delivery,
    woo_order,
)
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client


@pytest.fixture
def shop(client: Client) -> Client:
    channel = {"type": "shopify", "webhookSecret": SHOPIFY_SECRET, "shopDomain": SHOPIFY_SHOP}
    assert client.call("PUT", f"/channels/{SHOPIFY_CHANNEL}", channel)[0] == 201
    assert (
        client.call("PUT", f"/channels/{WOO_CHANNEL}", {"type": "woocommerce", "webhookSecret": WOO_SECRET})[
            0
        ]
        == 201
    )
    return client


def post(client: Client, channel_id: str, delivery: tuple[dict[str, str], bytes]) -> tuple[int, Any]:
    headers, body = delivery
    return client.send("POST", f"/webhooks/{channel_id}", headers, body)


def orders_of(client: Client, channel_id: str) -> list[dict[str, Any]]:
    status, listed = client.call("GET", f"/orders?channelId={channel_id}&limit=100")
    assert status == 200, listed
    return list(listed["orders"])


def deliveries_of(client: Client, channel_id: str) -> list[dict[str, Any]]:
    status, listed = client.call("GET", f"/channels/{channel_id}/deliveries")
    assert status == 200, listed
    return list(listed["deliveries"])


# Shopify ------------------------------------------------------------------------------------------


def test_a_shopify_order_is_mapped_archived_and_fulfilled(shop: Client) -> None:
    payload = shopify_order([("MUG-BLUE", 2)])
    headers, body = shopify_delivery(payload)

    status, receipt = post(shop, SHOPIFY_CHANNEL, (headers, body))

    assert status == 202, receipt
    assert receipt["outcome"] == "CREATED"
    order = shop.wait_for_status(receipt["orderId"], "FULFILLING")
    assert order["channelOrderId"] == str(payload["id"])  # exact, though above 2**53
    assert order["lines"] == [
        {
            "sku": "MUG-BLUE",
            "title": "Café Mug - Blue",
            "quantity": 2,
            "unitPrice": "12.50",
            "discountAmount": "0",
            "taxAmount": "1.00",
            "requiresShipping": True,
            "channelLineId": str(payload["line_items"][0]["id"]),
            "channelTaxRateId": None,
        }
    ]
    assert order["total"] == payload["total_price"] == "31.00"
    assert order["totalMismatch"] is None
    assert order["shippingAddress"]["latitude"] == 42.3601
    # The order leads back to the exact bytes and headers that created it.
    status, archived = shop.call("GET", f"/channels/{SHOPIFY_CHANNEL}/deliveries/{order['deliveryId']}")
    assert status == 200
    assert archived["body"].encode() == body
    kept_headers = {name.lower(): value for name, value in archived["headers"].items()}
    assert kept_headers["x-shopify-hmac-sha256"] == headers["X-Shopify-Hmac-Sha256"]
    assert archived["eventId"] == headers["X-Shopify-Event-Id"]
    assert archived["result"]["outcome"] == "CREATED"
    assert archived["result"]["orderId"] == order["orderId"]


def test_the_same_shopify_event_and_the_same_order_by_another_event_are_duplicates(shop: Client) -> None:
    payload = shopify_order()
    first = shopify_delivery(payload)
    status, created = post(shop, SHOPIFY_CHANNEL, first)
    assert status == 202

    retried = post(shop, SHOPIFY_CHANNEL, first)
    other_event = post(shop, SHOPIFY_CHANNEL, shopify_delivery(payload))

    for status, receipt in (retried, other_event):
        assert status == 200
        assert receipt["outcome"] == "DUPLICATE"
        assert receipt["orderId"] == created["orderId"]
    assert len(orders_of(shop, SHOPIFY_CHANNEL)) == 1
    assert len(deliveries_of(shop, SHOPIFY_CHANNEL)) == 3  # every delivery is archived


def test_concurrent_duplicates_make_one_order_and_one_execution(shop: Client, oms: LocalOMS) -> None:
    payload = shopify_order()
    same_event = shopify_delivery(payload)
    deliveries = [same_event] * 4 + [shopify_delivery(payload) for _ in range(4)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda d: post(shop, SHOPIFY_CHANNEL, d), deliveries))

    created = [receipt for status, receipt in answers if status == 202]
    assert len(created) == 1, answers
    order_id = created[0]["orderId"]
    # A concurrent copy of an event still in progress is told to retry (409); the others name the order.
    assert all(status in (200, 202, 409) for status, _ in answers)
    assert {r["orderId"] for s, r in answers if s == 200} <= {order_id}
    assert [o["orderId"] for o in orders_of(shop, SHOPIFY_CHANNEL)] == [order_id]
    executions = oms.client("stepfunctions").list_executions(
        stateMachineArn=oms.deployment.order_workflow_arn
    )
    assert [e["name"] for e in executions["executions"]] == [order_id]


def test_concurrent_different_orders_each_get_their_own_order(shop: Client) -> None:
    payloads = [shopify_order([("MUG-BLUE", 1)]) for _ in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda p: post(shop, SHOPIFY_CHANNEL, shopify_delivery(p)), payloads))

    assert [status for status, _ in answers] == [202] * 8
    received = {shop.order(receipt["orderId"])["channelOrderId"] for _, receipt in answers}
    assert received == {str(p["id"]) for p in payloads}


def test_a_shopify_cancellation_cancels_an_unshipped_order_and_releases_its_stock(
    shop: Client, oms: LocalOMS
) -> None:
    payload = shopify_order([("MUG-BLUE", 2)])
    _, created = post(shop, SHOPIFY_CHANNEL, shopify_delivery(payload))
    shop.wait_for_status(created["orderId"], "FULFILLING")

    cancelled = {**payload, "cancel_reason": "customer", "cancelled_at": "2026-11-26T11:00:00Z"}
    status, receipt = post(shop, SHOPIFY_CHANNEL, shopify_delivery(cancelled, topic="orders/cancelled"))

    assert status == 200
    assert receipt["outcome"] == "CANCELLED"
    order = shop.wait_for_status(created["orderId"], "CANCELLED")
    assert order["statusReason"] == "cancelled in Shopify: customer"
    oms.wait_for_execution(created["orderId"])
    assert sum(level["reserved"] for level in shop.stock("MUG-BLUE").values()) == 0


def test_a_shopify_cancellation_after_shipping_is_reported_not_refused(shop: Client) -> None:
    payload = shopify_order()
    _, created = post(shop, SHOPIFY_CHANNEL, shopify_delivery(payload))
    order = shop.wait_for_status(created["orderId"], "FULFILLING")
    shipped = {"carrier": "UPS", "trackingNumber": "1Z999"}
    assert shop.fulfillment_event(order["fulfillments"][0]["fulfillmentId"], "SHIPPED", **shipped)[0] == 200

    status, receipt = post(shop, SHOPIFY_CHANNEL, shopify_delivery(payload, topic="orders/cancelled"))

    assert status == 200  # a refusal would only make Shopify retry it
    assert receipt["outcome"] == "NOT_CANCELLED"
    assert receipt["status"] == "SHIPPED"


def test_a_shopify_cancellation_after_part_shipped_cancels_the_rest(shop: Client) -> None:
    assert shop.call("PUT", "/inventory/CAP-RED/locations/wh-east", {"onHand": 5})[0] == 200
    payload = shopify_order([("CAP-RED", 1), ("TEE-M", 1)])  # CAP-RED only at wh-east, TEE-M at wh-west
    _, created = post(shop, SHOPIFY_CHANNEL, shopify_delivery(payload))
    order = shop.wait_for_status(created["orderId"], "FULFILLING")
    while len([f for f in order["fulfillments"] if f["status"] == "REQUESTED"]) < 2:
        order = shop.order(created["orderId"])
    east = next(f for f in order["fulfillments"] if f["warehouseId"] == "wh-east")
    assert shop.fulfillment_event(east["fulfillmentId"], "SHIPPED")[0] == 200

    status, receipt = post(shop, SHOPIFY_CHANNEL, shopify_delivery(payload, topic="orders/cancelled"))

    assert status == 200
    assert (receipt["outcome"], receipt["status"]) == ("CANCELLED", "SHIPPED")
    assert (
        receipt["reason"] == "part of the order had shipped: only the unshipped fulfillments were cancelled"
    )
    statuses = {f["warehouseId"]: f["status"] for f in shop.order(created["orderId"])["fulfillments"]}
    assert statuses == {"wh-east": "SHIPPED", "wh-west": "CANCELLED"}


def test_a_cancellation_of_an_unknown_order_is_acknowledged(shop: Client) -> None:
    status, receipt = post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order(), topic="orders/cancelled"))
    assert status == 200
    assert receipt["outcome"] == "IGNORED"
    assert orders_of(shop, SHOPIFY_CHANNEL) == []


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            lambda h, b: ({**h, "X-Shopify-Hmac-Sha256": shopify.signature("not-the-secret-at-all", b)}, b),
            "match",
        ),
        (lambda h, b: (h, b.replace(b"MUG-BLUE", b"TEE-M")), "match"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Shopify-Hmac-Sha256"}, b), "missing"),
        (lambda h, b: ({**h, "X-Shopify-Shop-Domain": "another-shop.myshopify.com"}, b), "another shop"),
    ],
    ids=["wrong-secret", "tampered-body", "unsigned", "other-shop"],
)
def test_a_delivery_that_is_not_authentic_is_refused_and_not_kept(
    shop: Client, tamper: Any, reason: str
) -> None:
    status, error = post(shop, SHOPIFY_CHANNEL, tamper(*shopify_delivery(shopify_order())))

    assert status == 401
    assert error["error"]["code"] == "UNAUTHORIZED"
    assert reason in error["error"]["message"]
    assert SHOPIFY_SECRET not in json.dumps(error)
    assert deliveries_of(shop, SHOPIFY_CHANNEL) == []
    assert orders_of(shop, SHOPIFY_CHANNEL) == []


def test_after_a_secret_rotation_the_previous_secret_is_still_accepted(shop: Client) -> None:
    new_secret = "shpss_" + "9" * 32
    channel = {"type": "shopify", "webhookSecret": new_secret, "shopDomain": SHOPIFY_SHOP}
    status, view = shop.call("PUT", f"/channels/{SHOPIFY_CHANNEL}", channel)
    assert status == 200
    assert view["previousSecretValidUntil"] is not None
    assert "webhookSecret" not in view and "previousWebhookSecret" not in view

    signed_before = post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order(), secret=SHOPIFY_SECRET))
    signed_after = post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order(), secret=new_secret))
    signed_by_neither = post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order(), secret="x" * 32))

    assert (signed_before[0], signed_after[0], signed_by_neither[0]) == (202, 202, 401)


def test_an_invalid_shopify_order_is_refused_naming_the_fields_and_archived(shop: Client) -> None:
    payload = shopify_order(currency="XYZ")
    payload["line_items"][0]["sku"] = ""
    payload["line_items"][0]["quantity"] = 0
    payload["shipping_address"] = None

    status, error = post(shop, SHOPIFY_CHANNEL, shopify_delivery(payload))

    assert status == 400
    fields = {problem["field"] for problem in error["error"]["details"]}
    assert {"currency", "line_items.0.sku", "line_items.0.quantity", "shipping_address"} <= fields
    assert orders_of(shop, SHOPIFY_CHANNEL) == []
    [archived] = deliveries_of(shop, SHOPIFY_CHANNEL)
    assert archived["result"]["outcome"] == "INVALID"
    assert {p["field"] for p in archived["result"]["errors"]} == fields


def test_a_delivery_refused_by_a_bug_is_replayed_after_the_fix(
    shop: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def buggy(payload: Any) -> Any:
        raise InvalidRequest("order is invalid", [{"field": "line_items", "message": "adapter bug"}])

    with monkeypatch.context() as patched:
        patched.setattr(shopify, "to_canonical", buggy)
        status, _ = post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order()))
        assert status == 400
    [refused] = deliveries_of(shop, SHOPIFY_CHANNEL)

    status, report = shop.call(
        "POST", f"/channels/{SHOPIFY_CHANNEL}/replay", {"deliveryIds": [refused["deliveryId"]]}
    )
    again = shop.call("POST", f"/channels/{SHOPIFY_CHANNEL}/replay", {"deliveryIds": [refused["deliveryId"]]})

    assert status == 200, report
    [replayed] = report["results"]
    assert replayed["result"]["outcome"] == "CREATED"
    order = shop.wait_for_status(replayed["result"]["orderId"], "FULFILLING")
    assert order["deliveryId"] == refused["deliveryId"]
    again_result = again[1]["results"][0]["result"]
    assert (again_result["outcome"], again_result["orderId"]) == ("DUPLICATE", order["orderId"])
    assert len(orders_of(shop, SHOPIFY_CHANNEL)) == 1
    [archived] = deliveries_of(shop, SHOPIFY_CHANNEL)
    assert archived["result"]["outcome"] == "INVALID"  # what it did when it arrived
    assert [attempt["outcome"] for attempt in archived["replays"]] == ["CREATED", "DUPLICATE"]


def test_replaying_the_delivery_that_created_an_order_keeps_the_archive_true(shop: Client) -> None:
    status, receipt = post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order()))
    assert status == 202
    shop.ship_and_deliver(receipt["orderId"])

    status, report = shop.call(
        "POST", f"/channels/{SHOPIFY_CHANNEL}/replay", {"deliveryIds": [receipt["deliveryId"]]}
    )

    assert status == 200, report
    [replayed] = report["results"]
    assert replayed["result"]["outcome"] == "DUPLICATE"
    assert replayed["result"]["status"] == "DELIVERED"
    [archived] = deliveries_of(shop, SHOPIFY_CHANNEL)
    first = archived["result"]
    assert (first["outcome"], first["orderId"], first["status"]) == (
        "CREATED",
        receipt["orderId"],
        "RECEIVED",
    )
    [attempt] = archived["replays"]
    assert (attempt["outcome"], attempt["status"]) == ("DUPLICATE", "DELIVERED")
    assert attempt["at"] > archived["receivedAt"]
    status, one = shop.call("GET", f"/channels/{SHOPIFY_CHANNEL}/deliveries/{receipt['deliveryId']}")
    assert one["result"]["outcome"] == "CREATED"
    assert one["replays"] == archived["replays"]


def test_replaying_an_unknown_delivery_is_404(shop: Client) -> None:
    status, error = shop.call(
        "POST", f"/channels/{SHOPIFY_CHANNEL}/replay", {"deliveryIds": ["dlv_01JZZZZZZZZZZZZZZZZZZZZZZZ"]}
    )
    assert status == 404
    assert error["error"]["details"] == {"deliveryIds": ["dlv_01JZZZZZZZZZZZZZZZZZZZZZZZ"]}


# WooCommerce --------------------------------------------------------------------------------------


def test_the_woocommerce_creation_ping_is_acknowledged_unsigned(shop: Client) -> None:
    status, receipt = shop.send(
        "POST",
        f"/webhooks/{WOO_CHANNEL}",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"webhook_id=12",
    )
    assert status == 200
    assert receipt["outcome"] == "IGNORED"
    assert orders_of(shop, WOO_CHANNEL) == []


def test_a_woocommerce_order_is_placed_once_paid_and_cancelled_from_the_store(shop: Client) -> None:
    unpaid = woo_order(status="pending", lines=[("TEE-M", 1)])
    status, receipt = post(shop, WOO_CHANNEL, woo_delivery(unpaid, topic="order.created"))
    assert (status, receipt["outcome"]) == (200, "IGNORED")

    paid = {**unpaid, "status": "processing"}
    status, created = post(shop, WOO_CHANNEL, woo_delivery(paid, topic="order.updated"))
    assert (status, created["outcome"]) == (202, "CREATED")
    order = shop.wait_for_status(created["orderId"], "FULFILLING")
    assert order["lines"][0]["title"] == "Tee \u2013 M"  # TEE-M, from "Tee &ndash; M"
    assert order["total"] == unpaid["total"]

    noted = post(shop, WOO_CHANNEL, woo_delivery(paid, topic="order.updated"))
    assert (noted[0], noted[1]["outcome"], noted[1]["orderId"]) == (200, "DUPLICATE", created["orderId"])

    cancelled = {**unpaid, "status": "cancelled"}
    status, receipt = post(shop, WOO_CHANNEL, woo_delivery(cancelled, topic="order.updated"))
    assert (status, receipt["outcome"]) == (200, "CANCELLED")
    shop.wait_for_status(created["orderId"], "CANCELLED")
    assert len(orders_of(shop, WOO_CHANNEL)) == 1


def test_a_woocommerce_delivery_with_a_wrong_signature_is_401(shop: Client) -> None:
    status, error = post(shop, WOO_CHANNEL, woo_delivery(woo_order(), secret="not-the-woo-secret"))
    assert status == 401
    assert WOO_SECRET not in json.dumps(error)
    assert deliveries_of(shop, WOO_CHANNEL) == []


# Channels -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "field_hint"),
    [
        ({"type": "shopify"}, "webhookSecret"),
        ({"type": "amazon", "webhookSecret": "s" * 32}, "amazon"),
        ({"type": "woocommerce", "webhookSecret": "s" * 32, "shopDomain": "x.myshopify.com"}, "shopDomain"),
    ],
)
def test_a_channel_must_have_the_settings_of_its_type(
    shop: Client, channel: dict[str, Any], field_hint: str
) -> None:
    status, error = shop.call("PUT", "/channels/misconfigured", channel)
    assert status == 400
    assert field_hint in json.dumps(error["error"]["details"])


def test_concurrent_woocommerce_deliveries_of_one_order_make_one_order(shop: Client) -> None:
    """WooCommerce fires order.created and order.updated close together; each has its own delivery id."""
    paid = woo_order(status="processing")
    deliveries = [woo_delivery(paid, topic=topic) for topic in ["order.created"] + ["order.updated"] * 5]

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda d: post(shop, WOO_CHANNEL, d), deliveries))

    assert sorted(status for status, _ in answers) == [200] * 5 + [202]
    assert len({receipt["orderId"] for _, receipt in answers}) == 1
    assert len(orders_of(shop, WOO_CHANNEL)) == 1


def test_a_refused_signature_is_logged_with_channel_and_reason_but_not_the_secret(
    shop: Client, caplog: pytest.LogCaptureFixture
) -> None:
    post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order(), secret="a-forged-secret-of-the-attacker"))

    [refusal] = [r for r in caplog.records if r.getMessage() == "webhook signature refused"]
    assert refusal.__dict__["channel_id"] == SHOPIFY_CHANNEL
    assert refusal.__dict__["channel_type"] == "shopify"
    assert "does not match" in refusal.__dict__["reason"]
    everything_logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert SHOPIFY_SECRET not in everything_logged
    assert "a-forged-secret-of-the-attacker" not in everything_logged


def test_changing_a_channels_type_is_409_naming_its_type_and_keeps_its_settings(shop: Client) -> None:
    status, error = shop.call(
        "PUT", f"/channels/{SHOPIFY_CHANNEL}", {"type": "woocommerce", "webhookSecret": WOO_SECRET}
    )

    assert status == 409, error
    assert error["error"]["code"] == "CONFLICT"
    assert "shopify" in error["error"]["message"]
    assert error["error"]["details"] == {
        "channelId": SHOPIFY_CHANNEL,
        "type": "shopify",
        "requested": "woocommerce",
    }
    _, kept = shop.call("GET", f"/channels/{SHOPIFY_CHANNEL}")
    assert (kept["type"], kept["shopDomain"]) == ("shopify", SHOPIFY_SHOP)
    assert post(shop, SHOPIFY_CHANNEL, shopify_delivery(shopify_order()))[0] == 202  # its secret too


def test_concurrent_registrations_of_one_channel_with_different_types_keep_one_type(shop: Client) -> None:
    registrations = [
        {"type": "woocommerce", "webhookSecret": WOO_SECRET},
        {"type": "shopify", "webhookSecret": SHOPIFY_SECRET},
        {"type": "api", "webhookSecret": "whsec_" + "c2VjcmV0LW9mLXRoZS1yYWNlLXRlc3Q="},
    ] * 3

    with ThreadPoolExecutor(max_workers=9) as pool:
        answers = list(pool.map(lambda c: shop.call("PUT", "/channels/contested", c), registrations))

    _, stored = shop.call("GET", "/channels/contested")
    # Registrations of the winning type that raced its creation may each be told 201.
    assert {view["type"] for status, view in answers if status == 201} == {stored["type"]}
    for status, answer in answers:
        assert status in (200, 201, 409), answer
        if status == 409:
            assert answer["error"]["details"]["type"] == stored["type"]
        else:
            assert answer["type"] == stored["type"]


def all_pages(client: Client, path: str, key: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, following nextCursor; and how many pages that took."""
    items: list[dict[str, Any]] = []
    cursor, pages = "", 0
    while cursor is not None:
        status, page = client.call("GET", f"{path}&cursor={cursor}" if cursor else path)
        assert status == 200, page
        assert len(page[key]) <= 2
        items += page[key]
        cursor, pages = page["nextCursor"], pages + 1
    return items, pages


def test_channels_are_listed_page_by_page_as_each_is_shown_without_secrets(shop: Client) -> None:
    amazon = amazon_channel("https://sellingpartnerapi-na.amazon.com", "https://api.amazon.com/auth/o2/token")
    assert shop.call("PUT", f"/channels/{AMAZON_CHANNEL}", amazon)[0] == 201

    listed, pages = all_pages(shop, "/channels?limit=2", "channels")

    # The Amazon seller's claim is kept in the same table; it is not a channel.
    assert sorted(c["channelId"] for c in listed) == sorted(
        [CHANNEL_ID, SHOPIFY_CHANNEL, WOO_CHANNEL, AMAZON_CHANNEL]
    )
    assert pages >= 2
    for channel in listed:
        assert channel == shop.call("GET", f"/channels/{channel['channelId']}")[1]
    shown = json.dumps(listed)
    for secret in (CHANNEL_SECRET, SHOPIFY_SECRET, WOO_SECRET, amazon["amazon"]["clientSecret"]):
        assert secret not in shown
    assert "refreshToken" not in shown


def test_a_channel_list_cursor_must_come_from_the_channel_list(shop: Client) -> None:
    _, page = shop.call("GET", "/channels?limit=1")
    for _ in range(2):
        shop.place()
    _, orders_page = shop.call("GET", "/orders?limit=1")

    for cursor in ("garbage", "e30", orders_page["nextCursor"]):
        status, error = shop.call("GET", f"/channels?cursor={cursor}")
        assert (status, error["error"]["details"]) == (400, {"field": "cursor"}), cursor
    status, error = shop.call("GET", f"/orders?cursor={page['nextCursor']}")
    assert (status, error["error"]["details"]) == (400, {"field": "cursor"})
    assert shop.call("GET", "/channels?limit=101")[0] == 400
