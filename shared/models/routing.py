"""What the routing API takes and answers: a plan for one order now (`POST /sourcing/plan`), and a
re-planning of a channel's orders under proposed rules (`POST /sourcing/simulations`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, field_validator, model_validator

from shared.models.base import Model
from shared.models.catalog import Identifier, SourcingRules
from shared.models.geo import Location
from shared.models.order import CanonicalOrder
from shared.models.sourcing import Destination, SourcingPlan, UnplannableReason

MAX_SIMULATED_ORDERS = 500
MAX_WINDOW_DAYS = 92
FIRST_YEAR, LAST_YEAR = 2000, 2099


class PlanRequest(Model):
    """Either a stored order (`orderId`) or an order as a channel would send it (`order`, with the
    `channelId` whose rules apply; without one, the default rules)."""

    model_config = ConfigDict(extra="forbid")
    orderId: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    order: CanonicalOrder | None = None
    channelId: Identifier | None = None
    sourcing: SourcingRules | None = Field(
        default=None, description="Rules to plan with instead of the channel's (to try a change)"
    )

    @model_validator(mode="after")
    def _one_order(self) -> PlanRequest:
        if (self.orderId is None) == (self.order is None):
            raise ValueError("give either orderId or order")
        if self.orderId is not None and self.channelId is not None:
            raise ValueError("channelId goes with order; a stored order's channel is its own")
        return self


class PlanResponse(Model):
    orderId: str | None = None
    channelId: str | None = None
    rules: SourcingRules
    destination: Destination
    location: Location | None = Field(
        default=None, description="Where the address was located, when it came without coordinates"
    )
    plan: SourcingPlan | None = Field(
        default=None, description="The plan the order would get now; null if none"
    )
    problems: list[UnplannableReason] = Field(default=[], description="Why no plan fits (plan is null)")


class SimulationRequest(Model):
    model_config = ConfigDict(extra="forbid")
    channelId: Identifier
    createdFrom: AwareDatetime = Field(description="Simulate the orders created at or after this instant")
    createdBefore: AwareDatetime = Field(description="... and before this one")
    proposed: SourcingRules = Field(description="The rules to compare with the channel's current ones")

    @field_validator("createdFrom", "createdBefore")
    @classmethod
    def _in_this_era(cls, moment: datetime) -> datetime:
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:  # before converting: year 1 at +14:00 overflows
            raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
        return moment

    @model_validator(mode="after")
    def _a_window(self) -> SimulationRequest:
        if self.createdBefore <= self.createdFrom:
            raise ValueError("createdBefore must be after createdFrom")
        if (self.createdBefore - self.createdFrom).days >= MAX_WINDOW_DAYS:
            raise ValueError(f"a window spans at most {MAX_WINDOW_DAYS} days")
        return self


class UnplannedOrder(Model):
    orderId: str
    codes: list[str]


class SimulationFigures(Model):
    rules: SourcingRules
    planned: int = Field(description="Orders a plan was found for")
    unplannable: int = Field(description="Orders no plan fits under these rules")
    shipmentsPerOrder: float | None = Field(description="Mean shipments per planned order")
    splitRate: float | None = Field(description="Share of planned orders shipped in more than one part")
    meanDistanceKm: float | None = Field(description="Mean distance of a shipment to its address")
    p90DistanceKm: float | None = Field(description="90th percentile of that distance (nearest rank)")
    unplannableOrders: list[UnplannedOrder] = Field(description="The first 20, with their reasons' codes")


class SimulationResponse(Model):
    channelId: str
    createdFrom: datetime
    createdBefore: datetime
    orders: int = Field(description="Orders of the channel created in the window and simulated")
    skipped: int = Field(description="Orders in the window with nothing to plan (rejected at intake)")
    current: SimulationFigures
    proposed: SimulationFigures
    assumptions: list[str]
