"""Every test starts with empty settings caches (shared/settings_cache.py): a test's moto tables
are new, and what an earlier test's handlers cached of its own tables must not leak into it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared import settings_cache


@pytest.fixture(autouse=True)
def empty_settings_caches() -> Iterator[None]:
    settings_cache.clear_all()
    yield
    settings_cache.clear_all()
