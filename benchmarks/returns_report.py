"""Section 7 of the report: what a return costs (a refund, an exchange), and how to put the section
alone into a report written before (`splice`), for `python -m benchmarks --only returns`."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence

from benchmarks import pricing
from benchmarks.dynamodb_units import WRITE_UNIT_BYTES, Units, item_size
from benchmarks.report import Environment, _n, _quantity, _unit_price, _usd, table
from benchmarks.returns import (
    POLL_STATES,
    REFUND,
    ReturnsResult,
    ScenarioFigures,
    Work,
    figures,
)
from benchmarks.usage import Spread
from blueprint import RETURN_TIMINGS, RETURNS

REFUND_FUNCTION = "RefundReturn"
TITLE = "## 7. Returns: a refund and an exchange, per return"
NEXT_SECTION = "## What this does not measure"
AWS_POLL_SECONDS = int(RETURN_TIMINGS["EXCHANGE_POLL_SECONDS"])  # as the blueprint deploys it
SECTION_START = re.compile(r"^## 7\. Returns\b", re.MULTILINE)

INTRO = """{returns} returns per scenario, one at a time, after {warmup} warm-up return(s) per scenario
that are not measured, on a fresh in-process local OMS (moto, the real return and order workflows and
handlers, as section 1), with `EXCHANGE_POLL_SECONDS={poll}` (the blueprint deploys {aws_poll}). Each
return's order is placed, shipped and delivered **before** anything is counted: only the return is.

- **Return with a refund**: an order of {refund_lines} delivered from {refund_warehouse}; a return of
  all of it authorized (`POST /orders/{{orderId}}/returns`, with an Idempotency-Key), then RECEIVED
  resellable at {refund_warehouse} (`POST /returns/{{returnId}}/events`), restocked, refunded
  ({refund_total}) by a signed request (Standard Webhooks) to the channel's `refundUrl`, a local
  receiver (`local.refund_sandbox.FakeChannelRefunds`) that verifies it, and CLOSED.
- **Exchange**: an order of {exchange_lines} delivered; a return of it with resolution EXCHANGE for
  {exchange_for} (stocked at {exchange_warehouse}), policy `exchangeShips` ON_RECEIPT: on receipt the
  return workflow restocks, places the exchange order (PlaceExchange creates it and starts its own
  order workflow), polls it (WaitForExchange, CheckExchange) until that workflow has reserved it,
  refunds nothing (an even exchange) and closes.

