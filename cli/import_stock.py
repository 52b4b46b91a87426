"""Import counted stock from a CSV file: `sku,warehouseId,onHand[,safetyStock]`, absolute counts.

Every row is checked here first (the same model the API validates with); the valid ones go to
`POST /stock-counts` in batches of 100, each row applied by the OMS in its own transaction with a
ledger entry (kind IMPORT, reason CYCLE_COUNT, the file's name as reference). A bad row, here or
refused there, is reported with its line number and never stops or half-applies the others. A
batch the OMS could not answer is retried (counts are absolute, so a repeat changes nothing).
"""

from __future__ import annotations

import csv
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from cli.progress import Progress
from shared.errors import validation_message
from shared.models.inventory import MAX_COUNTS_PER_REQUEST, CountRow

COLUMNS = ("sku", "warehouseId", "onHand", "safetyStock")
ATTEMPTS = 4
PARALLEL_BATCHES = 4


@dataclass(frozen=True)
class RowError:
    line: int
    sku: str
    warehouse_id: str
    message: str


@dataclass
class Report:
    rows: int = 0
    applied: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0

    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.rows} rows: {self.applied} applied, {self.unchanged} unchanged, "
            f"{len(self.errors)} with errors; {self.seconds:.1f} s, {self.rate():.0f} rows/s"
        )


def read_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, str] | None, str | None]]:
    """(line number, the row's fields, or None and why it cannot be read). A first line naming the
    columns is a header."""
    for number, cells in enumerate(csv.reader(stream), start=1):
        if number == 1 and cells and cells[0].strip() == "sku":
            continue
        if not any(cell.strip() for cell in cells):
            continue  # blank line
        if not 3 <= len(cells) <= 4:
            yield number, None, f"expected 3 or 4 columns ({','.join(COLUMNS)}), found {len(cells)}"
            continue
        yield number, {name: cell.strip() for name, cell in zip(COLUMNS, cells, strict=False)}, None


def parse(fields: dict[str, str]) -> CountRow:
    data: dict[str, Any] = {"sku": fields["sku"], "warehouseId": fields["warehouseId"]}
    for name in ("onHand", "safetyStock"):
        text = fields.get(name, "")
        if name == "safetyStock" and text == "":
            continue
        if not text.lstrip("-").isdigit():
            raise ValueError(f"{name}: {text!r} is not a whole number")
        data[name] = int(text)
    return CountRow.model_validate(data)


def checked(path: Path, report: Report) -> list[tuple[int, CountRow]]:
    """The file's valid rows with their line numbers; the others go to the report."""
    valid: list[tuple[int, CountRow]] = []
    seen: dict[tuple[str, str], int] = {}
    with path.open(newline="", encoding="utf-8-sig") as stream:
        for line, fields, problem in read_rows(stream):
            report.rows += 1
            if fields is None:
                report.errors.append(RowError(line, "", "", problem or "unreadable"))
                continue
            try:
                row = parse(fields)
            except (ValidationError, ValueError) as invalid:
                report.errors.append(RowError(line, fields["sku"], fields["warehouseId"], _explain(invalid)))
                continue
            place = (row.sku, row.warehouseId)
            if place in seen:
                message = f"repeats line {seen[place]}: one count per SKU and warehouse"
                report.errors.append(RowError(line, row.sku, row.warehouseId, message))
                continue
            seen[place] = line
            valid.append((line, row))
    return valid


def _explain(invalid: ValidationError | ValueError) -> str:
    if isinstance(invalid, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {validation_message(e)}" for e in invalid.errors())
    return str(invalid)


class Oms:
    """The OMS's HTTP API."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json", "x-api-key": self.api_key},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, json.loads(text) if text else None


def send(
    oms: Oms, batch: list[tuple[int, CountRow]], reference: str
) -> list[tuple[int, CountRow, dict[str, Any] | str]]:
    """Each row of the batch with its result, or the reason the whole batch failed."""
    body = {"counts": [row.model_dump(exclude_none=True) for _, row in batch], "reference": reference}
    failure = ""
    for attempt in range(ATTEMPTS):
        try:
            status, answer = oms.post("/stock-counts", body)
        except (urllib.error.URLError, TimeoutError, ConnectionError) as unreachable:
            failure = f"the OMS did not answer: {unreachable}"
        else:
            if status == 200:
                return [(line, row, answer["results"][n]) for n, (line, row) in enumerate(batch)]
            failure = f"the OMS answered {status}: {json.dumps(answer)[:300]}"
            if status < 500 and status != 429:
                break  # the request itself is wrong: retrying will not help
        time.sleep(0.5 * 2**attempt)
    return [(line, row, failure) for line, row in batch]


def run(path: Path, oms: Oms, progress_stream: TextIO | None = None) -> Report:
    report = Report()
    started = time.monotonic()
    valid = checked(path, report)
    batches = [valid[i : i + MAX_COUNTS_PER_REQUEST] for i in range(0, len(valid), MAX_COUNTS_PER_REQUEST)]
    progress = Progress(report.rows, f"importing {path.name}", progress_stream)
    progress.advance(report.rows - len(valid))  # the invalid rows are done with
    with ThreadPoolExecutor(max_workers=PARALLEL_BATCHES) as pool:
        for outcomes in pool.map(lambda batch: send(oms, batch, path.name), batches):
            for line, row, result in outcomes:
                _record(report, line, row, result)
            progress.advance(len(outcomes))
    progress.close()
    report.errors.sort(key=lambda e: e.line)
    report.seconds = time.monotonic() - started
    return report


def _record(report: Report, line: int, row: CountRow, result: dict[str, Any] | str) -> None:
    if isinstance(result, str):
        report.errors.append(RowError(line, row.sku, row.warehouseId, result))
    elif result["outcome"] == "APPLIED":
        report.applied += 1
    elif result["outcome"] == "UNCHANGED":
        report.unchanged += 1
    else:
        error = result.get("error") or {}
        message = f"{error.get('code', 'REFUSED')}: {error.get('message', '')}"
        report.errors.append(RowError(line, row.sku, row.warehouseId, message))


def write_errors(report: Report, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["line", "sku", "warehouseId", "error"])
        writer.writerows((e.line, e.sku, e.warehouse_id, e.message) for e in report.errors)
