"""The stock commands as an operator runs them against `python -m local`: a CSV import with bad
rows, and reconcile finding (then fixing) drift injected straight into the table through the AWS
endpoint, as a stray script or a console edit would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3

from tests.e2e.conftest import API_KEY, ROOT, RunningOMS
from tests.support.orders import Client

CSV = """sku,warehouseId,onHand,safetyStock
CLI-A,wh-east,12,2
CLI-B,wh-west,5
CLI-B,wh-east,3,0
CLI-C,wh-east,-3
CLI-D,wh-nowhere,4
CLI-E,wh-east
CLI-A,wh-east,9
"""


def run_cli(running_oms: RunningOMS, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "OMS_PORT": running_oms.api_url.rsplit(":", 1)[1],
        "OMS_AWS_PORT": running_oms.aws_url.rsplit(":", 1)[1],
        "OMS_API_KEY": API_KEY,
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_csv_import_applies_the_good_rows_and_reports_each_bad_one(
    running_oms: RunningOMS, client: Client, tmp_path: Path
) -> None:
    counts = tmp_path / "counts.csv"
    counts.write_text(CSV)
    errors = tmp_path / "errors.csv"

    done = run_cli(running_oms, "import-stock", str(counts), "--errors", str(errors))

    assert done.returncode == 1, done.stdout + done.stderr
    printed = done.stdout.splitlines()
    assert printed[0].startswith("line 5 CLI-C at wh-east: onHand")
    assert printed[1].startswith("line 6 CLI-D at wh-nowhere: NOT_FOUND: warehouse wh-nowhere does not exist")
    assert printed[2] == "line 7: expected 3 or 4 columns (sku,warehouseId,onHand,safetyStock), found 2"
    assert printed[3] == "line 8 CLI-A at wh-east: repeats line 2: one count per SKU and warehouse"
    assert printed[-1].startswith("7 rows: 3 applied, 0 unchanged, 4 with errors;")
    assert "importing counts.csv [" in done.stderr  # the progress bar
    assert errors.read_text().splitlines()[0] == "line,sku,warehouseId,error"
    assert len(errors.read_text().splitlines()) == 5
    a = client.stock("CLI-A")["wh-east"]
    assert (a["onHand"], a["safetyStock"], a["available"]) == (12, 2, 10)
    assert {wh: level["onHand"] for wh, level in client.stock("CLI-B").items()} == {
        "wh-west": 5,
        "wh-east": 3,
    }
    (entry,) = client.ledger("CLI-A")
    assert (entry["kind"], entry["reason"], entry["reference"]) == ("IMPORT", "CYCLE_COUNT", "counts.csv")

    again = run_cli(running_oms, "import-stock", str(counts))
    assert again.stdout.splitlines()[-1].startswith("7 rows: 0 applied, 3 unchanged, 4 with errors;")


def test_reconcile_reports_drift_injected_through_the_aws_endpoint_and_fixes_it(
    running_oms: RunningOMS, client: Client
) -> None:
    assert client.call("PUT", "/inventory/CLI-R/locations/wh-east", {"onHand": 10})[0] == 200
    assert client.call("PUT", "/inventory/CLI-S/locations/wh-west", {"onHand": 4})[0] == 200
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=running_oms.aws_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    # An unledgered receipt of 5, and a reservation nobody holds.
    dynamodb.update_item(
        TableName="oms-Inventory",
        Key={"pk": {"S": "SKU#CLI-R"}, "sk": {"S": "LOC#wh-east"}},
        UpdateExpression="SET onHand = onHand + :five, available = available + :five",
        ExpressionAttributeValues={":five": {"N": "5"}},
    )
    dynamodb.update_item(
        TableName="oms-Inventory",
        Key={"pk": {"S": "SKU#CLI-S"}, "sk": {"S": "LOC#wh-west"}},
        UpdateExpression="SET reserved = :two, available = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )

    found = run_cli(running_oms, "reconcile")

    assert found.returncode == 1, found.stdout + found.stderr
    assert "CLI-R at wh-east: onHand is 15, its ledger sums to 10" in found.stdout
    assert "CLI-S at wh-west: reserved is 2, open reservations hold 0" in found.stdout
    assert "available is 2, onHand - reserved - safetyStock is 2" not in found.stdout

    fixed = run_cli(running_oms, "reconcile", "--fix")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "2 drifted, 2 fixed" in fixed.stdout.splitlines()[-1]

    clean = run_cli(running_oms, "reconcile")
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines()[-1].endswith("0 drifted")
    r, s = client.stock("CLI-R")["wh-east"], client.stock("CLI-S")["wh-west"]
    assert (r["onHand"], r["available"], s["reserved"], s["available"]) == (15, 15, 0, 4)
    client.assert_ledger_explains_stock("CLI-R", "CLI-S")
    newest = client.ledger("CLI-R")[0]
    assert (newest["kind"], newest["actor"], newest["onHandDelta"]) == ("RECONCILE", "cli:reconcile", 5)
