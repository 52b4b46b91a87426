"""The order page's actions besides Cancel in a real browser (Debian's Chromium, headless, offline) against
`python -m local` over HTTP, each test with an order of its own placed through the API: the archived
delivery that created it and its replay (a duplicate changes nothing, and the archive counts one more
replay), a fulfillment's SHIPPED then DELIVERED recorded through its form (the API's error shown at its
field first), and a return of a delivered order (a second one of the same units refused with the
policy's reason). Each is confirmed inline (Confirm / Keep), logs no error but the API's refusals it
provokes, passes the axe-core audit and is screenshotted at desktop and laptop sizes under
artifacts/console/ (checked not blank)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e import test_console_in_a_browser as first
from tests.e2e.conftest import RunningOMS
from tests.e2e.test_console_in_a_browser import (
    EAST_SKU,
    Placed,
    Visit,
    audit,
    place,
    shoot_both,
    wait_for_waiting,
)
from tests.support.orders import Client

# The console's first browser test's fixtures: a signed-in page, and its SKUs stocked.
console = first.console
stocked = first.stocked

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def archived(client: Client, channel: str, delivery_id: str) -> dict[str, Any]:
    status, delivery = client.call("GET", f"/channels/{channel}/deliveries/{delivery_id}")
    assert status == 200, delivery
    return dict(delivery)


def confirm(page: Page, scope: Locator, question: str) -> None:
    """The inline confirmation asks `question` with the focus on Confirm; Confirm it."""
    group = scope.get_by_role("group", name=question)
    expect(group).to_be_visible()
    expect(group.get_by_role("button", name="Confirm")).to_be_focused()
    group.get_by_role("button", name="Confirm").click()
    expect(group).to_have_count(0)


def only_refusals(seen: Visit, *statuses: int) -> None:
    """The browser logs each 4xx it was answered; those the test provoked are the only errors."""
    codes = tuple(f"status of {status}" for status in statuses)
    assert [e for e in seen.console_errors if not any(code in e for code in codes)] == []
    seen.console_errors.clear()


# --- the archived delivery and its replay ---------------------------------------------------------------


def test_the_order_page_shows_its_archived_delivery_and_replays_it_as_a_duplicate(
    console: Any, running_oms: RunningOMS, browser: Browser, stocked: Client
) -> None:
    placed = place(stocked, [(EAST_SKU, 1)], "FULFILLING")
    order = stocked.order(placed.order_id)
    channel, delivery_id = order["channelId"], order["deliveryId"]
    assert archived(stocked, channel, delivery_id)["replays"] == []

    seen: Visit = console(f"/console/orders/{placed.order_id}")
    page = seen.page
    box = page.locator("#delivery-body")
    expect(box).to_contain_text(delivery_id)
    expect(box).to_contain_text("CREATED (order received)")
    expect(page.locator("#delivery-replays")).to_have_text("0")
    page.get_by_role("button", name="Replay delivery").click()

    expect(page.locator("#replay-result")).to_have_text(
        "Replayed: DUPLICATE \u2014 the OMS holds this channel order already, so nothing changed."
    )
    expect(page.locator("#delivery-replays")).to_have_text("1")
    replays = page.get_by_role("table", name="Replays of the delivery").locator("tbody tr")
    expect(replays).to_have_count(1)
    expect(replays.first).to_contain_text("DUPLICATE")
    after = archived(stocked, channel, delivery_id)
    assert [r["outcome"] for r in after["replays"]] == ["DUPLICATE"]
    assert after["result"]["outcome"] == "CREATED"  # what it did on arrival is kept
    assert stocked.order(placed.order_id)["status"] == order["status"]  # nothing changed
    expect(page.get_by_role("button", name="Replay delivery")).to_be_enabled()
    audit(page)
    shoot_both(browser, page, "order-replayed")
    seen.assert_clean(running_oms)


# --- a fulfillment's events -------------------------------------------------------------------------------


def event_form(page: Page, fulfillment_id: str) -> Locator:
    return page.locator(f'form[data-fulfillment-id="{fulfillment_id}"]')


def fulfillment_of(client: Client, order_id: str) -> dict[str, Any]:
    [fulfillment] = client.order(order_id)["fulfillments"]
    return dict(fulfillment)


def keep_sends_nothing(page: Page, client: Client, placed: Placed, fulfillment_id: str) -> None:
    """Keep (or Escape): no event is sent, and the button is back with the focus."""
    form = event_form(page, fulfillment_id)
    submit = form.get_by_role("button", name="Record event")
    submit.click()
    expect(form.get_by_role("group", name=shipped_question(fulfillment_id))).to_be_visible()
    audit(page)  # with the question open
    form.get_by_role("button", name="Keep").click()
    expect(form.get_by_role("group")).to_have_count(0)
    expect(submit).to_be_focused()
    page.keyboard.press("Enter")  # asked again, and Escape keeps too
    expect(form.get_by_role("group", name=shipped_question(fulfillment_id))).to_be_visible()
    page.keyboard.press("Escape")
    expect(form.get_by_role("group")).to_have_count(0)
    expect(submit).to_be_focused()
    assert fulfillment_of(client, placed.order_id)["status"] == "REQUESTED"


def shipped_question(fulfillment_id: str) -> str:
    return f"Record SHIPPED for {fulfillment_id}? It moves the order on and cannot be undone."


def blank_tracking_is_refused_at_its_field(
    seen: Visit, client: Client, placed: Placed, fulfillment_id: str
) -> None:
    page = seen.page
    form = event_form(page, fulfillment_id)
    form.get_by_label("Carrier").fill("UPS")
    form.get_by_label("Tracking number").fill("   ")  # the API trims it: nothing left
    form.get_by_role("button", name="Record event").click()
    confirm(page, form, shipped_question(fulfillment_id))
    tracking = form.get_by_label("Tracking number")
    expect(form.locator("[data-field-error=trackingNumber]")).to_have_text(
        "String should have at least 1 character"
    )
    expect(tracking).to_have_attribute("aria-invalid", "true")
    expect(tracking).to_be_focused()
    expect(form.get_by_role("alert")).to_have_text("Not accepted: see the field marked.")
    assert fulfillment_of(client, placed.order_id)["status"] == "REQUESTED"
    audit(page)
    only_refusals(seen, 400)


def record_shipped(page: Page, client: Client, placed: Placed, fulfillment_id: str) -> None:
    form = event_form(page, fulfillment_id)
    form.get_by_label("Tracking number").fill("1Z999AA10123456784")
    form.get_by_role("button", name="Record event").click()
    confirm(page, form, shipped_question(fulfillment_id))
    result = page.locator("#fulfillment-result")
    expect(result).to_have_text(
        f"Recorded SHIPPED for {fulfillment_id}: it is shipped, and the order is now shipped."
    )
    expect(result).to_be_focused()
    expect(page.get_by_role("heading", level=1)).to_contain_text("shipped")
    assert client.order(placed.order_id)["status"] == "SHIPPED"
    shipped = fulfillment_of(client, placed.order_id)
    assert (shipped["carrier"], shipped["trackingNumber"]) == ("UPS", "1Z999AA10123456784")


def record_delivered_a_day_ago_by_keyboard(
    page: Page, client: Client, placed: Placed, fulfillment_id: str
) -> None:
    """DELIVERED with the time it happened (the return window counts from then): Enter submits,
    Enter confirms."""
    form = event_form(page, fulfillment_id)
    expect(form.get_by_label("Event")).to_have_value("DELIVERED")
    typed = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    sent = page.evaluate("v => new Date(v).toISOString()", typed)  # in the browser's time zone
    form.get_by_label("When it happened").fill(typed)
    form.get_by_label("Carrier").press("Enter")
    question = f"Record DELIVERED for {fulfillment_id}? It moves the order on and cannot be undone."
    expect(form.get_by_role("group", name=question).get_by_role("button", name="Confirm")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#fulfillment-result")).to_have_text(
        f"Recorded DELIVERED for {fulfillment_id}: it is delivered, and the order is now delivered."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("delivered")
    expect(page.locator("form.event-form")).to_have_count(0)  # nothing follows DELIVERED
    assert client.order(placed.order_id)["status"] == "DELIVERED"
    at = fulfillment_of(client, placed.order_id)["deliveredAt"]
    assert datetime.fromisoformat(at) == datetime.fromisoformat(sent)


def test_a_lost_callback_is_recorded_shipped_then_delivered_through_the_fulfillments_form(
    console: Any, running_oms: RunningOMS, browser: Browser, stocked: Client
) -> None:
    placed = place(stocked, [(EAST_SKU, 1)], "FULFILLING")
    wait_for_waiting(stocked, placed.order_id, 1)
    fulfillment_id = fulfillment_of(stocked, placed.order_id)["fulfillmentId"]
    seen: Visit = console(f"/console/orders/{placed.order_id}")
    page = seen.page
    expect(event_form(page, fulfillment_id).get_by_label("Event")).to_have_value("SHIPPED")

    keep_sends_nothing(page, stocked, placed, fulfillment_id)
    blank_tracking_is_refused_at_its_field(seen, stocked, placed, fulfillment_id)
    record_shipped(page, stocked, placed, fulfillment_id)
    record_delivered_a_day_ago_by_keyboard(page, stocked, placed, fulfillment_id)

    expect(page.locator("#return-form")).to_be_visible()  # now it can be returned
    audit(page)
    shoot_both(browser, page, "order-events-recorded")
    seen.assert_clean(running_oms)


# --- a return ---------------------------------------------------------------------------------------------


def return_fields(page: Page) -> tuple[Locator, Locator, Locator]:
    form = page.locator("#return-form")
    return (
        form,
        form.get_by_label(f"Quantity of {EAST_SKU} to return"),
        form.get_by_label(f"Reason for returning {EAST_SKU}"),
    )


def return_question(units: int, how: str = "a refund") -> str:
    return f"Authorize a return of {units} \u00d7 {EAST_SKU} for {how}?"


def a_blank_reason_is_refused_at_its_line(seen: Visit) -> None:
    page = seen.page
    form, quantity, reason = return_fields(page)
    submit = form.get_by_role("button", name="Authorize return")
    submit.click()  # no quantity yet: said before anything is sent
    expect(page.locator("#return-error")).to_have_text("Give a quantity to return for at least one line.")
    quantity.fill("2")
    submit.click()
    confirm(page, form, return_question(2))
    expect(form.locator("[data-field-error='lines.0.reason']")).to_have_text(
        "String should have at least 1 character"
    )
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    only_refusals(seen, 400)


def authorize_by_keyboard(page: Page, client: Client, placed: Placed) -> str:
    """The reason given, Enter submits and Enter confirms: the return is on the page, AUTHORIZED."""
    form, _, reason = return_fields(page)
    reason.fill("Too small")
    reason.press("Enter")
    confirm_button = form.get_by_role("group", name=return_question(2)).get_by_role("button", name="Confirm")
    expect(confirm_button).to_be_focused()
    page.keyboard.press("Enter")
    result = page.locator("#return-result")
    expect(result).to_contain_text(re.compile(r"^Return \S+ is authorized: the goods must arrive by "))
    expect(result).to_contain_text("expected refund $40.00.")
    return_id = (result.text_content() or "").split()[1]
    row = page.get_by_role("table", name="Returns").locator("tbody tr", has_text=return_id)
    expect(row).to_contain_text("authorized")
    expect(row).to_contain_text(f"2 \u00d7 {EAST_SKU} (Too small)")
    status, found = client.call("GET", f"/returns/{return_id}")
    assert status == 200, found
    assert (found["status"], found["resolution"], found["orderId"]) == (
        "AUTHORIZED",
        "REFUND",
        placed.order_id,
    )
    assert [(line["sku"], line["quantity"], line["reason"]) for line in found["lines"]] == [
        (EAST_SKU, 2, "Too small")
    ]
    return return_id


def the_same_units_again_are_refused(seen: Visit) -> None:
    """The policy's reason (422), at the line and in full."""
    page = seen.page
    form, quantity, reason = return_fields(page)
    quantity.fill("1")
    reason.fill("Changed my mind")
    form.get_by_role("button", name="Authorize return").click()
    confirm(page, form, return_question(1))
    refusal = (
        f"MORE_THAN_DELIVERED: 1 x {EAST_SKU} asked; 2 delivered, 2 already returned or in an open return"
    )
    expect(form.locator("[data-field-error='lines.0.quantity']")).to_have_text(refusal)
    expect(page.locator("#return-error")).to_have_text(
        f"Refused: the return is outside the channel's return policy ({refusal})."
    )
    only_refusals(seen, 422)


