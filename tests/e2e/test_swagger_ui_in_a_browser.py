"""GET /swagger as a person sees it: in a real browser (Debian's Chromium, headless, offline), without an
API key, rendering the published document; trying GET /health out from the page; a full-page
screenshot checked pixel by pixel; and no request to any host but the OMS.

Playwright drives the system's Chromium (`make e2e` installs it with apt when run as root, as CI is);
Playwright's own browser download is never used.
"""

from __future__ import annotations

import base64
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, expect, sync_playwright

from shared.api import API_TITLE
from tests.e2e.conftest import RunningOMS

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
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
OPERATIONS = [  # a few of the document's, each the only operation on its path
    ("GET", "/health"),
    ("POST", "/webhooks/{channelId}"),
    ("GET", "/orders/{orderId}"),
    ("PUT", "/warehouses/{warehouseId}"),
]
# Swagger UI's colours for the method badges of the operation blocks (its stylesheet).
METHOD_COLOURS = {"GET": "#61affe", "POST": "#49cc90", "PUT": "#fca130"}


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


def test_swagger_ui_renders_the_api_and_tries_health_out_in_a_browser(
    browser: Browser, running_oms: RunningOMS, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)  # a fresh context: no API key, no cookies
    requested: list[str] = []
    failed_resources: list[str] = []  # what the browser fetches itself (the favicon) is not a "request"
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: _record_failed_resource(message, failed_resources))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(running_oms.api_url + "/swagger")

    expect(page.locator(".information-container .title")).to_contain_text(API_TITLE, timeout=30_000)
    health = page.locator("#operations-Meta-health_health_get")
    for method, path in OPERATIONS:
        summary = page.locator(f'.opblock-summary:has(.opblock-summary-path[data-path="{path}"])')
        expect(summary).to_be_visible()
        expect(summary.locator(".opblock-summary-method")).to_have_text(method)

    health.locator(".opblock-summary-control").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()

    response = health.locator(".live-responses-table .response")
    expect(response.locator(".response-col_status")).to_have_text("200")
    body = response.locator('h5:text-is("Response body") + * pre')
    expect(body).to_contain_text('"status": "ok"')
    expect(health.locator(".request-url pre")).to_have_text(running_oms.api_url + "/health")

    screenshot = tmp_path / "swagger.png"
    page.screenshot(path=screenshot, full_page=True)
    page_height = page.evaluate("document.documentElement.scrollHeight")
    page.close()

    width, height = _png_size(screenshot.read_bytes())
    assert width == VIEWPORT["width"]
    # The whole page, not the viewport (its height may still move by a few pixels as fonts settle).
    assert height > VIEWPORT["height"], height
    assert abs(height - page_height) <= 0.02 * page_height, (height, page_height)
    # A page of one colour compresses to a few kilobytes whatever its size; this one has text on it.
    assert screenshot.stat().st_size > 100_000, f"{screenshot} is nearly blank"
    colours = _colour_census(browser, screenshot.read_bytes())
    assert max(colours.values()) < 0.9 * width * height, f"{screenshot} is mostly one colour"
    assert len(colours) > 100, f"{screenshot} has only {len(colours)} colours"  # anti-aliased text has many
    for method, colour in METHOD_COLOURS.items():  # at least one badge's worth (60x30 pixels) of each
        assert colours.get(colour, 0) > 60 * 30, f"no {method} badge ({colour}) in {screenshot}"

    assert errors == []
    oms_host = urlsplit(running_oms.api_url).netloc
    foreign = [url for url in requested + failed_resources if urlsplit(url).netloc not in {oms_host, ""}]
    assert foreign == [], "the page must be self-contained: the machine is offline"
    paths = [urlsplit(url).path for url in requested]
    assert paths == ["/swagger", "/openapi.json", "/health"]


def _record_failed_resource(message: ConsoleMessage, failed: list[str]) -> None:
    if message.type == "error" and message.text.startswith("Failed to load resource"):
        failed.append(message.location["url"])


def _png_size(png: bytes) -> tuple[int, int]:
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


def _colour_census(browser: Browser, png: bytes) -> dict[str, int]:
    """How many pixels of the PNG have each colour ("#rrggbb"), decoded on an empty page."""
    blank: Page = browser.new_page()
    try:
        census: dict[str, Any] = blank.evaluate(COLOUR_CENSUS, base64.b64encode(png).decode("ascii"))
    finally:
        blank.close()
    return {colour: int(count) for colour, count in census.items()}
