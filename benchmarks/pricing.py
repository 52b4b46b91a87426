"""AWS list prices (us-east-1, on-demand, no free tier) and the cost of 1,000 orders.

The prices are constants, not looked up: they are the public list prices as published in 2025
(DynamoDB on-demand after its November 2024 price cut; Lambda on arm64, which `infra/` deploys).
Re-check them on the pages below before quoting any figure.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.usage import PerOrder

PRICES_AS_OF = (
    "list prices as published on the pages below in 2025, written down on 2026-11-26 without a live "
    "check: re-check them before quoting any figure"
)
REGION = "us-east-1"
ORDERS_PRICED = 1_000


@dataclass(frozen=True)
class Price:
    usd: float
    per: int  # how many units `usd` buys
    unit: str
    source: str
    counted: str  # what a unit is, short, e.g. "transitions"

    def cost(self, units: float) -> float:
        return units * self.usd / self.per


STATE_TRANSITION = Price(
    0.025,
    1_000,
    "Step Functions Standard state transition",
    "https://aws.amazon.com/step-functions/pricing/",
    "transitions",
)
LAMBDA_REQUEST = Price(
    0.20, 1_000_000, "Lambda request", "https://aws.amazon.com/lambda/pricing/", "requests"
)
LAMBDA_GB_SECOND = Price(
    0.0000133334,
    1,
    "Lambda duration (arm64, first 7.5 billion GB-seconds a month)",
    "https://aws.amazon.com/lambda/pricing/",
    "GB-second",
)
API_REQUEST = Price(
    3.50,
    1_000_000,
    "API Gateway REST API request (first 333 million a month)",
    "https://aws.amazon.com/api-gateway/pricing/",
    "requests",
)
WRITE_REQUEST_UNIT = Price(
    0.625,
    1_000_000,
    "DynamoDB on-demand write request unit (Standard table class)",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "WRU",
)
READ_REQUEST_UNIT = Price(
    0.125,
    1_000_000,
    "DynamoDB on-demand read request unit (Standard table class)",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "RRU",
)
PRICES = (
    STATE_TRANSITION,
    LAMBDA_REQUEST,
    LAMBDA_GB_SECOND,
    API_REQUEST,
    WRITE_REQUEST_UNIT,
    READ_REQUEST_UNIT,
)


@dataclass(frozen=True)
class CostLine:
    service: str
    units_per_order: float
    price: Price

    @property
    def usd_per_1000_orders(self) -> float:
        return self.price.cost(self.units_per_order * ORDERS_PRICED)


def cost_lines(usage: PerOrder) -> list[CostLine]:
    return billed(
        transitions=usage.transitions.mean,
        lambda_requests=usage.lambda_invocations,
        gb_seconds=usage.gb_seconds,
        api_requests=usage.api_requests_total,
        write_units=usage.dynamodb.writes,
        read_units=usage.dynamodb.reads,
    )


def billed(
    *,
    transitions: float,
    lambda_requests: float,
    gb_seconds: float,
    api_requests: float,
    write_units: float,
    read_units: float,
) -> list[CostLine]:
    """The cost lines of one unit of work (an order, a return) that does this much of each."""
    return [
        CostLine("Step Functions (state transitions)", transitions, STATE_TRANSITION),
        CostLine("Lambda (requests)", lambda_requests, LAMBDA_REQUEST),
        CostLine("Lambda (compute, GB-seconds)", gb_seconds, LAMBDA_GB_SECOND),
        CostLine("API Gateway (REST requests)", api_requests, API_REQUEST),
        CostLine("DynamoDB (write request units)", write_units, WRITE_REQUEST_UNIT),
        CostLine("DynamoDB (read request units)", read_units, READ_REQUEST_UNIT),
    ]


def lambda_compute_at(usage: PerOrder, milliseconds: float) -> float:
    """$ per 1,000 orders for Lambda compute if every invocation took `milliseconds` (sensitivity)."""
    gb_seconds = sum(
        f.invocations_per_order * f.memory_mb / 1024 * milliseconds / 1000 for f in usage.functions
    )
    return LAMBDA_GB_SECOND.cost(gb_seconds * ORDERS_PRICED)
