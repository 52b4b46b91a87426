"""Which warehouse ships an order: the nearest one that can ship all of it."""

from __future__ import annotations

import math
from collections.abc import Iterable

from shared.models.catalog import StockLevel, Warehouse
from shared.models.order import Address, OrderLine

EARTH_RADIUS_KM = 6371.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def can_ship_all(warehouse_id: str, lines: Iterable[OrderLine], stock: dict[str, list[StockLevel]]) -> bool:
    for line in lines:
        level = next((s for s in stock.get(line.sku, []) if s.warehouseId == warehouse_id), None)
        if level is None or level.available < line.quantity:
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
    lines: list[OrderLine],
    address: Address,
    warehouses: list[Warehouse],
    stock: dict[str, list[StockLevel]],
) -> str | None:
    candidates = [w for w in warehouses if can_ship_all(w.warehouseId, lines, stock)]
    if not candidates:
        return None
    return min(candidates, key=lambda w: _preference(w, address)).warehouseId


def shortages(lines: list[OrderLine], stock: dict[str, list[StockLevel]]) -> list[dict[str, object]]:
    """Lines whose SKU lacks the quantity across all warehouses together."""
    short = []
    for line in lines:
        available = sum(level.available for level in stock.get(line.sku, []))
        if available < line.quantity:
            short.append({"sku": line.sku, "requested": line.quantity, "available": available})
    return short
