"""The console's dashboard, inventory, warehouses and settings pages in a real browser (Debian's
Chromium, headless, offline) against `python -m local` over HTTP, seeded by the demo with two weeks of
demo history (as `make run` makes six, smaller), so the screenshots show a dashboard with days of data.
The module places its own orders on
its own channel and SKU, waits for the analytics to count them, then checks each page shows them, logs
no error, passes an axe-core audit, and is screenshotted at desktop and laptop sizes under
artifacts/console/ (checked not blank); the stock adjustment and the CSV import are used end to end."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.e2e import test_console_in_a_browser as first
from tests.e2e.conftest import RunningOMS, client_of, colour_census, local_oms
from tests.e2e.test_console_in_a_browser import (
    Visit,
    audit,
    shoot_both,
)
from tests.support.orders import BOSTON, CHANNEL_SECRET, Client, signed_headers

ORDERS = 3
UNITS = 2
EAST_UNITS, WEST_UNITS = 40, 7
SETTLE_SECONDS = 60
console = first.console  # a signed-in page of this module's OMS
HISTORY = {"OMS_DEMO_HISTORY": "40", "OMS_DEMO_HISTORY_DAYS": "14"}


@pytest.fixture(scope="module")
def running_oms() -> Iterator[RunningOMS]:
    """This module's own OMS, with demo history (the session's has none: other tests count warehouses)."""
    with local_oms(startup_seconds=300, **HISTORY) as running:
        yield running


@pytest.fixture(scope="module")
def client(running_oms: RunningOMS) -> Client:
    seeded = client_of(running_oms)
    seeded.seed()
    return seeded


@dataclass(frozen=True)
class World:
    """What this module set up through the API: a channel with its orders, a SKU's stock, a tracking
    provider and a subscription."""

    channel: str
    sku: str
    provider: str
    subscription: str
    order_ids: list[str]
    provider_secret: str
    subscription_secret: str


def deliver(client: Client, channel: str, sku: str) -> str:
    order = {
        "channelOrderId": f"pg-{uuid.uuid4().hex[:10]}",
        "orderNumber": f"#PG{uuid.uuid4().hex[:6].upper()}",
        "currency": "USD",
        "customer": {"email": "katherine@example.com", "name": "Katherine Johnson"},
        "shippingAddress": dict(BOSTON),
        "lines": [{"sku": sku, "title": "Pages item", "quantity": UNITS, "unitPrice": "10.00"}],
        "shippingPrice": "5.00",
    }
    body = json.dumps(order).encode()
    status, receipt = client.send("POST", f"/webhooks/{channel}", signed_headers(body), body)
    assert status == 202, receipt
    return str(receipt["orderId"])


def put(client: Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    status, answer = client.call("PUT", path, body)
    assert status in (200, 201), (path, answer)
    return dict(answer)


def settled(client: Client, channel: str) -> None:
    """Until the analytics count the module's orders placed today, all reserved."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        status, summary = client.call("GET", f"/analytics/summary?channelId={channel}")
        assert status == 200, summary
        reserved = summary["leadTimes"]["placedToReserved"]["count"]
        if summary["ordersPlaced"] == ORDERS and reserved == ORDERS:
            return
        assert time.monotonic() < deadline, summary
        time.sleep(0.5)


@pytest.fixture(scope="module")
def world(client: Client) -> Iterator[World]:
    tag = uuid.uuid4().hex[:6]
    channel, sku = f"pages-{tag}", f"PG-{tag.upper()}"
    put(
        client, f"/channels/{channel}", {"type": "api", "webhookSecret": CHANNEL_SECRET, "name": "Pages test"}
    )
    provider_secret = f"provider-secret-{tag}"
    put(client, f"/tracking-providers/pages-{tag}", {"type": "easypost", "webhookSecret": provider_secret})
    subscribed = put(
        client,
        f"/subscriptions/pages-{tag}",
        {"url": "http://127.0.0.1:9/oms-events", "eventTypes": ["order.created"], "description": "Pages"},
    )
    put(client, f"/inventory/{sku}/locations/wh-east", {"onHand": EAST_UNITS})
    put(client, f"/inventory/{sku}/locations/wh-west", {"onHand": WEST_UNITS})
    order_ids = [deliver(client, channel, sku) for _ in range(ORDERS)]
    for order_id in order_ids:
        client.wait_for_status(order_id, "FULFILLING", timeout=30)
    settled(client, channel)
    yield World(
        channel, sku, f"pages-{tag}", f"pages-{tag}", order_ids, provider_secret, str(subscribed["secret"])
    )
    # Later tests' events are not sent to a port nothing listens on.
    assert client.call("DELETE", f"/subscriptions/pages-{tag}")[0] == 204


