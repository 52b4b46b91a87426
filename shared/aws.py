"""AWS clients, made once per process and thread (Lambda reuses them across invocations).

The DynamoDB resource is per thread: its expression builder numbers placeholders with counters of
its own, so two threads building queries at once through one resource can corrupt each other's
expressions (seen locally, where many handlers share a process: a Query refused for a missing key,
or silently empty). On Lambda one invocation runs at a time, so there is one per process anyway.
`reset()` exists because tests and the local runtime point boto3 at a new endpoint or mock.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
_per_thread = threading.local()
_sessions_lock = threading.Lock()


_current: list[boto3.session.Session] = []  # the session resources are made from, until reset()


def dynamodb() -> Any:
    with _sessions_lock:  # a Session is not thread-safe: make resources from it one at a time
        if not _current:
            _current.append(boto3.session.Session())
        session = _current[0]
        if getattr(_per_thread, "session", None) is not session:
            _per_thread.dynamodb = session.resource("dynamodb", config=_RETRIES)
            _per_thread.session = session
    return _per_thread.dynamodb


@cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions", config=_RETRIES)


@cache
def events() -> Any:
    return boto3.client("events", config=_RETRIES)


@cache
def sqs() -> Any:
    return boto3.client("sqs", config=_RETRIES)


_resetters: list[Any] = []


def on_reset(callback: Any) -> Any:
    """Register another per-process cache to clear with `reset()`."""
    _resetters.append(callback)
    return callback


def reset() -> None:
    with _sessions_lock:
        _current.clear()  # every thread's resource is made again, from a new session
    stepfunctions.cache_clear()
    events.cache_clear()
    sqs.cache_clear()
    for callback in _resetters:
        callback()
