"""A per-process read cache for settings read on every order but changed rarely: a channel, its
customer e-mail settings, the webhook subscriptions, the warehouses.

On Lambda each container of a function has its own: a value is at most `SETTINGS_CACHE_SECONDS`
(blueprint's COMMON_ENVIRONMENT, default DEFAULT_SECONDS) old (plus DynamoDB's replication lag, about
a second, where the fill is an eventually consistent read), a write through the DAL is seen in the
writer's process at once (remembered or forgotten), and every other container sees it within that. The local
runtime runs every function in one process, so there a DAL write is seen by all functions at once.

Powertools' parameters utility caches the same way (max_age) but only for its providers' shapes
(SSM, Secrets Manager, AppConfig, a DynamoDB table of id/value items), not the DAL's models.

The DynamoDB calls a cache makes to fill an entry run inside `loading()`'s Load, so the benchmarks'
recorder can tell a cached read from one made on every request (`benchmarks.partition_heat`).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

from shared import aws

TTL_VARIABLE = "SETTINGS_CACHE_SECONDS"
DEFAULT_SECONDS = 5.0
T = TypeVar("T")


@dataclass(frozen=True)
class Load:
    """One fill of a cache entry: the DynamoDB calls made inside it are a cached read."""

    cache: str
    key: str
    number: int


_loading: ContextVar[Load | None] = ContextVar("settings_cache_load", default=None)
_load_numbers = itertools.count(1)
_pass_through = threading.Event()
_caches: list[SettingsCache[object]] = []


def loading() -> Load | None:
    """The fill in progress on this thread, if a DynamoDB call is being made for a cache."""
    return _loading.get()


def ttl_seconds() -> float:
    value = os.environ.get(TTL_VARIABLE, "")
    return max(0.0, float(value)) if value else DEFAULT_SECONDS


@contextmanager
def pass_through() -> Iterator[None]:
    """Every read reaches DynamoDB (still marked as a cached read): for recording which function
    reads which cached key, however warm the process is."""
    _pass_through.set()
    try:
        yield
    finally:
        _pass_through.clear()


def clear_all() -> None:
    for cache in _caches:
        cache.clear()


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T | None
    expires: float


class SettingsCache(Generic[T]):
    """Values by key for `ttl_seconds()`. `keep_missing`: a None (not found) is kept too; only where
    acting on a stale "not found" is no worse than on a stale value."""

    def __init__(self, name: str, *, keep_missing: bool, clock: Callable[[], float] = time.monotonic):
        self.name, self._keep_missing, self._clock = name, keep_missing, clock
        self._entries: dict[str, _Entry[T]] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every forget: a fill that started before it is not kept
        _caches.append(self)  # type: ignore[arg-type]

    def get(self, key: str, load: Callable[[], T | None]) -> T | None:
        now = self._clock()
        with self._lock:
            entry, generation = self._entries.get(key), self._generation
        if entry is not None and now < entry.expires and not _pass_through.is_set():
            return entry.value
        value = self._fill(key, load)
        ttl = ttl_seconds()
        if ttl > 0 and (value is not None or self._keep_missing):
            with self._lock:
                if generation == self._generation:
                    self._entries[key] = _Entry(value, now + ttl)
        return value

    def remember(self, key: str, value: T) -> None:
        """What this process just wrote: its own reads see it at once (a fill may read stale)."""
        ttl = ttl_seconds()
        with self._lock:
            self._generation += 1
            if ttl > 0:
                self._entries[key] = _Entry(value, self._clock() + ttl)
            else:
                self._entries.pop(key, None)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._generation += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def _fill(self, key: str, load: Callable[[], T | None]) -> T | None:
        token = _loading.set(Load(self.name, key, next(_load_numbers)))
        try:
            return load()
        finally:
            _loading.reset(token)


# A new endpoint or mock (tests, the local runtime) holds other settings.
aws.on_reset(clear_all)