TOOLTIP = "#333333"  # Chart.js's tooltip box, rgba(0, 0, 0, 0.8), on the white card


def assert_tooltip_on_hover(browser: Browser, page: Page, chart: str) -> None:
    """Hovering the last day's bar draws Chart.js's tooltip on the canvas (counted in its pixels)."""
    canvas = page.locator(chart)
    box = canvas.bounding_box()
    assert box is not None
    before = colour_census(browser, canvas.screenshot())
    page.mouse.move(box["x"] + box["width"] - 14, box["y"] + box["height"] * 0.4)
    page.wait_for_timeout(200)
    after = colour_census(browser, canvas.screenshot())
    assert after.get(TOOLTIP, 0) > 10 * before.get(TOOLTIP, 0) + 300, (
        before.get(TOOLTIP),
        after.get(TOOLTIP),
    )
    page.mouse.move(0, 0)


def js_number(value: float) -> str:
    """A number as JavaScript's String() writes it (315.0 is "315")."""
    return str(int(value)) if value == int(value) else str(value)


def cells(page: Page, table: str) -> list[list[str]]:
    rows: list[list[str]] = page.locator(f"{table} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"
    )
    return rows


def headings(page: Page, table: str) -> list[str]:
    return [t.strip() for t in page.locator(f"{table} thead th").all_inner_texts()]


# --- navigation ----------------------------------------------------------------------------------------


def test_the_navigation_reaches_every_page(console: Any, running_oms: RunningOMS) -> None:
    seen: Visit = console("/console/orders")
    page = seen.page
    nav = page.get_by_role("navigation", name="Sections")
    for name, heading in (
        ("Dashboard", "Dashboard"),
        ("Inventory", "Inventory"),
        ("Warehouses", "Warehouses"),
        ("Settings", "Settings"),
        ("Orders", "Orders"),
    ):
        nav.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(nav.get_by_role("link", name=name)).to_have_attribute("aria-current", "page")
    seen.assert_clean(running_oms)


# --- the dashboard -------------------------------------------------------------------------------------


def test_the_dashboard_counts_the_orders_placed_today_on_the_channel(
    console: Any, running_oms: RunningOMS, browser: Browser, world: World
) -> None:
    today = datetime.now(UTC).date().isoformat()
    seen: Visit = console("/console/dashboard")
    page = seen.page
    table = "#orders-per-day-table"
    expect(page.locator(table)).to_be_visible()
    assert (
        page.get_by_label("From", exact=True).input_value()
        <= today
        == page.get_by_label("To", exact=True).input_value()
    )
    columns = headings(page, table)
    assert columns[0] == "Day" and world.channel in columns and columns[-1] == "All channels"
    rows = {row[0]: row for row in cells(page, table)}
    assert len(rows) == 30 and today in rows
    assert rows[today][columns.index(world.channel)] == str(ORDERS)
    assert int(rows[today][-1]) >= ORDERS
    expect(page.locator("#orders-per-day-chart")).to_have_attribute("role", "img")
    expect(page.locator("#lead-times-table")).to_contain_text("Placed \u2192 reserved")
    expect(page.locator("#tile-backorders")).to_contain_text("Backorder rate")
    assert_tooltip_on_hover(browser, page, "#orders-per-day-chart")
    audit(page)
    shoot_both(browser, page, "dashboard")

    page.get_by_label("Channel", exact=True).select_option(world.channel)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(f"channelId={world.channel}"))
    expect(page.locator("#dashboard-status")).to_contain_text(f"{ORDERS} orders placed")
    assert headings(page, table) == ["Day", world.channel]
    assert {row[0]: row[1] for row in cells(page, table)}[today] == str(ORDERS)
    lead = {row[0]: row for row in cells(page, "#lead-times-table")}
    assert lead["Placed \u2192 reserved"][1] == str(ORDERS)
    expect(page.locator("#tile-orders .tile-value")).to_have_text(str(ORDERS))
    expect(page.locator("#tile-revenue .tile-value")).to_have_text(f"${ORDERS * (UNITS * 10 + 5)}.00")

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download CSV").click()
    download = downloading.value
    assert download.suggested_filename.startswith("oms-analytics-")
    csv = download.path().read_text()
    header, *lines = csv.strip().splitlines()
    ordered = header.split(",").index("ordersPlaced")
    assert {line.split(",")[0]: line.split(",")[ordered] for line in lines}[today] == str(ORDERS)
    seen.assert_clean(running_oms)


# --- inventory -----------------------------------------------------------------------------------------