def test_a_return_of_a_delivered_order_is_authorized_and_a_second_of_the_same_units_refused(
    console: Any, running_oms: RunningOMS, browser: Browser, stocked: Client
) -> None:
    placed = place(stocked, [(EAST_SKU, 2)], "FULFILLING")
    stocked.ship_and_deliver(placed.order_id)
    seen: Visit = console(f"/console/orders/{placed.order_id}")
    page = seen.page
    keys: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key", ""))
            if r.method == "POST" and r.url.endswith("/returns")
            else None
        ),
    )
    form, _, _ = return_fields(page)
    lines = form.get_by_role("table", name="Delivered lines to return").locator("tbody tr")
    expect(lines).to_have_count(1)
    expect(lines.first.locator("td").nth(0)).to_have_text(EAST_SKU)
    expect(lines.first.locator("td").nth(1)).to_have_text("2")
    expect(form.get_by_label("Resolution")).to_have_value("REFUND")

    a_blank_reason_is_refused_at_its_line(seen)
    return_id = authorize_by_keyboard(page, stocked, placed)
    the_same_units_again_are_refused(seen)

    assert [r["returnId"] for r in stocked.order(placed.order_id)["returns"]] == [return_id]
    assert len(keys) == 3 and all(UUID.match(key) for key in keys), keys
    assert len(set(keys)) == 3, "a fresh Idempotency-Key per submission"
    audit(page)
    shoot_both(browser, page, "order-return-refused")
    seen.assert_clean(running_oms)


