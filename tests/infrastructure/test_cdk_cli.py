"""`cdk synth` as a developer runs it: the pinned CLI, offline, with no AWS credentials."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text()


@pytest.mark.slow
def test_the_cdk_cli_synthesizes_offline_without_credentials(tmp_path: Path) -> None:
    cli = re.search(r"^CDK_CLI := (\S+)$", MAKEFILE, re.MULTILINE)
    assert cli, "the Makefile pins the CDK CLI"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    synth = subprocess.run(
        ["npx", "--yes", cli.group(1), "synth", "--no-lookups", "--quiet", "--output", str(tmp_path)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert synth.returncode == 0, synth.stdout + synth.stderr
    template = json.loads((tmp_path / "OmsStack.template.json").read_text())
    assert "AWS::StepFunctions::StateMachine" in {r["Type"] for r in template["Resources"].values()}
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert report.get("pluginReports", []) == [] or all(
        not p.get("violations") for p in report["pluginReports"]
    ), report
