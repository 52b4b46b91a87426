"""Counts what the OMS does while orders run: AWS API calls at the botocore level, handler calls.

botocore copies `botocore.handlers.BUILTIN_HANDLERS` into every session it creates (moto hooks in
the same way), so once `Recorder.install()` has run, every client made afterwards reports each
API call to us: the handlers' clients (`shared.aws`, Powertools idempotency's own session), moto's
Step Functions interpreter's Lambda client, and LocalOMS's. Calls are kept only inside a `window()`,
and never from a thread inside `unobserved()`: what the benchmark itself does to watch the OMS
(polling, reading results back) is not part of what an order costs.

DynamoDB calls are kept whole, as wire-format JSON (request and response), so that request units
can be computed from item sizes afterwards (moto reports no ConsumedCapacity for transactions).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.handlers import BUILTIN_HANDLERS

from local.invoker import Handler

_REQUEST_BODY = "oms_benchmark_request_body"
_STARTED = "oms_benchmark_started"


@dataclass(frozen=True)
class DynamoCall:
    """One DynamoDB API call; `function` is the blueprint function that made it (None outside one)."""

    function: str | None
    operation: str
    request: dict[str, Any]
    response: dict[str, Any]
    failed: bool
    seconds: float  # local time from request to response, waiting for moto's DynamoDB lock included


@dataclass(frozen=True)
class Invocation:
    function: str
    seconds: float


@dataclass
class Usage:
    """What the OMS did during one window."""

    dynamodb_calls: list[DynamoCall] = field(default_factory=list)
    aws_calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" -> calls
    invocations: list[Invocation] = field(default_factory=list)
    api_requests: Counter[str] = field(default_factory=Counter)  # "METHOD /route" -> requests


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage: Usage | None = None
        self._thread = threading.local()
        self._hooks: list[tuple[str, Any]] = [
            ("before-call", self._before_call),
            ("after-call", self._after_call),
        ]

    # -- installation ------------------------------------------------------------------------

    def install(self) -> None:
        """Hook into every botocore session created from now on (call before LocalOMS starts)."""
        for hook in self._hooks:
            if hook not in BUILTIN_HANDLERS:
                BUILTIN_HANDLERS.append(hook)
        if boto3.DEFAULT_SESSION is not None:  # made before we were installed: tell it too
            for event, handler in self._hooks:
                boto3.DEFAULT_SESSION.events.register(event, handler)

    def uninstall(self) -> None:
        for hook in self._hooks:
            if hook in BUILTIN_HANDLERS:
                BUILTIN_HANDLERS.remove(hook)
        if boto3.DEFAULT_SESSION is not None:
            for event, handler in self._hooks:
                boto3.DEFAULT_SESSION.events.unregister(event, handler)

    # -- what is counted ---------------------------------------------------------------------

    @contextmanager
    def window(self) -> Iterator[Usage]:
        """Count what happens from now until the block ends (one window at a time)."""
        usage = Usage()
        with self._lock:
            self._usage = usage
        try:
            yield usage
        finally:
            with self._lock:
                self._usage = None

    @contextmanager
    def unobserved(self) -> Iterator[None]:
        """Nothing this thread does inside the block is counted (the benchmark watching the OMS)."""
        previous = getattr(self._thread, "unobserved", False)
        self._thread.unobserved = True
        try:
            yield
        finally:
            self._thread.unobserved = previous

    def count_api_request(self, route: str) -> None:
        usage = self._current()
        if usage is not None:
            with self._lock:
                usage.api_requests[route] += 1

    def timed(self, function: str, handler: Handler) -> Handler:
        """`handler`, timed, and named as the caller of the AWS calls it makes on its thread."""

        def run(event: Any, context: Any) -> Any:
            usage = self._current()
            if usage is None:
                return handler(event, context)
            caller = getattr(self._thread, "function", None)
            self._thread.function = function
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                elapsed = time.perf_counter() - started
                self._thread.function = caller
                with self._lock:
                    usage.invocations.append(Invocation(function, elapsed))

        return run

    def _current(self) -> Usage | None:
        if getattr(self._thread, "unobserved", False):
            return None
        return self._usage

    # -- botocore hooks ----------------------------------------------------------------------

    def _before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if self._current() is not None and model.service_model.service_name == "dynamodb":
            context[_REQUEST_BODY] = params.get("body") or b"{}"
            context[_STARTED] = time.perf_counter()

    def _after_call(self, http_response: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
        usage = self._current()
        if usage is None:
            return
        service = model.service_model.service_name
        call = None
        if service == "dynamodb" and _REQUEST_BODY in context:
            call = DynamoCall(
                function=getattr(self._thread, "function", None),
                operation=model.name,
                request=json.loads(context[_REQUEST_BODY]),
                response=json.loads(http_response.content or b"{}"),
                failed=http_response.status_code >= 300,
                seconds=time.perf_counter() - context[_STARTED],
            )
        with self._lock:
            usage.aws_calls[f"{service}.{model.name}"] += 1
            if call is not None:
                usage.dynamodb_calls.append(call)
