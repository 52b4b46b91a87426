"""The back-office console (/console/) in a real browser (Debian's Chromium, headless, offline) against
`python -m local` over HTTP: sign-in with the API key, the orders list and its filters, a split order and
a backordered one with their workflow pictures, the cancel action end to end, the keyboard, an axe-core
audit, and screenshots at desktop and laptop sizes kept under artifacts/console/ (looked at: size, not
blank, and the colours of the workflow's states at their own boxes)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, expect

from tests.e2e.conftest import API_KEY, ROOT, RunningOMS, colour_census, dominant_colours, png_size
from tests.support.orders import BOSTON, Client

ARTIFACTS = ROOT / "artifacts" / "console"
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
# The workflow picture's fills (console/src/style.css): done, waiting, not reached.
DONE, WAITING, UNVISITED, CAUGHT = "#dafbe1", "#fff8c5", "#ffffff", "#fff1e5"
EAST_SKU, WEST_SKU, SCARCE_SKU = "CON-LAMP", "CON-RUG", "CON-SCARCE"


@dataclass(frozen=True)
class Placed:
    order_id: str
    number: str


@pytest.fixture(scope="module")
def stocked(client: Client) -> Client:
    for sku, warehouse, units in (
        (EAST_SKU, "wh-east", 500),
        (WEST_SKU, "wh-west", 500),
        (SCARCE_SKU, "wh-east", 1),
    ):
        status, body = client.call("PUT", f"/inventory/{sku}/locations/{warehouse}", {"onHand": units})
        assert status == 200, body
    return client


def place(
    client: Client, lines: list[tuple[str, int]], *statuses: str, email: str = "grace@example.com"
) -> Placed:
    number = f"#CON{uuid.uuid4().hex[:6].upper()}"
    order = {
        "channelOrderId": f"con-{uuid.uuid4().hex[:10]}",
        "orderNumber": number,
        "currency": "USD",
        "customer": {"email": email, "name": "Grace Hopper"},
        "shippingAddress": dict(BOSTON),
        "lines": [
            {"sku": sku, "title": f"Item {sku}", "quantity": n, "unitPrice": "20.00"} for sku, n in lines
        ],
        "shippingPrice": "5.00",
    }
    order_id = client.place(order)
    client.wait_for_status(order_id, *statuses, timeout=20)
    return Placed(order_id, number)


def wait_for_waiting(client: Client, order_id: str, count: int) -> dict[str, Any]:
    """The workflow once `count` states wait for their task token (each task has parked its token)."""
    deadline = time.monotonic() + 20
    while True:
        status, view = client.call("GET", f"/orders/{order_id}/workflow")
        assert status == 200, view
        if sum(step["outcome"] == "WAITING" for step in view["path"]) == count:
            return dict(view)
        assert time.monotonic() < deadline, view["path"]
        time.sleep(0.1)


@pytest.fixture(scope="module")
def split(stocked: Client) -> Placed:
    placed = place(stocked, [(EAST_SKU, 1), (WEST_SKU, 1)], "FULFILLING")
    wait_for_waiting(stocked, placed.order_id, 2)
    return placed


@pytest.fixture(scope="module")
def backordered(stocked: Client) -> Placed:
    placed = place(stocked, [(SCARCE_SKU, 3)], "BACKORDERED")
    wait_for_waiting(stocked, placed.order_id, 1)
    return placed


@dataclass
class Visit:
    page: Page
    requested: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def assert_clean(self, running_oms: RunningOMS) -> None:
        """No script error, nothing logged as an error, nothing fetched from another host."""
        host = urlsplit(running_oms.api_url).netloc
        assert [u for u in self.requested if urlsplit(u).netloc not in {host, ""}] == []
        assert self.page_errors == []
        assert self.console_errors == []


@pytest.fixture
def console(browser: Browser, running_oms: RunningOMS) -> Iterator[Any]:
    opened: list[Page] = []

    def open_console(
        path: str = "/console/", viewport: ViewportSize = DESKTOP, sign_in: bool = True
    ) -> Visit:
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        page = context.new_page()
        opened.append(page)
        seen = Visit(page)
        page.on("request", lambda request: seen.requested.append(request.url))
        page.on("console", lambda message: _console(message, seen))
        page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
        page.goto(running_oms.api_url + path)
        if sign_in:
            page.get_by_label("API key").fill(API_KEY)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("#sign-out")).to_be_visible()
        return seen

    yield open_console
    for page in opened:
        page.context.close()


def shoot_both(browser: Browser, page: Page, name: str) -> None:
    """Screenshots at desktop and laptop sizes, each checked not blank."""
    for size, viewport in (("desktop", DESKTOP), ("laptop", LAPTOP)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)  # charts redraw at the new width
        _, png = screenshot(page, f"{name}-{size}")
        assert_not_blank(browser, png)


def _console(message: ConsoleMessage, seen: Visit) -> None:
    if message.type == "error":
        seen.console_errors.append(f"{message.text} ({message.location.get('url')})")


def audit(page: Page) -> None:
    """axe-core (from console/node_modules, pinned) in the page: no serious or critical violation of
    WCAG 2 A/AA (labels, contrast, names, keyboard focusability...)."""
    assert AXE.is_file(), f"{AXE} is missing: `make console` installs it"
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
          const tags = ["wcag2a", "wcag2aa", "wcag21aa"];
          const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
          return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                         nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }"""
    )
    serious = [v for v in result if v["impact"] in {"serious", "critical"}]
    assert serious == [], json.dumps(serious, indent=1)


