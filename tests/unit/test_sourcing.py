import pytest

from shared.logic.sourcing import choose_warehouse, distance_km, shortages
from shared.models.catalog import StockLevel, Warehouse
from shared.models.order import Address

EAST = Warehouse(
    warehouseId="wh-east", name="Newark", latitude=40.73, longitude=-74.17, country="US", updatedAt="t"
)
WEST = Warehouse(
    warehouseId="wh-west", name="Reno", latitude=39.53, longitude=-119.81, country="US", updatedAt="t"
)
BOSTON = Address(name="A", line1="1 Main", city="Boston", country="US", latitude=42.36, longitude=-71.06)
NO_COORDINATES = Address(name="A", line1="1 Main", city="Boston", country="US")


def lines(**quantities: int) -> dict[str, int]:
    """Units wanted per SKU, as sourcing sees an order."""
    return dict(quantities)


def test_distance_between_new_york_and_los_angeles_is_about_3940_km():
    assert distance_km(40.7128, -74.0060, 34.0522, -118.2437) == pytest.approx(3936, rel=0.01)


def level(sku: str, warehouse_id: str, available: int) -> StockLevel:
    return StockLevel(sku=sku, warehouseId=warehouse_id, onHand=available, reserved=0, available=available)


def test_the_nearest_warehouse_that_can_ship_everything_wins():
    levels = {"A": [level("A", "wh-west", 5), level("A", "wh-east", 5)]}
    assert choose_warehouse(lines(A=2), BOSTON, [WEST, EAST], levels) == "wh-east"


def test_a_farther_warehouse_is_chosen_when_the_nearest_lacks_a_line():
    levels = {
        "A": [
            StockLevel(sku="A", warehouseId="wh-east", onHand=1, reserved=0, available=1),
            StockLevel(sku="A", warehouseId="wh-west", onHand=9, reserved=0, available=9),
        ],
    }
    assert choose_warehouse(lines(A=2), BOSTON, [EAST, WEST], levels) == "wh-west"


def test_no_warehouse_when_none_holds_every_line():
    levels = {
        "A": [StockLevel(sku="A", warehouseId="wh-east", onHand=5, reserved=0, available=5)],
        "B": [StockLevel(sku="B", warehouseId="wh-west", onHand=5, reserved=0, available=5)],
    }
    assert choose_warehouse(lines(A=1, B=1), BOSTON, [EAST, WEST], levels) is None
    assert shortages(lines(A=1, B=1), levels) == []


def test_without_coordinates_the_choice_is_stable():
    levels = {
        "A": [
            StockLevel(sku="A", warehouseId=w, onHand=5, reserved=0, available=5)
            for w in ("wh-west", "wh-east")
        ]
    }
    assert choose_warehouse(lines(A=1), NO_COORDINATES, [WEST, EAST], levels) == "wh-east"


def test_shortages_name_each_short_sku_with_what_is_available():
    levels = {"A": [StockLevel(sku="A", warehouseId="wh-east", onHand=3, reserved=1, available=2)]}
    assert shortages(lines(A=5, B=1), levels) == [
        {"sku": "A", "requested": 5, "available": 2},
        {"sku": "B", "requested": 1, "available": 0},
    ]
