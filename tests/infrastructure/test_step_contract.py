"""The order workflow's ASL and its step handlers agree on a typed contract (shared/models/steps.py):
what each Task sends, what it keeps of the result, and every value a Choice state tests."""

from __future__ import annotations

import copy
import json
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from blueprint import ORDER_WORKFLOW
from shared.models.steps import STATES


def asl() -> dict[str, Any]:
    return typing.cast(dict[str, Any], json.loads(ORDER_WORKFLOW.definition_text()))


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
    return {str(value) for value in typing.get_args(model.model_fields[field].annotation)}


def _choice_problems(definition: dict[str, Any]) -> list[str]:
    results_at = {
        state["ResultPath"]: STATES[name][1]
        for name, state in tasks(definition).items()
        if state.get("ResultPath") and name in STATES
    }
    problems = []
    for name, state in all_states(definition):
        for rule in state.get("Choices", []) if state["Type"] == "Choice" else []:
            path, _, field = rule["Variable"].rpartition(".")
            model = results_at.get(path)
            if model is None:
                problems.append(f"{name}: tests {rule['Variable']}, which no Task state's result is")
            elif rule["StringEquals"] not in allowed_values(model, field):
                problems.append(
                    f"{name}: tests {field} = {rule['StringEquals']}, which {model.__name__} never returns"
                )
    return problems


def contract_problems(definition: dict[str, Any]) -> list[str]:
    found = tasks(definition)
    problems = [f"{name}: a Task state with no contract in STATES" for name in found.keys() - STATES.keys()]
    problems += [f"{name}: in STATES but not in the ASL" for name in STATES.keys() - found.keys()]
    for name, state in found.items():
        if name in STATES:
            input_model, result_model = STATES[name]
            problems += _payload_problems(name, state["Parameters"]["Payload"], input_model)
            problems += _selected_problems(name, state, result_model)
    return problems + _choice_problems(definition)


def test_the_asl_keeps_the_typed_step_contract() -> None:
    assert contract_problems(asl()) == []


def test_every_choice_rule_tests_a_string_value() -> None:
    rules = [rule for _, s in all_states(asl()) if s["Type"] == "Choice" for rule in s["Choices"]]
    assert rules and all(set(rule) == {"Variable", "StringEquals", "Next"} for rule in rules)


def test_a_choice_on_an_outcome_no_step_returns_is_caught() -> None:
    broken = copy.deepcopy(asl())
    broken["States"]["RouteValidation"]["Choices"][0]["StringEquals"] = "VALIDATED"
    assert contract_problems(broken) == [
        "RouteValidation: tests outcome = VALIDATED, which ValidationResult never returns"
    ]


def test_a_payload_the_step_cannot_read_is_caught() -> None:
    broken = copy.deepcopy(asl())
    broken["States"]["Compensate"]["Parameters"]["Payload"]["outcome"] = "FAILURE"
    broken["States"]["ValidateOrder"]["Parameters"]["Payload"] = {"id.$": "$.orderId"}
    assert contract_problems(broken) == [
        "ValidateOrder: sends id, which StepInput does not read",
        "ValidateOrder: does not send orderId, which StepInput requires",
        "Compensate: sends outcome='FAILURE', not a valid CompensateInput.outcome",
    ]
