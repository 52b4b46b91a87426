"""Orders as Shopify, WooCommerce and Amazon send them, for the demo (`python -m local.send_order
--channel ...`) and the tests.

Payloads are written here in the channels' published shapes (not copied from their docs), trimmed to
what an order carries that matters to the OMS. Signing uses each channel's own scheme.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import uuid
from decimal import Decimal
from typing import Any

from local.spapi_sandbox import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN
from shared.channels import shopify, woocommerce

SHOPIFY_CHANNEL = "demo-shopify"
# Development-only secrets, published on purpose.
SHOPIFY_SECRET = "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"
SHOPIFY_SHOP = "teapot-emporium.myshopify.com"
WOO_CHANNEL = "demo-woo"
WOO_SECRET = "wc-secret-4f9a1c7e2b6d8a0c3e5f"

# What the SKUs of the demo and of the tests are called, (product, variant), with the HTML entities
# channels send. Any other SKU is called by the SKU itself.
PRODUCTS: dict[str, tuple[str, str]] = {
    "TSHIRT-BLK-M": ("Classic T-Shirt", "Black / M"),
    "MUG-WHT-11OZ": ("Caf&eacute; Mug", "White / 11 oz"),
    "HOODIE-GRY-L": ("Zip Hoodie", "Grey / L"),
    "MUG-BLUE": ("Caf&eacute; Mug", "Blue"),
    "TEE-M": ("Tee", "M"),
}


def product_of(sku: str) -> tuple[str, str | None]:
    return PRODUCTS.get(sku, (sku, None))


def title_of(sku: str, separator: str = " - ") -> str:
    """The SKU's product and variant as one title, with the channels' HTML entities."""
    return separator.join(part for part in product_of(sku) if part)


# Counts up from when this run started (milliseconds since 1970, then three random digits for runs
# started in the same millisecond), so a second run never sends the first one's ids again.
_ids = itertools.count(time.time_ns() // 1_000_000 * 1000 + secrets.randbelow(1000))


def unique_number() -> int:
    """A number no other call returns, in this run or another (about 1.8e15 today; below 2**53)."""
    return next(_ids)


def _shopify_id() -> int:
    # Odd and above 2**53 (yet a 64-bit integer, as Shopify's ids are): through a float, it changes.
    return 7 * 10**18 + 2 * unique_number() + 1


def new_amazon_order_id() -> str:
    """An Amazon order id in Amazon's 3-7-7 digit format."""
    number = unique_number()
    return f"111-{number // 10**7 % 10**7:07d}-{number % 10**7:07d}"


def shopify_order(lines: list[tuple[str, int]] | None = None, **changes: Any) -> dict[str, Any]:
    order_id = _shopify_id()
    line_items = [
        {
            "id": _shopify_id(),
            "sku": sku,
            "title": product_of(sku)[0],
            "variant_title": product_of(sku)[1],
            "quantity": quantity,
            "price": "12.50",
            "requires_shipping": True,
            "total_discount": "0.00",
            "discount_allocations": [],
            "tax_lines": [{"price": "1.00", "rate": 0.08, "title": "State tax"}],
        }
        for sku, quantity in lines or [("MUG-BLUE", 2)]
    ]
    subtotal = sum(Decimal("12.50") * quantity for _, quantity in lines or [("MUG-BLUE", 2)])
    total = subtotal + len(line_items) * Decimal("1.00") + Decimal("5.00")
    order = {
        "id": order_id,
        "name": f"#{order_id % 10000}",
        "email": "ada@example.com",
        "currency": "USD",
        "taxes_included": False,
        "financial_status": "paid",
        "fulfillment_status": None,
        "cancel_reason": None,
        "total_price": str(total),
        "customer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "shipping_address": {
            "name": "Ada Lovelace",
            "address1": "1 Main St",
            "address2": "",
            "city": "Boston",
            "province_code": "MA",
            "zip": "02108",
            "country_code": "US",
            "latitude": 42.3601,
            "longitude": -71.0589,
        },
        "line_items": line_items,
        "shipping_lines": [{"price": "5.00", "tax_lines": [], "discount_allocations": []}],
    }
    order.update(changes)
    return order


def shopify_delivery(
    payload: dict[str, Any],
    topic: str = "orders/create",
    event_id: str | None = None,
    secret: str = SHOPIFY_SECRET,
    shop: str = SHOPIFY_SHOP,
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify.signature(secret, body),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2026-07",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-26T10:00:00.000Z",
    }
    return headers, body


def woo_order(status: str = "processing", lines: list[tuple[str, int]] | None = None) -> dict[str, Any]:
    order_id = unique_number()
    items = lines or [("MUG-BLUE", 1)]
    line_items = [
        {
            "id": unique_number(),
            "name": title_of(sku, separator=" &ndash; "),
            "sku": sku,
            "quantity": quantity,
            "subtotal": f"{Decimal('12.50') * quantity:.2f}",
            "total": f"{Decimal('12.50') * quantity:.2f}",
            "total_tax": "0.00",
            "price": 12.5,
        }
        for sku, quantity in items
    ]
    total = sum(Decimal("12.50") * quantity for _, quantity in items) + Decimal("5.00")
    address = {
        "first_name": "Grace",
        "last_name": "Hopper",
        "company": "",
        "address_1": "9 Elm St",
        "address_2": "",
        "city": "Newark",
        "state": "NJ",
        "postcode": "07102",
        "country": "US",
    }
    return {
        "id": order_id,
        "number": str(order_id),  # WooCommerce's default: the number is the id
        "status": status,
        "currency": "USD",
        "prices_include_tax": False,
        "date_created": "2026-11-26T10:00:00",
        "total": f"{total:.2f}",
        "total_tax": "0.00",
        "shipping_total": "5.00",
        "shipping_tax": "0.00",
        "billing": {**address, "email": "grace@example.com", "phone": ""},
        "shipping": address,
        "line_items": line_items,
        "shipping_lines": [{"id": 1, "method_title": "Flat rate", "total": "5.00", "total_tax": "0.00"}],
        "fee_lines": [],
        "coupon_lines": [],
    }


