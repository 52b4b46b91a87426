"""Addresses without coordinates (WooCommerce sends none) are geocoded offline at validation, so
sourcing goes by distance for every channel; what cannot be located is recorded on the order."""

from __future__ import annotations

from tests.support.orders import BOSTON, Client, canonical_order

RENO_WITHOUT_COORDINATES = {
    "name": "Grace Hopper",
    "line1": "1 Virginia St",
    "city": "Reno",
    "region": "NV",
    "postalCode": "89501",
    "country": "US",
}


def test_an_address_without_coordinates_is_located_by_its_postal_code_and_sourced_by_distance(
    client: Client,
) -> None:
    # Both warehouses hold MUG-BLUE; only distance (Reno, not Newark) makes wh-west the choice.
    order_id = client.place(canonical_order([("MUG-BLUE", 1)], shippingAddress=RENO_WITHOUT_COORDINATES))

    order = client.wait_for_status(order_id, "FULFILLING")

    assert order["location"]["source"] == "postalCode"
    assert abs(order["location"]["latitude"] - 39.53) < 0.2
    assert "latitude" not in order["shippingAddress"] or order["shippingAddress"]["latitude"] is None
    assert [f["warehouseId"] for f in order["fulfillments"]] == ["wh-west"]
    assert order["sourcing"]["usedFallback"] is False
    assert order["sourcing"]["shipments"][0]["distanceKm"] < 20


def test_an_address_with_coordinates_is_not_geocoded(client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 1)]))

    order = client.wait_for_status(order_id, "FULFILLING")

    assert order.get("location") is None
    assert order["shippingAddress"]["latitude"] == BOSTON["latitude"]


def test_an_address_that_cannot_be_located_is_recorded_and_sourced_by_country(client: Client) -> None:
    nowhere = RENO_WITHOUT_COORDINATES | {"city": "Nowhereville", "postalCode": "00000", "region": None}
    order_id = client.place(canonical_order([("MUG-BLUE", 1)], shippingAddress=nowhere))

    order = client.wait_for_status(order_id, "FULFILLING")

    problem = order["location"]["problem"]
    assert "postalCode 00000 not found in US" in problem
    assert "city Nowhereville not found in US" in problem
    assert order["sourcing"]["usedFallback"] is True
    assert order["sourcing"]["decidedBy"] == "WAREHOUSE_ID"  # both in the US: the smaller id
    assert [f["warehouseId"] for f in order["fulfillments"]] == ["wh-east"]
