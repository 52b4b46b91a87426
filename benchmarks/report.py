"""The markdown report: local throughput and latency, checks, usage per order (the asynchronous side
included), $ per 1,000 orders; then the inventory scenarios (`benchmarks.inventory_report`).

`render` writes the whole report; `splice_orders` puts sections 1 to 3 (and the parts that depend on
them: the introduction, "What this does not measure", the notes) into a report written before, for
`python -m benchmarks --only orders`. Both use the same functions, so the text has one source."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from benchmarks import pricing
from benchmarks.async_side import CHUNK_BYTES, STREAM_FUNCTIONS, AsyncSide
from benchmarks.dynamodb_units import WRITE_UNIT_BYTES
from benchmarks.inventory_report import InventoryRuns, sections
from benchmarks.local_run import STOCK_PER_ORDER, RunResult, Scenario
from benchmarks.usage import AUTHORIZER_ASSUMED_MS, PerOrder
from blueprint import FUNCTIONS, OMS_EVENTS, ORDERS, routes_of
from shared.dal import sharded

SENSITIVITY_MS = 100
PARTITION_WRITE_UNITS_PER_SECOND = 1_000

HEADER = """Two different things are measured, and they must not be mixed up:

1. **Throughput and latency of the local runtime**: moto in-process as AWS, every Lambda handler
   in-process, one Python process on this machine. These numbers describe this machine and moto
   (one lock serialises DynamoDB requests, the GIL serialises Python), **not AWS**.
2. **Cost per order on AWS**: what one order does (state transitions, Lambda invocations, API
   requests, DynamoDB request units, and on its asynchronous side the stream batches, EventBridge
   events, SQS requests and SES e-mails it causes), counted on that same local run and priced with
   AWS list prices. The counts come from the real handlers and the real state machine; the prices
   must be re-checked.

Sections 1 and 2 run orders that each ship from one warehouse; section 3 runs orders that ship in
two parts, from two warehouses, and compares the two per order. Sections 4 to 6 are about stock:
a flash sale (many orders, few units) and a CSV import, both run locally over HTTP like section 1's
figures (local, not AWS), and a hot SKU's writes spread over buckets, which is a **simulation**
of DynamoDB's per-item limits, not a measurement. Section 7 is about returns: a return refunded and
an exchange, each counted and priced per return as section 2 counts and prices an order
(`python -m benchmarks --only returns` runs it alone and puts it into the report in place;
`--only orders` does the same for sections 1 to 3). Section 8 is a **model**: each scenario's
DynamoDB units recorded per key on the local run, scaled to a target rate against AWS's
per-partition limits, with the account quotas that rate needs (`--only heat`). Section 9 times each
handler's import against `import boto3` (`--only cold-start`). Section 10 sends webhooks from 20
senders at once over HTTP and section 11 is a soak, orders at a steady rate for 30 minutes
(`--only webhooks`, `--only soak`). The goals table at the top gathers every figure the
scale-and-speed work aims at, also kept in docs/benchmarks.json."""

PHASES = """Three phases, each ending when every order is where the next one starts: **intake** places
every order and waits until all are FULFILLING (their workflows have parked the AwaitShipment
token, which happens in the transaction that sets FULFILLING); **shipping** sends PICKED, PACKED
and SHIPPED for every order and waits until every workflow has parked its AwaitDelivery token;
**delivery** sends DELIVERED and waits for every execution to end. DELIVERED waits for the workflow
because a carrier reports it hours after SHIPPED (see the notes at the end). The benchmark watches
through the execution histories only, so that its polling never queues for the DynamoDB lock with
the handlers; reading the orders back between phases is not timed."""

LOCAL_TIME = """Where the local time goes: moto serialises DynamoDB requests (one lock, see
`local/moto_patches.py`, which makes conditional writes atomic as on AWS), so concurrent handlers
queue for it, and moto answers in pure Python. API and queue handlers also take turns (one process
holds every handler, and Powertools keeps the current request in a global; see `local/invoker.py`),
while workflow steps run concurrently. (moto's own TransactWriteItems deep-copied every table
it touched for rollback, which made local throughput fall as tables grew; a patch in the same module
removes the copies.) Measured after the run, alone, with {probe.table_items} items in the Orders
table: a GetItem takes {probe.get_item_ms:.1f} ms, a TransactWriteItems holding one ConditionCheck
{probe.condition_check_ms:.1f} ms. Time per DynamoDB request in the measured run, waiting for the
lock included:"""

LAMBDA_DURATION = """The duration is an assumption: the median **local** handler time in the sequential
warm-up (in-process, DynamoDB answered by moto without a network), rounded up to the millisecond as Lambda
bills. On AWS each DynamoDB and Step Functions call adds a few ms of network time instead of moto's
Python; the concurrent column shows how much the local figure moves under load (GIL and the DynamoDB
lock). For a stream- or queue-fed function the figure is per batch (as Lambda bills it), and the
warm-up's batches ran beside the next warm-up order's steps. Memory sizes are the blueprint's."""

UNIT_RULES = """How units are computed: moto reports no ConsumedCapacity for TransactWriteItems, so every
DynamoDB call is recorded at the botocore level (request and response) and priced from item sizes:

- transactional write: 2 WRU per started KB of each item in TransactWriteItems; a ConditionCheck
  is counted as one such item (conservative assumption); standard write: 1 WRU per started KB;
- read: 1 RRU per started 4 KB (a Query: of all the items it returned) if strongly consistent,
  0.5 if eventually consistent (every GSI query is); a GetItem that finds nothing still costs the
  minimum;
- GSI (every index here is KEYS_ONLY): 1 standard write when an item enters or leaves an index,
  2 when an update changes that index's key attribute (delete + put), none for an update that
  changes no key of the index; not doubled by transactions (assumption). A status change moves the
  order in byStatus only;
- a failed conditional write is billed but writes no index;
- an updated or deleted item's size is the largest it is known to have had (from the Puts and the
  tables at the end of the run)."""