def screenshot(page: Page, name: str) -> tuple[Path, bytes]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    png = path.read_bytes()
    width, height = png_size(png)
    scale = page.evaluate("window.devicePixelRatio")
    viewport = page.viewport_size
    assert viewport is not None
    assert width == round(page.evaluate("document.documentElement.scrollWidth") * scale)
    assert width == round(viewport["width"] * scale), "the page must not scroll sideways"
    assert height >= round(viewport["height"] * scale)
    return path, png


def state_fills(browser: Browser, page: Page, png: bytes, states: list[str]) -> list[str]:
    """The colour most pixels of each state's box have in the full-page screenshot: its fill (the box's
    left quarter, away from its text)."""
    scale = page.evaluate("window.devicePixelRatio")
    boxes = []
    for state in states:
        box = page.locator(f'.workflow-graph g.state[data-state="{state}"] rect').first.evaluate(
            "r => { const b = r.getBoundingClientRect();"
            " return [b.x + window.scrollX, b.y + window.scrollY, b.width, b.height]; }"
        )
        x, y, w, h = (float(v) * scale for v in box)
        boxes.append(
            [round(x + 6 * scale), round(y + h * 0.3), max(1, round(w * 0.12)), max(1, round(h * 0.4))]
        )
    return dominant_colours(browser, png, boxes)


def assert_not_blank(browser: Browser, png: bytes) -> None:
    census = colour_census(browser, png)
    total = sum(census.values())
    assert len(census) > 20, "the screenshot is nearly one colour"
    assert max(census.values()) < 0.9 * total, "the screenshot is nearly blank"


# --- sign-in -------------------------------------------------------------------------------------------


COGNITO = "https://oms-staff-123456789012.auth.eu-west-1.amazoncognito.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cognito_settings(base: str, client_id: str = "console-client") -> dict[str, Any]:
    return {
        "domain": COGNITO,
        "clientId": client_id,
        "scopes": ["openid", "email", "profile"],
        "redirectUri": f"{base}/console/callback",
        "signedOutUri": f"{base}/console/",
    }


def redirect_page(target: str) -> str:
    return f"<script>location.replace({json.dumps(target)})</script>"


