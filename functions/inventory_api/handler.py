"""Warehouses and stock levels."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import (
    API_KEY_REQUIRED,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageCursor,
    PageLimit,
    api_handler,
    create_resolver,
)
from shared.dal import inventory
from shared.errors import NotFound
from shared.logic import warehouses as finder
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


NearQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Rank from this point: `latitude,longitude` in decimal degrees, e.g. `40.71,-74.01`",
    ),
]
PostalCodeQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=32,
        description="Rank from this postal code's centre, with `country`. US ZIP codes only "
        "(`12345` or `12345-6789`; also PR, VI, GU, AS, MP, FM, MH, PW): elsewhere give `city`",
    ),
]
CityQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=256,
        description="Rank from this city's centre, with `country` (and `region`). Any name GeoNames "
        "knows it by, case and accents aside; cities of 15,000 people or more, and US places with a "
        "ZIP code",
    ),
]
RegionQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        description="With `city`: picks among cities of the same name (US: the state, `IL` or "
        "`Illinois`; elsewhere the GeoNames admin1 code); else the most populous is used",
    ),
]
CountryQuery = Annotated[
    str | None,
    Query(pattern=r"^[A-Z]{2}$", description="With `postalCode` or `city`: their ISO 3166-1 country"),
]
FinderLimit = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"At most this many warehouses: {finder.DEFAULT_RANKING_SIZE} unless given when "
        f"ranking, all of them otherwise; at most {MAX_PAGE_SIZE}",
    ),
]


@router.get(
    "/warehouses",
    summary="All warehouses, or the nearest to a place first",
    description="Without `near`, `postalCode` or `city`: every warehouse by id. With one of them: "
    "the warehouses nearest to it first (great-circle distance), each with `distanceKm`, and the "
    "`origin` ranked from. Places are geocoded offline (US ZIP codes; cities worldwide); one that "
    "is not found, two kinds of place at once, or a malformed one is 400 naming the parameter.",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def list_warehouses(
    *,
    near: NearQuery = None,
    postalCode: PostalCodeQuery = None,
    city: CityQuery = None,
    region: RegionQuery = None,
    country: CountryQuery = None,
    limit: FinderLimit = None,
) -> WarehouseList:
    origin = finder.origin_of(near=near, postal_code=postalCode, city=city, region=region, country=country)
    return finder.find(inventory.list_warehouses(), origin, limit)


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
