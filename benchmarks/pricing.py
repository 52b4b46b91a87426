"""AWS list prices (us-east-1, on-demand, no free tier) and the cost of 1,000 orders.

The prices are constants, not looked up: they are the public list prices as published in 2025
(DynamoDB on-demand after its November 2024 price cut; Lambda on arm64, which `infra/` deploys).
Re-check them on the pages below before quoting any figure. The asynchronous side's (EventBridge,
SQS, SES: `ASYNC_PRICES`) were written down later, likewise without a live check.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.usage import PerOrder, authorizer_gb_seconds

PRICES_AS_OF = (
    "list prices as published on the pages below in 2025, written down on 2026-11-26 without a live "
    "check: re-check them before quoting any figure"
)
ASYNC_PRICES_AS_OF = (
    "list prices as published on the pages below in 2025, written down on 2026-12-02, likewise without "
    "a live check"
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
EVENTBRIDGE_EVENT = Price(
    1.00,
    1_000_000,
    "EventBridge custom event published (PutEvents; each 64 KB chunk of an entry is one event)",
    "https://aws.amazon.com/eventbridge/pricing/",
    "events",
)
EVENTBRIDGE_ARCHIVE = Price(
    0.10,
    1,
    "EventBridge archive, events archived (storage, $0.023 per GB-month, not included)",
    "https://aws.amazon.com/eventbridge/pricing/",
    "GB",
)
SQS_REQUEST = Price(
    0.40,
    1_000_000,
    "SQS standard queue request (each 64 KB chunk of a payload is one; after the first million a month)",
    "https://aws.amazon.com/sqs/pricing/",
    "requests",
)
SES_EMAIL = Price(
    0.10,
    1_000,
    "SES outbound e-mail (each recipient is one; no free tier counted)",
    "https://aws.amazon.com/ses/pricing/",
    "e-mails",
)
PRICES = (
    STATE_TRANSITION,
    LAMBDA_REQUEST,
    LAMBDA_GB_SECOND,
    API_REQUEST,
    WRITE_REQUEST_UNIT,
    READ_REQUEST_UNIT,
)
ASYNC_PRICES = (EVENTBRIDGE_EVENT, EVENTBRIDGE_ARCHIVE, SQS_REQUEST, SES_EMAIL)
EMAIL_SERVICE = "SES (e-mails)"
# Reading a table's stream costs nothing when Lambda reads it for a trigger (the stream pollers' calls).
FREE_STREAM_READS_SOURCE = "https://aws.amazon.com/dynamodb/pricing/on-demand/"


@dataclass(frozen=True)
class CostLine:
    service: str
    units_per_order: float
    price: Price

    @property
    def usd_per_1000_orders(self) -> float:
        return self.price.cost(self.units_per_order * ORDERS_PRICED)


def cost_lines(usage: PerOrder) -> list[CostLine]:
    """Everything one order does, the asynchronous side included."""
    return billed(
        transitions=usage.transitions.mean,
        lambda_requests=usage.lambda_invocations + usage.authorizer_calls,
        gb_seconds=usage.gb_seconds + authorizer_gb_seconds(usage.authorizer_calls),
        api_requests=usage.api_requests_total,
        write_units=usage.dynamodb.writes,
        read_units=usage.dynamodb.reads,
    ) + asynchronous(
        events=usage.events,
        archived_gb=usage.archived_gb,
        sqs_requests=usage.sqs_requests,
        emails=usage.emails,
    )


def async_cost_lines(usage: PerOrder) -> list[CostLine]:
    """The part of `cost_lines` that is the asynchronous side's (line by line, the same services):
    its functions' invocations, time and DynamoDB units, and the events, queues and e-mails."""
    units = usage.async_dynamodb
    return billed(
        transitions=0,
        lambda_requests=usage.async_invocations,
        gb_seconds=usage.async_gb_seconds,
        api_requests=0,
        write_units=units.writes,
        read_units=units.reads,
    ) + asynchronous(
        events=usage.events,
        archived_gb=usage.archived_gb,
        sqs_requests=usage.sqs_requests,
        emails=usage.emails,
    )


def total(lines: list[CostLine], *, without: frozenset[str] = frozenset()) -> float:
    """$ per 1,000 orders of `lines`, leaving out the services named in `without`."""
    return sum(line.usd_per_1000_orders for line in lines if line.service not in without)


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


def asynchronous(*, events: float, archived_gb: float, sqs_requests: float, emails: float) -> list[CostLine]:
    """The cost lines of the services only the asynchronous side uses."""
    return [
        CostLine("EventBridge (custom events)", events, EVENTBRIDGE_EVENT),
        CostLine("EventBridge (archive, GB archived)", archived_gb, EVENTBRIDGE_ARCHIVE),
        CostLine("SQS (requests)", sqs_requests, SQS_REQUEST),
        CostLine(EMAIL_SERVICE, emails, SES_EMAIL),
    ]


def lambda_compute_at(usage: PerOrder, milliseconds: float) -> float:
    """$ per 1,000 orders for Lambda compute if every invocation took `milliseconds` (sensitivity)."""
    gb_seconds = sum(
        f.invocations_per_order * f.memory_mb / 1024 * milliseconds / 1000 for f in usage.functions
    )
    return LAMBDA_GB_SECOND.cost(gb_seconds * ORDERS_PRICED)
