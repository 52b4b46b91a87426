"""The demo's channel payloads (local/samples.py, local/demo.py): ids that a second run does not repeat,
valid in each channel's format, and the lines asked for, titled as their own products."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local.demo import STOCK, demo_skus, sample_order
from local.samples import PRODUCTS, amazon_order, new_amazon_order_id, shopify_order, woo_order
from shared.channels import amazon, shopify, standard, woocommerce
from shared.models.order import CanonicalOrder

ROOT = Path(__file__).resolve().parents[2]
PRINT_IDS = """
import json
from local.demo import sample_order
from local.samples import new_amazon_order_id, shopify_order, woo_order
print(json.dumps({
    "api": sample_order()["channelOrderId"],
    "shopify": shopify_order()["id"],
    "woocommerce": woo_order()["id"],
    "amazon": new_amazon_order_id(),
}))
"""


def ids_of_one_run() -> dict[str, object]:
    ran = subprocess.run(
        [sys.executable, "-c", PRINT_IDS], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return dict(json.loads(ran.stdout))


def test_a_second_run_makes_other_order_ids_on_every_channel() -> None:
    first, second = ids_of_one_run(), ids_of_one_run()

    assert [channel for channel in first if first[channel] == second[channel]] == []


def test_ids_within_a_run_are_all_different() -> None:
    assert len({shopify_order()["id"] for _ in range(50)}) == 50
    assert len({woo_order()["id"] for _ in range(50)}) == 50
    assert len({sample_order()["channelOrderId"] for _ in range(50)}) == 50
    assert len({new_amazon_order_id() for _ in range(50)}) == 50


def test_shopify_ids_are_64_bit_integers_a_float_would_change() -> None:
    order = shopify_order([("MUG-BLUE", 1), ("TEE-M", 1)])

    for shopify_id in [order["id"], *(line["id"] for line in order["line_items"])]:
        assert 2**53 < shopify_id < 2**63
        assert int(float(shopify_id)) != shopify_id


def test_woocommerce_and_amazon_ids_have_their_channels_formats() -> None:
    woo_id = woo_order()["id"]

    assert isinstance(woo_id, int)
    assert 0 < woo_id < 2**53
    assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", new_amazon_order_id())


def canonical_from_channel(channel: str, lines: list[tuple[str, int]]) -> CanonicalOrder:
    """What the OMS makes of the demo's payload for `lines` on `channel`."""
    if channel == "shopify":
        return shopify.to_canonical(shopify_order(lines))
    if channel == "woocommerce":
        return woocommerce.to_canonical(woo_order("processing", lines))
    order, items = amazon_order(new_amazon_order_id(), lines)
    return amazon.to_canonical(order, items)


@pytest.mark.parametrize("channel", ["shopify", "woocommerce", "amazon"])
def test_each_line_is_the_sku_and_quantity_asked_for_titled_as_its_product(channel: str) -> None:
    order = canonical_from_channel(channel, [("TSHIRT-BLK-M", 1), ("MUG-WHT-11OZ", 3)])

    assert [(line.sku, line.quantity) for line in order.lines] == [("TSHIRT-BLK-M", 1), ("MUG-WHT-11OZ", 3)]
    [shirt, mug] = [line.title or "" for line in order.lines]
    assert "Classic T-Shirt" in shirt
    assert "Black / M" in shirt
    assert "Café Mug" in mug
    assert "White / 11 oz" in mug


def test_the_api_sample_is_the_sku_and_quantity_asked_for_titled_as_its_product() -> None:
    body = json.dumps(sample_order(sku="HOODIE-GRY-L", quantity=2)).encode()

    [line] = standard.parse_canonical_order(body).lines

    assert (line.sku, line.quantity, line.title) == ("HOODIE-GRY-L", 2, "Zip Hoodie - Grey / L")


@pytest.mark.parametrize("channel", ["shopify", "woocommerce", "amazon"])
def test_an_sku_without_a_product_name_is_titled_by_its_sku(channel: str) -> None:
    [line] = canonical_from_channel(channel, [("SOCKS-RED-L", 2)]).lines

    assert (line.sku, line.quantity, line.title) == ("SOCKS-RED-L", 2, "SOCKS-RED-L")


def test_every_sku_the_demo_stocks_has_a_product_name() -> None:
    assert set(demo_skus()) == {sku for sku, _ in STOCK}
    assert set(demo_skus()) <= set(PRODUCTS)
