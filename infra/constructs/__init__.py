"""One construct per concern: tables, queues, secrets, functions, workflow, API."""

from __future__ import annotations

from typing import Literal

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

# Template metadata naming the blueprint entry a resource renders, so that template readers
# (infra/synth.py, tests) find "the Intake function" without relying on logical ids.
BLUEPRINT_METADATA_KEY = "OmsBlueprint"
BlueprintKind = Literal[
    "Table", "Function", "Workflow", "Queue", "Secret", "EventBus", "Rule", "EmailTemplate"
]


def tag_with_blueprint_name(construct: IConstruct, kind: BlueprintKind, name: str) -> None:
    resource = construct.node.default_child
    assert isinstance(resource, CfnResource), f"{construct.node.path} has no CloudFormation resource"
    resource.add_metadata(BLUEPRINT_METADATA_KEY, {"kind": kind, "name": name})


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding (e.g. `AwsSolutions-IAM5[Resource::*]`) on `scope` and below."""
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))
