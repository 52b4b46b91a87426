"""POST /sourcing/plan and POST /sourcing/simulations: routing decisions, without reserving."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from shared.api import API_KEY_REQUIRED, api_handler, create_resolver
from shared.logic import routing
from shared.models.routing import PlanRequest, PlanResponse, SimulationRequest, SimulationResponse

router = APIGatewayRouter()


@router.post(
    "/sourcing/plan",
    summary="The plan an order would get now",
    description="Give a stored order (`orderId`) or an order as a channel sends it (`order`, with the "
    "`channelId` whose rules apply). Nothing is reserved. `sourcing` tries other rules. A stored "
    "order's own reservations count as available.",
    tags=["Sourcing"],
    security=API_KEY_REQUIRED,
)
def plan(request: PlanRequest) -> PlanResponse:
    return routing.plan_now(request)


@router.post(
    "/sourcing/simulations",
    summary="Re-plan a channel's orders under proposed rules",
    description="Re-plans the channel's orders created in the window (at most 500; from the channel's "
    "order index, never a scan) under its current rules and the proposed ones, and reports both: "
    "shipments per order, split rate, mean and p90 distance, orders that could not be planned.",
    tags=["Sourcing"],
    security=API_KEY_REQUIRED,
)
def simulate(request: SimulationRequest) -> SimulationResponse:
    return routing.simulate(request)


app = create_resolver(router)
lambda_handler = api_handler(app)
