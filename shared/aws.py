"""AWS clients, made once per process (Lambda reuses them across invocations).

`reset()` exists because tests and the local runtime point boto3 at a new endpoint or mock.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def dynamodb() -> Any:
    return boto3.resource("dynamodb", config=_RETRIES)


@cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions", config=_RETRIES)


_resetters: list[Any] = []


def on_reset(callback: Any) -> Any:
    """Register another per-process cache to clear with `reset()`."""
    _resetters.append(callback)
    return callback


def reset() -> None:
    dynamodb.cache_clear()
    stepfunctions.cache_clear()
    for callback in _resetters:
        callback()
