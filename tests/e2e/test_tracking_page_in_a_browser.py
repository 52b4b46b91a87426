"""GET /track as a customer sees it: in a real browser (Debian's Chromium, headless, offline), without an
API key, against `python -m local` over HTTP. Orders go through the real workflow and the warehouse
callbacks; what a carrier reported (checkpoints, estimated delivery, an exception) is written on the
fulfillment in moto directly, as the tracking webhooks will. Each test looks at its screenshot: the
progress bars' steps have the colours their stage says, found at the elements' own boxes in the PNG.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, ViewportSize, expect

from shared.logic.tracking_links import sign
from shared.models.tracking import ShipmentTracking
from tests.e2e.conftest import RunningOMS, dominant_colours, png_size, record_failed_resource
from tests.support.orders import BOSTON, Client

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
# The page's colours (functions/tracking_page/page.py): a step reached, one not yet, a problem.
DONE, TODO, PROBLEM = "#1a7f37", "#d0d7de", "#cf222e"
EAST_SKU, WEST_SKU = "TRK-LAMP", "TRK-RUG"  # stocked at one warehouse each: an order of both is split
EMAIL = "Ada.Lovelace@Example.com"
REGIONS = {"Newark": "NJ", "Worcester": "MA", "Boston": "MA", "Reno": "NV"}
NOT_FOUND = "We could not find an order with that order number and e-mail address or postal code."


@dataclass(frozen=True)
class Placed:
    order_id: str
    number: str
    fulfillments: list[dict[str, Any]]


@pytest.fixture(scope="module")
def stocked(client: Client) -> Client:
    for sku, warehouse in ((EAST_SKU, "wh-east"), (WEST_SKU, "wh-west")):
        status, body = client.call("PUT", f"/inventory/{sku}/locations/{warehouse}", {"onHand": 500})
        assert status == 200, body
    return client


@pytest.fixture(scope="module")
def orders_table(running_oms: RunningOMS) -> Any:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return session.resource("dynamodb", endpoint_url=running_oms.aws_url).Table("oms-Orders")


def place(client: Client, skus: list[str]) -> Placed:
    """An order of one unit of each SKU, with titles and prices, waiting at its warehouses."""
    number = f"#T{uuid.uuid4().hex[:6].upper()}"
    titles = {EAST_SKU: "Brass desk lamp", WEST_SKU: "Wool rug, 120 x 180"}
    order = {
        "channelOrderId": f"chan-{uuid.uuid4().hex[:10]}",
        "orderNumber": number,
        "currency": "USD",
        "customer": {"email": "ada.lovelace@example.com", "name": "Ada Lovelace"},
        "shippingAddress": dict(BOSTON),
        "lines": [{"sku": sku, "title": titles[sku], "quantity": 1, "unitPrice": "39.00"} for sku in skus],
        "shippingPrice": "5.00",
    }
    order_id = client.place(order)
    deadline = time.monotonic() + 20
    while True:
        found = client.order(order_id)
        fulfillments = found["fulfillments"]
        if len(fulfillments) == len(skus) and all(f["status"] == "REQUESTED" for f in fulfillments):
            return Placed(order_id, number, sorted(fulfillments, key=lambda f: f["fulfillmentId"]))
        assert time.monotonic() < deadline, found
        time.sleep(0.1)


def ship(client: Client, fulfillment_id: str, carrier: str, tracking_number: str) -> None:
    for event in ("PICKED", "PACKED"):
        assert client.fulfillment_event(fulfillment_id, event)[0] == 200
    shipped = {"carrier": carrier, "trackingNumber": tracking_number}
    status, body = client.fulfillment_event(fulfillment_id, "SHIPPED", **shipped)
    assert status == 200, body


def carrier_reports(table: Any, placed: Placed, fulfillment_id: str, tracking: ShipmentTracking) -> None:
    """What the tracking webhooks will write: the carrier's status and checkpoints on the fulfillment."""
    table.update_item(
        Key={"pk": f"ORDER#{placed.order_id}", "sk": f"FULFILLMENT#{fulfillment_id}"},
        UpdateExpression="SET tracking = :tracking",
        ExpressionAttributeValues={":tracking": tracking.model_dump(mode="json", exclude_none=True)},
    )


def tracking(
    status: str, checkpoints: list[tuple[str, str, str, str | None]], **extra: Any
) -> ShipmentTracking:
    return ShipmentTracking.model_validate(
        {
            "providerId": "easypost-test",
            "trackerId": f"trk_{uuid.uuid4().hex[:8]}",
            "status": status,
            "updatedAt": checkpoints[-1][0],
            "checkpoints": [
                {
                    "at": at,
                    "status": kind,
                    "message": message,
                    "city": city,
                    "region": REGIONS[city],
                    "country": "US",
                }
                for at, kind, message, city in checkpoints
            ],
            **extra,
        }
    )


