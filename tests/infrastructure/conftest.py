"""Synthesize the OMS stack once per session (5-10 s) and share the result."""

from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.synth import build_app, load_template


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    template: dict[str, Any]
    # Why `app.synth()` failed (cdk-nag errors), or None: kept so that one test reports it
    # while the template tests still run on the template written before validation.
    synth_error: str | None


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, _ = build_app(outdir)
    try:
        app.synth()
    except RuntimeError as error:
        return Synthesized(outdir, load_template(outdir), str(error))
    return Synthesized(outdir, load_template(outdir), None)


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> dict[str, Any]:
    return synthesized.template
