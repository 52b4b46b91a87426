"""`python -m benchmarks [--orders N] [--split-orders S] [--concurrency C]`: run, check, count, price, report.

Order scenarios, one after the other, each on a fresh local OMS: N orders that each ship from one
warehouse, then S orders that each ship in two parts, from two warehouses (none if S is 0). Then
the inventory scenarios, each skipped by giving it 0: flash sales over HTTP (`--flash-sale-runs`),
a CSV import through the CLI (`--import-rows`) and the hot-SKU write spread, a simulation
(`--hot-sku-rate`). Then the returns (`--returns`, 0: none): a return refunded and an exchange.

Then the partition heat model (`--heat-orders`, 0: none): each scenario's write paths recorded per
DynamoDB key on the local OMS and scaled to `--heat-rate` orders/s with `--heat-flash-share` of them
on one SKU, against the per-partition limits and the account quotas (section 8).

`--only returns` runs the returns section alone (well under a minute) and writes it into the
report at `--output` in place of the section 7 there, leaving the other sections as they were.
`--only orders` does the same for the order scenarios, sections 1 to 3 (and the introduction and
closing sections, which describe them); `--only heat` does it for section 8. `--only cold-start` does
the same for the cold starts: each handler's import against `import boto3`, in fresh interpreters
(`--cold-start-rounds`, 0: none)."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks import (
    cold_start,
    cold_start_report,
    flash_sale,
    goals,
    heat_report,
    heat_runs,
    hot_sku,
    returns,
    returns_report,
    soak,
    stock_import,
    webhook_load,
)
from benchmarks.flash_sale import FlashSaleSettings
from benchmarks.inventory_report import InventoryRuns
from benchmarks.local_run import SINGLE_SHIPMENT, SPLIT_SHIPMENT, Check, Settings, run
from benchmarks.report import Environment, Run, closing_sections, orders_sections, render, splice_orders
from benchmarks.usage import per_order
from shared import observability
from shared.models.inventory import MAX_BUCKETS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
VERSIONS_OF = ("moto", "boto3", "aws-lambda-powertools", "pydantic")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--orders", type=_positive, default=100, help="single-shipment orders measured (default 100)"
    )
    parser.add_argument(
        "--split-orders",
        type=_not_negative,
        default=40,
        help="orders measured that ship from two warehouses, after the others (default 40; 0: none)",
    )
    parser.add_argument("--concurrency", type=_positive, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--warmup", type=_positive, default=4, help="sequential warm-up orders per scenario (default 4)"
    )
    _inventory_arguments(parser)
    _returns_arguments(parser)
    _load_arguments(parser)
    _heat_arguments(parser)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where the report is written")
    parser.add_argument(
        "--verbose", action="store_true", help="show the handlers' own logs on stderr (default: discarded)"
    )
    return parser.parse_args(argv)


def _inventory_arguments(parser: argparse.ArgumentParser) -> None:
    sale = FlashSaleSettings()
    flash = parser.add_argument_group("flash sale (local, over HTTP)")
    flash.add_argument(
        "--flash-sale-runs",
        type=_not_negative,
        default=sale.runs,
        help=f"runs, one bucket (default {sale.runs}; 0: none)",
    )
    flash.add_argument(
        "--flash-sale-orders",
        type=_positive,
        default=sale.orders,
        help=f"orders per run (default {sale.orders})",
    )
    flash.add_argument(
        "--flash-sale-units", type=_positive, default=sale.units, help=f"units stocked (default {sale.units})"
    )
    flash.add_argument(
        "--flash-sale-concurrency",
        type=_positive,
        default=sale.concurrency,
        help=f"clients (default {sale.concurrency})",
    )
    flash.add_argument(
        "--flash-sale-buckets",
        type=_not_negative,
        default=sale.bucketed,
        help=f"one more run with the SKU over this many buckets (default {sale.bucketed}; 0: none)",
    )
    other = parser.add_argument_group("import and hot SKU")
    other.add_argument(
        "--import-rows",
        type=_not_negative,
        default=stock_import.ROWS,
        help=f"CSV rows imported by the CLI (default {stock_import.ROWS}; 0: none)",
    )
    other.add_argument(
        "--hot-sku-rate",
        type=_not_negative,
        default=hot_sku.RESERVATIONS_PER_SECOND,
        help=f"reservations/s simulated on one SKU (default {hot_sku.RESERVATIONS_PER_SECOND}; 0: none)",
    )
    other.add_argument(
        "--hot-sku-buckets",
        type=_bucket_counts,
        default=hot_sku.BUCKET_COUNTS,
        help="bucket counts simulated, comma-separated (default "
        + ",".join(map(str, hot_sku.BUCKET_COUNTS))
        + ")",
    )


def _returns_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("returns (local, in-process; cost per return)")
    group.add_argument(
        "--returns",
        type=_not_negative,
        default=returns.RETURNS,
        help=f"returns measured per scenario, refund and exchange (default {returns.RETURNS}; 0: none)",
    )
    group.add_argument(
        "--cold-start-rounds",
        type=_not_negative,
        default=cold_start.ROUNDS,
        help=f"rounds of handler imports against import boto3 (default {cold_start.ROUNDS}; 0: none)",
    )
    group.add_argument(
        "--only",
        choices=("returns", "orders", "heat", "cold-start", "webhooks", "soak"),
        help="run only this section and write it into --output in place of its section there",
    )


def _load_arguments(parser: argparse.ArgumentParser) -> None:
    load = webhook_load.WebhookLoadSettings()
    group = parser.add_argument_group("webhooks under load and soak (local, over HTTP)")
    group.add_argument(
        "--webhook-senders",
        type=_not_negative,
        default=load.senders,
        help=f"senders (default {load.senders}; 0: none)",
    )
    group.add_argument(
        "--webhook-per-sender",
        type=_positive,
        default=load.per_sender,
        help=f"webhooks each (default {load.per_sender})",
    )
    steady = soak.SoakSettings()
    group.add_argument(
        "--soak-minutes",
        type=float,
        default=steady.minutes,
        help=f"soak length (default {steady.minutes:g}; 0: none)",
    )
    group.add_argument(
        "--soak-rate", type=float, default=steady.rate, help=f"orders/s (default {steady.rate:g})"
    )


def _heat_arguments(parser: argparse.ArgumentParser) -> None:
    heat = heat_runs.HeatSettings()
    group = parser.add_argument_group("partition heat and quotas (recorded locally, scaled: a model)")
    group.add_argument(
        "--heat-orders",
        type=_not_negative,
        default=heat.orders,
        help=f"orders recorded per scenario (default {heat.orders}; 0: no section 8)",
    )
    group.add_argument(
        "--heat-returns",
        type=_not_negative,
        default=heat.returns,
        help=f"returns with a refund recorded (default {heat.returns}; 0: none)",
    )
    group.add_argument(
        "--heat-rate", type=_positive_number, default=10_000.0, help="orders/s at the peak (default 10000)"
    )
    group.add_argument(
        "--heat-flash-share",
        type=_share,
        default=0.30,
        help="share of the orders carrying the one flash-sale SKU (default 0.30)",
    )


def _positive_number(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 (excluded) and 1")
    return value


def _bucket_counts(text: str) -> tuple[int, ...]:
    counts = tuple(_positive(part) for part in text.split(","))
    if max(counts) > MAX_BUCKETS:
        raise argparse.ArgumentTypeError(f"at most {MAX_BUCKETS} buckets")
    return counts


def _inventory(arguments: argparse.Namespace) -> InventoryRuns:
    sale = FlashSaleSettings(
        runs=arguments.flash_sale_runs,
        orders=arguments.flash_sale_orders,
        units=arguments.flash_sale_units,
        concurrency=arguments.flash_sale_concurrency,
        bucketed=arguments.flash_sale_buckets,
    )
    return InventoryRuns(
        flash_sale=flash_sale.run(sale) if sale.buckets_per_run() else None,
        stock_import=stock_import.run(arguments.import_rows) if arguments.import_rows else None,
        hot_sku=hot_sku.run(arguments.hot_sku_rate, arguments.hot_sku_buckets)
        if arguments.hot_sku_rate
        else None,
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive number")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative")
    return value


def environment(argv: list[str], seconds: float, load: float) -> Environment:
    return Environment(
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        command=shlex.join(["python", "-m", "benchmarks", *argv]),
        cpus=len(os.sched_getaffinity(0)),
        platform=f"{platform.system()} {platform.machine()}",
        python=platform.python_version(),
        versions={name: metadata.version(name) for name in VERSIONS_OF},
        wall_seconds=seconds,
        load_average=load,
    )


@contextmanager
def handler_logs(verbose: bool) -> Iterator[None]:
    """Handlers log JSON lines to stdout, as on Lambda: keep them out of the report (on stderr if
    `verbose`). Powertools' handler holds the stdout it found when it was made, at import, which
    `redirect_stdout` alone does not change: it is pointed away too, and back afterwards."""
    handler = observability.logger.registered_handler
    stream_handler = handler if isinstance(handler, logging.StreamHandler) else None
    with open(os.devnull, "w") as discard:
        target = sys.stderr if verbose else discard
        previous = stream_handler.stream if stream_handler else None
        if stream_handler:
            stream_handler.setStream(target)
        try:
            with redirect_stdout(target):
                yield
        finally:
            if stream_handler and previous is not None:
                stream_handler.setStream(previous)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    arguments = parse_arguments(argv)
    if arguments.only == "returns":
        return _returns_alone(arguments, argv)
    if arguments.only == "orders":
        return _orders_alone(arguments, argv)
    if arguments.only in ("webhooks", "soak"):
        return _load_alone(arguments, argv)
    if arguments.only == "heat":
        return _heat_alone(arguments, argv)
    if arguments.only == "cold-start":
        return _cold_start_alone(arguments, argv)
    load_before = os.getloadavg()[0]  # other work on the machine skews the local figures
    started = time.perf_counter()
    with handler_logs(arguments.verbose):
        runs = _order_runs(arguments)
        inventory = _inventory(arguments)
        returned = (
            returns.run(returns.ReturnSettings(returns=arguments.returns)) if arguments.returns else None
        )
        heat = _heat(arguments) if arguments.heat_orders else None
        loads = _load_runs(arguments)
    single, split = runs[0], runs[1] if len(runs) > 1 else None
    ran = environment(argv, time.perf_counter() - started, load_before)
    section = returns_report.section(returned, ran) if returned else None
    heat_section = heat_report.section(heat, ran) if heat else None
    report = render(single, split, ran, inventory, section, heat=heat_section)
    cold = cold_start.run(arguments.cold_start_rounds) if arguments.cold_start_rounds else None
    if cold:
        report = cold_start_report.splice(report, _cold_start_section(cold, ran))
    report = _with_load_sections(report, loads)
    print(report)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    reached = _order_goals(runs) + [r for load in loads for r in load.reached]
    reached += [heat_goal(heat)] if heat else []
    reached += [cold_start_goal(cold)] if cold else []
    arguments.output.write_text(record_goals(arguments.output, report, reached, ran), encoding="utf-8")
    print(f"written to {arguments.output}", file=sys.stderr)
    checks = [check for r in runs for check in r.result.checks] + inventory.checks()
    checks += returned.checks if returned else []
    checks += [check for load in loads for check in load.checks]
    return 0 if all(check.passed for check in checks) else 1


@dataclass(frozen=True)
class LoadRun:
    """A section of its own (10: webhooks under load, 11: soak) with the goal figures it reached."""

    start: re.Pattern[str]
    text: str
    reached: list[goals.Reached]
    checks: list[Check]


WEBHOOKS_SECTION = re.compile(r"^## 10\. Webhooks under load\b", re.MULTILINE)
SOAK_SECTION = re.compile(r"^## 11\. Soak\b", re.MULTILINE)


def _load_runs(arguments: argparse.Namespace, only: str | None = None) -> list[LoadRun]:
    runs = []
    if arguments.webhook_senders and only in (None, "webhooks"):
        settings = webhook_load.WebhookLoadSettings(arguments.webhook_senders, arguments.webhook_per_sender)
        loaded = webhook_load.run(settings)
        runs.append(
            LoadRun(
                WEBHOOKS_SECTION, webhook_load.section(loaded), [webhook_load.reached(loaded)], loaded.checks
            )
        )
    if arguments.soak_minutes > 0 and only in (None, "soak"):
        soaked = soak.run(soak.SoakSettings(minutes=arguments.soak_minutes, rate=arguments.soak_rate))
        runs.append(LoadRun(SOAK_SECTION, soak.section(soaked), [soak.reached(soaked)], soaked.checks))
    return runs


def _with_load_sections(report: str, loads: list[LoadRun]) -> str:
    for load in loads:
        report = returns_report.splice_section(report, load.start, load.text)
    return report


def _load_alone(arguments: argparse.Namespace, argv: list[str]) -> int:
    """Section 10 or 11 alone: printed, and written into the report at --output (or a new one)."""
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with handler_logs(arguments.verbose):
        loads = _load_runs(arguments, arguments.only)
    if not loads:
        raise SystemExit(f"--only {arguments.only} needs --webhook-senders or --soak-minutes above 0")
    ran = environment(argv, time.perf_counter() - started, load_before)
    output: Path = arguments.output
    before = output.read_text(encoding="utf-8") if output.exists() else "# OMS benchmarks\n"
    print("\n\n".join(load.text for load in loads))
    reached = [r for load in loads for r in load.reached]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        record_goals(output, _with_load_sections(before, loads), reached, ran), encoding="utf-8"
    )
    print(f"section {arguments.only} written into {output}", file=sys.stderr)
    return 0 if all(check.passed for load in loads for check in load.checks) else 1


def _order_runs(arguments: argparse.Namespace) -> list[Run]:
    """The single-shipment orders, then the split ones (if any), each on a fresh local OMS."""
    scenarios = [(SINGLE_SHIPMENT, arguments.orders), (SPLIT_SHIPMENT, arguments.split_orders)]
    runs = []
    for scenario, orders in scenarios:
        if orders:
            started = time.perf_counter()
            result = run(Settings(orders, arguments.concurrency, arguments.warmup, scenario=scenario))
            runs.append(Run(result, per_order(result), time.perf_counter() - started))
    return runs


def _order_goals(runs: list[Run]) -> list[goals.Reached]:
    single, split = runs[0], runs[1] if len(runs) > 1 else None
    reached = goals.from_order_runs(single.usage, split.usage if split else None)
    lifecycle = sum(phase.seconds for phase in single.result.timings.phases)
    return [*reached, goals.throughput(single.usage.orders, lifecycle)]


def record_goals(output: Path, report: str, reached: list[goals.Reached], ran: Environment) -> str:
    """Writes the goals' figures beside the report (docs/benchmarks.json for docs/benchmarks.md),
    prints their table and returns the report with its goals section brought up to date."""
    path = output.with_suffix(".json")
    document = goals.merged(goals.read(path), reached, ran.generated_at)
    goals.write(path, document)
    print("\n" + goals.table(document), file=sys.stderr)
    print(f"goals written to {path}", file=sys.stderr)
    return goals.splice(report, document)


def _orders_alone(arguments: argparse.Namespace, argv: list[str]) -> int:
    """Sections 1 to 3 alone: printed, and written into the report at --output (or a new one)."""
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with handler_logs(arguments.verbose):
        runs = _order_runs(arguments)
    single, split = runs[0], runs[1] if len(runs) > 1 else None
    ran = environment(argv, time.perf_counter() - started, load_before)
    orders, closing = orders_sections(single, split, ran), closing_sections(single.usage)
    print(orders)
    output: Path = arguments.output
    before = output.read_text(encoding="utf-8") if output.exists() else "# OMS benchmarks\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    spliced = splice_orders(before, orders, closing)
    output.write_text(record_goals(output, spliced, _order_goals(runs), ran), encoding="utf-8")
    print(f"sections 1 to 3 written into {output}", file=sys.stderr)
    checks = [check for r in runs for check in r.result.checks]
    return 0 if all(check.passed for check in checks) else 1


def _returns_alone(arguments: argparse.Namespace, argv: list[str]) -> int:
    """Section 7 alone: printed, and written into the report at --output (or a new one)."""
    if not arguments.returns:
        raise SystemExit("--only returns needs --returns of at least 1")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with handler_logs(arguments.verbose):
        result = returns.run(returns.ReturnSettings(returns=arguments.returns))
    section = returns_report.section(result, environment(argv, time.perf_counter() - started, load_before))
    print(section)
    output: Path = arguments.output
    before = output.read_text(encoding="utf-8") if output.exists() else "# OMS benchmarks\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    spliced = returns_report.splice(before, section)
    output.write_text(record_goals(output, spliced, [], environment(argv, 0, load_before)), encoding="utf-8")
    print(f"section 7 written into {output}", file=sys.stderr)
    return 0 if all(check.passed for check in result.checks) else 1


def _heat(arguments: argparse.Namespace) -> heat_report.HeatResult:
    settings = heat_runs.HeatSettings(orders=arguments.heat_orders, returns=arguments.heat_returns)
    assumptions = heat_report.default_assumptions(arguments.heat_rate, arguments.heat_flash_share)
    return heat_report.analyse(heat_runs.run(settings), assumptions)


def heat_goal(result: heat_report.HeatResult) -> goals.Reached:
    worst = min((key.breaking_rate for key in result.failing if key.breaking_rate), default=None)
    where = f"; the first stops holding at about {worst:,.0f} orders/s" if worst else ""
    rate = f"{result.assumptions.rate:,.0f}"
    return goals.Reached(
        "hot_keys_at_target_rate", result.value, f"key patterns over a limit at {rate} orders/s{where}"
    )


def _heat_alone(arguments: argparse.Namespace, argv: list[str]) -> int:
    """Section 8 alone: printed, and written into the report at --output (or a new one)."""
    if not arguments.heat_orders:
        raise SystemExit("--only heat needs --heat-orders of at least 1")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with handler_logs(arguments.verbose):
        result = _heat(arguments)
    section = heat_report.section(result, environment(argv, time.perf_counter() - started, load_before))
    print(section)
    output: Path = arguments.output
    before = output.read_text(encoding="utf-8") if output.exists() else "# OMS benchmarks\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    ran = environment(argv, time.perf_counter() - started, load_before)
    spliced = heat_report.splice(before, section)
    output.write_text(record_goals(output, spliced, [heat_goal(result)], ran), encoding="utf-8")
    print(f"section 8 written into {output}", file=sys.stderr)
    return 0  # keys that do not hold are the model's finding, not a failed run


def cold_start_goal(result: cold_start.ColdStartResult) -> goals.Reached:
    return goals.Reached("handler_import_ratio_worst", result.goal().value, result.goal_note())


def _cold_start_section(result: cold_start.ColdStartResult, ran: Environment) -> str:
    return cold_start_report.section(result, ran, metadata.version("aws-lambda-powertools"))


def _cold_start_alone(arguments: argparse.Namespace, argv: list[str]) -> int:
    """The cold-start section alone: printed, and written into the report at --output (or a new one).
    A goal not met is a figure of the report, not a failed run."""
    if not arguments.cold_start_rounds:
        raise SystemExit("--only cold-start needs --cold-start-rounds of at least 1")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    result = cold_start.run(arguments.cold_start_rounds)
    section = _cold_start_section(result, environment(argv, time.perf_counter() - started, load_before))
    print(section)
    output: Path = arguments.output
    before = output.read_text(encoding="utf-8") if output.exists() else "# OMS benchmarks\n"
    output.parent.mkdir(parents=True, exist_ok=True)
    ran = environment(argv, time.perf_counter() - started, load_before)
    spliced = cold_start_report.splice(before, section)
    output.write_text(record_goals(output, spliced, [cold_start_goal(result)], ran), encoding="utf-8")
    print(f"the cold-start section written into {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
