"""GET /swagger as a person sees it: in a real browser (Debian's Chromium, headless, offline), without an
API key, rendering the published document; trying GET /health out from the page; a full-page
screenshot checked pixel by pixel; and no request to any host but the OMS.

Playwright drives the system's Chromium (`make e2e` installs it with apt when run as root, as CI is);
Playwright's own browser download is never used.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ViewportSize, expect

from shared.api import API_TITLE
from tests.e2e.conftest import RunningOMS, colour_census, png_size, record_failed_resource

VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
OPERATIONS = [  # a few of the document's, each the only operation on its path
    ("GET", "/health"),
    ("POST", "/webhooks/{channelId}"),
    ("GET", "/orders/{orderId}"),
    ("PUT", "/warehouses/{warehouseId}"),
]
# Swagger UI's colours for the method badges of the operation blocks (its stylesheet).
METHOD_COLOURS = {"GET": "#61affe", "POST": "#49cc90", "PUT": "#fca130"}


def test_swagger_ui_renders_the_api_and_tries_health_out_in_a_browser(
    browser: Browser, running_oms: RunningOMS, tmp_path: Path
) -> None:
    page = browser.new_page(viewport=VIEWPORT)  # a fresh context: no API key, no cookies
    requested: list[str] = []
    failed_resources: list[str] = []  # what the browser fetches itself (the favicon) is not a "request"
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda message: record_failed_resource(message, failed_resources))
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

    width, height = png_size(screenshot.read_bytes())
    assert width == VIEWPORT["width"]
    # The whole page, not the viewport (its height may still move by a few pixels as fonts settle).
    assert height > VIEWPORT["height"], height
    assert abs(height - page_height) <= 0.02 * page_height, (height, page_height)
    # A page of one colour compresses to a few kilobytes whatever its size; this one has text on it.
    assert screenshot.stat().st_size > 100_000, f"{screenshot} is nearly blank"
    colours = colour_census(browser, screenshot.read_bytes())
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