NOT_MEASURED = """## What this does not measure

- **AWS-side latency and throughput.** Section 1 is moto on one machine: no network, no Lambda
  start-up, no Step Functions service latency. It shows that the code holds up under concurrency
  and where the local runtime spends its time, not how fast the OMS is on AWS.
- **Cold starts on AWS.** The warm-up absorbs imports; on AWS the first invocation in each new
  execution environment runs the INIT phase (imports of Powertools, pydantic, boto3: typically
  hundreds of ms to seconds), which Lambda has billed like invocation time since August 2025. The
  section "Cold starts" measures each handler's import on this machine against `import boto3`
  (`--only cold-start`), not INIT durations on Lambda.
- **DynamoDB partition limits.** One partition takes about 1,000 WCU/s (and 3,000 RCU/s). Each
  order line updates its stock item twice in transactions (reserve; commit on SHIPPED), 2 WRU each,
  so one hot SKU at one warehouse caps at roughly 500 reservations/s, about 250 orders/s once
  shipments keep pace. The indexes have hot keys of their own:

{partitions}

  byCreation's partition key is the same for every order and its sort key grows with time, so
  DynamoDB cannot split it for heat; byChannel is the same for one big channel. Both are keys-only,
  so an order is written to each once, when it is created; byStatus takes every status change.
  A throttled GSI throttles the table writes that feed it.
- **Account quotas.** API Gateway (about 10,000 requests/s per account and Region), Lambda
  concurrency (1,000 by default), Step Functions StartExecution (about 300/s refill, 1,300 burst,
  in large Regions) and its state-transition rate quota; none of them exists locally.
- **Other costs.** CloudWatch Logs (Lambda logs, Step Functions logging at level ALL, API access
  logs), X-Ray traces (tracing is on), DynamoDB storage and backups, the EventBridge archive's
  storage, the SQS requests of idle long polling (see section 2), Secrets Manager reads (the
  notifier's tracking-link key, cached for 5 minutes per execution environment), outbound webhook
  deliveries to subscriptions (none are registered in the benchmark), data transfer, and reads by
  back-office clients (`GET /orders`) or by a warehouse integration that polls. Reading the tables'
  streams costs nothing for Lambda triggers. The benchmark's own polling is excluded."""

NOTES = """## Notes

- DELIVERED is sent only once the workflow awaits it. Sent right after SHIPPED (as
  `ship_and_deliver` in `tests/support/orders.py` does), it nearly always loses a race: the SHIPPED
  handler resumes the workflow, FulfillmentEvents reads the fulfillment for DELIVERED before
  AwaitDelivery has parked its new token there, and its conditional transaction is cancelled when
  the token appears; it reads again and succeeds on its one retry. Nothing goes wrong, but each
  such order costs a cancelled three-item transaction (6 WRU, billed) and one more read, which
  would overstate the cost of a real delivery, reported hours later.
- Split orders (section 3): the Map state starts both iterations at once, and each AwaitShipment
  releases its fulfillment in a transaction that also moves the order on (status, revision,
  timeline), conditioned on the order's revision as read, so that two changes made from one read
  never both land. The two branches therefore often collide: one transaction is cancelled (billed,
  with no effect), and AwaitEvent reads again and succeeds (`AwaitEvent: TransactWriteItems`, "of
  which failed"). Nothing goes wrong; it is what the design costs, on AWS as here, and it happens in
  the sequential warm-up too, whose two branches also run at once (so AwaitEvent's "sequential"
  handler time there is two handlers at a time).
- The handlers' own logs (JSON lines on stdout, as on Lambda) go to /dev/null during the run so
  that they do not mix with the report; `--verbose` sends them to stderr."""


@dataclass(frozen=True)
class Run:
    """One scenario's run and what one of its orders does."""

    result: RunResult
    usage: PerOrder
    seconds: float = 0.0  # wall time of the scenario's run, the OMS's start-up included


@dataclass(frozen=True)
class Environment:
    generated_at: str
    command: str
    cpus: int
    platform: str
    python: str
    versions: dict[str, str]
    wall_seconds: float
    load_average: float  # 1-minute load average when the run started


def render(
    single: Run,
    split: Run | None,
    environment: Environment,
    inventory: InventoryRuns | None = None,
    returns: str | None = None,
    *,
    heat: str | None = None,
) -> str:
    """The report: sections 1 and 2 for single-shipment orders, section 3 for split ones (if run),
    4 to 6 for the inventory scenarios (those run), 7 for returns (rendered by
    `benchmarks.returns_report`, if run), 8 for the partition heat model (`benchmarks.heat_report`)."""
    parts = [_header(environment), orders_sections(single, split, environment)]
    parts += sections(inventory or InventoryRuns())
    if returns is not None:
        parts.append(returns)
    if heat is not None:
        parts.append(heat)
    parts.append(closing_sections(single.usage))
    return "\n\n".join(parts) + "\n"


def orders_sections(single: Run, split: Run | None, environment: Environment) -> str:
    """Sections 1 and 2 (single-shipment orders) and 3 (split ones, if run)."""
    result, usage = single.result, single.usage
    parts = [
        _local_section(result, _measured(single, split, environment)),
        _checks_section(result),
        _usage_section(usage),
        _async_section(usage),
        _functions_section(usage),
        _dynamodb_section(usage),
        _cost_section(usage),
    ]
    if split is not None:
        parts.append(_split_section(single, split))
    return "\n\n".join(parts)


def closing_sections(usage: PerOrder) -> str:
    """What the report does not measure (with section 2's index writes), and the notes."""
    return NOT_MEASURED.format(partitions=_partitions(usage)) + "\n\n" + NOTES


# -- putting sections 1 to 3 into a report written before -------------------------------------------

_ORDER_SECTION = re.compile(r"^## [123]\. ", re.MULTILINE)
_OTHER_SECTION = re.compile(r"^## (?![123]\. )", re.MULTILINE)
_CLOSING = re.compile(r"^## (What this does not measure|Notes)\b", re.MULTILINE)
_INTRODUCTION = "Two different things are measured"  # how HEADER starts, now and before


