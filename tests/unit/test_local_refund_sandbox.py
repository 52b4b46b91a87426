"""The refund sandbox's own route, GET /sandbox/refunds: what `make run`'s demo and the e2e tests read
to see which refunds reached the channels (its refund APIs: tests/integration/test_refund_ports.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.refund_sandbox import SEEN_PATH, FakeChannelRefunds
from shared.channels.refunds import send_refund
from shared.models.refunds import RefundRequest


@pytest.fixture
def sandbox() -> Iterator[FakeChannelRefunds]:
    with FakeChannelRefunds() as fake:
        yield fake


def refund_request(refund_id: str, total: str = "13.50") -> RefundRequest:
    return RefundRequest.model_validate(
        {
            "refundId": refund_id,
            "orderId": "ord_1",
            "channelOrderId": "450789469",
            "currency": "USD",
            "lines": [{"channelLineId": "518995019", "sku": "MUG", "quantity": 1, "amount": total}],
            "total": total,
            "reason": "does not fit",
        }
    )


def seen(sandbox: FakeChannelRefunds) -> list[dict[str, Any]]:
    answer = requests.get(sandbox.endpoint + SEEN_PATH, timeout=5)
    assert answer.status_code == 200
    return list(answer.json()["refunds"])


def test_it_lists_each_refund_made_once_in_the_order_made_with_where_it_was_asked_for(
    sandbox: FakeChannelRefunds,
) -> None:
    shopify = send_refund(sandbox.shopify_target(), refund_request("rf-1"))
    send_refund(sandbox.shopify_target(), refund_request("rf-1"))  # the same Idempotency-Key: replayed
    woo = send_refund(sandbox.woocommerce_target(), refund_request("rf-2", "4.00"))
    signed = send_refund(sandbox.signed_target(), refund_request("rf-3", "2.50"))

    listed = seen(sandbox)

    assert [
        (entry["channel"], entry["path"], entry["idempotencyKey"], entry["channelRefundId"], entry["amount"])
        for entry in listed
    ] == [
        (
            "shopify",
            "/admin/api/2026-07/orders/450789469/refunds.json",
            "rf-1",
            shopify.channelRefundId,
            "13.50",
        ),
        ("woocommerce", "/wp-json/wc/v3/orders/450789469/refunds", "rf-2", woo.channelRefundId, "4.00"),
        ("signed", "/refunds/oms", "rf-3", signed.channelRefundId, "2.50"),
    ]
    assert listed == sandbox.refunds_seen()
    # What each was asked for with: the channel's own request body.
    assert listed[0]["request"]["refund"]["note"] == "OMS refund rf-1: does not fit"
    assert listed[1]["request"]["line_items"][0]["refund_total"] == "4.00"
    assert listed[2]["request"]["data"]["refundId"] == "rf-3"


def test_refused_refunds_are_not_listed(sandbox: FakeChannelRefunds) -> None:
    sandbox.fail_next("/wp-json/", 400)

    with pytest.raises(Exception, match="400"):
        send_refund(sandbox.woocommerce_target(), refund_request("rf-1"))

    assert seen(sandbox) == []


def test_the_route_is_the_sandboxs_own_not_recorded_and_other_gets_are_still_refused(
    sandbox: FakeChannelRefunds,
) -> None:
    seen(sandbox)
    other = requests.get(sandbox.endpoint + "/wp-json/wc/v3/orders/1/refunds", timeout=5)

    assert other.status_code == 405
    assert [(r.method, r.path) for r in sandbox.requests] == [("GET", "/wp-json/wc/v3/orders/1/refunds")]
