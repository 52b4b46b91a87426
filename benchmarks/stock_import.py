"""Import rate: `python -m cli import-stock FILE` as an operator runs it, against a local OMS.

A CSV of `rows` counts (`sku,warehouseId,onHand[,safetyStock]`: SKUs IMP-00001... at the two
seeded warehouses, every fourth row with a safety stock) is written to a temporary folder and
imported twice by the CLI in a subprocess, pointed at a fresh server-mode OMS with OMS_PORT,
OMS_AWS_PORT and OMS_API_KEY (as `tests/e2e/test_stock_cli.py` runs it). The first import applies
every row; a sample of rows is then read back over HTTP. The second import of the same file must
find every row UNCHANGED, after which each sampled location still has exactly one ledger entry.
The DynamoDB calls the OMS makes for each import are counted (`benchmarks.recorder`), and a probe
times one Query on the Inventory table before and after each (it stays flat: the local runtime's
moto reads one partition per Query, as DynamoDB does).
"""

from __future__ import annotations

import csv
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.local_run import Check
from benchmarks.over_http import Served, served
from benchmarks.recorder import Recorder
from tests.support.orders import Client

ROOT = Path(__file__).resolve().parent.parent
ROWS = 10_000
SAMPLE = 50
SEED = 20261202
WAREHOUSES = ("wh-east", "wh-west")  # seeded by `Client.seed`
FILE_NAME = "stock-count.csv"
AIM_ROWS_PER_SECOND = 100
CLI_TIMEOUT_SECONDS = 1800
SUMMARY = re.compile(
    r"^(?P<rows>\d+) rows: (?P<applied>\d+) applied, (?P<unchanged>\d+) unchanged, "
    r"(?P<errors>\d+) with errors; (?P<seconds>[\d.]+) s"
)


@dataclass(frozen=True)
class Count:
    sku: str
    warehouse_id: str
    on_hand: int
    safety_stock: int | None

    def cells(self) -> list[str]:
        cells = [self.sku, self.warehouse_id, str(self.on_hand)]
        return cells if self.safety_stock is None else [*cells, str(self.safety_stock)]

    @property
    def available(self) -> int:
        return max(0, self.on_hand - (self.safety_stock or 0))


@dataclass(frozen=True)
class ImportPass:
    """One run of the CLI, as its summary line reports it."""

    rows: int
    applied: int
    unchanged: int
    errors: int
    seconds: float  # the CLI's own timing: reading the file to the last answer
    wall_seconds: float  # the subprocess, Python's start-up and imports included
    returncode: int
    summary: str
    dynamodb_calls: dict[str, int]  # operation -> calls the OMS made for this import

    @property
    def calls_per_row(self) -> float:
        return sum(self.dynamodb_calls.values()) / self.rows if self.rows else 0.0

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class QueryProbe:
    """The local time of one strongly consistent Query of one SKU's stock, alone."""

    table_items: int
    query_ms: float


@dataclass(frozen=True)
class ImportResult:
    rows: int
    first: ImportPass
    second: ImportPass
    sampled: int
    probes: tuple[QueryProbe, QueryProbe, QueryProbe]  # before the first import, after each
    checks: list[Check]


def counts(rows: int) -> list[Count]:
    """`rows` counts: SKU n at each warehouse in turn, onHand 1 to 500, every fourth with a safety stock."""
    made = []
    for n in range(rows):
        on_hand = (n * 37) % 500 + 1
        safety = on_hand // 10 if n % 4 == 3 else None
        made.append(
            Count(f"IMP-{n // len(WAREHOUSES) + 1:05d}", WAREHOUSES[n % len(WAREHOUSES)], on_hand, safety)
        )
    return made


def write_csv(path: Path, rows: list[Count]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["sku", "warehouseId", "onHand", "safetyStock"])
        writer.writerows(row.cells() for row in rows)


def parse_summary(stdout: str, wall_seconds: float, returncode: int, calls: Counter[str]) -> ImportPass:
    last = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    found = SUMMARY.match(last)
    if found is None:
        raise RuntimeError(f"import-stock printed no summary (exit {returncode}): {stdout[-500:]!r}")
    numbers = {name: int(found[name]) for name in ("rows", "applied", "unchanged", "errors")}
    return ImportPass(
        **numbers,
        seconds=float(found["seconds"]),
        wall_seconds=wall_seconds,
        returncode=returncode,
        summary=last,
        dynamodb_calls=dict(sorted(calls.items())),
    )


