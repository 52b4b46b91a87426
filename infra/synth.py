"""Build the CDK app and read what it synthesizes; shared by `app.py` and the tests.

The template readers work on the template dict alone, naming functions, tables and workflows by
their blueprint names (from the `OmsBlueprint` resource metadata), never by logical ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from blueprint import ORDER_WORKFLOW, ROOT, Workflow

from .constructs import BLUEPRINT_METADATA_KEY, BlueprintKind
from .stack import OmsStack

CDK_JSON = ROOT / "cdk.json"
STACK_NAME = "OmsStack"
STACK_DESCRIPTION = "Serverless Order Management System: channel webhooks to delivered orders."

Template = dict[str, Any]
Route = tuple[str, str, str, bool]  # (method, path, function name, api key required)
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")


def cdk_context() -> dict[str, Any]:
    """The context of cdk.json (feature flags), which `App()` does not read by itself."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    return context


def add_nag_checks(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def build_app(outdir: str | Path | None = None, *, nag: bool = True) -> tuple[App, OmsStack]:
    """The app `cdk synth` runs; `app.synth()` raises if cdk-nag finds an unacknowledged error."""
    app = App(outdir=str(outdir) if outdir else None, context=cdk_context())
    stack = OmsStack(app, STACK_NAME, description=STACK_DESCRIPTION)
    if nag:
        add_nag_checks(app)
    return app, stack


def load_template(outdir: Path) -> Template:
    template: Template = json.loads((outdir / f"{STACK_NAME}.template.json").read_text(encoding="utf-8"))
    return template


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == resource_type}


def blueprint_names(template: Template, kind: BlueprintKind) -> dict[str, str]:
    """Logical id -> blueprint name of every resource rendering a blueprint entry of `kind`."""
    names = {}
    for logical_id, resource in template["Resources"].items():
        tag = resource.get("Metadata", {}).get(BLUEPRINT_METADATA_KEY)
        if tag and tag["kind"] == kind:
            names[logical_id] = tag["name"]
    return names


def arn_references(value: Any) -> Iterator[str]:
    """Logical ids of every `{"Fn::GetAtt": [id, "Arn"]}` inside `value`."""
    if isinstance(value, dict):
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att[1:] == ["Arn"]:
            yield get_att[0]
        for item in value.values():
            yield from arn_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from arn_references(item)


def template_routes(template: Template) -> set[Route]:
    """Every API method as (method, path, blueprint function name, api key required)."""
    functions = blueprint_names(template, "Function")
    paths = _resource_paths(template)
    routes = set()
    for method in resources_of_type(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        (function,) = {functions[lid] for lid in arn_references(props["Integration"]) if lid in functions}
        path = paths[props["ResourceId"]["Ref"]] if "Ref" in props["ResourceId"] else "/"
        routes.add((props["HttpMethod"], path, function, bool(props.get("ApiKeyRequired", False))))
    return routes


def template_authorizers(template: Template) -> dict[tuple[str, str], str | None]:
    """(method, path) of every API method -> the blueprint function of its Lambda authorizer, or None."""
    functions = blueprint_names(template, "Function")
    authorizers = {
        lid: next(
            functions[ref] for ref in arn_references(r["Properties"]["AuthorizerUri"]) if ref in functions
        )
        for lid, r in resources_of_type(template, "AWS::ApiGateway::Authorizer").items()
    }
    paths = _resource_paths(template)
    found: dict[tuple[str, str], str | None] = {}
    for method in resources_of_type(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        path = paths[props["ResourceId"]["Ref"]] if "Ref" in props["ResourceId"] else "/"
        authorizer = props.get("AuthorizerId", {}).get("Ref")
        assert (authorizer is None) == (props["AuthorizationType"] == "NONE"), props
        found[(props["HttpMethod"], path)] = authorizers[authorizer] if authorizer else None
    return found


def _resource_paths(template: Template) -> dict[str, str]:
    """Logical id of each API Gateway resource -> its full path."""
    resources = resources_of_type(template, "AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            parent_path = path_of(parent["Ref"]) if "Ref" in parent else ""  # else: the root
            paths[logical_id] = f"{parent_path}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def template_state_machine_definition(template: Template, workflow: Workflow = ORDER_WORKFLOW) -> Any:
    """The deployed definition of `workflow`, each function ARN written back as its `${Placeholder}`.

    Equal to the parsed ASL file exactly when the stack deploys that file with every placeholder
    substituted by the ARN of the function the blueprint maps it to.
    """
    props = state_machine_properties(template, workflow)
    arn_placeholders = _function_arn_placeholders(template, workflow)
    substitutions = {
        key: _render(value, arn_placeholders)
        for key, value in props.get("DefinitionSubstitutions", {}).items()
    }

    def substitute(match: re.Match[str]) -> str:
        if match[1] not in substitutions:
            raise ValueError(f"${{{match[1]}}} has no definition substitution")
        return substitutions[match[1]]

    return json.loads(PLACEHOLDER.sub(substitute, _render(props["DefinitionString"], arn_placeholders)))


def state_machine_properties(template: Template, workflow: Workflow) -> dict[str, Any]:
    state_machines = resources_of_type(template, "AWS::StepFunctions::StateMachine")
    (props,) = [
        state_machines[logical_id]["Properties"]
        for logical_id, name in blueprint_names(template, "Workflow").items()
        if name == workflow.name
    ]
    return dict(props)


def _function_arn_placeholders(template: Template, workflow: Workflow) -> dict[str, str]:
    """Logical id of each function of `workflow` -> `${Placeholder}` the blueprint gives its ARN."""
    placeholder_of = {name: placeholder for placeholder, name in workflow.function_arns.items()}
    return {
        logical_id: f"${{{placeholder_of[name]}}}"
        for logical_id, name in blueprint_names(template, "Function").items()
        if name in placeholder_of
    }


def _render(value: Any, arn_placeholders: dict[str, str]) -> str:
    """A string, or a `Fn::Join` of strings and workflow function ARNs, as text."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_render(part, arn_placeholders) for part in parts)
    (logical_id,) = arn_references(value)
    if value != {"Fn::GetAtt": [logical_id, "Arn"]} or logical_id not in arn_placeholders:
        raise ValueError(f"not an ARN of a function of the workflow: {value!r}")
    return arn_placeholders[logical_id]


def function_asset_dirs(outdir: Path, template: Template) -> set[Path]:
    """The directories, in the cloud assembly, of the code assets of the blueprint's Lambda functions
    (not of CDK's own, such as the console deployment's)."""
    manifest = json.loads((outdir / f"{STACK_NAME}.assets.json").read_text(encoding="utf-8"))
    functions = resources_of_type(template, "AWS::Lambda::Function")
    keys = {
        functions[logical_id]["Properties"]["Code"]["S3Key"]
        for logical_id in blueprint_names(template, "Function")
    }
    return {outdir / manifest["files"][key.removesuffix(".zip")]["source"]["path"] for key in keys}