def test_an_exchange_for_the_same_items_is_authorized_from_the_return_form(
    console: Any, running_oms: RunningOMS, stocked: Client
) -> None:
    placed = place(stocked, [(EAST_SKU, 3)], "FULFILLING")
    stocked.ship_and_deliver(placed.order_id)
    seen: Visit = console(f"/console/orders/{placed.order_id}")
    page = seen.page
    form = page.locator("#return-form")
    form.get_by_label(f"Quantity of {EAST_SKU} to return").fill("1")
    form.get_by_label(f"Reason for returning {EAST_SKU}").fill("Wrong colour")
    form.get_by_label("Resolution").select_option("EXCHANGE")
    form.get_by_role("button", name="Authorize return").click()
    confirm(page, form, f"Authorize a return of 1 \u00d7 {EAST_SKU} for an exchange?")
    result = page.locator("#return-result")
    expect(result).to_contain_text(re.compile(r"^Return \S+ is authorized"))
    return_id = (result.text_content() or "").split()[1]
    status, found = stocked.call("GET", f"/returns/{return_id}")
    assert status == 200, found
    assert (found["status"], found["resolution"]) == ("AUTHORIZED", "EXCHANGE")
    assert [(line["sku"], line["quantity"]) for line in found["exchangeLines"]] == [(EAST_SKU, 1)]
    expect(page.get_by_role("table", name="Returns").locator("tbody tr", has_text=return_id)).to_contain_text(
        "exchange"
    )
    seen.assert_clean(running_oms)
