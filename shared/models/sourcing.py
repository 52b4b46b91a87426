"""Sourcing plans: which warehouses ship an order, and why (see shared/logic/sourcing.py).

A plan is stored on the order and returned by the API, so everything here is plain JSON: strings,
ints, lists and floats rounded to 0.1 km.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import ConfigDict, Field, model_validator

from shared.models.base import Model
from shared.models.catalog import CountryCode, FulfillmentLine, Latitude, Longitude, SourcingRules
from shared.models.limits import (
    ACTIONS_PER_PAIR,
    ACTIONS_PER_SHIPMENT,
    DEFAULT_MAX_SHIPMENTS,
    MAX_SHIPMENTS_LIMIT,
    ORDER_ACTIONS,
    TRANSACTION_ACTIONS_LIMIT,
)

if TYPE_CHECKING:  # order.py imports this module
    from shared.models.order import Address

__all__ = [
    "ACTIONS_PER_PAIR",
    "ACTIONS_PER_SHIPMENT",
    "DEFAULT_MAX_SHIPMENTS",
    "MAX_SHIPMENTS_LIMIT",
    "ORDER_ACTIONS",
    "TRANSACTION_ACTIONS_LIMIT",
    "SourcingRules",
]


class Destination(Model):
    """Where the order goes, as sourcing sees it. Coordinates count only as a pair."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    country: CountryCode
    latitude: Latitude | None = None
    longitude: Longitude | None = None

    @classmethod
    def of(cls, address: Address) -> Destination:
        return cls(country=address.country, latitude=address.latitude, longitude=address.longitude)

    def coordinates(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


class WarehouseLoad(Model):
    """Orders a warehouse took today against its daily capacity."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ordersToday: Annotated[int, Field(ge=0)]
    dailyCapacity: Annotated[int, Field(ge=0)]

    @property
    def at_capacity(self) -> bool:
        return self.ordersToday >= self.dailyCapacity

    def describe(self) -> str:
        return f"{self.ordersToday:,} of {self.dailyCapacity:,} orders today"


class DecidedBy(StrEnum):
    """Which rule separated the chosen plan from the best alternative (`considered[0]`)."""

    ONLY_OPTION = "ONLY_OPTION"  # no other plan within the channel's rules
    FEWEST_SHIPMENTS = "FEWEST_SHIPMENTS"  # every alternative needs more shipments
    NEAREST = "NEAREST"  # as many shipments, less total distance
    SAME_COUNTRY = "SAME_COUNTRY"  # no coordinates: fewer shipments from outside the destination's country
    WAREHOUSE_ID = "WAREHOUSE_ID"  # alternatives equal on every rule: the smaller warehouse ids
    CAPACITY = "CAPACITY"  # a better plan exists but uses a warehouse at its daily capacity
    GREEDY = "GREEDY"  # the search budget ran out; not proven the best (see plan_shipments)


class PlannedShipment(Model):
    warehouseId: str
    lines: list[FulfillmentLine]
    distanceKm: float | None = Field(
        default=None, description="Great-circle km to the destination; null without coordinates"
    )


class ConsideredPlan(Model):
    """An alternative the planner evaluated and did not choose."""

    warehouseIds: list[str]
    shipments: int
    totalDistanceKm: float | None = None
    atCapacity: list[str] = Field(default=[], description="Its warehouses at their daily capacity")


class RejectionCode(StrEnum):
    NOT_ALLOWED = "NOT_ALLOWED"  # not allowed for the order's channel
    NO_STOCK = "NO_STOCK"  # holds none of the order's SKUs
    AT_CAPACITY = "AT_CAPACITY"  # at its daily capacity, and a plan without it exists
    NOT_ENOUGH_STOCK = "NOT_ENOUGH_STOCK"  # cannot ship the order alone, and no chosen split needed it


class RejectedWarehouse(Model):
    warehouseId: str
    reason: RejectionCode
    message: str


MAX_CONSIDERED = 5


class SourcingPlan(Model):
    shipments: Annotated[list[PlannedShipment], Field(min_length=1)]
    decidedBy: DecidedBy
    explanation: str
    considered: Annotated[list[ConsideredPlan], Field(max_length=MAX_CONSIDERED)] = []
    rejected: list[RejectedWarehouse] = []
    usedFallback: bool = Field(
        description="The destination had no coordinates: same-country warehouses first, then by id"
    )

    @model_validator(mode="after")
    def _one_shipment_per_warehouse(self) -> SourcingPlan:
        ids = [s.warehouseId for s in self.shipments]
        if len(ids) != len(set(ids)):
            raise ValueError("a warehouse appears in two shipments")
        return self


class UnplannableCode(StrEnum):
    NO_WAREHOUSE = "NO_WAREHOUSE"  # no warehouse configured, or none allowed for the channel
    SHORTAGE = "SHORTAGE"  # one per SKU: not enough across the allowed warehouses together
    TOO_MANY_SHIPMENTS = "TOO_MANY_SHIPMENTS"  # the stock is there, but only in more warehouses than allowed
    TOO_LARGE = "TOO_LARGE"  # every plan within the rules exceeds one DynamoDB transaction
    SEARCH_LIMIT = "SEARCH_LIMIT"  # the search budget ran out and the greedy choice found no plan


Detail = int | float | str | list[str] | None


class UnplannableReason(Model):
    code: UnplannableCode
    message: str
    details: dict[str, Detail] = {}


class Unplannable(Model):
    reasons: Annotated[list[UnplannableReason], Field(min_length=1)]
    rejected: list[RejectedWarehouse] = []
