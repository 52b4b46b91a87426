"""Warehouses and stock levels."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import (
    API_KEY_REQUIRED,
    DEFAULT_PAGE_SIZE,
    PageCursor,
    PageLimit,
    api_handler,
    create_resolver,
)
from shared.dal import inventory
from shared.errors import NotFound
from shared.models.catalog import (
    Identifier,
    InventoryList,
    InventoryView,
    StockIn,
    StockLevel,
    Warehouse,
    WarehouseIn,
    WarehouseList,
)
from shared.models.order import Sku

router = APIGatewayRouter()

WarehouseId = Annotated[Identifier, Path(description="The warehouse's id, chosen by the retailer")]
SkuPath = Annotated[Sku, Path(description="Stock keeping unit")]


@router.put(
    "/warehouses/<warehouseId>",
    summary="Create or update a warehouse",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def put_warehouse(warehouseId: WarehouseId, warehouse: WarehouseIn) -> Response[Warehouse]:
    stored, created = inventory.put_warehouse(warehouseId, warehouse)
    return Response(
        status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=stored
    )


@router.get("/warehouses", summary="All warehouses", tags=["Inventory"], security=API_KEY_REQUIRED)
def list_warehouses() -> WarehouseList:
    return WarehouseList(warehouses=sorted(inventory.list_warehouses(), key=lambda w: w.warehouseId))


@router.put(
    "/inventory/<sku>/locations/<warehouseId>",
    summary="Set the counted stock of a SKU in a warehouse",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def put_stock(sku: SkuPath, warehouseId: WarehouseId, stock: StockIn) -> StockLevel:
    return inventory.set_on_hand(sku, warehouseId, stock.onHand)


@router.get(
    "/inventory",
    summary="Stock per SKU and warehouse",
    description="In no particular order; every page but the last is full, and `nextCursor` is null "
    "on the last.",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def list_stock(limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> InventoryList:
    levels, next_cursor = inventory.list_stock(limit, cursor)
    return InventoryList(inventory=levels, nextCursor=next_cursor)


@router.get(
    "/inventory/<sku>", summary="Stock of a SKU per warehouse", tags=["Inventory"], security=API_KEY_REQUIRED
)
def get_stock(sku: SkuPath) -> InventoryView:
    levels = sorted(inventory.stock_of(sku), key=lambda level: level.warehouseId)
    if not levels:
        raise NotFound(f"SKU {sku} is not stocked anywhere")
    return InventoryView(
        sku=sku,
        onHand=sum(level.onHand for level in levels),
        reserved=sum(level.reserved for level in levels),
        available=sum(level.available for level in levels),
        locations=levels,
    )


app = create_resolver(router)
lambda_handler = api_handler(app)
