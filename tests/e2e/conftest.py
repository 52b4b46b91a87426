"""The local OMS as a user runs it (`python -m local`, what `make run` starts), driven over HTTP."""

from __future__ import annotations

import base64
import os
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

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


def wait_until_running(process: subprocess.Popen[str], seconds: float = STARTUP_SECONDS) -> str:
    """Read the process's output until its banner says it runs; return what it printed."""
    assert process.stdout is not None
    printed: list[str] = []
    deadline = time.monotonic() + seconds
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
def local_oms(startup_seconds: float = STARTUP_SECONDS, **settings: str) -> Iterator[RunningOMS]:
    """`python -m local` on free ports, as `make run` starts it, until the block ends. Without the
    demo history (its own test makes one), unless `settings` (environment variables) ask for it."""
    api_port, aws_port = free_port(), free_port()
    environment = {
        **os.environ,
        "OMS_PORT": str(api_port),
        "OMS_AWS_PORT": str(aws_port),
        "OMS_SPAPI_PORT": "0",
        "OMS_REFUNDS_PORT": "0",
        "OMS_API_KEY": API_KEY,
        "OMS_DEMO_HISTORY": "0",
        "PYTHONUNBUFFERED": "1",  # tracebacks (stdout) arrive together with the request's log line
        **settings,
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
        banner = wait_until_running(process, startup_seconds)
        output = OutputTail(process)  # keep draining its log, or it blocks once the pipe is full
        yield RunningOMS(
            f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", process, banner, output
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # seen once on a machine busy with other suites: never leave it
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def running_oms() -> Iterator[RunningOMS]:
    with local_oms() as running:
        yield running


def client_of(running: RunningOMS) -> Client:
    """A client of that OMS over HTTP, with its API key."""
    session = requests.Session()

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        response = session.request(
            method,
            running.api_url + path,
            headers={"x-api-key": API_KEY, **headers},
            data=body,
            timeout=30,
        )
        return response.status_code, response.json() if response.content else None

    return Client(send)


@pytest.fixture(scope="session")
def client(running_oms: RunningOMS) -> Client:
    http_client = client_of(running_oms)
    http_client.seed()
    return http_client


# --- the browser tests: Debian's Chromium driven by Playwright (see test_swagger_ui_in_a_browser.py) ---

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_HINT = "install it with `sudo apt-get install chromium` (Debian; `make e2e` does so as root)"
# What works here as root and offline: no sandbox (root), no GPU, nothing phoning home.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")  # session, like running_oms, and before it: a skip starts no OMS
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.geteuid() == 0:  # CI: `make e2e` has installed it, or failed to; either way a failure
            pytest.fail(f"{CHROMIUM} is missing although this runs as root; {INSTALL_HINT}")
        pytest.skip(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


def record_failed_resource(message: ConsoleMessage, failed: list[str]) -> None:
    if message.type == "error" and message.text.startswith("Failed to load resource"):
        failed.append(message.location["url"])


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's header, after checking it is a PNG whose every chunk is intact."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks = 8, []
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + data) == crc, f"the PNG's {kind!r} chunk is corrupt"
        chunks.append((kind, data))
        offset += 12 + length
    (first, header), (last, _) = chunks[0], chunks[-1]
    assert (first, last) == (b"IHDR", b"IEND")
    width, height = struct.unpack(">II", header[:8])
    return int(width), int(height)


# Decoding a PNG's pixels in pure Python takes seconds; a blank page's canvas does it in milliseconds.
COLOUR_CENSUS = """
async (png) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const counts = new Map();
  for (let i = 0; i < pixels.length; i += 4) {
    const rgb = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
    counts.set(rgb, (counts.get(rgb) || 0) + 1);
  }
  return Object.fromEntries([...counts].map(([rgb, n]) => ["#" + rgb.toString(16).padStart(6, "0"), n]));
}
"""


REGION_CENSUS = """
async ([png, boxes]) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth;
  canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  return boxes.map(([x, y, width, height]) => {
    const pixels = context.getImageData(x, y, width, height).data;
    const counts = {};
    for (let i = 0; i < pixels.length; i += 4) {
      const value = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
      const rgb = "#" + value.toString(16).padStart(6, "0");
      counts[rgb] = (counts[rgb] || 0) + 1;
    }
    return counts;
  });
}
"""


def dominant_colours(browser: Browser, png: bytes, boxes: list[list[int]]) -> list[str]:
    """The colour most pixels have in each box ([x, y, width, height] in the PNG's pixels)."""
    blank: Page = browser.new_page()
    try:
        counts: list[dict[str, int]] = blank.evaluate(
            REGION_CENSUS, [base64.b64encode(png).decode("ascii"), boxes]
        )
    finally:
        blank.close()
    return [max(census, key=lambda colour: census[colour]) for census in counts]


def colour_census(browser: Browser, png: bytes) -> dict[str, int]:
    """How many pixels of the PNG have each colour ("#rrggbb"), decoded on an empty page."""
    blank: Page = browser.new_page()
    try:
        census: dict[str, Any] = blank.evaluate(COLOUR_CENSUS, base64.b64encode(png).decode("ascii"))
    finally:
        blank.close()
    return {colour: int(count) for colour, count in census.items()}