@pytest.fixture(scope="module")
def out_for_delivery(stocked: Client, orders_table: Any) -> Placed:
    """One shipment, shipped with UPS, out for delivery after three scans (no provider link)."""
    placed = place(stocked, [EAST_SKU])
    [fulfillment] = placed.fulfillments
    ship(stocked, fulfillment["fulfillmentId"], "UPS", "1Z999AA10123456784")
    scans = [
        ("2026-11-30T08:00:00Z", "in_transit", "Picked up by the carrier", "Newark"),
        ("2026-12-01T06:30:00Z", "in_transit", "Arrived at facility", "Worcester"),
        ("2026-12-02T07:15:00Z", "out_for_delivery", "Out for delivery", "Boston"),
    ]
    report = tracking("out_for_delivery", scans, estimatedDelivery="2026-12-02")
    carrier_reports(orders_table, placed, fulfillment["fulfillmentId"], report)
    return placed


@pytest.fixture(scope="module")
def split(stocked: Client, orders_table: Any) -> Placed:
    """Two shipments: the lamp delivered, the rug on its way back to the sender (a carrier exception)."""
    placed = place(stocked, [EAST_SKU, WEST_SKU])
    lamp, rug = (f["fulfillmentId"] for f in placed.fulfillments)
    ship(stocked, lamp, "FedEx", "794698570000")
    assert stocked.fulfillment_event(lamp, "DELIVERED")[0] == 200
    ship(stocked, rug, "USPS", "9400100000000000000000")
    scans = [
        ("2026-11-29T10:00:00Z", "in_transit", "Accepted at USPS origin facility", "Reno"),
        ("2026-12-01T16:00:00Z", "return_to_sender", "Addressee unknown, returning to sender", "Boston"),
    ]
    carrier_reports(orders_table, placed, rug, tracking("return_to_sender", scans))
    return placed


@dataclass
class Visit:
    page: Page
    requested: list[str]
    failed_resources: list[str]
    console_errors: list[str]
    page_errors: list[str]

    def assert_stayed_home(self, running_oms: RunningOMS) -> None:
        """Nothing fetched from another host, no script error, nothing the CSP refused."""
        oms_host = urlsplit(running_oms.api_url).netloc
        foreign = [
            u for u in self.requested + self.failed_resources if urlsplit(u).netloc not in {oms_host, ""}
        ]
        assert foreign == [], "the page must be self-contained: the machine is offline"
        assert self.page_errors == []
        assert [e for e in self.console_errors if "Content Security Policy" in e] == []
        paths = {urlsplit(url).path for url in self.requested}
        assert paths <= {"/track", "/track/lookup"}, paths


@pytest.fixture
def visit(browser: Browser) -> Iterator[Any]:
    opened: list[Page] = []

    def open_page(url: str, viewport: ViewportSize = DESKTOP, **options: Any) -> Visit:
        context = browser.new_context(viewport=viewport, **options)  # fresh: no API key, no cookies
        page = context.new_page()
        opened.append(page)
        seen = Visit(page, [], [], [], [])
        page.on("request", lambda request: seen.requested.append(request.url))
        page.on("console", lambda message: _console(message, seen))
        page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
        page.goto(url)
        return seen

    yield open_page
    for page in opened:
        page.context.close()


def _console(message: ConsoleMessage, seen: Visit) -> None:
    record_failed_resource(message, seen.failed_resources)
    if message.type == "error":
        seen.console_errors.append(message.text)


def look_up(page: Page, number: str, proof: str) -> None:
    page.get_by_label("Order number").fill(number)
    page.get_by_label("E-mail address or postal code").fill(proof)
    page.get_by_role("button", name="Track order").click()


def step_classes(shipment: Locator) -> list[str]:
    return [
        str(c) for c in shipment.locator(".progress li").evaluate_all("items => items.map(i => i.className)")
    ]


