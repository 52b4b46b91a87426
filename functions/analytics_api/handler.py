"""Order analytics, read from the daily aggregates (never from the orders): a period's summary, a
metric's timeseries, a CSV export, and the top warehouses of a region."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import API_KEY_REQUIRED, api_handler, create_resolver
from shared.logic import aggregation
from shared.models.analytics import AnalyticsSummary, MetricList, RegionWarehouses, Timeseries
from shared.models.catalog import Identifier

router = APIGatewayRouter()
TAGS = ["Analytics"]
PERIOD = (
    "Figures are about the orders placed (received) from `from` to `to`, both included, UTC days; by default "
    "the 30 days up to today. Read from daily aggregates: one DynamoDB Query per scope, whatever the order "
    "volume (`readCost` says what was read)."
)

DAY = r"^\d{4}-\d{2}-\d{2}$"
From = Annotated[str | None, Query(alias="from", pattern=DAY, description="First day, YYYY-MM-DD (UTC)")]
To = Annotated[str | None, Query(pattern=DAY, description="Last day, YYYY-MM-DD (UTC), included")]
ChannelId = Annotated[Identifier | None, Query(description="Only this channel's orders")]
WarehouseId = Annotated[Identifier | None, Query(description="Only orders (and shipments) of this warehouse")]


@router.get(
    "/analytics/summary",
    summary="A period's figures: orders, statuses, revenue, lead times, splits, backorders, cancellations, "
    "returns, refunds",
    description=PERIOD,
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def get_summary(
    from_: From = None, to: To = None, channelId: ChannelId = None, warehouseId: WarehouseId = None
) -> AnalyticsSummary:
    body = aggregation.summary(aggregation.period(from_, to), channelId, warehouseId)
    return AnalyticsSummary.model_validate(body)


@router.get(
    "/analytics/metrics",
    summary="The metrics a timeseries can show (the summary's figures, by their dotted path)",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def list_metrics() -> MetricList:
    return MetricList(metrics=aggregation.metric_names(), patterns=aggregation.METRIC_PATTERNS)


@router.get(
    "/analytics/timeseries",
    summary="One metric per day or week, optionally per channel",
    description=PERIOD + " `by=channel` adds a series per channel (one more Query per channel).",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def get_timeseries(
    *,
    metric: Annotated[str, Query(min_length=1, max_length=128, description="See GET /analytics/metrics")],
    interval: Annotated[Literal["day", "week"], Query(description="week: ISO weeks, from Monday")] = "day",
    from_: From = None,
    to: To = None,
    channelId: ChannelId = None,
    warehouseId: WarehouseId = None,
    by: Annotated[Literal["channel"] | None, Query(description="A series per channel too")] = None,
) -> Timeseries:
    asked = aggregation.period(from_, to)
    body = aggregation.timeseries(
        asked, metric, interval=interval, channel_id=channelId, warehouse_id=warehouseId, by=by
    )
    return Timeseries.model_validate(body)


@router.get(
    "/analytics/export",
    summary="The period as CSV: a row per day, a column per metric",
    description=PERIOD,
    tags=TAGS,
    security=API_KEY_REQUIRED,
    responses={200: {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export(
    from_: From = None, to: To = None, channelId: ChannelId = None, warehouseId: WarehouseId = None
) -> Response[str]:
    asked = aggregation.period(from_, to)
    filename = f"oms-analytics-{asked.first.isoformat()}-{asked.last.isoformat()}.csv"
    return Response(
        status_code=200,
        content_type="text/csv; charset=utf-8",
        body=aggregation.export(asked, channelId, warehouseId),
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/analytics/warehouses",
    summary="Top warehouses by location: who ships a region's orders, how far, how fast, how often not",
    description=PERIOD + " The region is a `country` (ISO 3166 alpha-2), or a point and `radiusKm` (up to "
    "1000): the orders to the 1-degree map cells the circle touches.",
    tags=TAGS,
    security=API_KEY_REQUIRED,
)
def get_region(
    *,
    from_: From = None,
    to: To = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$", description="e.g. US")] = None,
    latitude: Annotated[float | None, Query(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radiusKm: Annotated[float | None, Query(gt=0, le=1000)] = None,
) -> RegionWarehouses:
    asked = aggregation.period(from_, to)
    body = aggregation.region(asked, country, latitude, longitude, radiusKm)
    return RegionWarehouses.model_validate(body)


app = create_resolver(router)
lambda_handler = api_handler(app)
