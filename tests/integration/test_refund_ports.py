"""The refund ports against the local channel sandbox, over real HTTP: what each channel receives, what
the port makes of the answers, and how it retries, gives up and refuses."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local.refund_sandbox import FakeChannelRefunds
from shared.channels import refunds
from shared.channels.refunds import (
    RefundRefused,
    RefundTarget,
    RefundUnavailable,
    SignedRefundUrl,
    send_refund,
)
from shared.errors import TransientError
from shared.models.refunds import RefundRequest

ORDER = "450789469"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "channels"
CREATE_PATHS = {
    "shopify": "/refunds.json",
    "woocommerce": "/wp-json/wc/v3/orders/",
    "signed": "/refunds/oms",
}


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFUND_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.delenv("REFUND_ATTEMPTS", raising=False)


@pytest.fixture
def channel() -> Iterator[FakeChannelRefunds]:
    with FakeChannelRefunds() as fake:
        fake.price_shopify_line(518995019, "20.00", "1.20")
        fake.price_shopify_line(703073504, "20.00")
        yield fake


def refund_request(**changes: Any) -> RefundRequest:
    values: dict[str, Any] = {
        "refundId": "rf_0001",
        "orderId": "ord_0001",
        "channelOrderId": ORDER,
        "currency": "USD",
        "lines": [
            {
                "channelLineId": "518995019",
                "channelTaxRateId": "75",
                "sku": "IPOD2008RED",
                "quantity": 1,
                "amount": "21.20",
                "tax": "1.20",
            },
            {"channelLineId": "703073504", "sku": "IPOD2008BLACK", "quantity": 2, "amount": "40.00"},
        ],
        "shipping": "5.00",
        "total": "66.20",
        "reason": "wrong size",
    }
    return RefundRequest.model_validate({**values, **changes})


def target_of(channel: FakeChannelRefunds, kind: str) -> RefundTarget:
    targets: dict[str, RefundTarget] = {
        "shopify": channel.shopify_target(),
        "woocommerce": channel.woocommerce_target(),
        "signed": channel.signed_target(),
    }
    return targets[kind]


# --- Shopify ------------------------------------------------------------------------------------------


def test_shopify_calculates_then_refunds_the_total_against_the_suggested_sale(
    channel: FakeChannelRefunds,
) -> None:
    receipt = send_refund(channel.shopify_target(), refund_request())

    calculate, create = channel.requests
    orders = f"/admin/api/2026-07/orders/{ORDER}"
    lines = [
        {"line_item_id": 518995019, "quantity": 1, "restock_type": "no_restock"},
        {"line_item_id": 703073504, "quantity": 2, "restock_type": "no_restock"},
    ]
    assert (calculate.path, create.path) == (f"{orders}/refunds/calculate.json", f"{orders}/refunds.json")
    assert calculate.body == {
        "refund": {"currency": "USD", "shipping": {"amount": "5.00"}, "refund_line_items": lines}
    }
    assert create.body == {
        "refund": {
            "currency": "USD",
            "notify": True,
            "note": "OMS refund rf_0001: wrong size",
            "shipping": {"amount": "5.00"},
            "refund_line_items": lines,
            "transactions": [
                {
                    "parent_id": channel.shopify_parent_id(ORDER),
                    "amount": "66.20",
                    "kind": "refund",
                    "gateway": "bogus",
                }
            ],
        }
    }
    for request in (calculate, create):
        assert request.headers["x-shopify-access-token"] == channel.shopify_token
        assert request.headers["idempotency-key"] == "rf_0001"
        assert request.headers["content-type"] == "application/json"
    (made,) = channel.refunds_created("shopify")
    assert receipt.channelRefundId == str(made["id"])
    assert receipt.amount == Decimal("66.20")


def test_shopify_refuses_lines_without_a_channel_line_id_before_any_call(channel: FakeChannelRefunds) -> None:
    request = refund_request(lines=[{"sku": "IPOD2008RED", "quantity": 1, "amount": "21.20"}], total="26.20")

    with pytest.raises(RefundRefused, match="IPOD2008RED"):
        send_refund(channel.shopify_target(), request)

    assert channel.requests == []


def test_shopify_wrong_token_is_refused_after_one_attempt_without_showing_it(
    channel: FakeChannelRefunds,
) -> None:
    wrong = channel.shopify_target().model_copy(update={"accessToken": "shpat_not-the-right-one-0123"})

    with pytest.raises(RefundRefused) as refused:
        send_refund(wrong, refund_request())

    assert refused.value.status == 401
    assert "Invalid API key or access token" in str(refused.value)
    assert "shpat_not-the-right-one-0123" not in str(refused.value)
    assert len(channel.requests) == 1
    assert "shpat_not" not in repr(wrong)


def test_shopify_refusing_more_than_the_sale_has_left_is_refused_after_one_attempt() -> None:
    with FakeChannelRefunds(shopify_sale_amount="50.00") as channel:
        with pytest.raises(RefundRefused) as refused:
            send_refund(channel.shopify_target(), refund_request())

        assert refused.value.status == 422
        assert "transactions: amount cannot be greater than the refundable amount of 50.00" in str(
            refused.value
        )
        assert len(channel.calls("/refunds.json")) == 1
        assert channel.refunds_created("shopify") == []


def test_shopify_answer_without_a_refund_id_is_refused(channel: FakeChannelRefunds) -> None:
    channel.fail_next("/refunds.json", 201, body={"refund": {"transactions": []}})

    with pytest.raises(RefundRefused, match=r"without refund\.id"):
        send_refund(channel.shopify_target(), refund_request())

    assert len(channel.calls("/refunds.json")) == 1


def test_shopify_calculation_without_a_suggested_transaction_is_refused_before_creating(
    channel: FakeChannelRefunds,
) -> None:
    channel.fail_next("/calculate.json", 200, body={"refund": {"transactions": []}})

    with pytest.raises(RefundRefused, match="suggests no transaction"):
        send_refund(channel.shopify_target(), refund_request())

    assert channel.calls("/refunds.json") == []


# --- WooCommerce --------------------------------------------------------------------------------------


def test_woocommerce_refunds_the_total_with_lines_and_their_tax(channel: FakeChannelRefunds) -> None:
    receipt = send_refund(channel.woocommerce_target(), refund_request())

    (call,) = channel.requests
    assert call.path == f"/wp-json/wc/v3/orders/{ORDER}/refunds"
    assert call.body == {
        "amount": "66.20",
        "reason": "OMS refund rf_0001: wrong size",
        "api_refund": True,
        "api_restock": False,
        "line_items": [
            {
                "id": 518995019,
                "quantity": 1,
                "refund_total": "20.00",
                "refund_tax": [{"id": 75, "refund_total": "1.20"}],
            },
            {"id": 703073504, "quantity": 2, "refund_total": "40.00"},
        ],
    }
    scheme, credentials = call.headers["authorization"].split(" ")
    assert (scheme, base64.b64decode(credentials).decode()) == (
        "Basic",
        f"{channel.woo_key}:{channel.woo_secret}",
    )
    assert call.headers["idempotency-key"] == "rf_0001"
    (made,) = channel.refunds_created("woocommerce")
    assert receipt.channelRefundId == str(made["id"])
    assert receipt.amount == Decimal("66.20")
    assert [line["quantity"] for line in made["line_items"]] == [-1, -2]


def test_woocommerce_lines_without_ids_are_refunded_in_the_amount_only(channel: FakeChannelRefunds) -> None:
    request = refund_request(
        lines=[
            {"channelLineId": "31", "sku": "A", "quantity": 1, "amount": "12.00", "tax": "2.00"},
            {"sku": "B", "quantity": 1, "amount": "8.00"},
        ],
        total="25.00",
    )

    send_refund(channel.woocommerce_target(), request)

    (call,) = channel.requests
    assert call.body["amount"] == "25.00"  # shipping and the unnamed line included
    assert call.body["line_items"] == [{"id": 31, "quantity": 1, "refund_total": "10.00"}]


def test_woocommerce_lines_of_one_item_are_refunded_as_one_line_item(channel: FakeChannelRefunds) -> None:
    """A WooCommerce item whose price does not divide into its quantity is two OMS lines with its id
    (10.00 for 3: one at 3.34, two at 3.33). WooCommerce keys a refund's line_items by id, the last
    entry replacing the first, so the port sends each item once with its units, totals and tax."""
    request = refund_request(
        lines=[
            {
                "channelLineId": "31",
                "channelTaxRateId": "7",
                "sku": "A",
                "quantity": 1,
                "amount": "3.61",
                "tax": "0.27",
            },
            {"channelLineId": "32", "sku": "B", "quantity": 1, "amount": "5.00"},
            {
                "channelLineId": "31",
                "channelTaxRateId": "7",
                "sku": "A",
                "quantity": 2,
                "amount": "7.19",
                "tax": "0.53",
            },
        ],
        shipping="0",
        total="15.80",
    )

    send_refund(channel.woocommerce_target(), request)

    (call,) = channel.requests
    assert call.body["line_items"] == [
        {"id": 31, "quantity": 3, "refund_total": "10.00", "refund_tax": [{"id": 7, "refund_total": "0.80"}]},
        {"id": 32, "quantity": 1, "refund_total": "5.00"},
    ]
    (made,) = channel.refunds_created("woocommerce")
    assert [(line["quantity"], line["total"]) for line in made["line_items"]] == [
        (-3, "-10.00"),
        (-1, "-5.00"),
    ]


def test_woocommerce_answer_in_the_published_shape_is_read(channel: FakeChannelRefunds) -> None:
    published = json.loads((FIXTURES / "woocommerce_refund_created.json").read_text())
    channel.fail_next("/wp-json/", 201, body=published)

    receipt = send_refund(channel.woocommerce_target(), refund_request())

    assert receipt.channelRefundId == "1342"
    assert receipt.amount == Decimal("26.20")


def test_woocommerce_sandbox_answers_in_the_published_shape(channel: FakeChannelRefunds) -> None:
    published = json.loads((FIXTURES / "woocommerce_refund_created.json").read_text())

    send_refund(channel.woocommerce_target(), refund_request())

    (made,) = channel.refunds_created("woocommerce")
    assert list(made) == list(published)
    assert list(made["_links"]) == list(published["_links"])


def test_woocommerce_zero_amount_is_refused_after_one_attempt(channel: FakeChannelRefunds) -> None:
    with pytest.raises(RefundRefused) as refused:
        send_refund(channel.woocommerce_target(), refund_request(total="0.00"))

    assert refused.value.status == 400
    assert "woocommerce_rest_invalid_order_refund: Refund amount must be greater than zero." in str(
        refused.value
    )
    assert len(channel.requests) == 1
    assert channel.refunds_created("woocommerce") == []


def test_woocommerce_wrong_secret_is_refused_without_showing_it(channel: FakeChannelRefunds) -> None:
    wrong = channel.woocommerce_target().model_copy(update={"consumerSecret": "cs_wrong-secret-0123"})

    with pytest.raises(RefundRefused) as refused:
        send_refund(wrong, refund_request())

    assert refused.value.status == 401
    assert "woocommerce_rest_cannot_create" in str(refused.value)
    assert "cs_wrong-secret-0123" not in str(refused.value)
    assert len(channel.requests) == 1


# --- signed URL ---------------------------------------------------------------------------------------


def test_signed_url_delivery_is_verified_by_the_reference_library(channel: FakeChannelRefunds) -> None:
    before = int(time.time())

    receipt = send_refund(channel.signed_target(), refund_request())

    (made,) = channel.refunds_created("signed")  # only made once the sandbox's Webhook.verify passed
    assert receipt.channelRefundId == made["refundId"]
    (call,) = channel.requests
    assert call.headers["webhook-id"] == "rf_0001" == made["webhookId"]
    assert before <= int(call.headers["webhook-timestamp"]) <= int(time.time())
    assert call.headers["webhook-signature"].startswith("v1,")
    assert call.headers["idempotency-key"] == "rf_0001"
    payload = made["payload"]
    assert payload["type"] == "refund.requested"
    assert abs(datetime.fromisoformat(payload["timestamp"]) - datetime.now(UTC)).total_seconds() < 60
    assert payload["data"] == refund_request().model_dump(mode="json")
    assert payload["data"]["total"] == "66.20"
    assert payload["data"]["lines"][0]["tax"] == "1.20"


def test_signed_url_with_the_wrong_secret_is_refused_401(channel: FakeChannelRefunds) -> None:
    wrong = SignedRefundUrl(url=channel.signed_target().url, secret="another-secret-entirely")

    with pytest.raises(RefundRefused) as refused:
        send_refund(wrong, refund_request())

    assert refused.value.status == 401
    assert "invalid signature" in str(refused.value)
    assert "another-secret-entirely" not in str(refused.value)
    assert len(channel.requests) == 1
    assert channel.refunds_created("signed") == []


def test_signed_url_redelivery_gets_the_same_refund(channel: FakeChannelRefunds) -> None:
    first = send_refund(channel.signed_target(), refund_request())
    again = send_refund(channel.signed_target(), refund_request())

    assert first.channelRefundId == again.channelRefundId
    assert len(channel.refunds_created("signed")) == 1
    assert len(channel.requests) == 2


# --- retries, giving up, idempotency ------------------------------------------------------------------


def test_a_503_then_success_refunds_once_after_the_retry_after_wait(channel: FakeChannelRefunds) -> None:
    channel.fail_next("/refunds.json", 503, retry_after="0.3")
    started = time.monotonic()

    receipt = send_refund(channel.shopify_target(), refund_request())

    assert time.monotonic() - started >= 0.3  # the backoff alone would be about 0.01 s
    creates = channel.calls("/refunds.json")
    assert len(creates) == 2
    assert {call.headers["idempotency-key"] for call in creates} == {"rf_0001"}
    (made,) = channel.refunds_created("shopify")
    assert receipt.channelRefundId == str(made["id"])


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("kind", ["shopify", "woocommerce", "signed"])
def test_failing_every_time_is_unavailable_after_the_attempts(
    channel: FakeChannelRefunds, monkeypatch: pytest.MonkeyPatch, kind: str, status: int
) -> None:
    monkeypatch.setenv("REFUND_ATTEMPTS", "3")
    channel.fail_next(CREATE_PATHS[kind], status, times=10, retry_after="0")

    with pytest.raises(RefundUnavailable) as unavailable:
        send_refund(target_of(channel, kind), refund_request())

    assert isinstance(unavailable.value, TransientError)
    assert unavailable.value.status == status
    message = str(unavailable.value)
    assert f"HTTP {status}: " in message and "injected failure" in message and "after 3 attempts" in message
    assert {"shopify": "Shopify", "woocommerce": "WooCommerce", "signed": "signed refund URL"}[
        kind
    ] in message
    assert len(channel.calls(CREATE_PATHS[kind])) == 3
    assert channel.refunds_created(kind) == []


def test_the_default_is_four_attempts(channel: FakeChannelRefunds) -> None:
    channel.fail_next("/wp-json/", 500, times=10, retry_after="0")

    with pytest.raises(RefundUnavailable, match="after 4 attempts"):
        send_refund(channel.woocommerce_target(), refund_request())

    assert len(channel.requests) == 4


def test_connection_errors_are_retried_then_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFUND_ATTEMPTS", "2")
    with FakeChannelRefunds() as gone:
        target = gone.woocommerce_target()  # nothing listens there once the sandbox stops

    with pytest.raises(RefundUnavailable, match=r"connection failed \(ConnectionRefusedError\)") as failed:
        send_refund(target, refund_request())

    assert failed.value.status is None
    assert "after 2 attempts" in str(failed.value)


def test_a_timed_out_create_is_sent_again_with_the_same_key_and_refunds_once(
    channel: FakeChannelRefunds, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refunds, "TIMEOUT_SECONDS", 0.2)
    channel.stall_next("/wp-json/", 0.5)  # the channel makes the refund after the port gave up waiting

    receipt = send_refund(channel.woocommerce_target(), refund_request())

    calls = channel.calls("/wp-json/")
    assert len(calls) == 2
    assert {call.headers["idempotency-key"] for call in calls} == {"rf_0001"}
    time.sleep(0.4)  # let the stalled request finish
    (made,) = channel.refunds_created("woocommerce")
    assert receipt.channelRefundId == str(made["id"])


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
def test_the_same_refund_sent_twice_refunds_once(channel: FakeChannelRefunds, kind: str) -> None:
    first = send_refund(target_of(channel, kind), refund_request())
    again = send_refund(target_of(channel, kind), refund_request())

    assert first == again
    assert len(channel.refunds_created(kind)) == 1
    creates = channel.calls(CREATE_PATHS[kind])
    assert len(creates) == 2
    assert {call.headers["idempotency-key"] for call in creates} == {"rf_0001"}


def test_a_different_refund_of_the_same_order_is_a_new_refund(channel: FakeChannelRefunds) -> None:
    first = send_refund(channel.shopify_target(), refund_request())
    second = send_refund(channel.shopify_target(), refund_request(refundId="rf_0002", total="10.00"))

    assert first.channelRefundId != second.channelRefundId
    assert [made["note"] for made in channel.refunds_created("shopify")] == [
        "OMS refund rf_0001: wrong size",
        "OMS refund rf_0002: wrong size",
    ]


def test_a_redirect_is_refused_not_followed_with_the_credentials(channel: FakeChannelRefunds) -> None:
    channel.fail_next("/wp-json/", 301, headers={"Location": "/elsewhere"}, body={"message": "Moved"})

    with pytest.raises(RefundRefused) as refused:
        send_refund(channel.woocommerce_target(), refund_request())

    assert refused.value.status == 301
    assert [(call.method, call.path) for call in channel.requests] == [
        ("POST", f"/wp-json/wc/v3/orders/{ORDER}/refunds")
    ]
