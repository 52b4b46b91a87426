"""The blueprint refers only to what it defines, and derives each function's environment from it."""

from __future__ import annotations

import pytest

import blueprint
from blueprint import FUNCTIONS, WORKFLOWS, Function


def test_every_name_the_blueprint_uses_is_defined() -> None:
    assert blueprint.dangling_references() == []


def test_a_reference_to_an_unknown_workflow_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    stray = Function(
        name="Stray",
        handler="x.y",
        description="",
        tables={"Nope": "read"},
        workflows={"Returns": ("start",)},
    )
    monkeypatch.setitem(FUNCTIONS, "Stray", stray)
    assert blueprint.dangling_references() == ["Stray: no table Nope", "Stray: no workflow Returns"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_function_gets_the_arn_of_exactly_the_workflows_it_may_start_or_observe(name: str) -> None:
    spec = FUNCTIONS[name]
    workflow_keys = {w.env for w in WORKFLOWS.values()} & set(spec.environment_keys())
    known = {*spec.workflows_allowed_to("start"), *spec.workflows_allowed_to("observe")}
    assert workflow_keys == {WORKFLOWS[w].env for w in known}


def test_callbacks_and_starts_are_declared_per_workflow() -> None:
    intake = FUNCTIONS["Intake"]
    assert intake.workflows_allowed_to("start") == ["OrderWorkflow"]
    assert FUNCTIONS["FulfillmentEvents"].workflows_allowed_to("start") == []
    assert FUNCTIONS["FulfillmentEvents"].workflows_allowed_to("callback") == ["OrderWorkflow"]
    assert FUNCTIONS["OrdersApi"].workflows_allowed_to("observe") == ["OrderWorkflow"]
    assert FUNCTIONS["OrdersApi"].workflows_allowed_to("start") == []


def test_a_reference_to_an_unknown_secret_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        FUNCTIONS, "Stray", Function(name="Stray", handler="x.y", description="", secrets=("Nope",))
    )
    assert blueprint.dangling_references() == ["Stray: no secret Nope"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_function_learns_where_exactly_the_secrets_it_may_read_are(name: str) -> None:
    spec = FUNCTIONS[name]
    secret_keys = {s.env for s in blueprint.SECRETS.values()} & set(spec.environment_keys())
    assert secret_keys == {blueprint.SECRETS[s].env for s in spec.secrets}
