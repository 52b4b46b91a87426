"""Runs Lambda handlers in this process, the way the Lambda service would run them.

One process-wide registry maps a function (physical name, blueprint name or ARN) to its
handler. Both callers use it: moto's Lambda backend (patched in `local.moto_patches`, reached
by Step Functions tasks) and the local API gateway. Real handlers are imported lazily by dotted
path on first use; tests replace any of them with `REGISTRY.override(name, fake)`.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shared.errors import WORKFLOW_OUTCOMES

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Any]

# Lambda runs each concurrent invocation in its own execution environment (its own process), so a
# handler may keep per-invocation state in globals: Powertools' event handler does
# (`BaseRouter.current_event` is a class attribute shared by every resolver), and so does a
# module-level `BatchProcessor`. Here every handler shares one process: functions marked
# `process_state` therefore run one invocation at a time, all of them under this one lock, since
# the Powertools global is shared across functions too. Workflow steps, which keep no such state,
# run concurrently.
_PROCESS_STATE = threading.RLock()


class UnknownFunctionError(LookupError):
    """No handler is registered under that function name or ARN."""


class HandlerImportError(Exception):
    """The handler's module or attribute cannot be imported (as the Python runtime reports it)."""

    error_type = "Runtime.ImportModuleError"


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started_at: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        # Informative only: a thread cannot be killed, so the timeout is not enforced locally.
        elapsed = time.monotonic() - self.started_at
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


@dataclass
class RegisteredFunction:
    name: str
    arn: str
    handler_path: str | None = None
    handler: Handler | None = None
    memory_mb: int = 128
    timeout_seconds: int = 3
    aliases: tuple[str, ...] = ()
    # The handler keeps per-invocation state in process globals (see _PROCESS_STATE).
    process_state: bool = False

    def run(self, event: Any, context: LambdaContext) -> Any:
        if not self.process_state:
            return self.callable()(event, context)
        with _PROCESS_STATE:
            return self.callable()(event, context)

    def callable(self) -> Handler:
        if self.handler is None:
            if self.handler_path is None:
                raise UnknownFunctionError(f"function {self.name} has neither a handler nor a handler path")
            self.handler = import_handler(self.handler_path)
        return self.handler

    def context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=self.memory_mb,
            timeout_seconds=self.timeout_seconds,
        )


@dataclass(frozen=True)
class Invocation:
    """What the Lambda Invoke API returns: a JSON payload, flagged when the handler raised."""

    payload: bytes
    unhandled_error: bool = False


def import_handler(dotted_path: str) -> Handler:
    module_name, _, attribute = dotted_path.rpartition(".")
    try:
        handler: Handler = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise HandlerImportError(f"Unable to import module '{dotted_path}': {exc}") from exc
    return handler


def function_name_of(name_or_arn: str) -> str:
    """`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` -> `<name>`; names pass through."""
    parts = name_or_arn.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[5] == "function":
        return parts[6]
    return name_or_arn


def to_json_bytes(value: Any) -> bytes:
    return json.dumps(value, default=_json_default).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The body the Python runtime returns for an unhandled exception; Retry/Catch match `errorType`."""
    return {
        "errorMessage": str(exc),
        "errorType": HandlerImportError.error_type
        if isinstance(exc, HandlerImportError)
        else type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


class HandlerRegistry:
    def __init__(self) -> None:
        self._functions: dict[str, RegisteredFunction] = {}
        self._lock = threading.Lock()

    def register(self, function: RegisteredFunction) -> None:
        with self._lock:
            for key in (function.name, function.arn, *function.aliases):
                self._functions[key] = function

    def override(self, name_or_arn: str, handler: Handler) -> None:
        """Run `handler` instead of the function's own (tests register fakes this way)."""
        self.resolve(name_or_arn).handler = handler

    def resolve(self, name_or_arn: str) -> RegisteredFunction:
        found = self._functions.get(name_or_arn) or self._functions.get(function_name_of(name_or_arn))
        if found is None:
            raise UnknownFunctionError(f"no local handler is registered for {name_or_arn!r}")
        return found

    def is_registered(self, name_or_arn: str) -> bool:
        try:
            self.resolve(name_or_arn)
        except UnknownFunctionError:
            return False
        return True

    def clear(self) -> None:
        with self._lock:
            self._functions.clear()

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """Call the handler like Lambda does; its exceptions propagate."""
        function = self.resolve(name_or_arn)
        return function.run(event, function.context())

    def invoke_payload(self, name_or_arn: str, body: bytes | str | None) -> Invocation:
        """The Invoke API: JSON in, JSON out, an unhandled exception becomes an error payload."""
        function = self.resolve(name_or_arn)
        context = function.context()
        try:
            event = json.loads(body) if body else {}
            return Invocation(to_json_bytes(function.run(event, context)))
        except WORKFLOW_OUTCOMES as outcome:  # routed by the workflow's Catch: one line, no traceback
            logger.info("%s raised %s: %s", function.name, type(outcome).__name__, outcome)
            return Invocation(
                to_json_bytes(error_payload(outcome, context.aws_request_id)), unhandled_error=True
            )
        except Exception as exc:
            logger.warning("%s raised %s: %s", function.name, type(exc).__name__, exc, exc_info=True)
            return Invocation(to_json_bytes(error_payload(exc, context.aws_request_id)), unhandled_error=True)


REGISTRY = HandlerRegistry()
