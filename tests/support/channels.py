"""Channel deliveries for the tests: the same builders the demo uses."""

from local.samples import (
    AMAZON_CHANNEL,
    AMAZON_MARKETPLACE,
    AMAZON_SELLER,
    SHOPIFY_CHANNEL,
    SHOPIFY_SECRET,
    SHOPIFY_SHOP,
    WOO_CHANNEL,
    WOO_SECRET,
    amazon_channel,
    amazon_notification,
    shopify_delivery,
    shopify_order,
    woo_delivery,
    woo_order,
)

__all__ = [
    "AMAZON_CHANNEL",
    "AMAZON_MARKETPLACE",
    "AMAZON_SELLER",
    "SHOPIFY_CHANNEL",
    "SHOPIFY_SECRET",
    "SHOPIFY_SHOP",
    "WOO_CHANNEL",
    "WOO_SECRET",
    "amazon_channel",
    "amazon_notification",
    "shopify_delivery",
    "shopify_order",
    "woo_delivery",
    "woo_order",
]
