"""`python -m benchmarks [--orders N] [--split-orders S] [--concurrency C]`: run, check, count, price, report.

Two scenarios, one after the other, each on a fresh local OMS: N orders that each ship from one
warehouse, then S orders that each ship in two parts, from two warehouses (none if S is 0)."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from contextlib import redirect_stdout
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from benchmarks.local_run import SINGLE_SHIPMENT, SPLIT_SHIPMENT, Settings, run
from benchmarks.report import Environment, Run, render
from benchmarks.usage import per_order

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
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where the report is written")
    parser.add_argument(
        "--verbose", action="store_true", help="show the handlers' own logs on stderr (default: discarded)"
    )
    return parser.parse_args(argv)


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    arguments = parse_arguments(argv)
    scenarios = [(SINGLE_SHIPMENT, arguments.orders), (SPLIT_SHIPMENT, arguments.split_orders)]
    load_before = os.getloadavg()[0]  # other work on the machine skews the local figures
    started = time.perf_counter()
    runs = []
    # Handlers log JSON lines to stdout, as on Lambda: keep them out of the report.
    with open(os.devnull, "w") as discard, redirect_stdout(sys.stderr if arguments.verbose else discard):
        for scenario, orders in scenarios:
            if orders:
                settings = Settings(orders, arguments.concurrency, arguments.warmup, scenario=scenario)
                result = run(settings)
                runs.append(Run(result, per_order(result)))
    single, split = runs[0], runs[1] if len(runs) > 1 else None
    report = render(single, split, environment(argv, time.perf_counter() - started, load_before))
    print(report)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(report, encoding="utf-8")
    print(f"written to {arguments.output}", file=sys.stderr)
    return 0 if all(check.passed for r in runs for check in r.result.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
