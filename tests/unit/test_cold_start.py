"""What a cold start imports, in a fresh interpreter with the environment Lambda gives the function and
only what Lambda has (the code asset, the Powertools layer's distributions, the runtime's boto3): no
timing here (that is the benchmark's, `python -m benchmarks --only cold-start`), only which modules
load, so that a handler cannot silently start paying for machinery it never runs again."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from benchmarks import cold_start
from blueprint import FUNCTIONS, api_functions

API_NAMES = {f.name for f in api_functions()}
# Only ApiInfo writes the OpenAPI document, whose models take long to import: it loads them when the
# document is asked for, not at import.
DOCUMENT_WRITER = "ApiInfo"
EVENT_HANDLER = "aws_lambda_powertools.event_handler"
OPENAPI_MODELS = "aws_lambda_powertools.event_handler.openapi.models"


@pytest.fixture(scope="module")
def box() -> Iterator[cold_start.Sandbox]:
    with cold_start.sandbox() as sandbox:
        yield sandbox


def modules_loaded_by(names: list[str], box: cold_start.Sandbox, then: str = "") -> set[str]:
    """The modules loaded once every named function's handler module is imported (and `then` run), in
    one interpreter with their Lambda environments merged (a module none of them loads is loaded by
    no single one)."""
    environment: dict[str, str] = {}
    for name in names:
        environment |= cold_start.lambda_environment(FUNCTIONS[name], box)
    modules = [FUNCTIONS[name].handler.rsplit(".", 1)[0] for name in names]
    code = "import importlib, json, sys\n"
    code += f"for m in {modules!r}: importlib.import_module(m)\n"
    code += f"{then}\n"
    code += "print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=box.task_root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def under(package: str, modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m == package or m.startswith(package + "."))


def test_workflow_steps_and_queue_and_stream_consumers_do_not_import_the_api_event_handler(box):
    not_api = sorted(name for name in FUNCTIONS if name not in API_NAMES)
    assert "AcceptOrder" in not_api and "EventPublisher" in not_api and "ApiAuthorizer" in not_api
    modules = modules_loaded_by(not_api, box)
    assert under(EVENT_HANDLER, modules) == []
    assert "sqlite3" not in modules  # X-Ray patches only what the OMS calls out with


def test_no_api_function_imports_the_openapi_documents_models_not_even_the_one_writing_it(box):
    modules = modules_loaded_by(sorted(API_NAMES), box)
    assert under(EVENT_HANDLER, modules)  # they do route with Powertools' resolver
    assert OPENAPI_MODELS not in modules
    assert "sqlite3" not in modules
    writer = FUNCTIONS[DOCUMENT_WRITER].handler.rsplit(".", 1)[0]
    asked = modules_loaded_by([DOCUMENT_WRITER], box, then=f"sys.modules[{writer!r}].security_schemes()")
    assert OPENAPI_MODELS in asked  # the document's security schemes load them


def test_tracing_patches_what_the_oms_calls_out_with(box):
    environment = cold_start.lambda_environment(FUNCTIONS["ReserveInventory"], box)
    code = "import functions.reserve_inventory.handler\n"
    code += (
        "from aws_xray_sdk.core.patcher import _PATCHED_MODULES\nprint(','.join(sorted(_PATCHED_MODULES)))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=box.task_root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "botocore,httplib"


def test_the_sandbox_holds_only_what_lambda_has(box):
    """The dev virtualenv's packages (moto, requests, the CDK) cannot be imported, nor the repository's
    folders that are not in the code asset (blueprint, local, benchmarks)."""
    environment = cold_start.lambda_environment(FUNCTIONS["AcceptOrder"], box)
    names = [
        "boto3",
        "pydantic",
        "aws_xray_sdk",
        "shared",
        "moto",
        "requests",
        "aws_cdk",
        "blueprint",
        "local",
    ]
    code = f"import importlib.util as u\nprint(','.join(n for n in {names!r} if u.find_spec(n)))"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=box.task_root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().split(",") == ["boto3", "pydantic", "aws_xray_sdk", "shared"]


def test_the_environment_is_the_functions_on_lambda_and_none_of_this_shells(box, monkeypatch):
    monkeypatch.setenv("OMS_API_KEY", "from-the-dev-shell")
    environment = cold_start.lambda_environment(FUNCTIONS["ReserveInventory"], box)
    assert "OMS_API_KEY" not in environment
    assert environment["LAMBDA_TASK_ROOT"] == str(box.task_root)
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "oms-ReserveInventory"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "oms"
    assert environment["BACKORDER_DAY_SECONDS"] == "86400"  # the function's settings
    assert environment["ORDERS_TABLE"] == "oms-Orders"  # its tables' names, as the stack fills them
    assert "RETURNS_TABLE" not in environment  # not one of its tables


def test_the_goal_is_the_worst_ratio():
    def function(name: str, ratio: float) -> cold_start.FunctionColdStart:
        return cold_start.FunctionColdStart(
            name=name,
            module=f"functions.{name}.handler",
            import_ms=(ratio * 100,),
            boto3_ms=(100.0,),
            import_cpu_ms=(ratio * 90,),
            boto3_cpu_ms=(90.0,),
            compiled_ms=(ratio * 80,),
            modules=frozenset(),
        )

    package = cold_start.Package(1, 1, 0, 1, (), ())
    result = cold_start.ColdStartResult((function("A", 1.5), function("B", 2.5)), package, 1, 1.0)
    assert result.goal() == cold_start.Goal(value=2.5, goal=2.0, met=False)
    assert result.worst().name == "B"
    result = cold_start.ColdStartResult((function("A", 1.5), function("B", 2.0)), package, 1, 1.0)
    assert result.goal().met
