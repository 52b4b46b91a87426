"""The domain events a running local OMS published, as its event log saw them on the bus."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from local.runtime import LocalOMS

Event = dict[str, Any]


def wait_for_events(
    oms: LocalOMS, wanted: Callable[[list[Event]], bool], timeout: float = 15.0
) -> list[Event]:
    """The events once `wanted` says they are complete (or AssertionError, naming what arrived)."""
    deadline = time.monotonic() + timeout
    while True:
        events = oms.events()
        if wanted(events):
            return events
        if time.monotonic() > deadline:
            raise AssertionError(f"not the events expected: {[(e['type'], e['subject']) for e in events]}")
        time.sleep(0.05)


def of(events: list[Event], subject: str) -> list[str]:
    """The types published about `subject`, in the order they were published."""
    return [event["type"] for event in events if event["subject"] == subject]


def has(subject: str, *types: str) -> Callable[[list[Event]], bool]:
    return lambda events: all(t in of(events, subject) for t in types)


def settle(oms: LocalOMS, seconds: float = 1.0) -> list[Event]:
    """The events after nothing new arrived for `seconds` (to show something was NOT published)."""
    seen = -1
    while True:
        events = oms.events()
        if len(events) == seen:
            return events
        seen = len(events)
        time.sleep(seconds)
