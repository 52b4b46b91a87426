from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from local.runtime import LocalOMS
from shared import observability
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


class _FormattedLines(logging.Handler):
    """The JSON lines the handlers' Powertools Logger prints, formatted when they are logged."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []
        self.setFormatter(observability.logger.registered_formatter)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_logs() -> Iterator[list[dict[str, Any]]]:
    capture = _FormattedLines()
    observability.logger.addHandler(capture)
    try:
        yield capture.lines
    finally:
        observability.logger.removeHandler(capture)
