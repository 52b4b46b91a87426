"""Counts what the OMS does while orders run: AWS API calls at the botocore level, handler calls.

botocore copies `botocore.handlers.BUILTIN_HANDLERS` into every session it creates (moto hooks in
the same way), so once `Recorder.install()` has run, every client made afterwards reports each
API call to us: the handlers' clients (`shared.aws`, Powertools idempotency's own session), moto's
Step Functions interpreter's Lambda client, and LocalOMS's. Calls are kept only inside a `window()`,
and never from a thread inside `unobserved()`: what the benchmark itself does to watch the OMS
(polling, reading results back) is not part of what an order costs.

DynamoDB calls are kept whole, as wire-format JSON (request and response), so that request units
can be computed from item sizes afterwards (moto reports no ConsumedCapacity for transactions), and
marked when a settings cache made them to fill an entry (`shared.settings_cache.loading()`).
Calls to the services of the asynchronous side (EventBridge, SQS, SES) are kept too, with their
parameters and parsed answers and the thread that made them: PutEvents entries are billed events,
and an SQS call from a queue poller's thread (`poll-<function>`, `local/queue_poller.py`) is what
Lambda's event-source mapping would request on AWS, while the local runtime's own readers
(`event-log`, `mail-log`) have no counterpart there.

The timing wrapper also keeps, outside windows too, which handlers are running and the last stream
record each stream-fed handler was given, so that a run can wait until the asynchronous side has
drained (`benchmarks.local_run.drain`).
"""

from __future__ import annotations

import copy
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
from shared import settings_cache

_REQUEST_BODY = "oms_benchmark_request_body"
_STARTED = "oms_benchmark_started"
_PARAMETERS = "oms_benchmark_parameters"
# Services whose calls are kept whole (parameters and parsed answer), not only counted.
DETAILED_SERVICES = frozenset({"events", "sqs", "ses"})


@dataclass(frozen=True)
class DynamoCall:
    """One DynamoDB API call; `function` is the blueprint function that made it (None outside one)."""

    function: str | None
    operation: str
    request: dict[str, Any]
    response: dict[str, Any]
    failed: bool
    seconds: float  # local time from request to response, waiting for moto's DynamoDB lock included
    cached: settings_cache.Load | None = None  # made to fill a settings cache entry (a cached read)


@dataclass(frozen=True)
class AwsCall:
    """One call to a service of `DETAILED_SERVICES`: who made it (the blueprint function, else None;
    the thread's name), what it asked (the client's parameters) and what it got (parsed)."""

    function: str | None
    thread: str
    service: str
    operation: str
    parameters: dict[str, Any]
    response: dict[str, Any]
    failed: bool


@dataclass(frozen=True)
class Invocation:
    function: str
    seconds: float
    records: int = 0  # records in the event (a stream or queue batch); 0 for other events


@dataclass
class Usage:
    """What the OMS did during one window."""

    dynamodb_calls: list[DynamoCall] = field(default_factory=list)
    aws_calls: Counter[str] = field(default_factory=Counter)  # "service.Operation" -> calls
    invocations: list[Invocation] = field(default_factory=list)
    api_requests: Counter[str] = field(default_factory=Counter)  # "METHOD /route" -> requests
    detailed_calls: list[AwsCall] = field(default_factory=list)  # calls to DETAILED_SERVICES


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage: Usage | None = None
        self._thread = threading.local()
        self._running: Counter[str] = Counter()  # function -> invocations in progress
        self._stream_positions: dict[str, int] = {}  # stream ARN -> last sequence number handed over
        self._hooks: list[tuple[str, Any]] = [
            ("before-parameter-build", self._before_parameter_build),
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
            records = batch_records(event)
            with self._lock:
                self._running[function] += 1
                self._note_stream_positions(records)
            try:
                return self._run(function, handler, event, context, len(records))
            finally:
                with self._lock:
                    self._running[function] -= 1

        return run

    def _run(self, function: str, handler: Handler, event: Any, context: Any, records: int) -> Any:
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
                usage.invocations.append(Invocation(function, elapsed, records))

    def _note_stream_positions(self, records: list[Any]) -> None:
        for record in records:
            stream = record.get("dynamodb") if isinstance(record, dict) else None
            arn = record.get("eventSourceARN") if isinstance(record, dict) else None
            if isinstance(stream, dict) and arn and "SequenceNumber" in stream:
                sequence = int(stream["SequenceNumber"])
                self._stream_positions[arn] = max(sequence, self._stream_positions.get(arn, sequence))

    def running(self, functions: frozenset[str]) -> int:
        """How many invocations of `functions` are in progress (in a window or not)."""
        with self._lock:
            return sum(self._running[name] for name in functions)

    def stream_position(self, stream_arn: str) -> int | None:
        """The sequence number of the last record of the stream handed to a handler (None: none yet)."""
        with self._lock:
            return self._stream_positions.get(stream_arn)

    def _current(self) -> Usage | None:
        if getattr(self._thread, "unobserved", False):
            return None
        return self._usage

    # -- botocore hooks ----------------------------------------------------------------------

    def _before_parameter_build(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if self._current() is not None and model.service_model.service_name in DETAILED_SERVICES:
            context[_PARAMETERS] = copy.deepcopy(params)

    def _before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if self._current() is not None and model.service_model.service_name == "dynamodb":
            context[_REQUEST_BODY] = params.get("body") or b"{}"
            context[_STARTED] = time.perf_counter()

    def _after_call(
        self, http_response: Any, model: Any, context: dict[str, Any], parsed: Any = None, **_: Any
    ) -> None:
        usage = self._current()
        if usage is None:
            return
        service = model.service_model.service_name
        call: DynamoCall | None = None
        detailed = None
        if service in DETAILED_SERVICES and _PARAMETERS in context:
            detailed = AwsCall(
                function=getattr(self._thread, "function", None),
                thread=threading.current_thread().name,
                service=service,
                operation=model.name,
                parameters=context[_PARAMETERS],
                response=dict(parsed) if isinstance(parsed, dict) else {},
                failed=http_response.status_code >= 300,
            )
        if service == "dynamodb" and _REQUEST_BODY in context:
            call = DynamoCall(
                function=getattr(self._thread, "function", None),
                operation=model.name,
                request=json.loads(context[_REQUEST_BODY]),
                response=json.loads(http_response.content or b"{}"),
                failed=http_response.status_code >= 300,
                seconds=time.perf_counter() - context[_STARTED],
                cached=settings_cache.loading(),
            )
        with self._lock:
            usage.aws_calls[f"{service}.{model.name}"] += 1
            if call is not None:
                usage.dynamodb_calls.append(call)
            if detailed is not None:
                usage.detailed_calls.append(detailed)


def batch_records(event: Any) -> list[Any]:
    """The records of a stream or queue batch (`{"Records": [...]}`); none for any other event."""
    records = event.get("Records") if isinstance(event, dict) else None
    return records if isinstance(records, list) else []