def splice_orders(document: str, orders: str, closing: str) -> str:
    """`document` with its introduction, sections 1 to 3 and closing sections ("What this does not
    measure", "Notes") replaced; the first lines (when the report was generated, the machine) and
    every other section are left as they were. A part the document lacks is added where it belongs."""
    orders, closing = orders.strip("\n"), closing.strip("\n")
    closing_at = _CLOSING.search(document)
    body = document[: closing_at.start()] if closing_at else document
    first = _ORDER_SECTION.search(body)
    if first:
        after = _OTHER_SECTION.search(body, first.end())
        rest = body[after.start() :] if after else ""
        body = body[: first.start()] + orders + "\n\n" + rest
    else:
        later = _OTHER_SECTION.search(body)
        at = later.start() if later else len(body.rstrip("\n"))
        body = body[:at].rstrip("\n") + "\n\n" + orders + "\n\n" + body[at:].lstrip("\n")
    introduction = body.find(_INTRODUCTION)
    sections_start = _ORDER_SECTION.search(body)
    if sections_start is not None:
        if 0 <= introduction < sections_start.start():
            body = body[:introduction] + HEADER + "\n\n" + body[sections_start.start() :]
        else:
            at = sections_start.start()
            body = body[:at].rstrip("\n") + "\n\n" + HEADER + "\n\n" + body[at:]
    return body.rstrip("\n") + "\n\n" + closing + "\n"


# -- formatting ------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def _n(value: float) -> str:
    """Up to two decimals, no trailing zeros: 7, 18.25, 0.5."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _quantity(value: float) -> str:
    """Four significant digits, without an exponent: 0.05153, 73."""
    return f"{float(f'{value:.4g}'):,.10f}".rstrip("0").rstrip(".")


def _usd(value: float) -> str:
    return f"${value:.4f}"


def _money(usd: float) -> str:
    """Six significant digits, at least two decimals: $0.20, $0.025, $0.0000133334."""
    whole, _, cents = f"{float(f'{usd:.6g}'):.12f}".rstrip("0").partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _unit_price(price: pricing.Price) -> str:
    per = f"{price.per:,} " if price.per != 1 else ""
    return f"{_money(price.usd)} per {per}{price.counted}"


# -- section 1: local run --------------------------------------------------------------------------


def _header(env: Environment) -> str:
    versions = ", ".join(f"{name} {version}" for name, version in env.versions.items())
    return f"""# OMS benchmarks

Generated {env.generated_at} by `{env.command}` in {env.wall_seconds:.0f} s
(`make bench` runs `python -m benchmarks` with the defaults).
Machine: {env.cpus} CPUs (`nproc`), {env.platform}, Python {env.python}, {versions}; load
average {env.load_average:.2f} when the run started (other work on the machine slows sections 1, 3, 4, 5
and 7).

{HEADER}"""


def _shapes(scenario: Scenario) -> str:
    return " or ".join(
        "+".join(f"{sku}x{quantity}" for sku, quantity in shape.lines) for shape in scenario.shapes
    )


def _measured(single: Run, split: Run | None, env: Environment) -> str:
    seconds = single.seconds + (split.seconds if split else 0.0)
    which = "sections 1 to 3" if split else "sections 1 and 2"
    return (
        f"Measured {env.generated_at} by `{env.command}` in {seconds:.0f} s of wall time for {which}\n"
        f"(load average {env.load_average:.2f} when the run started; other work on the machine slows the\n"
        f"local figures)."
    )


ASYNC_LOCAL = """The asynchronous side (stream records published by EventPublisher, the rules' queues
and their consumers, e-mails through the local SES) runs in the same process during the phases, so it
competes with them for the GIL and the DynamoDB lock (it makes many of the DynamoDB requests in the
table below); nothing in the phases waits for it, but CustomerNotifier's batches run under the lock the
API handlers take turns on (its Powertools idempotency keeps state in globals, see
`local/invoker.py`), so webhooks and fulfillment events queue behind them: a local effect, as on AWS
each invocation has an execution environment of its own. After the
last execution ended it took {drain} more to drain (every stream read to its end, every queue empty,
no stream- or queue-fed handler running; looked at every 0.2 s until two looks in a row found
nothing, so up to 0.4 s high); the measured window stayed open until then, not timed above."""


def _local_section(result: RunResult, measured: str) -> str:
    settings = result.settings
    shapes, lines = _shapes(settings.scenario), _n(settings.scenario.lines_per_order(settings.orders))
    emails = (
        "The channel's customer e-mails are on (sent through the local SES from a verified sender)."
        if settings.emails
        else "The channel's customer e-mails are off."
    )
    return f"""## 1. Local throughput and latency (moto in-process, not AWS)

{measured}

{settings.orders} orders from {settings.concurrency} concurrent clients through the in-process API gateway,
after {settings.warmup} sequential warm-up orders that are not measured. Each order is {shapes},
alternately ({lines} lines on average), shipped to Boston; stock is
seeded at {STOCK_PER_ORDER} units per order at every SKU location, so it is never short. {emails}

{PHASES}

{_latencies(result)}

{_phases(result)}

{ASYNC_LOCAL.format(drain=_drain(result.drain_seconds))}

{LOCAL_TIME.format(probe=result.probe)}

