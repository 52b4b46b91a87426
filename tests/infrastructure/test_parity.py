"""The cloud stack and the local runtime are one system: same routes, same state machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from blueprint import ORDER_WORKFLOW, ROUTES
from infra.synth import template_routes, template_state_machine_definition
from local import gateway
from local.runtime import LocalOMS


@pytest.fixture(scope="module")
def local_oms() -> Iterator[LocalOMS]:
    with LocalOMS("inprocess") as running:
        yield running


def with_placeholders(definition: str, oms: LocalOMS) -> Any:
    """The locally deployed ASL with each function ARN written back as its `${Placeholder}`."""
    for placeholder, function_name in ORDER_WORKFLOW.function_arns.items():
        definition = definition.replace(oms.deployment.function_arns[function_name], f"${{{placeholder}}}")
    return json.loads(definition)


def test_the_stack_and_the_local_runtime_serve_the_same_routes(template: dict[str, Any]) -> None:
    assert template_routes(template) == gateway.served_routes()
    assert len(gateway.served_routes()) == len(ROUTES)


def test_the_stack_and_the_local_runtime_run_the_same_state_machine(
    template: dict[str, Any], local_oms: LocalOMS
) -> None:
    deployed_locally = with_placeholders(local_oms.deployment.order_workflow_definition, local_oms)

    assert template_state_machine_definition(template) == deployed_locally
    assert deployed_locally == json.loads(ORDER_WORKFLOW.definition_text())


def test_the_local_state_machine_is_the_one_moto_executes(local_oms: LocalOMS) -> None:
    sfn = local_oms.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=local_oms.deployment.order_workflow_arn)

    assert described["definition"] == local_oms.deployment.order_workflow_definition
    assert described["type"] == "STANDARD"