def woo_delivery(
    payload: dict[str, Any], topic: str = "order.created", secret: str = WOO_SECRET
) -> tuple[dict[str, str], bytes]:
    # PHP's json_encode: compact, with "/" escaped.
    body = json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()
    resource, event = topic.split(".")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": woocommerce.signature(secret, body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
    }
    return headers, body


AMAZON_CHANNEL = "demo-amazon"
AMAZON_SELLER = "A3TH9S8BH6GOGM"
AMAZON_MARKETPLACE = "ATVPDKIKX0DER"


def amazon_channel(endpoint: str, token_endpoint: str) -> dict[str, Any]:
    return {
        "type": "amazon",
        "name": "Amazon US",
        "amazon": {
            "sellerId": AMAZON_SELLER,
            "marketplaceId": AMAZON_MARKETPLACE,
            "endpoint": endpoint,
            "tokenEndpoint": token_endpoint,
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "refreshToken": REFRESH_TOKEN,
        },
    }


def amazon_notification(
    amazon_order_id: str,
    status: str = "Unshipped",
    notification_id: str | None = None,
    fulfillment: str = "MFN",
    seller: str = AMAZON_SELLER,
) -> str:
    """An ORDER_CHANGE notification as SP-API puts it on the queue (the SQS message body)."""
    return json.dumps(
        {
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": "2026-11-26T10:00:00.000Z",
            "Payload": {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": seller,
                    "AmazonOrderId": amazon_order_id,
                    "OrderChangeType": "OrderStatusChange",
                    "OrderChangeTrigger": {
                        "TimeOfOrderChange": "2026-11-26T09:59:58.000Z",
                        "ChangeReason": "Order status changed",
                    },
                    "Summary": {
                        "MarketplaceId": AMAZON_MARKETPLACE,
                        "OrderStatus": status,
                        "FulfillmentType": fulfillment,
                        "OrderType": "StandardOrder",
                        "NumberOfItemsShipped": 0,
                        "NumberOfItemsUnshipped": 1,
                        "OrderItems": [],
                    },
                }
            },
            "NotificationMetadata": {
                "ApplicationId": "amzn1.sp.solution.test-app",
                "SubscriptionId": "subscription-test",
                "PublishTime": "2026-11-26T10:00:00.500Z",
                "NotificationId": notification_id or str(uuid.uuid4()),
            },
        }
    )


def amazon_order(
    amazon_order_id: str, lines: list[tuple[str, int]], status: str = "Unshipped"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A seller-fulfilled order as getOrder (with a restricted data token) and getOrderItems return it:
    12.50 a unit plus 8% tax, free shipping."""
    items = [
        {
            "ASIN": f"B0DEMO{index:04d}",
            "OrderItemId": f"{amazon_order_id}-{index}",
            "SellerSKU": sku,
            "Title": title_of(sku),
            "QuantityOrdered": quantity,
            "QuantityShipped": 0,
            "ItemPrice": {"CurrencyCode": "USD", "Amount": f"{Decimal('12.50') * quantity:.2f}"},
            "ItemTax": {"CurrencyCode": "USD", "Amount": f"{Decimal('1.00') * quantity:.2f}"},
            "PromotionDiscount": {"CurrencyCode": "USD", "Amount": "0.00"},
            "IsGift": "false",
        }
        for index, (sku, quantity) in enumerate(lines)
    ]
    total = sum(Decimal("13.50") * quantity for _, quantity in lines)
    order = {
        "AmazonOrderId": amazon_order_id,
        "PurchaseDate": "2026-11-26T10:00:00Z",
        "LastUpdateDate": "2026-11-26T10:00:05Z",
        "OrderStatus": status,
        "FulfillmentChannel": "MFN",
        "SalesChannel": "Amazon.com",
        "OrderTotal": {"CurrencyCode": "USD", "Amount": f"{total:.2f}"},
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": sum(quantity for _, quantity in lines),
        "MarketplaceId": AMAZON_MARKETPLACE,
        "OrderType": "StandardOrder",
        "IsPrime": False,
        "ShippingAddress": {
            "Name": "Ada Lovelace",
            "AddressLine1": "350 Fifth Avenue",
            "City": "New York",
            "StateOrRegion": "NY",
            "PostalCode": "10118",
            "CountryCode": "US",
            "AddressType": "Commercial",
        },
        "BuyerInfo": {"BuyerEmail": "d3m0buyer7x@marketplace.amazon.com", "BuyerName": "Ada Lovelace"},
    }
    return order, items