def screenshot_colours(browser: Browser, visit: Visit, path: Path, bars: Locator) -> list[str]:
    """A full-page screenshot at `path`, and the colour most of each bar's pixels have in it."""
    page = visit.page
    page.screenshot(path=path, full_page=True)
    png = path.read_bytes()
    width, height = png_size(png)
    scale = page.evaluate("window.devicePixelRatio")
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert width == round(page_width * scale), (width, page_width, scale)
    boxes = []
    for box in bars.evaluate_all(
        "bars => bars.map(b => { const r = b.getBoundingClientRect();"
        " return [r.x + window.scrollX, r.y + window.scrollY, r.width, r.height]; })"
    ):
        x, y, w, h = (float(v) * scale for v in box)
        # The middle of the bar: its rounded ends are anti-aliased against the card.
        middle = [round(x + w * 0.25), round(y + h * 0.3), max(1, round(w * 0.5)), max(1, round(h * 0.4))]
        assert middle[0] >= 0 and middle[0] + middle[2] <= width and middle[1] + middle[3] <= height, middle
        boxes.append(middle)
    return dominant_colours(browser, png, boxes)


def assert_no_private_data(page: Page) -> None:
    text = page.locator("body").inner_text()
    for private in ("1 Main St", "02108", "ada.lovelace@example.com", "Lovelace", "$", "39.00"):
        assert private.casefold() not in text.casefold(), f"the lookup shows {private!r}"


def test_a_lookup_by_email_shows_the_shipment_its_carrier_link_and_checkpoints(
    browser: Browser, visit: Any, running_oms: RunningOMS, out_for_delivery: Placed, tmp_path: Path
) -> None:
    seen: Visit = visit(running_oms.api_url + "/track")
    page = seen.page
    expect(page.get_by_role("heading", name="Track your order")).to_be_visible()

    look_up(page, out_for_delivery.number.lstrip("#").lower(), f"  {EMAIL}  ")  # as a customer types it

    expect(page.locator("#result h2")).to_have_text(f"Order {out_for_delivery.number}")
    shipment = page.locator(".shipment")
    expect(shipment).to_have_count(1)
    expect(shipment.locator(".stage")).to_have_text("Out for delivery")
    expect(shipment.locator(".progress")).to_have_attribute("aria-label", "Progress: Out for delivery")
    assert step_classes(shipment) == ["step done", "step done", "step done", "step done current", "step"]
    link = shipment.get_by_role("link", name="1Z999AA10123456784")
    expect(link).to_have_attribute("href", "https://www.ups.com/track?tracknum=1Z999AA10123456784")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    facts = shipment.locator("dl.facts")
    expect(facts).to_contain_text("UPS")
    expect(facts).to_contain_text("December 2, 2026")
    expect(facts).to_contain_text("Boston")
    expect(shipment.locator("ul.lines")).to_have_text("1 \u00d7 Brass desk lamp (TRK-LAMP)")
    checkpoints = shipment.locator("ol.checkpoints li")
    expect(checkpoints).to_have_count(3)
    expect(checkpoints.first).to_contain_text("Out for delivery")  # newest first
    expect(checkpoints.last).to_contain_text("Picked up by the carrier")
    expect(checkpoints.last).to_contain_text("Newark, NJ, US")
    assert_no_private_data(page)

    colours = screenshot_colours(browser, seen, tmp_path / "desktop.png", shipment.locator(".progress .bar"))
    assert colours == [DONE, DONE, DONE, DONE, TODO], tmp_path / "desktop.png"
    seen.assert_stayed_home(running_oms)


def test_a_lookup_by_postal_code_shows_a_split_order_with_two_progress_bars(
    browser: Browser, visit: Any, running_oms: RunningOMS, split: Placed, tmp_path: Path
) -> None:
    seen: Visit = visit(running_oms.api_url + "/track")
    page = seen.page

    look_up(page, split.number, " 02108 ")

    expect(page.locator("#result h2")).to_have_text(f"Order {split.number}")
    shipments = page.locator(".shipment")
    expect(shipments).to_have_count(2)
    lamp, rug = shipments.nth(0), shipments.nth(1)
    expect(lamp.locator("h3")).to_have_text("Shipment 1 of 2")
    expect(lamp.locator(".stage")).to_have_text("Delivered")
    expect(lamp.get_by_role("link", name="794698570000")).to_have_attribute(
        "href", "https://www.fedex.com/fedextrack/?trknbr=794698570000"
    )
    expect(rug.locator("h3")).to_have_text("Shipment 2 of 2")
    expect(rug.locator(".stage")).to_have_text("Delivery problem")
    expect(rug.locator(".detail")).to_have_text("The carrier is returning this parcel to the sender.")
    expect(rug.locator("ol.checkpoints li")).to_have_count(2)
    assert step_classes(lamp) == ["step done", "step done", "step done", "step done", "step done current"]
    assert step_classes(rug) == ["step done", "step done", "step problem current", "step", "step"]
    assert_no_private_data(page)

    path = tmp_path / "split.png"
    assert screenshot_colours(browser, seen, path, lamp.locator(".progress .bar")) == [DONE] * 5
    assert screenshot_colours(browser, seen, path, rug.locator(".progress .bar")) == [
        DONE,
        DONE,
        PROBLEM,
        TODO,
        TODO,
    ]
    seen.assert_stayed_home(running_oms)


