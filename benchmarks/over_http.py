"""The local OMS in server mode, reached over real HTTP as an external client reaches it.

`served()` starts a fresh `LocalOMS("server")` on free ports (moto's server for AWS, the gateway
for the API) and gives a `tests.support.orders.Client` whose every request is an HTTP request to the
gateway's socket, with the API key, from a `requests.Session` per thread. The handlers still run in
this process (as `python -m local` runs them), so the clients' threads share its GIL and its two
cores with the OMS.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from local.runtime import LocalOMS
from tests.support.orders import Client, Send

REQUEST_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Served:
    oms: LocalOMS
    client: Client
    api_url: str
    aws_url: str


def http_sender(api_url: str, api_key: str) -> Send:
    """The Client's transport: one HTTP request per call, keep-alive sessions kept per thread."""
    sessions = threading.local()

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        session = getattr(sessions, "session", None)
        if session is None:
            session = sessions.session = requests.Session()
        response = session.request(
            method,
            api_url + path,
            headers={"x-api-key": api_key, **headers},
            data=body,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        return response.status_code, response.json() if response.content else None

    return send


@contextmanager
def served() -> Iterator[Served]:
    """A fresh local OMS on free ports, seeded with the tests' warehouses, channel and stock."""
    with LocalOMS("server", aws_port=0, gateway_port=0) as oms:
        if oms.api_url is None or oms.aws_endpoint_url is None:
            raise RuntimeError("the local OMS is not served over HTTP")
        client = Client(http_sender(oms.api_url, oms.api_key))
        client.seed()
        yield Served(oms, client, oms.api_url, oms.aws_endpoint_url)


def put(client: Client, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A PUT that must succeed (seeding), else a RuntimeError naming what the OMS answered."""
    status, body = client.call("PUT", path, payload)
    if status not in (200, 201):
        raise RuntimeError(f"PUT {path} answered {status}: {body}")
    return dict(body)
