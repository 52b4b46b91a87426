"""The import benchmark's CSV: valid for the CLI, one count per location, and its summary parsed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks import stock_import
from cli import import_stock


def test_the_generated_csv_is_what_the_cli_accepts_one_count_per_location(tmp_path: Path):
    rows = stock_import.counts(40)
    path = tmp_path / "counts.csv"
    stock_import.write_csv(path, rows)

    report = import_stock.Report()
    valid = import_stock.checked(path, report)

    assert (report.rows, report.errors, len(valid)) == (40, [], 40)
    assert len({(row.sku, row.warehouseId) for _, row in valid}) == 40
    assert Counter(row.warehouseId for _, row in valid) == {"wh-east": 20, "wh-west": 20}
    assert sum(row.safetyStock is not None for _, row in valid) == 10
    assert [(row.sku, row.onHand) for _, row in valid[:3]] == [
        ("IMP-00001", 1),
        ("IMP-00001", 38),
        ("IMP-00002", 75),
    ]
    with_safety = rows[3]
    assert (with_safety.safety_stock, with_safety.available) == (11, 101)


def test_the_clis_summary_line_is_read_and_anything_else_is_an_error():
    printed = "line 3 A at wh: bad\n1000 rows: 998 applied, 1 unchanged, 1 with errors; 51.2 s, 20 rows/s\n"
    done = stock_import.parse_summary(printed, 52.0, 1, Counter({"Query": 3}))
    assert (done.rows, done.applied, done.unchanged, done.errors, done.seconds) == (1000, 998, 1, 1, 51.2)
    assert done.rate == pytest.approx(1000 / 51.2)
    assert done.calls_per_row == 0.003
    with pytest.raises(RuntimeError, match="no summary"):
        stock_import.parse_summary("Traceback ...\n", 1.0, 1, Counter())
