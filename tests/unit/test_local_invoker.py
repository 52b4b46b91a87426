"""The in-process invoker: handler lookup, lazy import and the Invoke API's payloads."""

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from local.invoker import (
    REGISTRY,
    RegisteredFunction,
    UnknownFunctionError,
    function_name_of,
    to_json_bytes,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:oms-Echo"


@pytest.fixture
def echo() -> Iterator[RegisteredFunction]:
    function = RegisteredFunction(
        name="oms-Echo", arn=ARN, handler=lambda event, context: event, aliases=("Echo",)
    )
    REGISTRY.register(function)
    yield function
    REGISTRY.clear()


@pytest.mark.parametrize("name", ["oms-Echo", "Echo", ARN, f"{ARN}:$LATEST"])
def test_a_function_is_found_by_name_alias_or_arn(echo: RegisteredFunction, name: str) -> None:
    assert REGISTRY.resolve(name) is echo


def test_an_unknown_function_is_reported(echo: RegisteredFunction) -> None:
    with pytest.raises(UnknownFunctionError):
        REGISTRY.resolve("oms-Other")


def test_function_names_come_out_of_arns() -> None:
    assert function_name_of(ARN) == "oms-Echo"
    assert function_name_of("oms-Echo") == "oms-Echo"


def test_a_handler_path_is_imported_on_first_use(echo: RegisteredFunction) -> None:
    echo.handler, echo.handler_path = None, "operator.is_not"  # any (event, context) callable

    assert REGISTRY.invoke("Echo", {"a": 1}) is True
    assert echo.handler is not None


def test_an_unimportable_handler_fails_like_the_python_runtime(echo: RegisteredFunction) -> None:
    echo.handler, echo.handler_path = None, "functions.does_not_exist.handler.lambda_handler"

    invocation = REGISTRY.invoke_payload("Echo", b"{}")

    assert invocation.unhandled_error
    assert json.loads(invocation.payload)["errorType"] == "Runtime.ImportModuleError"


def test_overriding_replaces_the_handler(echo: RegisteredFunction) -> None:
    REGISTRY.override(ARN, lambda event, context: "fake")

    assert REGISTRY.invoke_payload("Echo", b"{}").payload == b'"fake"'


def test_results_are_json_with_decimals_as_numbers() -> None:
    assert (
        to_json_bytes({"a": Decimal("1.5"), "b": Decimal("2"), "c": None}) == b'{"a": 1.5, "b": 2, "c": null}'
    )


def overlap_of(process_state: bool) -> int:
    """The most invocations that ran at once when 6 threads invoke 3 functions together."""
    running, most, guard = 0, 0, threading.Lock()

    def slow(event: Any, context: Any) -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with guard:
            running -= 1

    for name in ("f1", "f2", "f3"):
        REGISTRY.register(RegisteredFunction(name, f"arn:{name}", handler=slow, process_state=process_state))
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda n: REGISTRY.invoke(n, {}), ["f1", "f2", "f3"] * 2))
    finally:
        REGISTRY.clear()
    return most


def test_handlers_that_keep_invocation_state_in_globals_run_one_at_a_time() -> None:
    """Lambda gives each concurrent invocation its own process; Powertools' event handler keeps the
    current event in a class attribute shared by every resolver, so locally such functions, all of
    them together, take turns. Handlers without such state run concurrently."""
    assert overlap_of(process_state=True) == 1
    assert overlap_of(process_state=False) > 1
