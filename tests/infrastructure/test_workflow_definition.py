"""The deployed state machine runs the blueprint's ASL file, the same file the local runtime runs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blueprint import ORDER_WORKFLOW, WORKFLOWS
from infra.synth import PLACEHOLDER, blueprint_names, resources_of_type, template_state_machine_definition

pytestmark = pytest.mark.slow

STATELINT = Path(sys.executable).with_name("statelint")


def asl_file() -> Any:
    return json.loads(ORDER_WORKFLOW.definition_text())


def test_definition_is_the_asl_file_with_blueprint_functions(template: dict[str, Any]) -> None:
    assert template_state_machine_definition(template) == asl_file()


def test_every_placeholder_is_a_blueprint_function(template: dict[str, Any]) -> None:
    placeholders = set(PLACEHOLDER.findall(ORDER_WORKFLOW.definition_text()))
    assert placeholders == ORDER_WORKFLOW.function_arns.keys()
    (state_machine,) = resources_of_type(template, "AWS::StepFunctions::StateMachine").values()
    assert state_machine["Properties"]["DefinitionSubstitutions"].keys() == placeholders


def test_a_swapped_function_is_detected(template: dict[str, Any]) -> None:
    swapped = copy.deepcopy(template)
    (state_machine,) = resources_of_type(swapped, "AWS::StepFunctions::StateMachine").values()
    substitutions = state_machine["Properties"]["DefinitionSubstitutions"]
    substitutions["ValidateOrderArn"], substitutions["CompensateArn"] = (
        substitutions["CompensateArn"],
        substitutions["ValidateOrderArn"],
    )
    assert template_state_machine_definition(swapped) != asl_file()


def test_a_missing_substitution_is_detected(template: dict[str, Any]) -> None:
    broken = copy.deepcopy(template)
    (state_machine,) = resources_of_type(broken, "AWS::StepFunctions::StateMachine").values()
    del state_machine["Properties"]["DefinitionSubstitutions"]["AwaitEventArn"]
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
