"""What the analytics API answers (the figures are computed in shared/logic/analytics.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

Money = dict[str, str]
Rate = Annotated[float | None, Field(description="A fraction (0.25 is 25%); null when nothing to divide by")]
Seconds = float | None


class ReadCost(BaseModel):
    queries: int = Field(description="DynamoDB Query calls made (one per scope per MB of aggregates)")
    items: int = Field(
        description="Aggregate items read: one per scope and day with orders, whatever the volume"
    )


class LeadTime(BaseModel):
    count: int = Field(description="Orders (or shipments) whose stage has ended")
    p50Seconds: Seconds = Field(description="Median, within 2% (a log-bucket histogram)")
    p90Seconds: Seconds = Field(description="90th percentile, within 2%")
    meanSeconds: Seconds


class LeadTimes(BaseModel):
    placedToReserved: LeadTime = Field(description="Per order: received until first reserved")
    reservedToShipped: LeadTime = Field(
        description="Per shipment: the order reserved until the shipment shipped"
    )
    shippedToDelivered: LeadTime = Field(description="Per shipment: shipped until delivered")
    placedToDelivered: LeadTime = Field(description="Per delivered order: received until its last delivery")


class Shipments(BaseModel):
    ordersPlanned: int = Field(description="Orders with at least one shipment")
    shipments: int
    splitOrders: int = Field(description="Orders shipped from more than one warehouse")
    shipmentsPerOrder: Rate
    meanDistanceKm: float | None
    byStatus: dict[str, int] = Field(description="Shipments by their status now")


class Backorders(BaseModel):
    orders: int = Field(description="Orders that were backordered at some point")
    rate: Rate
    filled: int
    expired: int
    meanWaitSeconds: Seconds = Field(description="Of the filled ones: backordered until reserved")


class Cancellations(BaseModel):
    orders: int
    rate: Rate
    reasons: dict[str, int] = Field(description="By reason (the text before its first colon)")


class SkuReturns(BaseModel):
    sku: str
    unitsSold: int
    unitsReturned: int
    rate: Rate


class Returns(BaseModel):
    returns: int
    units: int
    rate: Rate = Field(description="Units returned per unit ordered")
    bySku: list[SkuReturns] = Field(description="Most returned first")
    byReason: dict[str, int] = Field(description="Units by the customer's reason (lower case)")


class ChannelFigures(BaseModel):
    ordersPlaced: int
    revenue: Money
    refunds: Money


class WarehouseFigures(BaseModel):
    shipments: int


class Figures(BaseModel):
    ordersPlaced: int
    byStatus: dict[str, int] = Field(description="Those orders by their status now")
    units: int
    revenue: Money = Field(description="Order totals by currency (not split by warehouse)")
    leadTimes: LeadTimes
    shipments: Shipments
    backorders: Backorders
    cancellations: Cancellations
    returns: Returns
    refunds: Money = Field(description="Refunds made (SUCCEEDED or MANUAL) by currency")
    carrierFlagged: int = Field(description="Orders a carrier flagged (return to sender, failure)")
    byChannel: dict[str, ChannelFigures] = Field(description="Per channel (without channelId or warehouseId)")
    byWarehouse: dict[str, WarehouseFigures] = Field(
        description="Shipments per warehouse (without warehouseId)"
    )


class AnalyticsSummary(Figures):
    from_: str = Field(alias="from")
    to: str
    channelId: str | None
    warehouseId: str | None
    readCost: ReadCost


class Point(BaseModel):
    date: str = Field(description="The interval's first day")
    value: float | int | str | None


class Timeseries(BaseModel):
    metric: str
    interval: Literal["day", "week"]
    from_: str = Field(alias="from")
    to: str
    channelId: str | None
    warehouseId: str | None
    points: list[Point]
    byChannel: dict[str, list[Point]] | None = Field(default=None, description="With by=channel")
    readCost: ReadCost


class MetricList(BaseModel):
    metrics: list[str] = Field(description="Every period has these")
    patterns: list[str] = Field(description="And these, for the keys a period has (a currency, a channel...)")


class RegionWarehouse(BaseModel):
    warehouseId: str
    shipments: int
    shareOfOrders: Rate
    meanDistanceKm: float | None
    meanDaysToDelivery: float | None = Field(
        description="Order received until delivered, of delivered shipments"
    )
    couldNot: int = Field(
        description="Orders sourcing could not ship from it (no stock, not enough, at capacity)"
    )
    couldNotRate: Rate


class RegionWarehouses(BaseModel):
    from_: str = Field(alias="from")
    to: str
    region: dict[str, str | float | int]
    orders: int = Field(description="Orders to the region with a sourcing plan")
    warehouses: list[RegionWarehouse] = Field(description="Most shipments first")
    readCost: ReadCost
