"""The deployed state machine runs the blueprint's ASL file, the same file the local runtime runs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blueprint import ORDER_WORKFLOW, RETURN_WORKFLOW, WORKFLOWS, Workflow
from infra.synth import (
    PLACEHOLDER,
    blueprint_names,
    state_machine_properties,
    template_state_machine_definition,
)

pytestmark = pytest.mark.slow

STATELINT = Path(sys.executable).with_name("statelint")


def asl_file(workflow: Workflow) -> Any:
    return json.loads(workflow.definition_text())


@pytest.mark.parametrize("workflow", WORKFLOWS.values(), ids=list(WORKFLOWS))
def test_definition_is_the_asl_file_with_blueprint_functions(
    template: dict[str, Any], workflow: Workflow
) -> None:
    assert template_state_machine_definition(template, workflow) == asl_file(workflow)


@pytest.mark.parametrize("workflow", WORKFLOWS.values(), ids=list(WORKFLOWS))
def test_every_placeholder_is_a_blueprint_function(template: dict[str, Any], workflow: Workflow) -> None:
    placeholders = set(PLACEHOLDER.findall(workflow.definition_text()))
    assert placeholders == workflow.function_arns.keys()
    substitutions = state_machine_properties(template, workflow)["DefinitionSubstitutions"]
    assert substitutions.keys() == placeholders


def _order_machine(template: dict[str, Any]) -> dict[str, Any]:
    return state_machine_properties(template, ORDER_WORKFLOW)


def test_a_swapped_function_is_detected(template: dict[str, Any]) -> None:
    swapped = copy.deepcopy(template)
    substitutions = _order_machine(swapped)["DefinitionSubstitutions"]
    substitutions["AcceptOrderArn"], substitutions["CompensateArn"] = (
        substitutions["CompensateArn"],
        substitutions["AcceptOrderArn"],
    )
    assert template_state_machine_definition(swapped) != asl_file(ORDER_WORKFLOW)


def test_a_function_of_the_other_workflow_is_detected(template: dict[str, Any]) -> None:
    crossed = copy.deepcopy(template)
    substitutions = state_machine_properties(crossed, RETURN_WORKFLOW)["DefinitionSubstitutions"]
    substitutions["RefundReturnArn"] = _order_machine(crossed)["DefinitionSubstitutions"]["CompensateArn"]
    with pytest.raises(ValueError, match="not an ARN of a function of the workflow"):
        template_state_machine_definition(crossed, RETURN_WORKFLOW)


def test_a_missing_substitution_is_detected(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    del _order_machine(broken)["DefinitionSubstitutions"]["AwaitEventArn"]
    with pytest.raises(ValueError, match="AwaitEventArn"):
        template_state_machine_definition(broken)


def test_each_workflow_is_tagged_once(template: dict[str, Any]) -> None:
    assert sorted(blueprint_names(template, "Workflow").values()) == sorted(WORKFLOWS)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_asl_file_is_valid(name: str) -> None:
    # FLOAT: `BackoffRate: 2.0` style numbers; URI: `${Placeholder}` ARNs before substitution.
    result = subprocess.run(
        [str(STATELINT), "--ignore=FLOAT,URI", str(WORKFLOWS[name].definition_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