{_local_dynamodb_time(result)}"""


def _drain(seconds: float | None) -> str:
    return f"{seconds:.1f} s" if seconds is not None else "**longer than the run waited (it never drained)**"


def _latencies(result: RunResult) -> str:
    timings = result.timings
    rows = [
        _latency_row("webhook intake (`POST /webhooks/{channelId}`, signed)", timings.intake_seconds),
        _latency_row("webhook accepted -> FULFILLING (order timeline)", result.to_fulfilling_seconds),
    ]
    rows += [
        _latency_row(f"fulfillment event {event} (`POST /fulfillments/{{id}}/events`)", seconds)
        for event, seconds in timings.event_seconds.items()
    ]
    return table(["latency (ms)", "p50", "p95", "max", "samples"], rows)


def _latency_row(name: str, seconds: Sequence[float]) -> tuple[str, str, str, str, int]:
    return (name, _ms(percentile(seconds, 50)), _ms(percentile(seconds, 95)), _ms(max(seconds)), len(seconds))


def _phases(result: RunResult) -> str:
    timings, orders = result.timings, result.settings.orders
    rows = [("webhooks answered (every order placed)", timings.placing_seconds)]
    rows += [(phase.name, phase.seconds) for phase in timings.phases]
    rows.append(("**full lifecycle, webhook to DELIVERED (the three phases)**", timings.total_seconds))
    return table(
        ["phase", "orders/s", "wall time (s)"],
        [(name, f"{orders / seconds:.1f}", f"{seconds:.2f}") for name, seconds in rows],
    )


def _local_dynamodb_time(result: RunResult) -> str:
    by_operation: dict[str, list[float]] = {}
    for call in result.usage.dynamodb_calls:
        by_operation.setdefault(call.operation, []).append(call.seconds)
    rows = [
        (
            name,
            len(seconds),
            _ms(percentile(seconds, 50)),
            _ms(percentile(seconds, 95)),
            f"{sum(seconds):.1f}",
        )
        for name, seconds in sorted(by_operation.items())
    ]
    return table(["operation", "calls", "p50 (ms)", "p95 (ms)", "total (s)"], rows)


def _checks_section(result: RunResult) -> str:
    checks = table(
        ["check", "result", "detail"],
        [(c.name, "passed" if c.passed else "**FAILED**", c.detail) for c in result.checks],
    )
    before, shipped = result.stock_before, result.shipped
    stock = table(
        ["SKU", "warehouse", "onHand before", "shipped", "onHand after", "reserved after", "available after"],
        [
            [
                sku,
                warehouse,
                before[sku, warehouse]["onHand"],
                shipped.get((sku, warehouse), 0),
                *level.values(),
            ]
            for (sku, warehouse), level in sorted(result.stock_after.items())
        ],
    )
    return f"""### The run checks its own result

{checks}

{stock}"""


# -- section 2: usage and cost -------------------------------------------------------------------


def _usage_section(usage: PerOrder) -> str:
    return f"""## 2. Cost per order on AWS (counted on the local run)

### What one order does (means over the {usage.orders} measured orders)

{_usage_rows(usage)}"""


def _usage_rows(usage: PerOrder) -> str:
    units, side = usage.dynamodb, usage.async_dynamodb
    api = ", ".join(f"{_n(n)} x `POST {route.split(' ', 1)[1]}`" for route, n in usage.api_requests.items())
    states = f"min {_n(usage.states_entered.low)}, max {_n(usage.states_entered.high)}"
    rows = [
        (
            "Step Functions state transitions",
            _n(usage.transitions.mean),
            f"states entered in each execution's history (`...StateEntered` events; {states}) "
            f"plus task retries ({usage.retries} in this run)",
        ),
        ("Lambda invocations", _n(usage.lambda_invocations), _lambda_cross_check(usage)),
        (
            "of which the asynchronous side",
            _n(usage.async_invocations),
            "stream- and queue-fed functions, one invocation per batch (below)",
        ),
        (
            "Lambda GB-seconds",
            _quantity(usage.gb_seconds),
            f"memory x assumed duration (see below); of which the asynchronous side "
            f"{_quantity(usage.async_gb_seconds)}",
        ),
        ("API Gateway REST requests", _n(usage.api_requests_total), api),
        (
            "DynamoDB write request units",
            _n(units.writes),
            f"transactional {_n(units.transactional_writes)} + standard {_n(units.standard_writes)} "
            f"+ GSI {_n(units.index_writes)}; of which the asynchronous side {_n(side.writes)}",
        ),
        (
            "DynamoDB read request units",
            _n(units.reads),
            f"strongly consistent {_n(units.strong_reads)} "
            f"+ eventually consistent {_n(units.eventual_reads)}; of which the asynchronous side "
            f"{_n(side.reads)}",
        ),
        (
            "EventBridge events",
            _n(usage.events),
            "PutEvents entries accepted, per 64 KB chunk (below)",
        ),
        ("SQS requests", _n(usage.sqs_requests), "sends to the queues, receives and deletes (below)"),
        (
            "SES e-mails",
            _n(usage.emails),
            "recipients of the notifier's sends"
            + ("" if usage.emails_on else " (the channel's e-mails off)"),
        ),
    ]
    return table(["billed quantity", "per order", "how it was counted"], rows)


def _lambda_cross_check(usage: PerOrder) -> str:
    side = usage.asynchronous
    batches = usage.per_order(side.stream_batches + side.queue_batches)
    expected = usage.workflow_lambda_tasks + usage.api_requests_total + batches
    verdict = "they agree" if math.isclose(expected, usage.lambda_invocations) else "**they disagree**"
    return (
        f"handler calls, counted by a timing wrapper; Lambda tasks in the histories "
        f"({_n(usage.workflow_lambda_tasks)}) + API requests ({_n(usage.api_requests_total)}) "
        f"+ stream and queue batches ({_n(batches)}) = {_n(expected)}: {verdict}. Priced on top: "
        f"{_n(usage.authorizer_calls)} ApiAuthorizer invocations (the stack's uncached REQUEST authorizer, "
        f"one per API-key request; the local gateway decides in-process; {AUTHORIZER_ASSUMED_MS} ms assumed)"
    )


# -- section 2: the asynchronous side ---------------------------------------------------------------

ASYNC_INTRO = """Every committed change of an order, a fulfillment, a stock item (or a return) is a record
on its table's stream. `EventPublisher` is invoked with batches of those records (the stream's
event-source mapping; locally `local/stream_poller.py`) and puts the domain events each means on the
`{bus}` bus (PutEvents); the bus rules copy them to SQS queues, whose event-source mappings invoke
`WebhookFanout` (every event) and `CustomerNotifier` (the events customers may be e-mailed about)
with batches of messages. All of it is counted on the same run, in the same windows as the rest:
each window stayed open until the asynchronous side had drained (section 1)."""

ASYNC_NOTES = """What is counted and what is assumed here:

