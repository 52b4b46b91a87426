"""Demo data for the local OMS, created through the API exactly as a client would create it."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.gateway import GatewayResponse
from local.refund_sandbox import FakeChannelRefunds
from local.samples import (
    AMAZON_CHANNEL,
    SHOPIFY_CHANNEL,
    SHOPIFY_SECRET,
    SHOPIFY_SHOP,
    WOO_CHANNEL,
    WOO_SECRET,
    amazon_channel,
    title_of,
    unique_number,
)

DEMO_CHANNEL_ID = "demo-store"
# A development-only secret, published on purpose (base64 of "oms-local-demo-webhook-secret-32").
DEMO_WEBHOOK_SECRET = "whsec_b21zLWxvY2FsLWRlbW8td2ViaG9vay1zZWNyZXQtMzI="

WAREHOUSES: dict[str, dict[str, Any]] = {
    "wh-east": {
        "name": "East Coast DC (Newark, NJ)",
        "latitude": 40.7357,
        "longitude": -74.1724,
        "country": "US",
    },
    "wh-west": {
        "name": "West Coast DC (Reno, NV)",
        "latitude": 39.5296,
        "longitude": -119.8138,
        "country": "US",
    },
}
# (sku, warehouse id) -> units on hand
STOCK: dict[tuple[str, str], int] = {
    ("TSHIRT-BLK-M", "wh-east"): 40,
    ("TSHIRT-BLK-M", "wh-west"): 25,
    ("MUG-WHT-11OZ", "wh-east"): 60,
    ("HOODIE-GRY-L", "wh-west"): 15,
}
DEMO_SKU = "TSHIRT-BLK-M"
# The demo channels' customer e-mails come from this address, verified in the local SES (moto) when
# the local OMS starts, as a retailer verifies theirs in the SES console.
DEMO_SENDER = "orders@demo-shop.example"
DEMO_NOTIFICATIONS: dict[str, Any] = {"enabled": True, "sender": DEMO_SENDER}
# Carrier tracking providers, with development-only secrets published on purpose.
DEMO_TRACKING_PROVIDERS: dict[str, dict[str, str]] = {
    "demo-easypost": {"type": "easypost", "webhookSecret": "oms-local-easypost-sécret"},
    "demo-aftership": {"type": "aftership", "webhookSecret": "oms-local-aftership-secret"},
}


def demo_skus() -> list[str]:
    """The SKUs the demo stocks, in the order of STOCK."""
    return list(dict.fromkeys(sku for sku, _ in STOCK))


Request = Callable[..., GatewayResponse]


@dataclass(frozen=True)
class SeedCall:
    method: str
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class SpApiLocation:
    endpoint: str
    token_endpoint: str


@dataclass(frozen=True)
class RefundsLocation:
    """Where the demo channels send refunds: the refund sandbox's port settings, as channel settings."""

    shopify: dict[str, Any]  # the Shopify channel's refundApi
    woocommerce: dict[str, Any]  # the WooCommerce channel's refundApi
    signed_url: str  # the api channel's refundUrl, signed with its webhookSecret

    @classmethod
    def of(cls, sandbox: FakeChannelRefunds) -> RefundsLocation:
        """The sandbox's targets; its receiver must verify with the api channel's webhook secret."""
        if sandbox.signing_secret != DEMO_WEBHOOK_SECRET:
            raise ValueError(f"the refund sandbox must verify with {DEMO_CHANNEL_ID}'s webhook secret")
        return cls(
            shopify=sandbox.shopify_target().model_dump(),
            woocommerce=sandbox.woocommerce_target().model_dump(),
            signed_url=sandbox.signed_target().url,
        )


def seed_calls(spapi: SpApiLocation | None = None, refunds: RefundsLocation | None = None) -> list[SeedCall]:
    """Warehouses, stock, one channel of each type (Amazon only with an SP-API to fetch from) and the
    tracking providers; with a refund sandbox, the api, Shopify and WooCommerce channels refund through it."""
    calls = [SeedCall("PUT", f"/warehouses/{wid}", body) for wid, body in WAREHOUSES.items()]
    calls += [
        SeedCall("PUT", f"/inventory/{sku}/locations/{wid}", {"onHand": units})
        for (sku, wid), units in STOCK.items()
    ]
    api: dict[str, Any] = {"type": "api", "webhookSecret": DEMO_WEBHOOK_SECRET}
    shopify: dict[str, Any] = {"type": "shopify", "webhookSecret": SHOPIFY_SECRET, "shopDomain": SHOPIFY_SHOP}
    woo: dict[str, Any] = {"type": "woocommerce", "webhookSecret": WOO_SECRET}
    if refunds is not None:
        api["refundUrl"] = refunds.signed_url
        shopify["refundApi"] = refunds.shopify
        woo["refundApi"] = refunds.woocommerce
    calls += [
        SeedCall("PUT", f"/channels/{DEMO_CHANNEL_ID}", api),
        SeedCall("PUT", f"/channels/{SHOPIFY_CHANNEL}", shopify),
        SeedCall("PUT", f"/channels/{WOO_CHANNEL}", woo),
    ]
    calls += [
        SeedCall("PUT", f"/tracking-providers/{pid}", body) for pid, body in DEMO_TRACKING_PROVIDERS.items()
    ]
    channel_ids = [DEMO_CHANNEL_ID, SHOPIFY_CHANNEL, WOO_CHANNEL]
    if spapi is not None:
        calls.append(
            SeedCall(
                "PUT", f"/channels/{AMAZON_CHANNEL}", amazon_channel(spapi.endpoint, spapi.token_endpoint)
            )
        )
        channel_ids.append(AMAZON_CHANNEL)
    calls += [SeedCall("PUT", f"/channels/{cid}/notifications", DEMO_NOTIFICATIONS) for cid in channel_ids]
    return calls


def verify_demo_sender(ses: Any) -> None:
    """Verify the demo channels' sender in the local SES (moto verifies at once)."""
    ses.verify_email_identity(EmailAddress=DEMO_SENDER)


def seed(
    request: Request, spapi: SpApiLocation | None = None, refunds: RefundsLocation | None = None
) -> list[str]:
    """Send every seed call through `request` (e.g. `LocalOMS.request`); return what failed."""
    failures = []
    for call in seed_calls(spapi, refunds):
        response = request(call.method, call.path, json=call.body)
        if response.status >= 300:
            failures.append(f"{call.method} {call.path} -> {response.status} {response.body[:300]!r}")
    return failures


def sample_order(
    channel_order_id: str | None = None,
    sku: str = DEMO_SKU,
    quantity: int = 1,
    lines: list[tuple[str, int]] | None = None,
) -> dict[str, Any]:
    """A canonical order as a channel sends it (one line of `sku`, or `lines`); money is a decimal string."""
    return {
        "channelOrderId": channel_order_id or f"demo-{unique_number()}",
        "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shippingAddress": {
            "name": "Ada Lovelace",
            "line1": "350 Fifth Avenue",
            "line2": "Floor 21",
            "city": "New York",
            "region": "NY",
            "postalCode": "10118",
            "country": "US",
            "latitude": 40.7484,
            "longitude": -73.9857,
        },
        "lines": [
            {"sku": sku, "title": html.unescape(title_of(sku)), "quantity": units, "unitPrice": "12.50"}
            for sku, units in (lines or [(sku, quantity)])
        ],
        "shippingPrice": "5.00",
    }