def test_a_wrong_email_and_an_unknown_number_look_the_same(
    visit: Any, running_oms: RunningOMS, out_for_delivery: Placed
) -> None:
    seen: Visit = visit(running_oms.api_url + "/track")
    page = seen.page
    answers = []
    for number, proof in (
        (out_for_delivery.number, "someone.else@example.com"),  # the right number, the wrong e-mail
        (out_for_delivery.number, "90210"),  # the right number, the wrong postal code
        ("#NO-SUCH-ORDER", EMAIL),  # a number no order has
    ):
        with page.expect_response("**/track/lookup") as response:
            look_up(page, number, proof)
        expect(page.locator("#message")).to_have_text(NOT_FOUND)
        expect(page.locator("#result")).to_be_hidden()
        expect(page.locator("#lookup-card")).to_be_visible()
        answers.append((response.value.status, response.value.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 404
    seen.assert_stayed_home(running_oms)


def test_a_signed_link_opens_the_order_with_its_prices_and_a_bad_one_offers_the_form(
    *, browser: Browser, visit: Any, running_oms: RunningOMS, client: Client, split: Placed, tmp_path: Path
) -> None:
    status, link = client.call("POST", f"/orders/{split.order_id}/tracking-link", {"expiresInDays": 7})
    assert status == 200, link
    assert link["url"] == f"{running_oms.api_url}/track?token={link['token']}"

    seen: Visit = visit(link["url"])
    page = seen.page
    expect(page.locator("#result h2")).to_have_text(f"Order {split.number}")
    expect(page.locator("#lookup-card")).to_be_hidden()
    expect(page.locator(".shipment")).to_have_count(2)
    summary = page.get_by_role("region", name="Order summary")
    expect(summary).to_contain_text("Brass desk lamp")
    expect(summary.locator("tr.total")).to_contain_text("$83.00")  # 2 x 39.00 + 5.00 shipping
    colours = screenshot_colours(
        browser, seen, tmp_path / "link.png", page.locator(".shipment .progress .bar")
    )
    assert colours == [DONE] * 5 + [DONE, DONE, PROBLEM, TODO, TODO]
    seen.assert_stayed_home(running_oms)

    key = _link_key(running_oms)
    expired = sign(key, split.order_id, int(time.time()) - 60)
    tampered = link["token"][:-4] + ("AAAA" if not link["token"].endswith("AAAA") else "BBBB")
    for token, says in ((expired, "This link has expired."), (tampered, "This link is invalid.")):
        bad: Visit = visit(f"{running_oms.api_url}/track?token={token}")
        expect(bad.page.locator("#message")).to_contain_text(says)
        expect(bad.page.locator("#lookup-card")).to_be_visible()
        expect(bad.page.get_by_label("Order number")).to_be_editable()
        expect(bad.page.locator("#result")).to_be_hidden()
        bad.assert_stayed_home(running_oms)


def _link_key(running_oms: RunningOMS) -> bytes:
    """The signing key as the local runtime generated it (in moto's Secrets Manager)."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    secrets = session.client("secretsmanager", endpoint_url=running_oms.aws_url)
    return str(secrets.get_secret_value(SecretId="oms-TrackingLinkKey")["SecretString"]).encode()


def test_the_page_fits_a_phone(
    browser: Browser, visit: Any, running_oms: RunningOMS, split: Placed, tmp_path: Path
) -> None:
    seen: Visit = visit(
        running_oms.api_url + "/track", PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = seen.page
    for label in ("Order number", "E-mail address or postal code"):
        box = page.get_by_label(label).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (label, box)

    look_up(page, split.number, "ada.lovelace@example.com")

    shipments = page.locator(".shipment")
    expect(shipments).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    for element in [
        page.locator("#result h2"),
        *(shipments.nth(i).locator(selector) for i in range(2) for selector in (".progress", "dl.facts")),
        *(shipments.nth(i).locator(".progress li .label").nth(3) for i in range(2)),
    ]:
        element.scroll_into_view_if_needed()
        expect(element).to_be_visible()
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    page.evaluate("window.scrollTo(0, 0)")

    path = tmp_path / "phone.png"
    colours = screenshot_colours(browser, seen, path, page.locator(".shipment .progress .bar"))
    assert colours == [DONE] * 5 + [DONE, DONE, PROBLEM, TODO, TODO], path
    assert png_size(path.read_bytes())[0] == PHONE["width"] * 2
    seen.assert_stayed_home(running_oms)