Each return runs in its own recorder window, which ends when the return's execution has ended and,
for an exchange, when the exchange order's workflow has parked its AwaitShipment token (the order
is FULFILLING, its stock reserved). What a window records is split by the function that did it:
the returns API (`ReturnsApi`) and the return workflow's steps are **the return**; the order
workflow's steps (AcceptOrder, AwaitEvent) are **the exchange order**. The
exchange order's creation (its item, written by PlaceExchange) is the return's. Everything is
counted and priced as in section 2: transitions from each execution's history (states entered plus
task retries), Lambda invocations by the timing wrapper (cross-checked against the histories' Lambda
tasks plus the API requests), API requests as sent, DynamoDB units from the recorded calls with
section 2's rules, the same list prices. Lambda durations are the median **local** handler times of
the measured returns (they run one at a time, so these are sequential figures, as section 2's),
rounded up to the millisecond: an assumption, not an AWS measurement.

Measured {generated_at} by `{command}` in {seconds:.0f} s of wall time for this section (load
average {load:.2f} when the run started)."""

POLL_NOTE = """The exchange poll loop: every round enters {states} ({per_round} transitions) and
invokes CheckExchange once. {rounds} A round that finds the order still PENDING writes nothing and
costs {per_round} transitions, 1 Lambda request, {gb} GB-s and {reads} RRU (CheckExchange's reads, the
same in every round): {usd} per 1,000 rounds, {share} of it Step Functions. The round that finds the
order decided also writes the outcome to the return (CheckExchange's TransactWriteItems above). On
AWS, with the {aws_poll} s interval the blueprint deploys, an exchange whose order takes T seconds to
be reserved makes about ceil(T / {aws_poll}) rounds; each extra round adds {usd} per 1,000 returns,
i.e. each further {aws_poll} s of waiting adds {pct}% to an exchange return's cost. A Wait state is
billed as one transition however long it waits (Standard workflows bill transitions, not time)."""

ONE_ROUND = """Here every exchange took one round: its order's own workflow had reserved it {reserve} s
(median, local, from its timeline) after it was created, inside the first {poll} s wait, so the first
CheckExchange found it RESERVED."""

ROUNDS = """Here the exchanges took {polls} rounds per return (their orders were reserved {reserve} s
after they were created, median, local, from their timelines): every round but the last found the
order PENDING."""

GROWTH = """ A return's item is written at about {put} B when it is authorized and grows (the parked
task token, the receipt, the refund, the timeline) to as much as {final} B; every update of it is
counted at the largest size it is known to have had (section 2's rule), so its first updates, while
it may still be under 1 KB, can be overstated by 2 WRU each (DynamoDB bills the larger of the item's
size before and after an update)."""

ZERO_REFUND = """An even exchange refunds nothing: RefundReturn records on the return a refund of 0 (method
NONE) and writes nothing to the order's refund ledger; its {writes} WRU and {reads} RRU per exchange
return are its reads of the return, the order, the refund balance and the channel, and that write."""

NOTES = """What these figures do not include:

- **The order before the return** (placing, shipping, delivering it): sections 2 and 3.
- **The rest of the exchange order** after FULFILLING (PICKED, PACKED, SHIPPED, DELIVERED and
  ConcludeOrder): like any single-shipment order from there on, see section 2.
- **The channel's side of the refund.** The signed request goes to a local receiver; its latency is
  in RefundReturn's local handler time (so in the assumed Lambda duration), but what the channel
  does with it costs the OMS nothing on AWS beyond that time. MANUAL refunds (an api channel without
  `refundUrl`) skip the request; their ledger entry is settled (as MANUAL) all the same.
- **Local time** above is moto in-process, one return at a time, the receiver on this machine:
  not AWS latency. The RECEIVED -> ended time of an exchange includes the {poll} s WaitForExchange.
- Other costs as section 2 lists them (logs, traces, storage, data transfer); the Step Functions
  API calls the handlers make are not billed ({other})."""


def section(result: ReturnsResult, environment: Environment) -> str:
    found = figures(result)
    exchange = next((f for f in found if f.run.scenario.exchange), None)
    parts = [TITLE, _intro(result, environment)]
    parts += ["### What one return does", _summary(found)]
    parts += [f"### $ per 1,000 returns ({pricing.REGION}, on-demand, free tiers ignored)", _costs(found)]
    parts += ["### States entered per return", _states(found)]
    if exchange is not None and exchange.poll is not None:
        parts.append(_poll_note(exchange, result.settings.poll_seconds))
    parts += ["### Lambda, per function", _functions(found)]
    parts += ["### DynamoDB, per function", _dynamodb(found), _dynamodb_calls(found), _item_sizes(result)]
    parts += ["### Local time (moto in-process, not AWS)", _local(found)]
    parts += ["### The returns run checks its own result", _checks(result)]
    parts.append(NOTES.format(poll=result.settings.poll_seconds, other=_other_calls(found)))
    if exchange is not None:
        parts.append(_zero_refund_note(exchange))
    return "\n\n".join(parts)


def splice(document: str, section_text: str) -> str:
    """`document` with its section 7 replaced by `section_text` (see `splice_section`)."""
    return splice_section(document, SECTION_START, section_text)


def splice_section(document: str, start: re.Pattern[str], section_text: str) -> str:
    """`document` with the section whose heading `start` matches replaced by `section_text` (or the
    section put before "What this does not measure", or at the end, if it has none): the rest is
    left as it was."""
    section_text = section_text.strip("\n")
    found = start.search(document)
    if found:
        begin = found.start()
        end = document.find("\n## ", begin + 1)
        rest = document[end + 1 :] if end >= 0 else ""
        return document[:begin] + section_text + ("\n\n" + rest if rest else "\n")
    at = document.find(NEXT_SECTION)
    if at >= 0:
        return document[:at] + section_text + "\n\n" + document[at:]
    return document.rstrip("\n") + "\n\n" + section_text + "\n"


# -- parts -------------------------------------------------------------------------------------------


def _intro(result: ReturnsResult, environment: Environment) -> str:
    runs = {run.scenario.name: run.scenario for run in result.runs}
    refund = runs.get(REFUND.name, REFUND)
    exchange = next((r.scenario for r in result.runs if r.scenario.exchange), None)
    return INTRO.format(
        returns=result.settings.returns,
        warmup=result.settings.warmup,
        poll=result.settings.poll_seconds,
        aws_poll=AWS_POLL_SECONDS,
        refund_lines=_lines(refund.ordered),
        refund_warehouse=refund.warehouse_id,
        refund_total=refund.expected_refund,
        exchange_lines=_lines(exchange.ordered) if exchange else "-",
        exchange_for=_lines(exchange.exchange) if exchange else "-",
        exchange_warehouse=exchange.exchange_warehouse_id if exchange else "-",
        generated_at=environment.generated_at,
        command=environment.command,
        seconds=result.seconds,
        load=environment.load_average,
    )


def _lines(lines: Sequence[tuple[str, int]]) -> str:
    return " + ".join(f"{sku} x{units}" for sku, units in lines)


def _columns(found: list[ScenarioFigures]) -> list[tuple[str, Work]]:
    """One column per thing priced: each scenario's return, and the exchange order after it."""
    columns = []
    for f in found:
        label = "return with refund" if not f.run.scenario.exchange else "exchange: the return"
        columns.append((label, f.returned))
        if f.exchange_order is not None:
            columns.append(("exchange: its order, to FULFILLING", f.exchange_order))
    return columns


def _spread(spread: Spread) -> str:
    if spread.low == spread.high:
        return _n(spread.mean)
    return f"{_n(spread.mean)} ({_n(spread.low)} to {_n(spread.high)})"


def _summary(found: list[ScenarioFigures]) -> str:
    columns = _columns(found)
    rows: list[tuple[str, Callable[[Work], str], str]] = [
        (
            "Step Functions state transitions",
            lambda w: _spread(w.transitions) + (f", {w.retries} retries" if w.retries else ""),
            "states entered in the execution's history (min to max shown if they differ) + task retries",
        ),
        ("Lambda invocations", lambda w: _n(w.lambda_invocations), "handler calls (timing wrapper)"),
        (
            "of which workflow tasks",
            lambda w: _n(w.workflow_lambda_tasks),
            "Lambda tasks in the histories; + API requests = invocations: "
            + ("they agree" if all(w.invocations_explained for _, w in columns) else "**they disagree**"),
        ),
        ("Lambda GB-seconds", lambda w: _quantity(w.gb_seconds), "memory x assumed duration"),
        ("API Gateway REST requests", lambda w: _n(w.api_requests_total), _routes(columns)),
        ("DynamoDB write request units", lambda w: _n(w.dynamodb.writes), "transactional + standard + GSI"),
        ("of which transactional", lambda w: _n(w.dynamodb.transactional_writes), "2 WRU per item and KB"),
        ("of which GSI", lambda w: _n(w.dynamodb.index_writes), "index entries, Returns' and Orders' GSIs"),
        ("DynamoDB read request units", lambda w: _n(w.dynamodb.reads), "strongly + eventually consistent"),
        ("**$ per 1,000 returns**", lambda w: f"**{_usd(w.usd_per_1000)}**", "section 2's prices"),
    ]
    header = ["per return", *(label for label, _ in columns), "how it was counted"]
    body = [[name, *(show(w) for _, w in columns), how] for name, show, how in rows]
    total = _exchange_total(found)
    note = ""
    if total is not None:
        note = f"\n\nAn exchange in all, its return and its order up to FULFILLING: {_usd(total)} per 1,000."
    return table(header, body) + note


def _routes(columns: list[tuple[str, Work]]) -> str:
    routes = sorted({route for _, w in columns for route in w.api_requests})
    return ", ".join(f"`{route}`" for route in routes) or "-"


def _exchange_total(found: list[ScenarioFigures]) -> float | None:
    for f in found:
        if f.exchange_order is not None:
            return f.returned.usd_per_1000 + f.exchange_order.usd_per_1000
    return None


def _costs(found: list[ScenarioFigures]) -> str:
    columns = _columns(found)
    lines = [w.cost_lines() for _, w in columns]
    header = ["service", "unit price", *(f"{label}: per return; $ per 1,000" for label, _ in columns)]
    rows = []
    for index, first in enumerate(lines[0]):
        cells = [
            f"{_quantity(cost[index].units_per_order)}, {_usd(cost[index].usd_per_1000_orders)}"
            for cost in lines
        ]
        rows.append([first.service, _unit_price(first.price), *cells])
    totals = [f"**{_usd(sum(line.usd_per_1000_orders for line in cost))}**" for cost in lines]
    rows.append(["**total**", "", *totals])
    shares = [
        f"{100 * cost[0].usd_per_1000_orders / max(1e-12, sum(c.usd_per_1000_orders for c in cost)):.0f}%"
        for cost in lines
    ]
    rows.append(["Step Functions' share", "", *shares])
    return table(header, rows)


def _states(found: list[ScenarioFigures]) -> str:
    columns = _columns(found)
    names: list[str] = []
    for _, w in columns:
        names += [name for name in w.states if name not in names]
    header = ["state", *(label for label, _ in columns)]
    rows = [
        [_state_name(name), *(_spread(w.states[name]) if name in w.states else "-" for _, w in columns)]
        for name in names
    ]
    rows.append(["**states entered**", *(_n(sum(s.mean for s in w.states.values())) for _, w in columns)])
    return table(header, rows)


def _state_name(name: str) -> str:
    return f"{name} (poll loop)" if name in POLL_STATES else name


def _poll_note(exchange: ScenarioFigures, poll_seconds: int) -> str:
    poll = exchange.poll
    assert poll is not None
    reserve = exchange.run.exchange_reserve_seconds
    sfn = poll.cost_lines()[0].usd_per_1000_orders
    base = exchange.returned.usd_per_1000
    median = f"{statistics.median(reserve):.2f}" if reserve else "-"
    one = poll.polls.high == 1
    rounds = (ONE_ROUND if one else ROUNDS).format(
        reserve=median, poll=poll_seconds, polls=_spread(poll.polls)
    )
    return POLL_NOTE.format(
        states=", ".join(POLL_STATES),
        per_round=_n(poll.transitions),
        rounds=rounds,
        gb=_quantity(poll.gb_seconds),
        reads=_n(poll.read_units),
        usd=_usd(poll.usd_per_1000),
        share=f"{100 * sfn / poll.usd_per_1000:.0f}%",
        aws_poll=AWS_POLL_SECONDS,
        pct=f"{100 * poll.usd_per_1000 / base:.0f}" if base else "-",
    )


def _functions(found: list[ScenarioFigures]) -> str:
    header = [
        "scenario",
        "function",
        "invocations/return",
        "memory (MB)",
        "local p50 ms",
        "assumed billed ms",
    ]
    header.append("GB-s/return")
    rows = []
    for label, w in _columns(found):
        for f in w.functions:
            rows.append(
                [
                    label,
                    f.name,
                    _n(f.invocations),
                    f.memory_mb,
                    f"{f.p50_ms:.1f}",
                    f.billed_ms,
                    _quantity(f.gb_seconds),
                ]
            )
    return table(header, rows)


def _dynamodb(found: list[ScenarioFigures]) -> str:
    header = ["scenario", "function", "WRU transactional", "WRU standard", "WRU GSI", "RRU strong"]
    header.append("RRU eventual")
    rows = []
    for label, w in _columns(found):
        for name, u in w.dynamodb_by_function.items():
            rows.append([label, name, *_unit_cells(u)])
    return table(header, rows)


def _unit_cells(u: Units) -> list[str]:
    return [
        _n(v)
        for v in (u.transactional_writes, u.standard_writes, u.index_writes, u.strong_reads, u.eventual_reads)
    ]


def _dynamodb_calls(found: list[ScenarioFigures]) -> str:
    header = ["scenario", "function: operation", "calls/return", "of which failed"]
    rows = [
        [label, name, _n(made), _n(failed)]
        for label, w in _columns(found)
        for name, (made, failed) in w.dynamodb_calls.items()
    ]
    unpriced = {name: n for f in found for name, n in f.unpriced.items()}
    return table(header, rows) + f"\n\nOperations not priced: {unpriced or 'none'}."


def _local(found: list[ScenarioFigures]) -> str:
    header = ["local time (ms, median; min to max)", *(f.run.scenario.name for f in found)]
    rows: list[tuple[str, Callable[[ScenarioFigures], list[float]]]] = [
        (
            "`POST /orders/{orderId}/returns` (authorize)",
            lambda f: [r.authorize_seconds for r in f.run.returns],
        ),
        (
            "`POST /returns/{returnId}/events` (RECEIVED)",
            lambda f: [r.receive_seconds for r in f.run.returns],
        ),
        (
            "RECEIVED answered -> the return's execution ended",
            lambda f: [r.to_end_seconds for r in f.run.returns],
        ),
        ("exchange order created -> RESERVED (its timeline)", lambda f: f.run.exchange_reserve_seconds),
    ]
    body = [[name, *(_ms(values(f)) for f in found)] for name, values in rows]
    return table(header, body)


def _ms(seconds: list[float]) -> str:
    if not seconds:
        return "-"
    return f"{1000 * statistics.median(seconds):.0f} ({1000 * min(seconds):.0f} to {1000 * max(seconds):.0f})"


def _checks(result: ReturnsResult) -> str:
    rows = [
        (run.scenario.name, c.name, "passed" if c.passed else "**FAILED**", c.detail)
        for run in result.runs
        for c in run.checks
    ]
    return table(["scenario", "check", "result", "detail"], rows)


def _other_calls(found: list[ScenarioFigures]) -> str:
    parts = []
    for f in found:
        calls = ", ".join(
            f"{name} {_n(n)}" for name, n in f.other_aws_calls.items() if not name.startswith("sqs.")
        )
        parts.append(f"{f.run.scenario.name}, per return: {calls}")
    return "; ".join(parts) + "; `lambda.Invoke` are the workflows' Lambda tasks"


def _item_sizes(result: ReturnsResult) -> str:
    largest = {name: max(map(item_size, items), default=0) for name, items in result.final_items.items()}
    listed = ", ".join(f"{name} {size} B" for name, size in largest.items())
    over = [name for name, size in largest.items() if size > WRITE_UNIT_BYTES]
    sizes = (
        f"items over 1 KB ({', '.join(over)}) cost 2 units per write (4 in a transaction)"
        if over
        else "every item is under 1 KB, so each write is 1 unit (2 in a transaction)"
    )
    return f"Units computed as in section 2. Largest items at the end of the run: {listed}; {sizes}." + (
        _growth(result)
    )


def _growth(result: ReturnsResult) -> str:
    """How a return's item grows from its Put at authorization: its updates are counted at the
    largest size it is known to have had (section 2's rule)."""
    table_name = next((name for name in result.final_items if name.endswith(RETURNS.name)), None)
    puts = [
        item_size(entry["Put"]["Item"])
        for run in result.runs
        for measured in run.returns
        for call in measured.usage.dynamodb_calls
        if call.operation == "TransactWriteItems"
        for entry in call.request["TransactItems"]
        if "Put" in entry and entry["Put"]["TableName"] == table_name
    ]
    if not puts or table_name is None:
        return ""
    final = max(map(item_size, result.final_items[table_name]), default=0)
    return GROWTH.format(put=int(statistics.median(puts)), final=final)


def _zero_refund_note(exchange: ScenarioFigures) -> str:
    refund = exchange.returned.dynamodb_by_function.get(REFUND_FUNCTION, Units())
    return ZERO_REFUND.format(writes=_n(refund.writes), reads=_n(refund.reads))
