"""Returns on the running local OMS (`python -m local`), over HTTP as a client would: the demo channels'
orders returned and refunded through the refund sandbox `make run` starts, whose own list
(GET /sandbox/refunds) shows what reached the channel; policy refusals; a second receipt; the order's
detail; and `python -m local.send_return` pasted from the banner into another terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from typing import Any

import pytest
import requests

from local.demo import DEMO_CHANNEL_ID, DEMO_WEBHOOK_SECRET, sample_order
from local.samples import (
    SHOPIFY_CHANNEL,
    WOO_CHANNEL,
    shopify_delivery,
    shopify_order,
    woo_delivery,
    woo_order,
)
from tests.e2e.conftest import ROOT, RunningOMS, free_port
from tests.support.orders import Client, signed_headers
from tests.support.returns import ask_return, days_ago, deliver_all, get_return, receive, wait_for_return

SKU = "TSHIRT-BLK-M"  # stocked by the demo at both warehouses


def refunds_url(running_oms: RunningOMS) -> str:
    found = re.search(r"Refunds: +(\S+)", running_oms.banner)
    assert found is not None, running_oms.banner
    return found.group(1)


def sandbox_refunds(running_oms: RunningOMS) -> list[dict[str, Any]]:
    """What the refund sandbox made, as anyone can read it."""
    answer = requests.get(refunds_url(running_oms) + "/sandbox/refunds", timeout=10)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["refunds"])


def sandbox_saw(running_oms: RunningOMS, refund_id: str) -> list[dict[str, Any]]:
    return [entry for entry in sandbox_refunds(running_oms) if entry["idempotencyKey"] == refund_id]


def place(client: Client, channel: str, quantity: int = 1) -> tuple[str, dict[str, Any]]:
    """An order of `quantity` x SKU placed on a demo channel in its own format; its id and the payload."""
    if channel == SHOPIFY_CHANNEL:
        payload = shopify_order([(SKU, quantity)])
        headers, body = shopify_delivery(payload)
    elif channel == WOO_CHANNEL:
        payload = woo_order("processing", [(SKU, quantity)])
        headers, body = woo_delivery(payload)
    else:
        payload = sample_order(lines=[(SKU, quantity)])
        body = json.dumps(payload).encode()
        headers = signed_headers(body, secret=DEMO_WEBHOOK_SECRET)
    status, receipt = client.send("POST", f"/webhooks/{channel}", headers, body)
    assert status == 202, receipt
    return str(receipt["orderId"]), payload


def on_hand(client: Client, warehouse_id: str) -> int:
    return int(client.stock(SKU)[warehouse_id]["onHand"])


def test_a_shopify_return_is_received_restocked_refunded_through_the_channel_and_closed(
    running_oms: RunningOMS, client: Client
) -> None:
    order_id, payload = place(client, SHOPIFY_CHANNEL, quantity=2)
    order = deliver_all(client, order_id)
    [fulfillment] = order["fulfillments"]
    warehouse_id = fulfillment["warehouseId"]
    before = on_hand(client, warehouse_id)

    status, authorization = ask_return(client, order_id, [(SKU, 2)], key=f"rma-{order_id}")
    assert status == 201, authorization
    assert (authorization["returnId"], authorization["status"]) == (f"{order_id}-R1", "AUTHORIZED")
    assert authorization["expectedRefund"] == "26.00"  # 2 x 12.50 and the line's 1.00 tax
    assert [(d["fulfillmentId"], d["quantity"]) for d in authorization["lines"][0]["delivered"]] == [
        (fulfillment["fulfillmentId"], 2)
    ]
    # The same Idempotency-Key again: the same return, authorized once.
    again = ask_return(client, order_id, [(SKU, 2)], key=f"rma-{order_id}")
    assert (again[0], again[1]["returnId"]) == (200, authorization["returnId"])
    return_id = authorization["returnId"]

    status, received = receive(client, return_id, [(SKU, 2, "RESELLABLE")], warehouse_id=warehouse_id)
    assert (status, received["status"]) == (200, "RECEIVED"), received
    closed = wait_for_return(client, return_id, "CLOSED")

    refund = closed["refund"]
    assert (refund["method"], refund["status"], refund["total"]) == ("CHANNEL", "SUCCEEDED", "26.00")
    assert [(line["sku"], line["quantity"], line["amount"], line["tax"]) for line in refund["lines"]] == [
        (SKU, 2, "26.00", "1.00")
    ]
    # The refund reached the channel's port, the sandbox's Shopify Admin API: once, for the order's
    # Shopify id and line item, without restocking there (the OMS counts the stock).
    [seen] = sandbox_saw(running_oms, refund["refundId"])
    assert seen["channel"] == "shopify"
    assert seen["path"] == f"/admin/api/2026-07/orders/{payload['id']}/refunds.json"
    assert (seen["channelRefundId"], seen["amount"]) == (refund["channelRefundId"], "26.00")
    [line] = seen["request"]["refund"]["refund_line_items"]
    assert (line["line_item_id"], line["quantity"], line["restock_type"]) == (
        payload["line_items"][0]["id"],
        2,
        "no_restock",
    )
    assert seen["request"]["refund"]["note"].startswith(f"OMS refund {refund['refundId']}:")
    # Both units back on hand where they came back, each change in the ledger.
    assert on_hand(client, warehouse_id) == before + 2
    entry = client.ledger(SKU, warehouse_id)[0]
    assert (entry["kind"], entry["onHandDelta"], entry["reference"]) == ("RETURN", 2, return_id)

    detail = client.order(order_id)
    assert [(r["returnId"], r["status"]) for r in detail["returns"]] == [(return_id, "CLOSED")]
    assert [
        (r["origin"], r["returnId"], r["method"], r["status"], r["total"], r["channelRefundId"])
        for r in detail["refunds"]
    ] == [("RETURN", return_id, "CHANNEL", "SUCCEEDED", "26.00", refund["channelRefundId"])]
    statuses = [entry["status"] for entry in detail["timeline"]]
    assert statuses[statuses.index("DELIVERED") + 1 :] == [
        "RETURN_AUTHORIZED",
        "RETURN_RECEIVED",
        "RETURN_REFUND_RECORDED",
        "RETURN_REFUND_SUCCEEDED",
        "RETURN_CLOSED",
    ]
    assert all(return_id in e["reason"] for e in detail["timeline"] if e["status"].startswith("RETURN_"))


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        # (refund method, as the sandbox saw it, total): the demo's WooCommerce orders carry no tax.
        (WOO_CHANNEL, ("CHANNEL", "woocommerce", "12.50")),
        (DEMO_CHANNEL_ID, ("WEBHOOK", "signed", "12.50")),
    ],
)
def test_the_other_demo_channels_refund_through_the_sandbox_too(
    running_oms: RunningOMS, client: Client, channel: str, expected: tuple[str, str, str]
) -> None:
    method, seen_as, total = expected
    order_id, _ = place(client, channel)
    order = deliver_all(client, order_id)
    status, authorization = ask_return(client, order_id, [(SKU, 1)])
    assert status == 201, authorization
    warehouse_id = order["fulfillments"][0]["warehouseId"]
    assert receive(client, authorization["returnId"], [(SKU, 1, "RESELLABLE")], warehouse_id)[0] == 200

    refund = wait_for_return(client, authorization["returnId"], "CLOSED")["refund"]

    assert (refund["method"], refund["status"], refund["total"]) == (method, "SUCCEEDED", total)
    [seen] = sandbox_saw(running_oms, refund["refundId"])
    assert (seen["channel"], seen["channelRefundId"], seen["amount"]) == (
        seen_as,
        refund["channelRefundId"],
        total,
    )
    if seen_as == "signed":
        # Accepted only because it verified against demo-store's webhook secret.
        assert seen["request"]["type"] == "refund.requested"
        assert seen["request"]["data"]["orderId"] == order_id


def test_returns_outside_the_policy_are_422_naming_each_reason_and_leave_nothing(client: Client) -> None:
    order_id, _ = place(client, DEMO_CHANNEL_ID, quantity=2)
    deliver_all(client, order_id, delivered_at=days_ago(40))  # the demo policy: 30 days

    status, refused = ask_return(client, order_id, [(SKU, 1), ("HOODIE-GRY-L", 1)])

    assert status == 422, refused
    reasons = {reason["sku"]: reason for reason in refused["error"]["details"]["reasons"]}
    assert {sku: reason["code"] for sku, reason in reasons.items()} == {
        SKU: "OUTSIDE_WINDOW",
        "HOODIE-GRY-L": "NOT_ON_ORDER",
    }
    assert reasons[SKU]["returnableUntil"].startswith(days_ago(10).date().isoformat())
    assert client.order(order_id)["returns"] == []
    assert client.call("GET", f"/returns/{order_id}-R1")[0] == 404


def test_an_order_not_yet_delivered_cannot_be_returned(client: Client) -> None:
    order_id, _ = place(client, DEMO_CHANNEL_ID)
    client.wait_for_status(order_id, "FULFILLING")

    status, refused = ask_return(client, order_id, [(SKU, 1)])

    assert status == 422, refused
    assert [r["code"] for r in refused["error"]["details"]["reasons"]] == ["NOT_DELIVERED"]


def test_a_second_receipt_is_409_and_changes_nothing(running_oms: RunningOMS, client: Client) -> None:
    order_id, _ = place(client, SHOPIFY_CHANNEL)
    warehouse_id = deliver_all(client, order_id)["fulfillments"][0]["warehouseId"]
    status, authorization = ask_return(client, order_id, [(SKU, 1)])
    assert status == 201, authorization
    return_id = authorization["returnId"]
    assert receive(client, return_id, [(SKU, 1, "RESELLABLE")], warehouse_id)[0] == 200
    closed = wait_for_return(client, return_id, "CLOSED")
    stock = client.stock(SKU)[warehouse_id]

    status, body = receive(client, return_id, [(SKU, 1, "RESELLABLE")], warehouse_id)

    assert status == 409, body
    assert body["error"]["code"] == "INVALID_TRANSITION"
    assert (body["error"]["details"]["status"], body["error"]["details"]["requested"]) == (
        "CLOSED",
        "RECEIVED",
    )
    assert client.stock(SKU)[warehouse_id] == stock
    assert get_return(client, return_id) == closed
    assert len(sandbox_saw(running_oms, closed["refund"]["refundId"])) == 1  # refunded once
    assert len(client.order(order_id)["refunds"]) == 1


# -- what a person runs ---------------------------------------------------------------------------


def another_terminal(**variables: str) -> dict[str, str]:
    """A terminal whose OMS variables lead nowhere, but for `variables`."""
    nowhere = str(free_port())
    names = ("OMS_PORT", "OMS_AWS_PORT", "OMS_SPAPI_PORT", "OMS_REFUNDS_PORT")
    return {**os.environ, **dict.fromkeys(names, nowhere), "OMS_API_KEY": "not-the-key", **variables}


def test_the_banner_send_return_command_returns_an_order_and_shows_the_refund_the_sandbox_made(
    running_oms: RunningOMS, client: Client
) -> None:
    order_id, _ = place(client, WOO_CHANNEL)  # not delivered yet: send_return delivers it first
    [printed] = [line.strip() for line in running_oms.banner.splitlines() if "-m local.send_return" in line]
    command = printed.replace("<orderId>", order_id)

    ran = subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env=another_terminal(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert ran.returncode == 0, ran.stdout + ran.stderr
    returned = client.order(order_id)["returns"]
    assert [(r["status"], r["refund"]["method"]) for r in returned] == [("CLOSED", "CHANNEL")]
    refund = returned[0]["refund"]
    assert f"-> 201 return {order_id}-R1 AUTHORIZED: 1 x {SKU}" in ran.stdout
    assert "-> CLOSED (refunded)" in ran.stdout
    assert f"Refund {refund['refundId']}: 12.50 USD through the channel's refund API" in ran.stdout
    [seen] = sandbox_saw(running_oms, refund["refundId"])
    assert (
        f"The refund sandbox saw it: woocommerce refund {seen['channelRefundId']} of 12.50, asked for at "
        f"POST {refunds_url(running_oms)}{seen['path']}"
    ) in ran.stdout
    # Run again, everything came back already: the policy says so, and nothing more is returned.
    again = subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env=another_terminal(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 1
    assert "422" in again.stderr and "MORE_THAN_DELIVERED" in again.stderr
    assert len(client.order(order_id)["returns"]) == 1


def test_the_readme_sandbox_example_lists_the_refunds_of_the_sandbox_its_variable_names(
    running_oms: RunningOMS,
) -> None:
    readme = (ROOT / "README.md").read_text()
    [command] = [
        line for line in readme.splitlines() if "/sandbox/refunds |" in line and line.startswith("curl")
    ]
    port = refunds_url(running_oms).rsplit(":", 1)[1]

    listed = subprocess.run(
        command,
        shell=True,
        env=another_terminal(OMS_REFUNDS_PORT=port),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {"refunds": sandbox_refunds(running_oms)}


def test_an_idempotency_key_reused_for_another_return_of_the_order_is_409(client: Client) -> None:
    order_id, _ = place(client, DEMO_CHANNEL_ID, quantity=2)
    deliver_all(client, order_id)
    key = f"rma-{uuid.uuid4().hex}"
    assert ask_return(client, order_id, [(SKU, 1)], key=key)[0] == 201

    status, body = ask_return(client, order_id, [(SKU, 2)], key=key)

    assert status == 409, body
    assert body["error"]["details"] == {"header": "Idempotency-Key"}
    assert len(client.order(order_id)["returns"]) == 1