def import_stock(running: Served, path: Path, recorder: Recorder) -> ImportPass:
    environment = {
        **os.environ,
        "OMS_PORT": running.api_url.rsplit(":", 1)[1],
        "OMS_AWS_PORT": running.aws_url.rsplit(":", 1)[1],
        "OMS_API_KEY": running.oms.api_key,
    }
    started = time.perf_counter()
    with recorder.window() as usage:
        done = subprocess.run(
            [sys.executable, "-m", "cli", "import-stock", str(path)],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
    calls = Counter(call.operation for call in usage.dynamodb_calls)
    return parse_summary(done.stdout, time.perf_counter() - started, done.returncode, calls)


def probe(running: Served, repeats: int = 5) -> QueryProbe:
    dynamodb, table = running.oms.client("dynamodb"), running.oms.deployment.table_names["Inventory"]
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "SKU#IMP-00001"}},
            ConsistentRead=True,
        )
        seconds.append(time.perf_counter() - started)
    items = dynamodb.describe_table(TableName=table)["Table"]["ItemCount"]
    return QueryProbe(items, 1000 * statistics.median(seconds))


def run(rows: int = ROWS, sample: int = SAMPLE) -> ImportResult:
    made = counts(rows)
    sampled = random.Random(SEED).sample(made, min(sample, len(made)))
    recorder = Recorder()
    recorder.install()  # before the OMS starts, so that its handlers' clients report their calls
    try:
        with tempfile.TemporaryDirectory(prefix="oms-bench-") as folder, served() as running:
            path = Path(folder) / FILE_NAME
            write_csv(path, made)
            empty = probe(running)
            first = import_stock(running, path, recorder)
            filled = probe(running)
            read_back = figures_check(running.client, sampled)
            second = import_stock(running, path, recorder)
            ledgered = ledger_check(running.client, sampled)
            after = probe(running)
    finally:
        recorder.uninstall()
    checks = [*pass_checks(rows, first, second), read_back, ledgered]
    return ImportResult(rows, first, second, len(sampled), (empty, filled, after), checks)


def pass_checks(rows: int, first: ImportPass, second: ImportPass) -> list[Check]:
    return [
        Check(
            "first import: every row applied",
            (first.rows, first.applied, first.errors) == (rows, rows, 0),
            first.summary,
        ),
        Check(
            "second import: every row unchanged",
            (second.rows, second.unchanged, second.errors) == (rows, rows, 0),
            second.summary,
        ),
    ]


def figures_check(client: Client, sampled: list[Count]) -> Check:
    """The sampled rows' locations read back with their onHand, safety stock and available."""
    read: dict[tuple[str, str], dict[str, Any]] = {}
    skus = sorted({row.sku for row in sampled})
    for start in range(0, len(skus), 100):
        status, body = client.call("GET", "/inventory?skus=" + ",".join(skus[start : start + 100]))
        if status != 200:
            return Check("sampled rows read back", False, f"GET /inventory answered {status}: {body}")
        for view in body["inventory"]:
            for level in view["locations"]:
                read[level["sku"], level["warehouseId"]] = level
    wrong = [
        f"{row} read {read.get((row.sku, row.warehouse_id))}" for row in sampled if not _matches(row, read)
    ]
    detail = f"{len(sampled) - len(wrong)} of {len(sampled)} sampled rows (GET /inventory?skus=)"
    return Check(
        "sampled rows read back", not wrong, detail + (f"; first wrong: {wrong[0]}" if wrong else "")
    )


def _matches(row: Count, read: dict[tuple[str, str], dict[str, Any]]) -> bool:
    level = read.get((row.sku, row.warehouse_id))
    expected = (row.on_hand, row.safety_stock or 0, row.available, 0)
    return (
        level is not None
        and (level["onHand"], level["safetyStock"], level["available"], level["reserved"]) == expected
    )


def ledger_check(client: Client, sampled: list[Count]) -> Check:
    """Each sampled location has exactly one ledger entry: the first import's (IMPORT, the file)."""
    wrong = []
    for row in sampled:
        entries = client.ledger(row.sku, row.warehouse_id)
        kinds = [(e["kind"], e["reference"], e["onHandDelta"]) for e in entries]
        if kinds != [("IMPORT", FILE_NAME, row.on_hand)]:
            wrong.append(f"{row.sku} at {row.warehouse_id}: {kinds}")
    detail = f"{len(sampled) - len(wrong)} of {len(sampled)} sampled locations: one IMPORT entry each"
    return Check(
        "one ledger entry per row, after both", not wrong, detail + (f"; first: {wrong[0]}" if wrong else "")
    )