@dataclass
class FakeCognito:
    """config.json saying Cognito, the hosted UI's /oauth2/authorize and /logout, its /oauth2/token and
    the API's /orders, played by Playwright routes; what each was asked is kept."""

    base: str
    authorize_query: dict[str, str] = field(default_factory=dict)
    token_form: dict[str, str] = field(default_factory=dict)
    api_headers: list[dict[str, str]] = field(default_factory=list)
    logouts: list[dict[str, str]] = field(default_factory=list)

    def install(self, page: Page) -> None:
        config = {"apiBase": "", "signIn": {"apiKey": True, "cognito": cognito_settings(self.base)}}
        page.route(f"{self.base}/console/config.json", lambda route: route.fulfill(json=config))
        page.route(f"{COGNITO}/oauth2/authorize?*", self._authorize)
        page.route(f"{COGNITO}/oauth2/token", self._token)
        page.route(f"{COGNITO}/logout?*", self._logout)
        page.route(re.compile(re.escape(self.base) + r"/orders\?.*"), self._api)

    def _authorize(self, route: Any) -> None:
        self.authorize_query = dict(parse_qsl(urlsplit(route.request.url).query))
        query = self.authorize_query
        target = f"{query['redirect_uri']}?code=the-code&state={query['state']}"
        route.fulfill(status=200, content_type="text/html", body=redirect_page(target))

    def _token(self, route: Any) -> None:
        self.token_form = dict(parse_qsl(route.request.post_data or ""))
        claims = b64url(json.dumps({"email": "alice@example.com", "token_use": "id"}).encode())
        body = {
            "access_token": "staff-access-token",
            "id_token": f"{b64url(b'{}')}.{claims}.sig",
            "expires_in": 3600,
            "token_type": "Bearer",
        }
        route.fulfill(status=200, json=body, headers={"Access-Control-Allow-Origin": self.base})

    def _api(self, route: Any) -> None:
        self.api_headers.append(route.request.headers)
        route.fulfill(status=200, json={"orders": [], "nextCursor": None})

    def _logout(self, route: Any) -> None:
        query = dict(parse_qsl(urlsplit(route.request.url).query))
        self.logouts.append(query)
        route.fulfill(status=200, content_type="text/html", body=redirect_page(query["logout_uri"]))


def test_staff_sign_in_with_cognito_pkce_and_sign_out_through_the_hosted_ui(
    browser: Browser, running_oms: RunningOMS
) -> None:
    """The stack's flow, with config.json saying Cognito and the hosted UI and token endpoint played by
    the test: PKCE S256 and state, the code exchanged with its verifier, the access token sent as a
    bearer token (the API answered by the test too: locally no pool takes tokens), and sign-out through
    /logout back to the console."""
    base = running_oms.api_url
    fake = FakeCognito(base)
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        fake.install(page)
        page.goto(f"{base}/console/orders")
        button = page.get_by_role("button", name="Sign in with your organization (Cognito)")
        expect(button).to_be_visible()
        expect(page.get_by_role("textbox", name="API key")).to_be_visible()  # the API-key sign-in stays
        audit(page)
        button.click()
        expect(page.get_by_role("heading", name="Orders")).to_be_visible()
        assert urlsplit(page.url).path == "/console/orders"

        query, form = fake.authorize_query, fake.token_form
        assert (query["response_type"], query["client_id"]) == ("code", "console-client")
        assert query["redirect_uri"] == form["redirect_uri"] == f"{base}/console/callback"
        assert (query["scope"], query["code_challenge_method"]) == ("openid email profile", "S256")
        assert (form["grant_type"], form["code"]) == ("authorization_code", "the-code")
        assert form["client_id"] == "console-client"
        verifier = form["code_verifier"]
        assert len(verifier) >= 43
        assert b64url(hashlib.sha256(verifier.encode()).digest()) == query["code_challenge"]
        headers = fake.api_headers[-1]
        assert headers["authorization"] == "Bearer staff-access-token"
        assert "x-api-key" not in headers
        assert page.evaluate("sessionStorage.getItem('oms.apiKey')") is None

        page.locator("#sign-out").click()
        expect(button).to_be_visible()
        assert fake.logouts == [{"client_id": "console-client", "logout_uri": f"{base}/console/"}]
        assert page.evaluate("sessionStorage.getItem('oms.cognito.tokens')") is None
    finally:
        context.close()


