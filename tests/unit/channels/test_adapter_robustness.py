"""Whatever an authentic delivery contains, an adapter answers with what it means or with a 400
naming a field: never another exception (which the API would turn into a 500, and the channel
into endless retries).

Each case starts from a valid payload and replaces one value somewhere inside it, at any depth,
with an arbitrary JSON value (or deletes it).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.samples import amazon_notification, amazon_order, shopify_order, woo_order
from shared.channels import Inbound, amazon, shopify, woocommerce
from shared.errors import InvalidRequest

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.decimals(allow_nan=False, allow_infinity=False, places=6)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    changed = copy.deepcopy(document)
    path = draw(st.sampled_from(paths(document)))
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(json_values)
    return changed


def encoded(document: Any) -> bytes:
    return json.dumps(
        document, default=lambda value: str(value) if isinstance(value, Decimal) else value
    ).encode()


def interpreted_or_refused(interpret: Any, headers: dict[str, str], body: bytes) -> None:
    try:
        assert isinstance(interpret(headers, body), Inbound)
    except InvalidRequest as refused:
        assert refused.details, "a 400 must name what is wrong"


ROBUSTNESS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHOPIFY_HEADERS = {"x-shopify-topic": "orders/create", "x-shopify-event-id": "e-1"}
WOO_HEADERS = {"x-wc-webhook-topic": "order.created", "x-wc-webhook-delivery-id": "d-1"}


@ROBUSTNESS
@given(mutated(shopify_order([("MUG-BLUE", 2), ("TEE-M", 1)])))
def test_shopify_orders(payload: Any) -> None:
    interpreted_or_refused(shopify.interpret, SHOPIFY_HEADERS, encoded(payload))


@ROBUSTNESS
@given(mutated(shopify_order()))
def test_shopify_cancellations(payload: Any) -> None:
    interpreted_or_refused(
        shopify.interpret, {**SHOPIFY_HEADERS, "x-shopify-topic": "orders/cancelled"}, encoded(payload)
    )


@ROBUSTNESS
@given(mutated(woo_order("processing", [("MUG-BLUE", 3), ("TEE-M", 1)])))
def test_woocommerce_orders(payload: Any) -> None:
    interpreted_or_refused(woocommerce.interpret, WOO_HEADERS, encoded(payload))


def shopify_refund() -> dict[str, Any]:
    """A refunds/create body for the sample order: a line, its shipping both ways, a transaction."""
    order = shopify_order()
    money = {"shop_money": {"amount": "13.50", "currency_code": "USD"}}
    return {
        "id": order["id"] + 1,
        "order_id": order["id"],
        "note": "OMS refund rfd_1: damaged",
        "processed_at": "2026-11-27T10:00:00+00:00",
        "refund_line_items": [
            {
                "line_item_id": order["line_items"][0]["id"],
                "quantity": 1,
                "subtotal": Decimal("12.50"),
                "total_tax": Decimal("1.00"),
                "subtotal_set": {"shop_money": {"amount": "12.50", "currency_code": "USD"}},
                "total_tax_set": {"shop_money": {"amount": "1.00", "currency_code": "USD"}},
                "line_item": {"id": order["line_items"][0]["id"], "sku": "MUG-BLUE"},
            }
        ],
        "refund_shipping_lines": [{"subtotal_amount_set": money, "tax_amount_set": money}],
        "order_adjustments": [
            {"kind": "shipping_refund", "amount": "-5.00", "tax_amount": "0.00", "amount_set": money}
        ],
        "transactions": [{"kind": "refund", "status": "success", "amount": "18.50", "amount_set": money}],
    }


@ROBUSTNESS
@given(mutated(shopify_refund()))
def test_shopify_refunds(payload: Any) -> None:
    interpreted_or_refused(
        shopify.interpret, {**SHOPIFY_HEADERS, "x-shopify-topic": "refunds/create"}, encoded(payload)
    )


@ROBUSTNESS
@given(mutated({**shopify_refund(), "refund_shipping_lines": []}))
def test_shopify_refunds_with_shipping_as_adjustments(payload: Any) -> None:
    interpreted_or_refused(
        shopify.interpret, {**SHOPIFY_HEADERS, "x-shopify-topic": "refunds/create"}, encoded(payload)
    )


WOO_REFUNDS = [
    {"id": 901, "reason": "OMS refund rfd_1: damaged", "total": "-5.00"},
    {"id": 902, "total": "-1"},
]


@ROBUSTNESS
@given(mutated({**woo_order("completed", [("MUG-BLUE", 1)]), "refunds": WOO_REFUNDS}))
def test_woocommerce_orders_with_refunds(payload: Any) -> None:
    interpreted_or_refused(
        woocommerce.interpret, {**WOO_HEADERS, "x-wc-webhook-topic": "order.updated"}, encoded(payload)
    )


@ROBUSTNESS
@given(mutated(json.loads(amazon_notification("111-0000000-0000001"))))
def test_amazon_notifications(notification: Any) -> None:
    try:
        parsed = amazon.parse_notification(encoded(notification))
        amazon.decide(parsed)
    except InvalidRequest as refused:
        assert refused.details


AMAZON_ORDER, AMAZON_ITEMS = amazon_order("111-0000000-0000001", [("MUG-BLUE", 3), ("TEE-M", 1)])


@ROBUSTNESS
@given(mutated({"order": AMAZON_ORDER, "items": AMAZON_ITEMS}))
def test_amazon_orders(fetched: Any) -> None:
    order, items = fetched.get("order"), fetched.get("items")
    if not isinstance(order, dict) or not isinstance(items, list):
        return  # the SP-API client only ever returns an object and a list
    try:
        amazon.decide_fetched(order)
        amazon.to_canonical(order, items)
    except InvalidRequest as refused:
        assert refused.details


@ROBUSTNESS
@given(st.binary(max_size=200))
def test_any_bytes(body: bytes) -> None:
    interpreted_or_refused(shopify.interpret, SHOPIFY_HEADERS, body)
    interpreted_or_refused(shopify.interpret, {**SHOPIFY_HEADERS, "x-shopify-topic": "refunds/create"}, body)
    interpreted_or_refused(woocommerce.interpret, WOO_HEADERS, body)
    try:
        amazon.parse_notification(body)
    except InvalidRequest as refused:
        assert refused.details
