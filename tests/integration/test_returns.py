"""Returns over the real return workflow (ASL) on moto: authorization under the channel's policy,
receipt, restock, refund through the channel's port (local HTTP sandboxes speaking the channels'
published shapes), exchanges through the normal order workflow, and the refund ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from local.invoker import import_handler
from local.refund_sandbox import FakeChannelRefunds
from local.runtime import LocalOMS
from shared.errors import TransientError
from shared.logic import refund_ledger
from tests.support.channels import (
    SHOPIFY_CHANNEL,
    SHOPIFY_SECRET,
    SHOPIFY_SHOP,
    WOO_CHANNEL,
    WOO_SECRET,
    shopify_delivery,
    shopify_order,
    woo_delivery,
    woo_order,
)
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order
from tests.support.returns import (
    ask_return,
    authorized,
    days_ago,
    deliver,
    deliver_all,
    delivered_order,
    get_return,
    receive,
    set_return_policy,
    wait_for_return,
)

API_CHANNEL = {"type": "api", "webhookSecret": CHANNEL_SECRET}


@pytest.fixture(autouse=True)
def quick_workflow(monkeypatch: pytest.MonkeyPatch, oms: LocalOMS) -> None:
    monkeypatch.setenv("EXCHANGE_POLL_SECONDS", "1")
    monkeypatch.setenv("REFUND_RETRY_BASE_SECONDS", "0.01")


@pytest.fixture
def sandbox() -> Iterator[FakeChannelRefunds]:
    with FakeChannelRefunds(signing_secret=CHANNEL_SECRET) as server:
        yield server


def return_of(client: Client, order_id: str, lines: list[tuple[str, int]], **options: Any) -> str:
    return str(authorized(client, order_id, lines, **options)["returnId"])


def test_a_full_return_is_received_restocked_refunded_and_closed(client: Client, oms: LocalOMS) -> None:
    order = delivered_order(client, [("MUG-BLUE", 2)])
    on_hand_before = client.stock("MUG-BLUE")["wh-east"]["onHand"]

    answer = authorized(client, order["orderId"], [("MUG-BLUE", 2)])
    assert answer["status"] == "AUTHORIZED"
    assert answer["expectedRefund"] == "25.00"  # 2 x 12.50, no tax, shipping not refunded by default
    assert answer["deadline"] > order["updatedAt"]
    return_id = answer["returnId"]
    assert return_id == f"{order['orderId']}-R1"

    status, received = receive(client, return_id, [("MUG-BLUE", 2, "RESELLABLE")])
    assert status == 200, received
    assert received["status"] == "RECEIVED"

    closed = wait_for_return(client, return_id, "CLOSED")
    assert closed["refund"]["status"] == "MANUAL"  # an api channel without a refundUrl
    assert closed["refund"]["total"] == "25.00"
    assert [(line["sku"], line["quantity"], line["amount"]) for line in closed["refund"]["lines"]] == [
        ("MUG-BLUE", 2, "25.00")
    ]
    assert client.stock("MUG-BLUE")["wh-east"]["onHand"] == on_hand_before + 2
    entry = client.ledger("MUG-BLUE", "wh-east")[0]
    assert (entry["kind"], entry["onHandDelta"], entry["reference"]) == ("RETURN", 2, return_id)
    client.assert_ledger_explains_stock("MUG-BLUE")

    detail = client.order(order["orderId"])
    assert [r["returnId"] for r in detail["returns"]] == [return_id]
    assert [(r["origin"], r["total"], r["status"]) for r in detail["refunds"]] == [
        ("RETURN", "25.00", "MANUAL")
    ]
    assert {"RETURN_AUTHORIZED", "RETURN_RECEIVED", "RETURN_CLOSED"} <= {
        e["status"] for e in detail["timeline"]
    }
    assert oms.wait_for_execution(return_id)["status"] == "SUCCEEDED"
    assert oms.last_state(return_id) == "Closed"


def test_fewer_units_than_authorized_refund_only_what_came_back_and_damaged_ones_are_not_restocked(
    client: Client,
) -> None:
    order = delivered_order(client, [("MUG-BLUE", 3)])
    before = client.stock("MUG-BLUE")["wh-east"]["onHand"]
    return_id = return_of(client, order["orderId"], [("MUG-BLUE", 3)])

    assert receive(client, return_id, [("MUG-BLUE", 1, "RESELLABLE"), ("MUG-BLUE", 1, "DAMAGED")])[0] == 200
    closed = wait_for_return(client, return_id, "CLOSED")

    line = closed["refund"]["lines"][0]
    assert (line["quantity"], line["resellable"], line["damaged"], line["amount"]) == (2, 1, 1, "25.00")
    assert client.stock("MUG-BLUE")["wh-east"]["onHand"] == before + 1
    kinds = [(e["kind"], e["onHandDelta"]) for e in client.ledger("MUG-BLUE", "wh-east")[:2]]
    assert sorted(kinds) == [("RETURN", 1), ("RETURN_DAMAGED", 0)]
    client.assert_ledger_explains_stock("MUG-BLUE")
    # The unit that never came back may be returned again.
    again = authorized(client, order["orderId"], [("MUG-BLUE", 1)])
    assert again["returnId"].endswith("-R2")
    status, refused = ask_return(client, order["orderId"], [("MUG-BLUE", 1)])
    assert status == 422, refused
    assert refused["error"]["details"]["reasons"][0]["code"] == "MORE_THAN_DELIVERED"


def test_the_window_counts_calendar_days_from_the_delivery(client: Client) -> None:
    last_day_in = delivered_order(client, [("MUG-BLUE", 1)], delivered_at=days_ago(30, "00:00:05"))
    assert ask_return(client, last_day_in["orderId"], [("MUG-BLUE", 1)])[0] == 201

    day_after = delivered_order(client, [("MUG-BLUE", 1)], delivered_at=days_ago(31, "23:59:59"))
    status, body = ask_return(client, day_after["orderId"], [("MUG-BLUE", 1)])
    assert status == 422, body
    reason = body["error"]["details"]["reasons"][0]
    assert reason["code"] == "OUTSIDE_WINDOW"
    assert reason["returnableUntil"].startswith(days_ago(1).date().isoformat())


def test_policy_refusals_name_each_reason(client: Client) -> None:
    set_return_policy(client, CHANNEL_ID, API_CHANNEL, nonReturnableSkus=["TEE-M"])
    order = delivered_order(client, [("MUG-BLUE", 1), ("TEE-M", 1)])
    status, body = ask_return(client, order["orderId"], [("MUG-BLUE", 5), ("TEE-M", 1), ("HAT-X", 1)])
    assert status == 422, body
    codes = {r["sku"]: r["code"] for r in body["error"]["details"]["reasons"]}
    assert codes == {"MUG-BLUE": "MORE_THAN_DELIVERED", "TEE-M": "NON_RETURNABLE", "HAT-X": "NOT_ON_ORDER"}
    assert client.order(order["orderId"])["returns"] == []  # nothing half-written


def test_a_line_of_a_fulfillment_not_yet_delivered_cannot_be_returned(client: Client) -> None:
    # CAP-E is only at wh-east, TEE-M only at wh-west: two fulfillments.
    assert client.call("PUT", "/inventory/CAP-E/locations/wh-east", {"onHand": 5})[0] == 200
    order_id = client.place(canonical_order([("CAP-E", 1), ("TEE-M", 1)]))
    order = client.wait_for_status(order_id, "FULFILLING")
    by_warehouse = {f["warehouseId"]: f["fulfillmentId"] for f in order["fulfillments"]}
    deliver(client, by_warehouse["wh-east"])
    client.wait_for_status(order_id, "PARTIALLY_SHIPPED")

    status, body = ask_return(client, order_id, [("TEE-M", 1)])
    assert status == 422, body
    assert body["error"]["details"]["reasons"][0]["code"] == "NOT_DELIVERED"
    assert ask_return(client, order_id, [("CAP-E", 1)])[0] == 201


def test_a_cancelled_order_has_nothing_to_return(client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 1)]))
    client.wait_for_status(order_id, "FULFILLING", "RESERVED")
    assert client.call("POST", f"/orders/{order_id}/cancel")[0] == 200
    status, body = ask_return(client, order_id, [("MUG-BLUE", 1)])
    assert status == 422, body
    assert body["error"]["details"]["reasons"][0]["code"] == "ORDER_CANCELLED"


def test_a_second_receipt_is_refused_and_changes_nothing(client: Client) -> None:
    order = delivered_order(client, [("MUG-BLUE", 2)])
    return_id = return_of(client, order["orderId"], [("MUG-BLUE", 2)])
    assert receive(client, return_id, [("MUG-BLUE", 2, "RESELLABLE")])[0] == 200
    closed = wait_for_return(client, return_id, "CLOSED")
    stock = client.stock("MUG-BLUE")["wh-east"]

    status, body = receive(client, return_id, [("MUG-BLUE", 2, "RESELLABLE")])
    assert status == 409, body
    assert body["error"]["details"]["status"] == "CLOSED"
    assert client.stock("MUG-BLUE")["wh-east"] == stock
    assert get_return(client, return_id)["refund"] == closed["refund"]


def test_a_receipt_must_match_the_return(client: Client) -> None:
    order = delivered_order(client, [("MUG-BLUE", 2)])
    return_id = return_of(client, order["orderId"], [("MUG-BLUE", 1)])
    status, body = receive(client, return_id, [("MUG-BLUE", 2, "RESELLABLE"), ("TEE-M", 1, "DAMAGED")])
    assert status == 422, body
    assert {r["code"] for r in body["error"]["details"]["reasons"]} == {
        "MORE_THAN_AUTHORIZED",
        "NOT_IN_RETURN",
    }
    assert receive(client, return_id, [("MUG-BLUE", 1, "RESELLABLE")], warehouse_id="wh-nowhere")[0] == 404
    assert get_return(client, return_id)["status"] == "AUTHORIZED"


def test_a_return_nobody_sends_back_expires_and_its_units_are_returnable_again(
    client: Client, oms: LocalOMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETURN_RECEIPT_TIMEOUT_SECONDS", "2")
    order = delivered_order(client, [("MUG-BLUE", 1)])
    return_id = return_of(client, order["orderId"], [("MUG-BLUE", 1)])
    expired = wait_for_return(client, return_id, "EXPIRED", timeout=15)
    assert expired["statusReason"].startswith("nothing received by")
    assert oms.last_state(return_id) == "Expired"
    assert receive(client, return_id, [("MUG-BLUE", 1, "RESELLABLE")])[0] == 409
    assert ask_return(client, order["orderId"], [("MUG-BLUE", 1)])[0] == 201


def test_the_same_idempotency_key_authorizes_once(client: Client) -> None:
    order = delivered_order(client, [("MUG-BLUE", 2)])
    first = ask_return(client, order["orderId"], [("MUG-BLUE", 1)], key="rma-1")
    again = ask_return(client, order["orderId"], [("MUG-BLUE", 1)], key="rma-1")
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["returnId"] == again[1]["returnId"]
    other = ask_return(client, order["orderId"], [("MUG-BLUE", 2)], key="rma-1")
    assert other[0] == 409, other
    assert len(client.order(order["orderId"])["returns"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [], "resolution": "REFUND"}, "lines"),
        (
            {"lines": [{"sku": "MUG-BLUE", "quantity": 0, "reason": "x"}], "resolution": "REFUND"},
            "lines.0.quantity",
        ),
        ({"lines": [{"sku": "MUG-BLUE", "quantity": 1, "reason": "x"}], "resolution": "EXCHANGE"}, ""),
        ({"lines": [{"sku": "MUG-BLUE", "quantity": 1, "reason": "x"}], "resolution": "GIFT"}, "resolution"),
        (
            {"lines": [{"sku": "MUG-BLUE", "quantity": True, "reason": "x"}], "resolution": "REFUND"},
            "lines.0.quantity",
        ),
    ],
)
def test_bad_return_requests_are_400_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    order = delivered_order(client, [("MUG-BLUE", 1)])
    status, answer = client.call(
        "POST", f"/orders/{order['orderId']}/returns", body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert status == 400, answer
    assert any(d["field"].startswith(field) for d in answer["error"]["details"]), answer


def test_unknown_orders_and_returns_are_404_and_a_missing_key_is_400(client: Client) -> None:
    assert ask_return(client, "ord_NOPE", [("MUG-BLUE", 1)])[0] == 404
    assert client.call("GET", "/returns/ord_NOPE-R1")[0] == 404
    assert client.call("GET", "/returns/not-a-return")[0] == 404
    assert receive(client, "ord_NOPE-R1", [("MUG-BLUE", 1, "RESELLABLE")])[0] == 404
    order = delivered_order(client, [("MUG-BLUE", 1)])
    body = {"lines": [{"sku": "MUG-BLUE", "quantity": 1, "reason": "x"}], "resolution": "REFUND"}
    status, answer = client.call("POST", f"/orders/{order['orderId']}/returns", body)
    assert status == 400, answer


def test_returns_are_listed_newest_first_by_status_and_channel(client: Client) -> None:
    order = delivered_order(client, [("MUG-BLUE", 3)])
    ids = [return_of(client, order["orderId"], [("MUG-BLUE", 1)]) for _ in range(3)]
    status, page = client.call("GET", "/returns?limit=2")
    assert status == 200, page
    assert [r["returnId"] for r in page["returns"]] == ids[::-1][:2]
    status, rest = client.call("GET", f"/returns?limit=2&cursor={page['nextCursor']}")
    assert [r["returnId"] for r in rest["returns"]] == [ids[0]]
    assert rest["nextCursor"] is None
    by_channel = client.call("GET", f"/returns?channelId={CHANNEL_ID}&status=AUTHORIZED")[1]
    assert [r["returnId"] for r in by_channel["returns"]] == ids[::-1]
    assert client.call("GET", "/returns?status=CLOSED")[1]["returns"] == []
    assert client.call("GET", "/returns?cursor=bm9wZQ")[0] == 400
    assert client.call("GET", "/returns?status=LOST")[0] == 400


# -- refunds through the channels' ports --------------------------------------------------------


def test_an_api_channel_gets_its_refund_as_a_signed_request(
    client: Client, sandbox: FakeChannelRefunds
) -> None:
    target = sandbox.signed_target()
    channel = {**API_CHANNEL, "refundUrl": target.url}
    assert client.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] == 200
    order = delivered_order(client, [("MUG-BLUE", 2)])
    return_id = return_of(client, order["orderId"], [("MUG-BLUE", 2)])
    assert receive(client, return_id, [("MUG-BLUE", 2, "RESELLABLE")])[0] == 200
    closed = wait_for_return(client, return_id, "CLOSED")

    assert (closed["refund"]["status"], closed["refund"]["method"]) == ("SUCCEEDED", "WEBHOOK")
    # The receiver accepts a request only once the Standard Webhooks reference library verified it.
    (received,) = sandbox.refunds_created("signed")
    assert received["webhookId"] == closed["refund"]["refundId"]
    assert received["payload"]["data"]["total"] == "25.00"
    assert received["refundId"] == closed["refund"]["channelRefundId"]


def test_a_refund_step_retried_after_the_refund_was_made_closes_the_return_once(
    client: Client, sandbox: FakeChannelRefunds, oms: LocalOMS
) -> None:
    # The first attempt refunds and settles the ledger entry, then fails before the return records
    # it (a timeout, a throttled write): the retry must find the refund made, not fail the return.
    real = import_handler("functions.refund_return.handler.lambda_handler")
    attempts: list[int] = []

    def failing_after_the_refund(event: Any, context: Any) -> Any:
        attempts.append(1)
        if len(attempts) > 1:
            return real(event, context)
        original, writes = refund_ledger.transact, []

        def transact(actions: list[dict[str, Any]]) -> None:
            writes.append(1)
            if len(writes) == 2:  # the return's update, after the channel's answer was settled
                raise TransientError("the return's update did not land")
            original(actions)

        refund_ledger.transact = transact
        try:
            return real(event, context)
        finally:
            refund_ledger.transact = original

    oms.override_handler("RefundReturn", failing_after_the_refund)
    channel = {**API_CHANNEL, "refundUrl": sandbox.signed_target().url}
    assert client.call("PUT", f"/channels/{CHANNEL_ID}", channel)[0] == 200
    order = delivered_order(client, [("MUG-BLUE", 2)])
    return_id = return_of(client, order["orderId"], [("MUG-BLUE", 2)])
    assert receive(client, return_id, [("MUG-BLUE", 2, "RESELLABLE")])[0] == 200
    assert oms.wait_for_execution(return_id, timeout=60)["status"] == "SUCCEEDED"

    closed = get_return(client, return_id)
    assert len(attempts) == 2
    assert (closed["status"], closed["refund"]["status"]) == ("CLOSED", "SUCCEEDED")
    assert len(sandbox.calls("/refunds/")) == 1  # made by the first attempt, not sent again
    assert [(r["status"], r["total"]) for r in client.order(order["orderId"])["refunds"]] == [
        ("SUCCEEDED", "25.00")
    ]


@pytest.fixture
def shopify(client: Client, sandbox: FakeChannelRefunds) -> Client:
    target = sandbox.shopify_target()
    channel = {
        "type": "shopify",
        "webhookSecret": SHOPIFY_SECRET,
        "shopDomain": SHOPIFY_SHOP,
        "refundApi": target.model_dump(),
    }
    assert client.call("PUT", f"/channels/{SHOPIFY_CHANNEL}", channel)[0] in (200, 201)
    return client


def shopify_delivered(client: Client, lines: list[tuple[str, int]]) -> tuple[dict[str, Any], dict[str, Any]]:
    payload = shopify_order(lines)
    headers, body = shopify_delivery(payload)
    status, receipt = client.send("POST", f"/webhooks/{SHOPIFY_CHANNEL}", headers, body)
    assert status == 202, receipt
    return deliver_all(client, receipt["orderId"]), payload


def test_a_shopify_refund_failing_once_is_retried_and_made_once(
    shopify: Client, sandbox: FakeChannelRefunds
) -> None:
    order, payload = shopify_delivered(shopify, [("MUG-BLUE", 2)])
    sandbox.fail_next("/refunds.json", 503, retry_after="0")
    return_id = return_of(shopify, order["orderId"], [("MUG-BLUE", 1)])
    assert receive(shopify, return_id, [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    closed = wait_for_return(shopify, return_id, "CLOSED")

    assert (closed["refund"]["status"], closed["refund"]["method"]) == ("SUCCEEDED", "CHANNEL")
    assert closed["refund"]["total"] == "13.00"  # 12.50 + its 1.00 tax over 2 units
    created = sandbox.refunds_created("shopify")
    assert len(created) == 1
    line = created[0]["refund_line_items"][0]
    assert (str(line["line_item_id"]), line["quantity"]) == (str(payload["line_items"][0]["id"]), 1)
    assert closed["refund"]["channelRefundId"] == str(created[0]["id"])


def test_a_shopify_refund_failing_for_good_leaves_the_return_refund_failed_with_nothing_recorded(
    shopify: Client, sandbox: FakeChannelRefunds, oms: LocalOMS
) -> None:
    order, _ = shopify_delivered(shopify, [("MUG-BLUE", 2)])
    sandbox.fail_next("/refunds", 503, times=50, retry_after="0")
    return_id = return_of(shopify, order["orderId"], [("MUG-BLUE", 2)])
    assert receive(shopify, return_id, [("MUG-BLUE", 2, "RESELLABLE")])[0] == 200
    failed = wait_for_return(shopify, return_id, "REFUND_FAILED")

    assert failed["statusReason"].startswith("RefundFailed: ")
    assert "503" in failed["statusReason"]
    assert (failed["refund"]["status"], failed["refund"]["cause"]) == ("FAILED", failed["statusReason"])
    refunds = shopify.order(order["orderId"])["refunds"]
    assert [(r["status"], r["cause"] is not None) for r in refunds] == [("FAILED", True)]
    assert sandbox.refunds_created("shopify") == []
    assert oms.wait_for_execution(return_id)["status"] == "FAILED"
    # The balance was given back: the same units refunded in the shop later are recorded in full.
    refund = shopify_refund_webhook(shopify, order, amount="26.00", quantity=2)
    assert refund[0] == 200, refund
    assert sorted(r["status"] for r in shopify.order(order["orderId"])["refunds"]) == ["FAILED", "SUCCEEDED"]


def shopify_refund_webhook(
    client: Client, order: dict[str, Any], amount: str, quantity: int, refund_id: int | None = None
) -> tuple[int, Any]:
    line = order["lines"][0]
    tax = str((Decimal(line["taxAmount"]) * quantity / line["quantity"]).quantize(Decimal("0.01")))
    subtotal = str(Decimal(amount) - Decimal(tax))
    refund = {
        "id": refund_id or int(uuid.uuid4().int % 10**12),
        "order_id": int(order["channelOrderId"]),
        "note": "damaged in transit",
        "created_at": "2026-12-01T10:00:00-05:00",
        "processed_at": "2026-12-01T10:00:00-05:00",
        "refund_line_items": [
            {
                "id": 1,
                "line_item_id": int(line["channelLineId"]),
                "quantity": quantity,
                "subtotal": float(subtotal),
                "total_tax": float(tax),
                "subtotal_set": {"shop_money": {"amount": subtotal, "currency_code": "USD"}},
                "total_tax_set": {"shop_money": {"amount": tax, "currency_code": "USD"}},
                "line_item": {"id": int(line["channelLineId"]), "sku": line["sku"]},
            }
        ],
        "refund_shipping_lines": [],
        "order_adjustments": [],
        "transactions": [{"id": 5, "kind": "refund", "status": "success", "amount": amount}],
    }
    headers, body = shopify_delivery(refund, topic="refunds/create")
    return client.send("POST", f"/webhooks/{SHOPIFY_CHANNEL}", headers, body)


def test_a_refund_made_in_the_shop_is_never_refunded_again_by_a_return(
    shopify: Client, sandbox: FakeChannelRefunds
) -> None:
    order, _ = shopify_delivered(shopify, [("MUG-BLUE", 2)])
    status, receipt = shopify_refund_webhook(shopify, order, amount="13.00", quantity=1, refund_id=777001)
    assert status == 200, receipt
    assert [(r["origin"], r["total"]) for r in shopify.order(order["orderId"])["refunds"]] == [
        ("CHANNEL", "13.00")
    ]

    return_id = return_of(shopify, order["orderId"], [("MUG-BLUE", 2)])
    assert receive(shopify, return_id, [("MUG-BLUE", 2, "RESELLABLE")])[0] == 200
    closed = wait_for_return(shopify, return_id, "CLOSED")
    # Only the unit not refunded in the shop is refunded now.
    assert closed["refund"]["total"] == "13.00"
    assert [r["total"] for r in shopify.order(order["orderId"])["refunds"]] == ["13.00", "13.00"]
    assert closed["refund"]["lines"][0]["quantity"] == 1
    assert sandbox.refunds_created("shopify")[0]["refund_line_items"][0]["quantity"] == 1
    # The same shop refund reported again (another delivery of it) is recorded once.
    assert shopify_refund_webhook(shopify, order, amount="13.00", quantity=1, refund_id=777001)[0] == 200
    assert len(shopify.order(order["orderId"])["refunds"]) == 2


def test_tax_inclusive_prices_and_an_order_discount_spread_over_lines(client: Client) -> None:
    placed = canonical_order(None, currency="EUR", taxesIncluded=True, orderDiscount="3.00")
    placed["lines"] = [
        {"sku": "MUG-BLUE", "quantity": 2, "unitPrice": "12.00", "taxAmount": "4.00"},
        {"sku": "TEE-M", "quantity": 1, "unitPrice": "6.00", "taxAmount": "1.00"},
    ]
    order = deliver_all(client, client.place(placed))
    answer = authorized(client, order["orderId"], [("MUG-BLUE", 1), ("TEE-M", 1)])
    # Lines due 24.00 and 6.00 (tax included); the 3.00 discount shared 2.40 / 0.60.
    assert answer["expectedRefund"] == str(Decimal("10.80") + Decimal("5.40"))
    assert (
        receive(
            client, answer["returnId"], [("MUG-BLUE", 1, "RESELLABLE"), ("TEE-M", 1, "RESELLABLE")], "wh-west"
        )[0]
        == 200
    )
    closed = wait_for_return(client, answer["returnId"], "CLOSED")
    amounts = {line["sku"]: (line["amount"], line["tax"]) for line in closed["refund"]["lines"]}
    assert amounts == {"MUG-BLUE": ("10.80", "1.80"), "TEE-M": ("5.40", "0.90")}


def test_policy_fee_and_shipping_apply_to_the_refund(client: Client) -> None:
    set_return_policy(client, CHANNEL_ID, API_CHANNEL, restockingFeePercent="10", refundShipping="IF_DAMAGED")
    order = delivered_order(client, [("MUG-BLUE", 2)])
    answer = authorized(client, order["orderId"], [("MUG-BLUE", 2)])
    assert answer["expectedRefund"] == "22.50"  # 25.00 less 10%
    assert (
        receive(client, answer["returnId"], [("MUG-BLUE", 1, "RESELLABLE"), ("MUG-BLUE", 1, "DAMAGED")])[0]
        == 200
    )
    refund = wait_for_return(client, answer["returnId"], "CLOSED")["refund"]
    # The fee only on the resellable unit; a damaged unit brings the shipping back.
    assert (refund["lines"][0]["fee"], refund["shipping"], refund["total"]) == ("1.25", "5.00", "28.75")


# -- exchanges -------------------------------------------------------------------------------------


def test_an_exchange_is_a_new_order_through_the_normal_workflow(client: Client) -> None:
    order = delivered_order(client, [("MUG-BLUE", 1)])
    answer = authorized(
        client,
        order["orderId"],
        [("MUG-BLUE", 1)],
        resolution="EXCHANGE",
        exchange=[{"sku": "TEE-M", "quantity": 1}],
    )
    assert answer["expectedRefund"] == "0"
    assert receive(client, answer["returnId"], [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    closed = wait_for_return(client, answer["returnId"], "CLOSED")

    assert closed["exchangeOutcome"] == "RESERVED"
    assert (closed["refund"]["total"], closed["refund"]["method"]) == ("0", "NONE")
    exchange = client.order(closed["exchangeOrderId"])
    assert exchange["exchangeOf"] == {"orderId": order["orderId"], "returnId": answer["returnId"]}
    assert exchange["status"] in ("RESERVED", "FULFILLING")
    assert [(line["sku"], line["unitPrice"]) for line in exchange["lines"]] == [("TEE-M", "0")]
    assert exchange["fulfillments"][0]["warehouseId"] == "wh-west"
    assert client.order(order["orderId"])["returns"][0]["exchangeOrderId"] == exchange["orderId"]


def test_an_exchange_that_cannot_be_reserved_falls_back_to_a_refund(client: Client) -> None:
    order = delivered_order(client, [("MUG-BLUE", 1)])
    answer = authorized(
        client,
        order["orderId"],
        [("MUG-BLUE", 1)],
        resolution="EXCHANGE",
        exchange=[{"sku": "TEE-M", "quantity": 50}],
    )
    assert receive(client, answer["returnId"], [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    closed = wait_for_return(client, answer["returnId"], "CLOSED")

    assert (closed["resolution"], closed["requestedResolution"]) == ("REFUND", "EXCHANGE")
    assert closed["exchangeOutcome"] == "UNAVAILABLE"
    assert closed["refund"]["total"] == "12.50"
    reasons = [e["reason"] for e in closed["timeline"] if e["status"] == "EXCHANGE_UNAVAILABLE"]
    assert reasons and reasons[0].startswith("EXCHANGE_UNAVAILABLE: exchange order")
    assert client.order(closed["exchangeOrderId"])["status"] == "REJECTED"


def test_an_exchange_the_policy_ships_at_once_is_placed_before_the_goods_come_back(client: Client) -> None:
    set_return_policy(client, CHANNEL_ID, API_CHANNEL, exchangeShips="IMMEDIATELY")
    order = delivered_order(client, [("MUG-BLUE", 1)])
    answer = authorized(
        client,
        order["orderId"],
        [("MUG-BLUE", 1)],
        resolution="EXCHANGE",
        exchange=[{"sku": "MUG-BLUE", "quantity": 1}],
    )
    return_id = answer["returnId"]
    placed = _wait_for(lambda: get_return(client, return_id).get("exchangeOutcome") == "RESERVED")
    assert placed and get_return(client, return_id)["status"] == "AUTHORIZED"
    assert receive(client, return_id, [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    closed = wait_for_return(client, return_id, "CLOSED")
    assert closed["refund"]["total"] == "0"
    assert len([e for e in closed["timeline"] if e["status"] == "EXCHANGE_PLACED"]) == 1


def _wait_for(condition: Any, timeout: float = 15.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def woo(client: Client, sandbox: FakeChannelRefunds) -> Client:
    channel = {
        "type": "woocommerce",
        "webhookSecret": WOO_SECRET,
        "refundApi": sandbox.woocommerce_target().model_dump(),
    }
    assert client.call("PUT", f"/channels/{WOO_CHANNEL}", channel)[0] in (200, 201)
    return client


def woo_placed(client: Client, payload: dict[str, Any], topic: str = "order.created") -> tuple[int, Any]:
    headers, body = woo_delivery(payload, topic=topic)
    return client.send("POST", f"/webhooks/{WOO_CHANNEL}", headers, body)


def test_a_woocommerce_return_is_refunded_per_line_with_its_tax(
    woo: Client, sandbox: FakeChannelRefunds
) -> None:
    payload = woo_order(lines=[("MUG-BLUE", 2)])
    item = payload["line_items"][0]
    item.update({"total_tax": "2.00", "taxes": [{"id": 7, "total": "2.00", "subtotal": "2.00"}]})
    payload.update({"total_tax": "2.00", "total": "32.00"})
    status, receipt = woo_placed(woo, payload)
    assert status == 202, receipt
    order = deliver_all(woo, receipt["orderId"])

    return_id = return_of(woo, order["orderId"], [("MUG-BLUE", 1)])
    assert receive(woo, return_id, [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    closed = wait_for_return(woo, return_id, "CLOSED")

    assert (closed["refund"]["method"], closed["refund"]["total"]) == ("CHANNEL", "13.50")
    (created,) = sandbox.calls("/wp-json/wc/v3/orders/")
    line = created.body["line_items"][0]
    assert (line["id"], line["quantity"], line["refund_total"]) == (item["id"], 1, "12.50")
    assert line["refund_tax"] == [{"id": 7, "refund_total": "1.00"}]  # ids go back as WooCommerce sent them
    assert created.body["reason"].startswith(f"OMS refund {closed['refund']['refundId']}:")


def test_woocommerce_refunds_seen_in_order_updated_are_recorded_once(woo: Client) -> None:
    payload = woo_order(lines=[("MUG-BLUE", 2)])
    status, receipt = woo_placed(woo, payload)
    assert status == 202, receipt
    payload["refunds"] = [{"id": 726, "reason": "goodwill", "total": "-5.00"}]
    for _ in range(2):  # the same refund listed in two order.updated deliveries
        assert woo_placed(woo, payload, topic="order.updated")[0] == 200
    refunds = woo.order(receipt["orderId"])["refunds"]
    assert [(r["origin"], r["channelRefundId"], r["unallocated"], r["note"]) for r in refunds] == [
        ("CHANNEL", "726", "5.00", "goodwill")
    ]


def test_a_restock_wakes_an_order_waiting_for_the_sku(client: Client) -> None:
    first = delivered_order(client, [("TEE-M", 3)])  # all of wh-west's TEE-M
    waiting = client.place(canonical_order([("TEE-M", 1)]))
    client.wait_for_status(waiting, "BACKORDERED")

    return_id = return_of(client, first["orderId"], [("TEE-M", 1)])
    assert receive(client, return_id, [("TEE-M", 1, "RESELLABLE")], warehouse_id="wh-west")[0] == 200
    wait_for_return(client, return_id, "CLOSED")
    assert (
        client.wait_for_status(waiting, "RESERVED", "FULFILLING")["fulfillments"][0]["warehouseId"]
        == "wh-west"
    )


def test_a_replacement_worth_less_refunds_the_difference_and_one_worth_more_leaves_a_balance_due(
    client: Client,
) -> None:
    order = delivered_order(client, [("MUG-BLUE", 2)])
    cheaper = authorized(
        client,
        order["orderId"],
        [("MUG-BLUE", 1)],
        resolution="EXCHANGE",
        exchange=[{"sku": "TEE-M", "quantity": 1, "unitPrice": "10.00"}],
    )
    assert (cheaper["expectedRefund"], cheaper.get("balanceDue")) == ("2.50", None)
    dearer = authorized(
        client,
        order["orderId"],
        [("MUG-BLUE", 1)],
        resolution="EXCHANGE",
        exchange=[{"sku": "TEE-M", "quantity": 1, "unitPrice": "20.00"}],
    )
    assert dearer["balanceDue"] == get_return(client, dearer["returnId"])["balanceDue"] == "7.50"

    assert receive(client, cheaper["returnId"], [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    closed = wait_for_return(client, cheaper["returnId"], "CLOSED")
    assert (closed["exchangeOutcome"], closed["refund"]["total"]) == ("RESERVED", "2.50")


def test_a_restock_step_run_twice_restocks_once(client: Client, oms: LocalOMS) -> None:
    from shared.dal import returns as returns_dal
    from shared.dal.dynamo import transact
    from shared.logic import return_steps
    from shared.models.returns import ReturnStatus

    order = delivered_order(client, [("MUG-BLUE", 2)])
    return_id = return_of(client, order["orderId"], [("MUG-BLUE", 2)])
    before = client.stock("MUG-BLUE")["wh-east"]["onHand"]
    # The receipt as the API writes it, without resuming the workflow: the step runs here, twice.
    item = returns_dal.require_item(return_id)
    receipt = {
        "warehouseId": "wh-east",
        "lines": [{"sku": "MUG-BLUE", "quantity": 2, "condition": "RESELLABLE"}],
    }
    receipt["receivedAt"] = item["createdAt"]
    transact(
        [
            returns_dal.change_action(
                item, [ReturnStatus.AUTHORIZED], status=ReturnStatus.RECEIVED, sets={"receipt": receipt}
            )
        ]
    )

    assert return_steps.restock(return_id) == {"resolution": "REFUND"}
    assert return_steps.restock(return_id) == {"resolution": "REFUND"}
    assert client.stock("MUG-BLUE")["wh-east"]["onHand"] == before + 2
    assert [e["kind"] for e in client.ledger("MUG-BLUE", "wh-east")].count("RETURN") == 1


def test_units_of_a_sku_still_on_their_way_are_not_delivered_yet(client: Client) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 12)]))  # more than one warehouse holds
    order = client.wait_for_status(order_id, "FULFILLING")
    first, _other = order["fulfillments"]
    deliver(client, first["fulfillmentId"])
    client.wait_for_status(order_id, "PARTIALLY_SHIPPED")
    delivered = first["lines"][0]["quantity"]

    status, body = ask_return(client, order_id, [("MUG-BLUE", 12)])
    assert status == 422, body
    (reason,) = body["error"]["details"]["reasons"]
    assert (reason["code"], reason["returnable"], reason["onItsWay"]) == (
        "NOT_DELIVERED",
        delivered,
        12 - delivered,
    )
    status, body = ask_return(client, order_id, [("MUG-BLUE", 13)])
    assert body["error"]["details"]["reasons"][0]["code"] == "MORE_THAN_DELIVERED"
    assert ask_return(client, order_id, [("MUG-BLUE", delivered)])[0] == 201


def test_a_woocommerce_item_split_for_its_price_is_refunded_as_the_one_item_it_is(
    woo: Client, sandbox: FakeChannelRefunds
) -> None:
    # 10.00 for 3 units: the OMS holds two lines of the item (one at 3.34, two at 3.33), both with its id.
    payload = woo_order(lines=[("MUG-BLUE", 3)])
    item = payload["line_items"][0]
    item.update({"subtotal": "10.00", "total": "10.00", "price": 3.333333})
    payload["total"] = "15.00"
    status, receipt = woo_placed(woo, payload)
    assert status == 202, receipt
    order = deliver_all(woo, receipt["orderId"])
    assert [(line["quantity"], line["channelLineId"]) for line in order["lines"]] == [
        (1, str(item["id"])),
        (2, str(item["id"])),
    ]

    return_id = return_of(woo, order["orderId"], [("MUG-BLUE", 3)])
    assert receive(woo, return_id, [("MUG-BLUE", 3, "RESELLABLE")])[0] == 200
    closed = wait_for_return(woo, return_id, "CLOSED")

    assert [(line["quantity"], line["amount"]) for line in closed["refund"]["lines"]] == [
        (1, "3.34"),
        (2, "6.66"),
    ]
    (made,) = sandbox.refunds_created("woocommerce")
    # As WooCommerce records it: the whole item refunded, not just the part named last.
    assert [(line["quantity"], line["total"]) for line in made["line_items"]] == [(-3, "-10.00")]
    assert made["amount"] == closed["refund"]["total"] == "10.00"
