from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.runtime import LocalOMS
from tests.support.orders import Client


@pytest.fixture
def oms() -> Iterator[LocalOMS]:
    """A fresh OMS per test: moto in-process, the real ASL, the real handlers."""
    with LocalOMS("inprocess") as running:
        yield running


@pytest.fixture
def client(oms: LocalOMS) -> Client:
    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        response = oms.request(method, path, headers=headers, body=body)
        return response.status, response.json() if response.body else None

    seeded = Client(send)
    seeded.seed()
    return seeded