def test_a_callback_without_a_pending_sign_in_is_refused(browser: Browser, running_oms: RunningOMS) -> None:
    base = running_oms.api_url
    cognito = {
        "domain": COGNITO,
        "clientId": "c",
        "scopes": ["openid"],
        "redirectUri": f"{base}/console/callback",
        "signedOutUri": f"{base}/console/",
    }
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        page.route(
            f"{base}/console/config.json",
            lambda route: route.fulfill(json={"apiBase": "", "signIn": {"apiKey": True, "cognito": cognito}}),
        )
        page.route(f"{COGNITO}/**", lambda route: route.abort())
        page.goto(f"{base}/console/callback?code=stolen&state=forged")
        expect(page.locator("#cognito-message")).to_contain_text("does not match a sign-in this tab started")
        assert urlsplit(page.url).path == "/console/"
    finally:
        context.close()


def test_the_console_asks_for_the_api_key_and_refuses_a_wrong_one(
    console: Any, running_oms: RunningOMS, browser: Browser
) -> None:
    seen: Visit = console(sign_in=False)
    page = seen.page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    audit(page)
    page.get_by_label("API key").fill("not-the-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#sign-in-message")).to_have_text("That API key was refused.")
    # The refused check is the one error the browser logs (its 403); nothing else may be.
    assert [e for e in seen.console_errors if "403" not in e] == []
    seen.console_errors.clear()

    page.get_by_label("API key").fill(API_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('oms.apiKey')") == API_KEY
    assert page.url == running_oms.api_url + "/console/orders"
    seen.assert_clean(running_oms)


# --- the orders list -----------------------------------------------------------------------------------


def test_the_orders_list_filters_by_number_and_status_newest_first(
    console: Any, running_oms: RunningOMS, browser: Browser, split: Placed, backordered: Placed
) -> None:
    seen: Visit = console()
    page = seen.page
    rows = page.locator("table.orders tbody tr")
    expect(rows.first).to_be_visible()
    ids = rows.evaluate_all("rows => rows.map(r => r.dataset.orderId)")
    assert ids.index(backordered.order_id) < ids.index(split.order_id)  # newest first
    audit(page)
    for size, viewport in (("desktop", DESKTOP), ("laptop", LAPTOP)):
        page.set_viewport_size(viewport)
        _, png = screenshot(page, f"orders-{size}")
        assert_not_blank(browser, png)

    page.get_by_label("Order number").fill(split.number.lstrip("#").lower())
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator("a.order-link")).to_have_text(split.number)
    expect(rows.first).to_contain_text("fulfilling")
    expect(rows.first).to_contain_text("$45.00")  # 2 x 20.00 + 5.00 shipping

    page.get_by_label("Order number").fill("")
    page.get_by_label("Status").select_option("BACKORDERED")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(f"{running_oms.api_url}/console/orders?status=BACKORDERED")
    expect(rows.first).to_be_visible()
    statuses = rows.locator(".badge").all_inner_texts()
    assert statuses and set(statuses) == {"backordered"}
    assert backordered.order_id in rows.evaluate_all("rows => rows.map(r => r.dataset.orderId)")

    page.get_by_label("Created before").fill("2000-01-01")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#orders-status")).to_have_text("No orders match these filters.")
    seen.assert_clean(running_oms)


def test_the_orders_list_finds_a_customers_orders_by_email_in_any_case(
    console: Any, running_oms: RunningOMS, stocked: Client
) -> None:
    email = f"ada.{uuid.uuid4().hex[:6]}@example.com"
    placed = place(stocked, [(EAST_SKU, 1)], "FULFILLING", email=email)
    seen: Visit = console()
    page = seen.page
    rows = page.locator("table.orders tbody tr")
    expect(rows.first).to_be_visible()

    page.get_by_label("Customer e-mail").fill(email.upper())
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(r"email="))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-order-id", placed.order_id)
    page.get_by_label("Customer e-mail").fill(f"nobody.{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#orders-status")).to_have_text("No orders match these filters.")
    seen.assert_clean(running_oms)


