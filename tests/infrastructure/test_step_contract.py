"""Each workflow's ASL and its step handlers agree on a typed contract (shared/models/steps.py for
orders, shared/models/return_steps.py for returns): what each Task sends, what it keeps of the
result, every value a Choice state tests, and every error a Catch routes by name."""

from __future__ import annotations

import copy
import enum
import json
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from blueprint import ORDER_WORKFLOW, RETURN_WORKFLOW, Workflow
from shared import errors
from shared.models.return_steps import RETURN_STATES, ReturnExecutionInput
from shared.models.steps import STATES

Contract = dict[str, tuple[type[BaseModel], type[BaseModel]]]
# Per workflow: its Task states' models, and the model of its execution input (Choice states may
# test the input's own fields).
CONTRACTS: dict[str, tuple[Contract, type[BaseModel] | None]] = {
    ORDER_WORKFLOW.name: (dict(STATES), None),
    RETURN_WORKFLOW.name: (dict(RETURN_STATES), ReturnExecutionInput),
}


def asl(workflow: Workflow = ORDER_WORKFLOW) -> dict[str, Any]:
    return typing.cast(dict[str, Any], json.loads(workflow.definition_text()))


def all_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, those inside Map and Parallel states included."""
    for name, state in definition["States"].items():
        yield name, state
        for nested in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])):
            if nested:
                yield from all_states(nested)


def tasks(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: state for name, state in all_states(definition) if state["Type"] == "Task"}


def _payload_problems(name: str, payload: dict[str, Any], model: type[BaseModel]) -> list[str]:
    fields = {key.removesuffix(".$"): key for key in payload}
    problems = [
        f"{name}: sends {f}, which {model.__name__} does not read" for f in fields - model.model_fields.keys()
    ]
    required = {f for f, info in model.model_fields.items() if info.is_required()}
    problems += [
        f"{name}: does not send {f}, which {model.__name__} requires" for f in required - fields.keys()
    ]
    for field, key in fields.items():
        if not key.endswith(".$") and field in model.model_fields:
            try:
                TypeAdapter[Any](model.model_fields[field].annotation or Any).validate_python(payload[key])
            except ValidationError:
                problems.append(
                    f"{name}: sends {field}={payload[key]!r}, not a valid {model.__name__}.{field}"
                )
    return problems


def _selected_problems(name: str, state: dict[str, Any], model: type[BaseModel]) -> list[str]:
    selected = {key.removesuffix(".$") for key in state.get("ResultSelector", {})}
    return [
        f"{name}: selects {f}, which {model.__name__} does not have"
        for f in selected - model.model_fields.keys()
    ]


def allowed_values(model: type[BaseModel], field: str) -> set[str]:
    annotation = model.model_fields[field].annotation
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {str(member.value) for member in annotation}
    return {str(value) for value in typing.get_args(annotation)}


def _choice_problems(
    definition: dict[str, Any], states: Contract, given: type[BaseModel] | None
) -> list[str]:
    results_at: dict[str, type[BaseModel]] = {
        state["ResultPath"]: states[name][1]
        for name, state in tasks(definition).items()
        if state.get("ResultPath") and name in states
    }
    problems = []
    for name, state in all_states(definition):
        for rule in state.get("Choices", []) if state["Type"] == "Choice" else []:
            path, _, field = rule["Variable"].rpartition(".")
            if path == "$" and given is not None and "BooleanEquals" in rule:
                if given.model_fields.get(field) is None or given.model_fields[field].annotation is not bool:
                    problems.append(f"{name}: tests {rule['Variable']}, which is no boolean of the input")
                continue
            model = results_at.get(path)
            if model is None:
                problems.append(f"{name}: tests {rule['Variable']}, which no Task state's result is")
            elif rule["StringEquals"] not in allowed_values(model, field):
                problems.append(
                    f"{name}: tests {field} = {rule['StringEquals']}, which {model.__name__} never returns"
                )
    return problems


def contract_problems(
    definition: dict[str, Any], states: Contract | None = None, given: type[BaseModel] | None = None
) -> list[str]:
    states = dict(STATES) if states is None else states
    found = tasks(definition)
    problems = [f"{name}: a Task state with no contract in STATES" for name in found.keys() - states.keys()]
    problems += [f"{name}: in STATES but not in the ASL" for name in states.keys() - found.keys()]
    for name, state in found.items():
        if name in states:
            input_model, result_model = states[name]
            problems += _payload_problems(name, state["Parameters"]["Payload"], input_model)
            problems += _selected_problems(name, state, result_model)
    return problems + _choice_problems(definition, states, given)


@pytest.mark.parametrize("workflow", [ORDER_WORKFLOW, RETURN_WORKFLOW], ids=lambda w: w.name)
def test_the_asl_keeps_the_typed_step_contract(workflow: Workflow) -> None:
    states, given = CONTRACTS[workflow.name]
    assert contract_problems(asl(workflow), states, given) == []


def test_a_return_choice_on_a_resolution_no_step_returns_is_caught() -> None:
    broken = copy.deepcopy(asl(RETURN_WORKFLOW))
    broken["States"]["RouteResolution"]["Choices"][0]["StringEquals"] = "STORE_CREDIT"
    states, given = CONTRACTS[RETURN_WORKFLOW.name]
    assert contract_problems(broken, states, given) == [
        "RouteResolution: tests resolution = STORE_CREDIT, which RestockResult never returns"
    ]


def test_the_order_workflow_routes_outcomes_by_catch_with_no_choice_state() -> None:
    definition = asl()
    assert [name for name, s in all_states(definition) if s["Type"] == "Choice"] == []
    caught = {
        error
        for _, state in all_states(definition)
        for catch in state.get("Catch", [])
        for error in catch["ErrorEquals"]
        if not error.startswith("States.")
    }
    assert caught == {"OrderRejected", "OrderCancelled", "OrderBackordered", "FulfillmentFailed"}
    assert all(issubclass(getattr(errors, name), Exception) for name in caught)


def test_a_choice_on_an_outcome_no_step_returns_is_caught() -> None:
    broken = copy.deepcopy(asl())
    conclude = broken["States"]["ConcludeOrder"]
    del conclude["End"]
    conclude["Next"] = "RouteConclusion"
    rule = {"Variable": "$.conclusion.outcome", "StringEquals": "SHIPPED", "Next": "Cancelled"}
    broken["States"]["RouteConclusion"] = {"Type": "Choice", "Choices": [rule], "Default": "Rejected"}
    assert contract_problems(broken) == [
        "RouteConclusion: tests outcome = SHIPPED, which ConclusionResult never returns"
    ]


def test_a_payload_the_step_cannot_read_is_caught() -> None:
    broken = copy.deepcopy(asl())
    broken["States"]["Compensate"]["Parameters"]["Payload"]["outcome"] = "FAILURE"
    broken["States"]["AcceptOrder"]["Parameters"]["Payload"] = {"id.$": "$.orderId"}
    assert contract_problems(broken) == [
        "AcceptOrder: sends id, which StepInput does not read",
        "AcceptOrder: does not send orderId, which StepInput requires",
        "Compensate: sends outcome='FAILURE', not a valid CompensateInput.outcome",
    ]