def test_the_inventory_shows_the_stock_and_reservations_of_the_sku(
    console: Any, running_oms: RunningOMS, browser: Browser, world: World
) -> None:
    seen: Visit = console("/console/inventory")
    page = seen.page
    expect(page.locator("#stock-table tbody tr").first).to_be_visible()
    page.get_by_label("SKUs", exact=True).fill(world.sku)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#inventory-status")).to_have_text("1 SKUs found.")
    rows = {row[1]: row[2:] for row in cells(page, "#stock-table")}
    reserved = ORDERS * UNITS
    assert rows == {
        "wh-east": [str(EAST_UNITS), str(reserved), "0", str(EAST_UNITS - reserved)],
        "wh-west": [str(WEST_UNITS), "0", "0", str(WEST_UNITS)],
    }
    audit(page)
    shoot_both(browser, page, "inventory")
    page.get_by_role("link", name=world.sku).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Stock of {world.sku}")
    seen.assert_clean(running_oms)


def test_the_stock_list_pages_on_with_the_cursor_and_back(
    console: Any, running_oms: RunningOMS, world: World
) -> None:
    seen: Visit = console("/console/inventory?limit=2")
    page = seen.page
    rows = page.locator("#stock-table tbody tr")
    expect(rows).to_have_count(2)
    first = cells(page, "#stock-table")
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"limit=2&cursor="))
    expect(rows).to_have_count(2)
    second = cells(page, "#stock-table")
    assert not {tuple(r[:2]) for r in first} & {tuple(r[:2]) for r in second}, (first, second)
    page.get_by_role("link", name="Previous page").click()
    expect(rows.first).to_contain_text(first[0][0])
    assert cells(page, "#stock-table") == first
    expect(page.get_by_role("link", name="Previous page")).to_have_count(0)
    seen.assert_clean(running_oms)


def test_an_adjustment_changes_on_hand_and_a_refused_one_is_explained_at_its_field(
    console: Any, running_oms: RunningOMS, browser: Browser, world: World, client: Client
) -> None:
    seen: Visit = console(f"/console/inventory/{world.sku}")
    page = seen.page
    table = "#locations-table"
    expect(page.locator(table)).to_be_visible()
    before = {row[0]: row[1:] for row in cells(page, table)}
    east = int(before["wh-east"][0])
    expect(page.locator("#ledger-table tbody tr").first).to_be_visible()
    assert "RESERVE" in {row[2] for row in cells(page, "#ledger-table")}
    audit(page)
    shoot_both(browser, page, "inventory-sku")

    page.locator("#adjust-warehouse").select_option("wh-east")
    page.get_by_label("Change (units)", exact=True).fill("-1000")
    page.get_by_role("button", name="Adjust").click()
    expect(page.locator("#adjust-delta-error")).to_contain_text("units already reserved")
    expect(page.locator("#adjust-result")).not_to_be_empty()
    assert [e for e in seen.console_errors if "409" not in e and "400" not in e] == []
    seen.console_errors.clear()

    page.get_by_label("Change (units)", exact=True).fill("5")
    page.get_by_label("Reason", exact=True).select_option("RECEIPT")
    page.get_by_label("Reference", exact=True).fill("PO-PAGES")
    page.get_by_role("button", name="Adjust").click()
    expect(page.locator("#adjust-done")).to_have_text(f"Adjusted: wh-east now has {east + 5} on hand.")
    page.reload()
    expect(page.locator(table)).to_be_visible()
    assert {row[0]: row[1] for row in cells(page, table)}["wh-east"] == str(east + 5)
    expect(page.locator("#ledger-table tbody tr").first).to_contain_text("PO-PAGES")
    assert client.stock(world.sku)["wh-east"]["onHand"] == east + 5
    seen.assert_clean(running_oms)


def test_the_keyboard_reaches_the_adjustment_form_and_enter_submits_it(
    console: Any, running_oms: RunningOMS, world: World
) -> None:
    seen: Visit = console(f"/console/inventory/{world.sku}")
    page = seen.page
    expect(page.locator("#locations-table")).to_be_visible()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    reached: list[str] = []
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.append(str(page.evaluate("document.activeElement.id || document.activeElement.tagName")))
        if reached[-1] == "adjust-delta":
            break
    assert "adjust-warehouse" in reached and reached[-1] == "adjust-delta", reached
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator("#adjust-done")).to_contain_text("on hand")
    seen.assert_clean(running_oms)


def test_a_zero_adjustment_is_refused_next_to_its_field(
    console: Any, running_oms: RunningOMS, world: World
) -> None:
    seen: Visit = console(f"/console/inventory/{world.sku}")
    page = seen.page
    page.get_by_label("Change (units)", exact=True).fill("0")
    page.get_by_role("button", name="Adjust").click()
    expect(page.locator("#adjust-delta-error")).not_to_be_empty()
    expect(page.get_by_label("Change (units)", exact=True)).to_have_attribute("aria-invalid", "true")
    assert [e for e in seen.console_errors if "400" not in e and "422" not in e] == []