- **Counted**: the records and batches each stream- and queue-fed function was invoked with, its
  DynamoDB calls (in the tables below, with everyone else's), the PutEvents entries EventBridge
  accepted, the SQS calls of the functions and of the queue pollers, and the SES sends.
- **Computed, not observed**: EventBridge's own sends to the rules' queues. moto delivers a rule's
  target inside PutEvents, without an API call, so each event is counted as one SendMessage per rule
  that matches its type (from the blueprint's rules; assumed one request per event, as a rule's SQS
  target receives one message per event), and checked against the messages the queues' consumers
  received (above).
- **Batching depends on traffic.** Lambda invocations and SQS receives and deletes are per batch,
  and batches are as the local pollers made them: each stream read about every 0.25 s, each queue
  long-polled 1 s for up to 10 messages by one poller whose handler takes one batch at a time, so
  messages gather while it works (most for CustomerNotifier, which locally takes turns with the API
  handlers, see section 1). Lambda's mappings poll with several pollers at once and invoke as soon as
  a batch is there, so on AWS batches are likely smaller at this rate. At low traffic every
  record and message can come alone: then the asynchronous side would make {alone_invocations} Lambda
  invocations and {alone_sqs} SQS requests per order, {alone_usd} more per 1,000 orders (requests
  only: the compute time would be spread over more, shorter invocations).
- **Idle polling is not per order.** An SQS event-source mapping long-polls its queue whether or not
  anything arrives: a fixed number of requests a month per queue, with or without orders. Locally
  the pollers made {empty} empty receives during the measured window ({empty_rate} a second, 1 s long
  polls); they are not counted above. Reading a table's stream for a Lambda trigger is free
  ({free_source}): the stream pollers' DescribeStream and GetRecords are not priced.
- **Customer e-mails**: {emails_text}
- **Outbound webhooks**: no subscription is registered in the benchmark, so WebhookFanout reads the
  subscriptions (one Query per event) and finds none, and WebhookSender never runs. Each subscription
  that wants every event would add, per event, a conditional PutItem, an SQS send, a share of a
  WebhookSender batch (receive, delete, invocation) and per attempt two reads and a write
  (docs/design.md): not measured here.
- The EventBridge archive keeps every event for {retention} days: its processing is priced below
  ({archived} per order, the events as delivered); storage, {storage} per 1,000 orders over those
  days at $0.023 per GB-month, is not. The tracking claim that carrier webhooks (TrackingWebhooks)
  look shipments up by is one more item in FulfillmentEvents' SHIPPED transaction (2 WRU), so it is
  in FulfillmentEvents' figures below."""


def _async_section(usage: PerOrder) -> str:
    side, per = usage.asynchronous, usage.per_order
    return f"""### The asynchronous side: what one order makes happen after it

{ASYNC_INTRO.format(bus=OMS_EVENTS.name)}

{_async_table(usage)}

{_async_notes(usage, side, per)}"""


def _async_table(usage: PerOrder) -> str:
    side, per = usage.asynchronous, usage.per_order
    by_type = ", ".join(f"{kind} {_n(per(n))}" for kind, n in sorted(side.events_by_type.items()))
    sent = ", ".join(f"{queue} {_n(per(n))}" for queue, n in sorted(side.rule_messages.items()))
    received = ", ".join(f"{queue} {_n(per(n))}" for queue, n in sorted(side.received.items()))
    verdict = "they agree" if side.rule_messages_received else "**they disagree**"
    queue_fed = [name for name in sorted(side.batches) if name not in STREAM_FUNCTIONS]
    batches = "; ".join(
        f"{name} {_n(per(side.batches[name]))} holding {_n(per(side.records[name]))}" for name in queue_fed
    )
    emails = ", ".join(f"{name} {_n(per(n))}" for name, n in sorted(side.emails_by_template.items()))
    dynamodb = "; ".join(
        f"{name} {_n(u.writes)} WRU, {_n(u.reads)} RRU"
        for name, u in usage.dynamodb_by_function.items()
        if name in {f.name for f in usage.async_functions}
    )
    largest = f"the largest {side.largest_event} B" if side.events else "none"
    rows = [
        (
            "stream records given to EventPublisher",
            _n(per(side.stream_records)),
            f"in {_n(per(side.stream_batches))} batches (invocations); records of the writes above",
        ),
        (
            "domain events put on the bus",
            _n(per(side.events)),
            f"PutEvents entries accepted ({side.refused_events} refused in the run), in "
            f"{_n(per(side.put_events_calls))} PutEvents calls: {by_type or 'none'}",
        ),
        (
            "EventBridge events billed",
            _n(usage.events),
            f"one per started {CHUNK_BYTES // 1024} KB of each entry; {largest}",
        ),
        (
            "messages sent by the rules to their queues",
            _n(per(sum(side.rule_messages.values()))),
            f"computed from the rules: {sent or 'none'}; received by the queues' consumers: "
            f"{received or 'none'}: {verdict}",
        ),
        ("queue batches (invocations)", _n(per(side.queue_batches)), f"{batches or 'none'} messages"),
        (
            "SQS requests",
            _n(usage.sqs_requests),
            f"EventBridge's sends {_n(per(sum(side.rule_messages.values())))} + functions' sends "
            f"{_n(per(sum(side.sends.values())))} + receives that returned a batch "
            f"{_n(per(sum(side.receives.values())))} + deletes after a batch "
            f"{_n(per(sum(side.deletes.values())))}",
        ),
        ("SES e-mails", _n(usage.emails), emails or "none sent"),
        (
            "EventBridge archive, bytes",
            _n(per(side.archived_bytes)),
            "every event as delivered (envelope and detail), measured on the queue that takes every event",
        ),
        (
            "DynamoDB units of these functions",
            f"{_n(usage.async_dynamodb.writes)} WRU, {_n(usage.async_dynamodb.reads)} RRU",
            f"in the DynamoDB figures of the order: {dynamodb or 'none'}",
        ),
    ]
    return table(["quantity", "per order", "how it was counted"], rows)


def _async_notes(usage: PerOrder, side: AsyncSide, per: Callable[[float], float]) -> str:
    alone_invocations = usage.async_invocations + per(
        side.stream_records + side.queue_messages - side.stream_batches - side.queue_batches
    )
    alone_sqs = usage.sqs_requests + per(2 * side.queue_messages - side.mapping_requests)
    alone_usd = pricing.LAMBDA_REQUEST.cost(
        (alone_invocations - usage.async_invocations) * pricing.ORDERS_PRICED
    ) + pricing.SQS_REQUEST.cost((alone_sqs - usage.sqs_requests) * pricing.ORDERS_PRICED)
    window = usage.window_seconds
    storage_gb_months = usage.archived_gb * pricing.ORDERS_PRICED * OMS_EVENTS.archive_retention_days / 30
    return ASYNC_NOTES.format(
        alone_invocations=_n(alone_invocations),
        alone_sqs=_n(alone_sqs),
        alone_usd=_usd(alone_usd),
        empty=side.empty_receives,
        empty_rate=f"{side.empty_receives / window:.1f}" if window else "-",
        free_source=pricing.FREE_STREAM_READS_SOURCE,
        emails_text=_emails_text(usage),
        retention=OMS_EVENTS.archive_retention_days,
        archived=f"{_n(per(side.archived_bytes))} B",
        storage=_usd(storage_gb_months * 0.023),
    )


def _emails_text(usage: PerOrder) -> str:
    if not usage.emails_on:
        return (
            "the channel's e-mails were off in this run (a channel's default): the notifier decided each "
            "event, recorded it and sent nothing. A retailer with them on sends about 3 per "
            "single-shipment order (confirmed, shipped, delivered), $0.0003 per order at SES's price."
        )
    lines = pricing.cost_lines(usage)
    off = pricing.total(lines, without=frozenset({pricing.EMAIL_SERVICE}))
    return (
        f"the channel's e-mails were on in this run (`PUT /channels/{{channelId}}/notifications`, the "
        f"local SES's verified demo sender): {_n(usage.emails)} per order, the order confirmed and each "
        f"shipment shipped and delivered. With them off (a channel's default) the notifier makes the "
        f"same reads and idempotency writes and sends nothing: {_usd(off)} per 1,000 orders instead of "
        f"{_usd(pricing.total(lines))}."
    )


def _functions_section(usage: PerOrder) -> str:
    return f"""### Lambda, per function

{LAMBDA_DURATION}

{_functions_table(usage)}"""


def _functions_table(usage: PerOrder) -> str:
    header = ["function", "invoked by", "invocations/order", "memory (MB)", "local p50 ms, sequential"]
    header += ["assumed billed ms", "local p50 ms, concurrent", "GB-s/order"]
    rows = [
        [
            f.name,
            invoked_by(f.name),
            _n(f.invocations_per_order),
            f.memory_mb,
            f"{f.sequential_p50_ms:.1f}",
            f.billed_ms,
            f"{f.concurrent_p50_ms:.1f}",
            _quantity(f.gb_seconds_per_order),
        ]
        for f in usage.functions
    ]
    return table(header, rows)


def invoked_by(function: str) -> str:
    """What invokes a function: its stream, its queue, the API or the workflow."""
    found = FUNCTIONS[function]
    if found.stream_source:
        return "streams (" + ", ".join(found.stream_source.tables) + ")"
    if found.queue_source:
        return f"queue {found.queue_source.queue}"
    return "API" if routes_of(function) else "workflow"


def _dynamodb_section(usage: PerOrder) -> str:
    return f"""### DynamoDB, per function

{_dynamodb_tables(usage)}

{UNIT_RULES}

{_dynamodb_cross_checks(usage)}"""


def _dynamodb_tables(usage: PerOrder) -> str:
    by_function = table(
        ["function", "WRU transactional", "WRU standard", "WRU GSI", "RRU strong", "RRU eventual"],
        [
            [
                name,
                *map(
                    _n,
                    (
                        u.transactional_writes,
                        u.standard_writes,
                        u.index_writes,
                        u.strong_reads,
                        u.eventual_reads,
                    ),
                ),
            ]
            for name, u in usage.dynamodb_by_function.items()
        ],
    )
    calls = table(
        ["function: operation", "calls/order", "of which failed"],
        [(name, _n(made), _n(failed)) for name, (made, failed) in usage.dynamodb_calls.items()],
    )
    return f"{by_function}\n\n{calls}"


def _dynamodb_cross_checks(usage: PerOrder) -> str:
    largest = ", ".join(f"{name} {size} B" for name, size in usage.largest_items.items())
    fits = max(usage.largest_items.values(), default=0) <= WRITE_UNIT_BYTES
    sizes = (
        "every item is under 1 KB, so each write is 1 unit (2 in a transaction)"
        if fits
        else "**some items exceed 1 KB and cost more than one unit per write**"
    )
    warmup = usage.warmup_dynamodb
    return f"""Largest items at the end of the run: {largest};
{sizes}. Failed calls per order: {_n(usage.failed_dynamodb_calls)}{_failed_units(usage)}. Operations
not priced: {usage.unpriced_operations or "none"}.

Cross-check: the sequential warm-up orders ({_n(usage.warmup_lines)} lines per order)
used {_n(warmup.writes)} WRU and {_n(warmup.reads)} RRU each; the measured orders
({_n(usage.lines)} lines per order) {_n(usage.dynamodb.writes)} WRU and
{_n(usage.dynamodb.reads)} RRU. Stock and reservation writes grow with the lines; any other
difference would come from retries under contention."""


def _failed_units(usage: PerOrder) -> str:
    failed = usage.failed_dynamodb_units
    if not usage.failed_dynamodb_calls:
        return ""
    return f" ({_n(failed.writes)} WRU and {_n(failed.reads)} RRU, billed and counted above)"


def _cost_section(usage: PerOrder) -> str:
    costs, total = _cost_table(usage)
    lines, side_lines = pricing.cost_lines(usage), pricing.async_cost_lines(usage)
    side = pricing.total(side_lines)
    before = total - side
    prices = table(
        ["price", "list price", "source"], [(p.unit, _unit_price(p), p.source) for p in pricing.PRICES]
    )
    async_prices = table(
        ["price", "list price", "source"], [(p.unit, _unit_price(p), p.source) for p in pricing.ASYNC_PRICES]
    )
    sensitivity = pricing.lambda_compute_at(usage, SENSITIVITY_MS)
    emails = pricing.total([line for line in lines if line.service == pricing.EMAIL_SERVICE])
    off = "" if usage.emails_on else " (the channel's e-mails were off)"
    return f"""### $ per 1,000 orders ({pricing.REGION}, on-demand, free tiers ignored)

{costs}

That is about ${total * 1000:,.0f} per million orders. The asynchronous side is {_usd(side)} of it
({_share(side, total)}); without it (what this report counted before the OMS had an asynchronous
side) an order comes to {_usd(before)} per 1,000, so counting it adds {_share(side, before)}.
Customer e-mails are {_usd(emails)} of it{off}. If every Lambda invocation took {SENSITIVITY_MS} ms
instead, Lambda compute would be {_usd(sensitivity)} per 1,000 orders. Other API calls, not priced
(per order): {_other_calls(usage)}.

Prices ({pricing.PRICES_AS_OF}):

{prices}

Prices of the asynchronous side ({pricing.ASYNC_PRICES_AS_OF}; the SQS price is past the first
million requests a month, which are free; the DynamoDB Streams reads of Lambda triggers are free,
{pricing.FREE_STREAM_READS_SOURCE}):

{async_prices}"""


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


OTHER_CALLS = (
    ("stepfunctions.", "Step Functions' (not billed for Standard workflows)"),
    ("lambda.", "the workflow's Lambda tasks (priced above as Lambda invocations)"),
    ("dynamodbstreams.", "the stream pollers' (free for Lambda triggers)"),
    ("secretsmanager.", "the tracking-link key (cached 5 minutes per execution environment)"),
)


def _other_calls(usage: PerOrder) -> str:
    parts = []
    for prefix, what in OTHER_CALLS:
        calls = {name: n for name, n in usage.other_aws_calls.items() if name.startswith(prefix)}
        if calls:
            parts.append(f"{what}: " + ", ".join(f"{name} {_n(n)}" for name, n in calls.items()))
    local = usage.asynchronous.local_only
    if local:
        parts.append(
            "the local runtime's own event and mail logs (no counterpart on AWS): "
            + ", ".join(f"{name} {_n(usage.per_order(n))}" for name, n in sorted(local.items()))
        )
    other = {name: usage.per_order(n) for name, n in usage.asynchronous.other.items()}
    other |= {
        name: n
        for name, n in usage.other_aws_calls.items()
        if not name.startswith(tuple(prefix for prefix, _ in OTHER_CALLS))
        and name.split(".", 1)[0] not in ("events", "sqs", "ses")
    }
    if other:
        parts.append("other calls: " + ", ".join(f"{name} {_n(n)}" for name, n in sorted(other.items())))
    return "; ".join(parts) or "none"


def _total_usd(usage: PerOrder) -> float:
    return pricing.total(pricing.cost_lines(usage))


def _cost_table(usage: PerOrder) -> tuple[str, float]:
    """The cost lines of one order, and their total, in $ per 1,000 orders; the asynchronous side's
    part of each beside it."""
    lines, side_lines = pricing.cost_lines(usage), pricing.async_cost_lines(usage)
    total, side = pricing.total(lines), pricing.total(side_lines)
    rows = [
        [
            line.service,
            _quantity(line.units_per_order),
            _quantity(part.units_per_order),
            _unit_price(line.price),
            _usd(line.usd_per_1000_orders),
            _usd(part.usd_per_1000_orders),
            _share(line.usd_per_1000_orders, total),
        ]
        for line, part in zip(lines, side_lines, strict=True)
    ]
    rows.append(["**total**", "", "", "", f"**{_usd(total)}**", f"**{_usd(side)}**", "100%"])
    header = ["service", "per order", "of which asynchronous", "unit price", "$ per 1,000 orders"]
    return table([*header, "of which asynchronous", "share"], rows), total


# -- section 3: split shipments ---------------------------------------------------------------------

SPLIT_INTRO = """{orders} orders of {shapes} from {concurrency} concurrent clients, after {warmup} sequential
warm-up orders that are not measured, on a fresh local OMS started after section 1's run (the same
code, seeded the same way, plus CAP-RED). CAP-RED is stocked at wh-east only and TEE-M is only at
wh-west, so the planner splits every order into two fulfillments, one per warehouse, and the
workflow's Map state `FulfilEachShipment` waits on both at once (one iteration each: AwaitShipment,
then AwaitDelivery). Stock is seeded at {stock} units per order at every SKU location.

Each fulfillment gets its own PICKED, PACKED, SHIPPED and DELIVERED, from the same concurrent clients
and in the same three phases as section 1; each phase waits until **every branch** of every
execution has parked its token (read from the histories: each event names the one it follows, which
ties it to its Map iteration). The events are sent warehouse by warehouse (every wh-east shipment,
then every wh-west one), as two warehouses work their own queues, so the parts of one order seldom
reach the OMS at the same instant. Everything section 1 says about local figures holds here; the
counts below are priced with the same code and prices as section 2."""

SPLIT_COMPARISON = """Transitions, workflow tasks, API requests and e-mails do not depend on the number of
lines, so their difference is what one more shipment costs (the asynchronous side's invocations
depend on how its records were batched, see section 2). DynamoDB units and Lambda time grow with lines
as well (each line's stock item is written on reserving and on shipping), and a split order here
has {extra_lines} more lines than the mean single-shipment order, so for those the difference is
not per shipment alone. Lambda time is the local, assumed duration of section 2 and moves from run
to run.

State transitions: each Map iteration enters {branch_states} states (AwaitShipment, AwaitDelivery), as the
histories show, and AWS bills no transition for an Inline Map's iterations themselves (only for the
states they enter: https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html),
so an order of n shipments takes {base} + {per} x n transitions ({single} for one shipment,
{split} for two, measured)."""


def _split_section(single: Run, split: Run) -> str:
    settings, usage = split.result.settings, split.usage
    intro = SPLIT_INTRO.format(
        orders=settings.orders,
        shapes=_shapes(settings.scenario),
        concurrency=settings.concurrency,
        warmup=settings.warmup,
        stock=STOCK_PER_ORDER,
    )
    costs, _ = _cost_table(usage)
    return f"""## 3. Split shipments: every order from two warehouses

{intro}

### Per order, next to single-shipment orders

{_comparison_table(single.usage, usage)}

{_comparison_notes(single.usage, usage)}

### Local throughput and latency (moto in-process, not AWS)

Latency samples are per fulfillment for the events (two per order); "FULFILLING" on the order's
timeline is when its first part was released to its warehouse.

{_latencies(split.result)}

{_phases(split.result)}

{_local_dynamodb_time(split.result)}

{_checks_section(split.result).replace("### The run checks", "### The split run checks", 1)}

### What one split order does (means over the {usage.orders} measured orders)

{_usage_rows(usage)}

Its asynchronous side (counted as in section 2):

{_async_table(usage)}

Lambda, per function (durations assumed as in section 2):

{_functions_table(usage)}

DynamoDB, per function (units computed as in section 2):

{_dynamodb_tables(usage)}

{_dynamodb_cross_checks(usage)}

$ per 1,000 split orders ({pricing.REGION}, on-demand, free tiers ignored, the prices of section 2):

{costs}"""


def _comparison_table(single: PerOrder, split: PerOrder) -> str:
    """Per order in both runs; "per extra shipment" only where the lines make no difference."""
    extra = split.shipments - single.shipments
    sfn_single, sfn_split = (pricing.cost_lines(u)[0].usd_per_1000_orders for u in (single, split))
    async_single, async_split = (pricing.total(pricing.async_cost_lines(u)) for u in (single, split))
    rows: list[tuple[str, float, float, bool, Callable[[float], str]]] = [
        ("shipments (fulfillments)", single.shipments, split.shipments, True, _n),
        ("order lines", single.lines, split.lines, False, _n),
        ("Step Functions state transitions", single.transitions.mean, split.transitions.mean, True, _n),
        ("Lambda invocations", single.lambda_invocations, split.lambda_invocations, False, _n),
        ("of which workflow tasks", single.workflow_lambda_tasks, split.workflow_lambda_tasks, True, _n),
        ("API Gateway REST requests", single.api_requests_total, split.api_requests_total, True, _n),
        ("Lambda GB-seconds (assumed durations)", single.gb_seconds, split.gb_seconds, False, _quantity),
        ("DynamoDB write request units", single.dynamodb.writes, split.dynamodb.writes, False, _n),
        ("DynamoDB read request units", single.dynamodb.reads, split.dynamodb.reads, False, _n),
        ("EventBridge events", single.events, split.events, False, _n),
        ("SQS requests", single.sqs_requests, split.sqs_requests, False, _n),
        ("SES e-mails", single.emails, split.emails, True, _n),
        ("failed DynamoDB calls", single.failed_dynamodb_calls, split.failed_dynamodb_calls, False, _n),
        (
            "WRU of those failed calls (billed, in the WRU above)",
            single.failed_dynamodb_units.writes,
            split.failed_dynamodb_units.writes,
            False,
            _n,
        ),
        ("**$ per 1,000 orders**", _total_usd(single), _total_usd(split), False, _usd),
        ("of which Step Functions", sfn_single, sfn_split, True, _usd),
        ("of which the asynchronous side", async_single, async_split, False, _usd),
    ]
    body = [
        (
            name,
            show(one),
            show(two),
            _signed(two - one, show),
            _signed((two - one) / extra, show) if per_shipment and extra else "-",
        )
        for name, one, two, per_shipment, show in rows
    ]
    header = ["per order", f"single-shipment ({single.orders} orders)", f"split ({split.orders} orders)"]
    return table([*header, "difference", "per extra shipment"], body)


def _signed(value: float, show: Callable[[float], str]) -> str:
    return f"+{show(value)}" if value >= 0 else f"-{show(-value)}"


def _comparison_notes(single: PerOrder, split: PerOrder) -> str:
    extra = split.shipments - single.shipments
    per = (split.transitions.mean - single.transitions.mean) / extra if extra else 0.0
    return SPLIT_COMPARISON.format(
        extra_lines=_n(split.lines - single.lines),
        branch_states=_n(split.states_in_branches),
        base=_n(single.transitions.mean - per * single.shipments),
        per=_n(per),
        single=_n(single.transitions.mean),
        split=_n(split.transitions.mean),
    )


SHARDED_INDEXES = frozenset(i.name for i in (sharded.BY_STATUS, sharded.BY_CHANNEL, sharded.BY_CREATION))


def _partitions(usage: PerOrder) -> str:
    header = ["GSI", "partition key", "writes per order", "on one key value", "orders/s one key value allows"]
    rows = []
    for index in ORDERS.indexes:
        writes = usage.index_writes.get(index.name, 0.0)
        # An order's status moves through byStatus's key values: it enters one and leaves one; a
        # write-sharded list spreads its orders over SHARDS key values (shared/dal/sharded.py).
        on_one_value = min(writes, 2.0) if index.name == sharded.BY_STATUS.name else writes
        on_one_value /= sharded.SHARDS if index.name in SHARDED_INDEXES else 1
        allows = f"about {PARTITION_WRITE_UNITS_PER_SECOND / on_one_value:.0f}" if on_one_value else "-"
        rows.append((index.name, f"`{index.partition_key}`", _n(writes), _n(on_one_value), allows))
    return "\n".join("  " + line for line in table(header, rows).splitlines())
