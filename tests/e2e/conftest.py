"""The local OMS as a user runs it (`python -m local`, what `make run` starts), driven over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.orders import Client
from tests.support.process_output import OutputTail

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "e2e-test-key"
STARTUP_SECONDS = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RunningOMS:
    api_url: str
    aws_url: str
    process: subprocess.Popen[str]
    banner: str
    output: OutputTail


def wait_until_running(process: subprocess.Popen[str]) -> str:
    """Read the process's output until its banner says it runs; return what it printed."""
    assert process.stdout is not None
    printed: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        printed.append(line)
        if line.startswith("Ctrl-C stops"):
            return "".join(printed)
    process.kill()
    raise AssertionError("the local OMS did not start:\n" + "".join(printed))


@contextmanager
def local_oms() -> Iterator[RunningOMS]:
    """`python -m local` on free ports, as `make run` starts it, until the block ends."""
    api_port, aws_port = free_port(), free_port()
    environment = {
        **os.environ,
        "OMS_PORT": str(api_port),
        "OMS_AWS_PORT": str(aws_port),
        "OMS_SPAPI_PORT": "0",
        "OMS_REFUNDS_PORT": "0",
        "OMS_API_KEY": API_KEY,
        "PYTHONUNBUFFERED": "1",  # tracebacks (stdout) arrive together with the request's log line
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = wait_until_running(process)
        output = OutputTail(process)  # keep draining its log, or it blocks once the pipe is full
        yield RunningOMS(
            f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", process, banner, output
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def running_oms() -> Iterator[RunningOMS]:
    with local_oms() as running:
        yield running


@pytest.fixture(scope="session")
def client(running_oms: RunningOMS) -> Client:
    session = requests.Session()

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        response = session.request(
            method,
            running_oms.api_url + path,
            headers={"x-api-key": API_KEY, **headers},
            data=body,
            timeout=30,
        )
        return response.status_code, response.json() if response.content else None

    http_client = Client(send)
    http_client.seed()
    return http_client