def test_the_csv_import_applies_the_good_rows_and_reports_the_others(
    console: Any, running_oms: RunningOMS, world: World, client: Client
) -> None:
    sku = world.sku + "-CSV"
    content = f"sku,warehouseId,onHand\n{sku},wh-east,12\n{sku},wh-nowhere,3\nnot,a\n"
    seen: Visit = console("/console/inventory")
    page = seen.page
    payload: FilePayload = {"name": "counts.csv", "mimeType": "text/csv", "buffer": content.encode()}
    page.get_by_label("CSV file", exact=True).set_input_files(files=[payload])
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-status")).to_have_text("3 rows: 1 applied, 0 unchanged, 2 not imported.")
    report = {row[0]: row[3] for row in cells(page, "#import-table")}
    assert report == {"2": "APPLIED", "3": "REFUSED", "4": "UNREADABLE"}
    assert page.locator("#import-progress").evaluate("p => p.value === p.max")
    assert client.stock(sku)["wh-east"]["onHand"] == 12
    seen.assert_clean(running_oms)


# --- warehouses ----------------------------------------------------------------------------------------


def test_the_warehouses_are_drawn_and_the_finder_ranks_the_nearest_first(
    console: Any, running_oms: RunningOMS, browser: Browser, world: World, client: Client
) -> None:
    status, ranking = client.call("GET", "/warehouses?postalCode=02108&country=US&limit=5")
    assert status == 200, ranking
    expected = [
        [str(i + 1), w["warehouseId"], w["name"], f"{js_number(w['distanceKm'])} km"]
        for i, w in enumerate(ranking["warehouses"])
    ]
    ids = [row[1] for row in expected]
    assert ids.index("wh-east") < ids.index("wh-west")  # Newark is nearer Boston than Reno
    seen: Visit = console("/console/warehouses")
    page = seen.page
    drawing = page.locator("svg#warehouse-map")
    expect(drawing.locator('g.warehouse[data-warehouse="wh-east"]')).to_be_visible()
    expect(page.locator("#warehouses-table")).to_contain_text("Reno NV")

    page.get_by_label("Postal code", exact=True).fill("02108")  # Boston
    page.locator("#finder-country").fill("US")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#ranking-table tbody tr")).to_have_count(len(expected))
    assert cells(page, "#ranking-table") == expected
    nearest = drawing.locator(f'g.warehouse[data-warehouse="{expected[0][1]}"]')
    expect(nearest).to_have_attribute("data-rank", "1")
    expect(nearest).to_have_class(re.compile(r"\btop-1\b"))
    expect(drawing.locator("g.origin")).to_be_visible()

    page.locator("#region-country").fill("US")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#region-table")).to_contain_text("wh-east")
    audit(page)
    shoot_both(browser, page, "warehouses")

    page.get_by_label("Postal code", exact=True).fill("00000")
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#finder-postal-error")).to_contain_text("no place found for postalCode 00000")
    assert [e for e in seen.console_errors if "400" not in e] == []


# --- settings ------------------------------------------------------------------------------------------


def test_the_settings_show_each_channel_provider_and_subscription_without_secrets(
    console: Any, running_oms: RunningOMS, browser: Browser, world: World
) -> None:
    seen: Visit = console("/console/settings")
    page = seen.page
    channel = page.locator(f'#channels-body article[data-id="{world.channel}"]')
    expect(channel).to_contain_text("Pages test")
    expect(channel.locator(".deliveries-table tbody tr")).to_have_count(ORDERS)
    expect(channel.locator(".deliveries-table")).to_contain_text(world.order_ids[-1])
    expect(channel).to_contain_text("Customer e-mails")
    provider = page.locator(f'#providers-body article[data-id="{world.provider}"]')
    expect(provider).to_contain_text("easypost")
    expect(provider).to_contain_text("No deliveries yet.")
    subscription = page.locator(f'#subscriptions-body article[data-id="{world.subscription}"]')
    expect(subscription).to_contain_text("http://127.0.0.1:9/oms-events")
    expect(subscription.locator(".deliveries-table tbody tr").first).to_contain_text("order.created")
    text = page.locator("main").inner_text()
    for secret in (
        CHANNEL_SECRET,
        world.provider_secret,
        world.subscription_secret,
        world.subscription_secret[:10],
    ):
        assert secret not in text
    assert "secret" not in text.lower()
    audit(page)
    shoot_both(browser, page, "settings")
    seen.assert_clean(running_oms)
