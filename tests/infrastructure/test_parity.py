"""The cloud stack and the local runtime are one system: same routes, state machine and queues."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from blueprint import (
    API_AUTHORIZER,
    BUSES,
    EMAIL_TEMPLATES,
    ORDER_WORKFLOW,
    QUEUES,
    ROUTES,
    RULES,
    WORKFLOWS,
    Workflow,
)
from infra.constructs import BLUEPRINT_METADATA_KEY
from infra.synth import (
    resources_of_type,
    template_authorizers,
    template_routes,
    template_state_machine_definition,
)
from local import gateway
from local.runtime import LocalOMS


@pytest.fixture(scope="module")
def local_oms() -> Iterator[LocalOMS]:
    with LocalOMS("inprocess") as running:
        yield running


def with_placeholders(definition: str, oms: LocalOMS, workflow: Workflow = ORDER_WORKFLOW) -> Any:
    """The locally deployed ASL with each function ARN written back as its `${Placeholder}`."""
    for placeholder, function_name in workflow.function_arns.items():
        definition = definition.replace(oms.deployment.function_arns[function_name], f"${{{placeholder}}}")
    return json.loads(definition)


def test_the_stack_and_the_local_runtime_serve_the_same_routes(template: dict[str, Any]) -> None:
    assert template_routes(template) == gateway.served_routes()
    assert len(gateway.served_routes()) == len(ROUTES)


def test_the_stack_and_the_local_gateway_authorize_the_same_routes(template: dict[str, Any]) -> None:
    assert template_authorizers(template) == gateway.authorizers()
    assert set(gateway.authorizers().values()) == {API_AUTHORIZER, None}


@pytest.mark.parametrize("workflow", WORKFLOWS.values(), ids=list(WORKFLOWS))
def test_the_stack_and_the_local_runtime_run_the_same_state_machines(
    template: dict[str, Any], local_oms: LocalOMS, workflow: Workflow
) -> None:
    deployed_locally = with_placeholders(local_oms.deployment.definitions[workflow.name], local_oms, workflow)

    assert template_state_machine_definition(template, workflow) == deployed_locally
    assert deployed_locally == json.loads(workflow.definition_text())


def test_the_local_state_machine_is_the_one_moto_executes(local_oms: LocalOMS) -> None:
    sfn = local_oms.client("stepfunctions")
    described = sfn.describe_state_machine(stateMachineArn=local_oms.deployment.order_workflow_arn)

    assert described["definition"] == local_oms.deployment.order_workflow_definition
    assert described["type"] == "STANDARD"


@pytest.mark.parametrize("name", QUEUES)
def test_the_stack_and_the_local_runtime_make_the_same_queues(
    template: dict[str, Any], local_oms: LocalOMS, name: str
) -> None:
    cloud = next(
        r["Properties"]
        for r in resources_of_type(template, "AWS::SQS::Queue").values()
        if r.get("Metadata", {}).get(BLUEPRINT_METADATA_KEY, {}).get("name") == name
    )
    local = local_oms.client("sqs").get_queue_attributes(
        QueueUrl=local_oms.deployment.queue_urls[name], AttributeNames=["All"]
    )["Attributes"]

    assert int(local["VisibilityTimeout"]) == cloud["VisibilityTimeout"]
    assert int(local["MessageRetentionPeriod"]) == cloud["MessageRetentionPeriod"]
    redrive = json.loads(local["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == cloud["RedrivePolicy"]["maxReceiveCount"]
    assert redrive["deadLetterTargetArn"].endswith(
        local_oms.deployment.dead_letter_queue_urls[name].rsplit("/")[-1]
    )


def _tagged(template: dict[str, Any], resource_type: str, kind: str, name: str) -> dict[str, Any]:
    return next(
        r["Properties"]
        for r in resources_of_type(template, resource_type).values()
        if r.get("Metadata", {}).get(BLUEPRINT_METADATA_KEY) == {"kind": kind, "name": name}
    )


@pytest.mark.parametrize("name", RULES)
def test_the_stack_and_the_local_runtime_make_the_same_bus_rules(
    template: dict[str, Any], local_oms: LocalOMS, name: str
) -> None:
    cloud = _tagged(template, "AWS::Events::Rule", "Rule", name)
    events = local_oms.client("events")
    bus = local_oms.deployment.bus_names[RULES[name].bus]
    local = events.describe_rule(Name=f"{local_oms.naming.prefix}-{name}", EventBusName=bus)
    (target,) = events.list_targets_by_rule(Rule=local["Name"], EventBusName=bus)["Targets"]

    assert json.loads(local["EventPattern"]) == cloud["EventPattern"]
    assert local["State"] == cloud["State"] == "ENABLED"
    queue_url = local_oms.deployment.queue_urls[RULES[name].queue]
    assert target["Arn"].rsplit(":", 1)[1] == queue_url.rsplit("/", 1)[1]
    assert RULES[name].bus in BUSES


@pytest.mark.parametrize("name", EMAIL_TEMPLATES)
def test_the_stack_and_the_local_runtime_make_the_same_email_templates(
    template: dict[str, Any], local_oms: LocalOMS, name: str
) -> None:
    cloud = _tagged(template, "AWS::SES::Template", "EmailTemplate", name)["Template"]
    local = local_oms.client("ses").get_template(
        TemplateName=local_oms.deployment.email_template_names[name]
    )["Template"]

    assert local["TemplateName"] == f"{local_oms.naming.prefix}-{name}"
    assert cloud["TemplateName"].endswith(f"-{name}")
    assert {k: v for k, v in local.items() if k != "TemplateName"} == {
        k: v for k, v in cloud.items() if k != "TemplateName"
    }