def test_the_orders_list_pages_on_with_the_cursor_and_back(
    console: Any, running_oms: RunningOMS, stocked: Client, split: Placed, backordered: Placed
) -> None:
    place(stocked, [(EAST_SKU, 1)], "FULFILLING")  # a third order at least: three pages of one
    seen: Visit = console("/console/orders?limit=1")
    page = seen.page
    rows = page.locator("table.orders tbody tr")
    shown = []
    for _ in range(2):
        expect(rows).to_have_count(1)
        shown.append(rows.first.get_attribute("data-order-id"))
        page.get_by_role("link", name="Next page").click()
        expect(page).to_have_url(re.compile(r"cursor="))
    expect(rows).to_have_count(1)
    third = rows.first.get_attribute("data-order-id")
    assert len({*shown, third}) == 3, (shown, third)
    page.get_by_role("link", name="Previous page").click()
    expect(rows.first).to_have_attribute("data-order-id", str(shown[1]))
    page.get_by_role("link", name="Previous page").click()
    expect(rows.first).to_have_attribute("data-order-id", str(shown[0]))
    expect(page.get_by_role("link", name="Previous page")).to_have_count(0)
    seen.assert_clean(running_oms)


def test_the_keyboard_reaches_the_filters_and_rows_and_enter_opens_an_order(
    console: Any, running_oms: RunningOMS, split: Placed
) -> None:
    seen: Visit = console(f"/console/orders?orderNumber={split.number.lstrip('#')}")
    page = seen.page
    expect(page.locator("table.orders tbody tr")).to_have_count(1)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    reached: list[str] = []
    for _ in range(25):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return e.id || e.className || e.tagName; }"
        )
        reached.append(str(focused))
        if focused == "order-link":
            break
    controls = (
        "filter-status",
        "filter-channel",
        "filter-from",
        "filter-before",
        "filter-number",
        "filter-email",
    )
    for control in controls:
        assert control in reached, reached
    assert reached[-1] == "order-link", reached
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{running_oms.api_url}/console/orders/{split.order_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {split.number}")
    seen.assert_clean(running_oms)


# --- an order and its workflow -------------------------------------------------------------------------


def test_a_split_order_shows_its_shipments_and_waits_in_each_await_shipment(
    console: Any, running_oms: RunningOMS, browser: Browser, split: Placed
) -> None:
    seen: Visit = console(f"/console/orders/{split.order_id}")
    page = seen.page
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Order {split.number}")
    fulfillments = page.get_by_role("table", name="Fulfillments").locator("tbody tr")
    expect(fulfillments).to_have_count(2)
    expect(fulfillments.nth(0)).to_contain_text("wh-east")
    expect(fulfillments.nth(1)).to_contain_text("wh-west")
    expect(page.get_by_role("table", name="Planned shipments").locator("tbody tr")).to_have_count(2)
    expect(page.locator("p.reason")).not_to_be_empty()
    expect(page.get_by_role("table", name="Order lines")).to_contain_text("CON-RUG")
    expect(page.locator(".facts")).to_contain_text(["grace@example.com", "$45.00"])
    expect(page.locator("ol.timeline li")).not_to_have_count(0)

    graph = page.locator("svg.workflow-graph")
    expect(graph).to_be_visible()
    expect(page.locator(".execution")).to_contain_text("waiting in AwaitShipment")
    marks = {
        state: page.locator(f'.workflow-graph g.state[data-state="{state}"]').get_attribute("data-mark")
        for state in (
            "AcceptOrder",
            "ReserveInventory",
            "FulfilEachShipment",
            "AwaitShipment",
            "AwaitDelivery",
            "Compensate",
            "ConcludeOrder",
        )
    }
    assert marks == {
        "AcceptOrder": "visited",
        "ReserveInventory": "unvisited",
        "FulfilEachShipment": "active",
        "AwaitShipment": "waiting",
        "AwaitDelivery": "unvisited",
        "Compensate": "unvisited",
        "ConcludeOrder": "unvisited",
    }
    # In words too, not only in colour.
    expect(page.locator('.workflow-graph g.state[data-state="AwaitShipment"] text.mark')).to_have_text(
        "\u2016 waiting \u00d72"
    )
    taken = graph.locator("path.edge.taken").evaluate_all(
        "es => es.map(e => e.dataset.from + '>' + e.dataset.to)"
    )
    assert {
        "AcceptOrder>FulfilEachShipment",
        "FulfilEachShipment>AwaitShipment",
    } <= set(taken)
    assert "AwaitShipment>AwaitDelivery" not in taken
    expect(page.locator("ol.path li.step-waiting")).to_have_count(2)
    audit(page)

    for size, viewport in (("desktop", DESKTOP), ("laptop", LAPTOP)):
        page.set_viewport_size(viewport)
        _, png = screenshot(page, f"order-split-{size}")
        assert_not_blank(browser, png)
        fills = state_fills(browser, page, png, ["AcceptOrder", "AwaitShipment", "AwaitDelivery"])
        assert fills == [DONE, WAITING, UNVISITED], size
    seen.assert_clean(running_oms)


def test_a_backordered_order_waits_for_a_restock(
    console: Any, running_oms: RunningOMS, browser: Browser, backordered: Placed
) -> None:
    seen: Visit = console(f"/console/orders/{backordered.order_id}", viewport=LAPTOP)
    page = seen.page
    expect(page.get_by_role("heading", level=1)).to_contain_text("backordered")
    expect(page.locator(".execution")).to_contain_text("waiting in AwaitRestock")
    restock = page.locator('.workflow-graph g.state[data-state="AwaitRestock"]')
    expect(restock).to_have_attribute("data-mark", "waiting")
    expect(restock.locator("text.mark")).to_have_text("\u2016 waiting")
    expect(page.locator('.workflow-graph g.state[data-state="FulfilEachShipment"]')).to_have_attribute(
        "data-mark", "unvisited"
    )
    expect(page.get_by_role("table", name="Fulfillments")).to_have_count(0)
    _, png = screenshot(page, "order-backordered-laptop")
    # AcceptOrder raised OrderBackordered, which its Catch routed: "failed, caught" in its own colour.
    expect(page.locator('.workflow-graph g.state[data-state="AcceptOrder"]')).to_have_attribute(
        "data-mark", "caught"
    )
    states = ["AcceptOrder", "ReadBackorderWait", "AwaitRestock", "AwaitShipment"]
    assert state_fills(browser, page, png, states) == [CAUGHT, DONE, WAITING, UNVISITED]
    audit(page)
    seen.assert_clean(running_oms)


def test_cancel_on_the_order_page_cancels_it_and_the_workflow_ends_cancelled(
    console: Any, running_oms: RunningOMS, browser: Browser, stocked: Client
) -> None:
    placed = place(stocked, [(EAST_SKU, 2)], "FULFILLING")
    wait_for_waiting(stocked, placed.order_id, 1)
    seen: Visit = console(f"/console/orders/{placed.order_id}")
    page = seen.page
    expect(page.locator(".execution")).to_contain_text("waiting in AwaitShipment")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel order").click()

    expect(page.locator("#action-result")).to_have_text("Cancelled: the order is now cancelled.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("cancelled")
    expect(page.get_by_role("button", name="Cancel order")).to_be_disabled()
    assert stocked.order(placed.order_id)["status"] == "CANCELLED"

    deadline = time.monotonic() + 20  # the workflow releases the stock and ends: reload until it has
    while "succeeded" not in (page.locator(".execution-status").text_content() or ""):
        assert time.monotonic() < deadline
        time.sleep(0.3)
        page.reload()
        expect(page.locator(".execution")).to_be_visible()
    expect(page.locator('.workflow-graph g.state[data-state="Cancelled"]')).to_have_attribute(
        "data-mark", "visited"
    )
    expect(page.locator('.workflow-graph g.state[data-state="AwaitShipment"]')).to_have_attribute(
        "data-mark", "caught"
    )
    _, png = screenshot(page, "order-cancelled-desktop")
    assert_not_blank(browser, png)
    seen.assert_clean(running_oms)


def test_an_unknown_order_and_a_missing_asset(console: Any, running_oms: RunningOMS) -> None:
    seen: Visit = console("/console/orders/ord_NO_SUCH_ORDER")
    page = seen.page
    expect(page.locator("#order-status")).to_have_text("No order ord_NO_SUCH_ORDER.")
    assert [e for e in seen.console_errors if "404" not in e] == []  # the API's 404, logged by the browser
    response = page.request.get(running_oms.api_url + "/console/assets/missing-0000.js")
    assert response.status == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "NOT_FOUND"
