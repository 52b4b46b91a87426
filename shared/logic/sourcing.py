"""Which warehouse ships an order: the nearest one that can ship all of it."""

from __future__ import annotations

import math

from shared.models.catalog import StockLevel, Warehouse
from shared.models.order import Address

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def can_ship_all(warehouse_id: str, units: dict[str, int], stock: dict[str, list[StockLevel]]) -> bool:
    for sku, quantity in units.items():
        level = next((s for s in stock.get(sku, []) if s.warehouseId == warehouse_id), None)
        if level is None or level.available < quantity:
            return False
    return True


def _preference(warehouse: Warehouse, address: Address) -> tuple[float, int, str]:
    """Sort key: distance when the address has coordinates, then same country first, then id."""
    distance = (
        distance_km(address.latitude, address.longitude, warehouse.latitude, warehouse.longitude)
        if address.latitude is not None and address.longitude is not None
        else 0.0
    )
    return (distance, 0 if warehouse.country == address.country else 1, warehouse.warehouseId)


def choose_warehouse(
    units: dict[str, int],
    address: Address,
    warehouses: list[Warehouse],
    stock: dict[str, list[StockLevel]],
) -> str | None:
    candidates = [w for w in warehouses if can_ship_all(w.warehouseId, units, stock)]
    if not candidates:
        return None
    return min(candidates, key=lambda w: _preference(w, address)).warehouseId


def shortages(units: dict[str, int], stock: dict[str, list[StockLevel]]) -> list[dict[str, object]]:
    """Lines whose SKU lacks the quantity across all warehouses together."""
    short = []
    for sku, quantity in units.items():
        available = sum(level.available for level in stock.get(sku, []))
        if available < quantity:
            short.append({"sku": sku, "requested": quantity, "available": available})
    return short
