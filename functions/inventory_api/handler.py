"""Warehouses and stock levels."""

from __future__ import annotations

import re
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
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
from shared.errors import InvalidRequest, NotFound
from shared.logic import inventory as stock_logic
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
from shared.models.inventory import (
    IDEMPOTENCY_KEY_PATTERN,
    MAX_BUCKETS,
    MAX_COUNTS_PER_REQUEST,
    AdjustmentIn,
    AdjustmentResult,
    CountsIn,
    CountsResult,
    InventoryBySku,
    LedgerPage,
    SkuSettings,
    SkuSettingsIn,
)
from shared.models.order import Sku

MAX_SKUS_PER_READ = stock_logic.MAX_SKUS_PER_READ
SKU_PATTERN = re.compile(r"[^#\s]{1,64}")
# Each comma-separated part is a SKU, blanks around it allowed; how many distinct SKUs is a rule
# beyond the pattern (duplicates are read once).
SKUS_QUERY_PATTERN = r"^\s*[^#\s,]{1,64}\s*(,\s*[^#\s,]{1,64}\s*)*$"
router = APIGatewayRouter()
API_ACTOR = "api"
IMPORT_ACTOR = "api:counts"

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
    return stock_logic.count_stock(sku, warehouseId, stock.onHand, stock.safetyStock, API_ACTOR)


@router.put(
    "/inventory/<sku>/settings",
    summary="Settings of a SKU: how many items its stock is spread over (hot SKUs), its low-stock threshold",
    description=f"`buckets` (1 to {MAX_BUCKETS}): each location's stock is spread over that many "
    "DynamoDB items, each taking its own share of reservations, so a flash-sale SKU goes past one "
    "item's write limit. Every location is rebalanced now; reads and the ledger stay exact. "
    "`lowStockThreshold` (default 0: none): when the SKU's available units fall to it, inventory.low is "
    "published. Each PUT replaces both (an omitted threshold is 0).",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def put_settings(sku: SkuPath, settings: SkuSettingsIn) -> SkuSettings:
    return stock_logic.set_settings(sku, settings, API_ACTOR)


@router.post(
    "/stock-counts",
    summary="Set the counted stock of many locations at once (an import)",
    description=f"Up to {MAX_COUNTS_PER_REQUEST} absolute counts, each applied in its own transaction "
    "with a ledger entry (kind IMPORT, reason CYCLE_COUNT, your `reference`). A row the OMS refuses "
    "(an unknown warehouse, onHand below what is reserved) is REFUSED with its error and the others "
    "are applied; a row that changes nothing is UNCHANGED, so a repeated request is harmless. "
    "`python -m cli import-stock FILE.csv` sends a CSV file through this.",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def post_counts(counts: CountsIn) -> CountsResult:
    return stock_logic.count_many(counts, IMPORT_ACTOR)


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Your unique id for this adjustment (e.g. a UUID): a retry with the same key is "
        "applied once and answered with the first answer; the same key with another body is 409",
    ),
]


@router.post(
    "/inventory/<sku>/locations/<warehouseId>/adjustments",
    summary="Add or remove stock of a SKU in a warehouse, with a reason",
    description="Received goods, a count's difference, damage or a correction. Applied once per "
    "`Idempotency-Key` (kept 7 days): 201 when applied, 200 with `Idempotent-Replayed: true` for a "
    "repeat. Taking onHand below what is reserved is 409. The ledger entries written are returned.",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def adjust_stock(
    sku: SkuPath, warehouseId: WarehouseId, adjustment: AdjustmentIn, idempotency_key: IdempotencyKey
) -> Response[AdjustmentResult]:
    result, applied = stock_logic.adjust_once(
        sku, warehouseId, idempotency_key, adjustment, actor=API_ACTOR, lambda_context=router.lambda_context
    )
    return Response(
        status_code=201 if applied else 200,
        content_type=content_types.APPLICATION_JSON,
        body=result,
        headers={} if applied else {"Idempotent-Replayed": "true"},
    )


SkusQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_SKUS_PER_READ * 65,
        pattern=SKUS_QUERY_PATTERN,
        description=f"Comma-separated SKUs (at most {MAX_SKUS_PER_READ}): their stock per warehouse and "
        "available to promise, instead of the list",
    ),
]


def _skus_of(text: str) -> list[str]:
    skus = list(dict.fromkeys(part.strip() for part in text.split(",")))
    if len(skus) > MAX_SKUS_PER_READ:
        raise InvalidRequest(f"at most {MAX_SKUS_PER_READ} SKUs at once", {"field": "skus"})
    for sku in skus:
        if not SKU_PATTERN.fullmatch(sku):
            raise InvalidRequest(f"{sku!r} is not a SKU (1-64 characters, no spaces or #)", {"field": "skus"})
    return skus


LedgerWarehouse = Annotated[
    Identifier | None, Query(description="Only this warehouse's entries; all warehouses' if omitted")
]


@router.get(
    "/inventory/<sku>/ledger",
    summary="Every change of a SKU's stock, newest first",
    description="One entry per change of a stock bucket (a location has one bucket unless its SKU is "
    "hot): who or what, why, the order or reference, the deltas and the figures after. Summing a "
    "location's `onHandDelta` and `reservedDelta` gives its onHand and reserved.",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def get_ledger(
    sku: SkuPath,
    warehouseId: LedgerWarehouse = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> LedgerPage:
    return stock_logic.ledger_page(sku, warehouseId, limit, cursor)


@router.get(
    "/inventory",
    summary="Stock per SKU and warehouse, or of the SKUs asked for",
    description="Without `skus`: every location, in no particular order; every page but the last is "
    "full, and `nextCursor` is null on the last. With `skus`: those SKUs' stock (as `GET "
    "/inventory/{sku}`), in the order asked, and the ones stocked nowhere under `unknown`.",
    tags=["Inventory"],
    security=API_KEY_REQUIRED,
)
def list_stock(
    skus: SkusQuery = None, limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None
) -> InventoryList | InventoryBySku:
    if skus is not None:
        return stock_logic.views_of(_skus_of(skus))
    levels, next_cursor = inventory.list_stock(limit, cursor)
    return InventoryList(inventory=levels, nextCursor=next_cursor)


@router.get(
    "/inventory/<sku>", summary="Stock of a SKU per warehouse", tags=["Inventory"], security=API_KEY_REQUIRED
)
def get_stock(sku: SkuPath) -> InventoryView:
    view = stock_logic.view_of(sku)
    if view is None:
        raise NotFound(f"SKU {sku} is not stocked anywhere")
    return view


app = create_resolver(router)
lambda_handler = api_handler(app)
