"""Demo data and the demo order sender (no servers involved)."""

from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from local.demo import (
    DEMO_CHANNEL_ID,
    DEMO_WEBHOOK_SECRET,
    STOCK,
    WAREHOUSES,
    RefundsLocation,
    SpApiLocation,
    sample_order,
    seed_calls,
)
from local.gateway import COMPILED_ROUTES
from local.refund_sandbox import SIGNED_PATH, FakeChannelRefunds
from local.samples import SHOPIFY_CHANNEL, WOO_CHANNEL
from local.send_order import order_id_of, signed_delivery
from shared.models.catalog import ApiChannelIn, ChannelIn, ShopifyChannelIn, WooCommerceChannelIn
from shared.signatures import standard_webhook_key, verify_standard_webhook


def route_of(method: str, path: str) -> str | None:
    for compiled in COMPILED_ROUTES:
        if compiled.route.method == method and compiled.pattern.match(path):
            return compiled.route.path
    return None


def test_seed_calls_use_the_public_routes() -> None:
    routes = [route_of(call.method, call.path) for call in seed_calls()]
    with_amazon = [
        route_of(call.method, call.path) for call in seed_calls(SpApiLocation("http://a", "http://t"))
    ]

    assert routes.count("/warehouses/{warehouseId}") == len(WAREHOUSES)
    assert routes.count("/inventory/{sku}/locations/{warehouseId}") == len(STOCK)
    assert routes.count("/channels/{channelId}") == 3  # api, shopify, woocommerce
    assert with_amazon.count("/channels/{channelId}") == 4


def test_every_demo_channel_registers_as_the_api_documents_it() -> None:
    channels = [
        c.body
        for c in seed_calls(SpApiLocation("http://a", "http://t"))
        if route_of(c.method, c.path) == "/channels/{channelId}"
    ]

    accepted = [TypeAdapter(ChannelIn).validate_python(channel) for channel in channels]
    assert sorted(channel.type for channel in accepted) == ["amazon", "api", "shopify", "woocommerce"]


def test_with_a_refund_sandbox_the_demo_channels_refund_through_it() -> None:
    with FakeChannelRefunds(signing_secret=DEMO_WEBHOOK_SECRET) as sandbox:
        calls = {call.path: call.body for call in seed_calls(None, RefundsLocation.of(sandbox))}
        api, shopify, woo = (
            TypeAdapter(ChannelIn).validate_python(calls[f"/channels/{channel}"])
            for channel in (DEMO_CHANNEL_ID, SHOPIFY_CHANNEL, WOO_CHANNEL)
        )

        assert isinstance(api, ApiChannelIn) and api.refundUrl == sandbox.endpoint + SIGNED_PATH
        # The receiver verifies what the OMS signs with the api channel's webhook secret.
        assert api.webhookSecret == sandbox.signing_secret
        assert isinstance(shopify, ShopifyChannelIn) and shopify.refundApi == sandbox.shopify_target()
        assert isinstance(woo, WooCommerceChannelIn) and woo.refundApi == sandbox.woocommerce_target()


def test_a_refund_sandbox_signing_with_another_secret_is_refused() -> None:
    with FakeChannelRefunds() as sandbox, pytest.raises(ValueError, match="webhook secret"):
        RefundsLocation.of(sandbox)


def test_without_a_refund_sandbox_the_demo_channels_have_no_refund_port() -> None:
    channels = [call.body for call in seed_calls() if call.path.startswith("/channels/")]

    assert all("refundApi" not in body and "refundUrl" not in body for body in channels)


def test_seed_bodies_have_the_documented_shapes() -> None:
    calls = {call.path: call.body for call in seed_calls()}

    assert calls["/warehouses/wh-east"]["country"] == "US"
    assert isinstance(calls["/warehouses/wh-west"]["latitude"], float)
    assert all(set(body) == {"onHand"} for path, body in calls.items() if path.startswith("/inventory/"))
    assert calls[f"/channels/{DEMO_CHANNEL_ID}"] == {"type": "api", "webhookSecret": DEMO_WEBHOOK_SECRET}
    assert len(standard_webhook_key(DEMO_WEBHOOK_SECRET)) == 32


def test_the_sample_order_is_canonical_with_money_as_decimal_strings() -> None:
    order = sample_order("c-1", sku="MUG-WHT-11OZ", quantity=2)

    assert order["channelOrderId"] == "c-1"
    assert order["lines"] == [
        {"sku": "MUG-WHT-11OZ", "title": "Café Mug - White / 11 oz", "quantity": 2, "unitPrice": "12.50"}
    ]
    assert Decimal(order["shippingPrice"]) == Decimal("5.00")
    assert set(order["shippingAddress"]) == {
        "name",
        "line1",
        "line2",
        "city",
        "region",
        "postalCode",
        "country",
        "latitude",
        "longitude",
    }


def test_the_demo_delivery_is_correctly_signed() -> None:
    body, headers = signed_delivery(sample_order(), DEMO_WEBHOOK_SECRET, now=1_700_000_000)

    assert (
        verify_standard_webhook(DEMO_WEBHOOK_SECRET, headers, body, now=1_700_000_010)
        == headers["webhook-id"]
    )
    assert headers["webhook-timestamp"] == "1700000000"


def test_finds_the_order_id_in_the_intake_response() -> None:
    assert order_id_of(b'{"orderId": "o-1"}') == "o-1"
    assert order_id_of(b'{"order": {"orderId": "o-2"}}') == "o-2"
    assert order_id_of(b"not json") is None
