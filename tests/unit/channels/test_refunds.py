"""The refund ports' settings and retry timing, without a network."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import pytest
from pydantic import ValidationError

from shared.channels.refunds import (
    RefundUnavailable,
    ShopifyRefundApi,
    SignedRefundUrl,
    WooCommerceRefundApi,
    oms_refund_id_in,
    oms_refund_note,
    retry_delay,
)
from shared.errors import TransientError
from shared.models.refunds import RefundRequest


def shopify(url: str, **changes: Any) -> ShopifyRefundApi:
    return ShopifyRefundApi.model_validate({"adminUrl": url, "accessToken": "shpat_secret-token", **changes})


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://shop.myshopify.com", "https://shop.myshopify.com"),
        ("https://shop.myshopify.com/", "https://shop.myshopify.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://localhost:80/", "http://localhost:80"),
    ],
)
def test_base_urls_are_https_or_local_http_without_a_trailing_slash(url: str, kept: str) -> None:
    assert shopify(url).adminUrl == kept
    woo = WooCommerceRefundApi(storeUrl=url, consumerKey="ck_1", consumerSecret="cs_1")
    assert woo.storeUrl == kept


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://shop.myshopify.com", "https://"),
        ("ftp://127.0.0.1", "https://"),
        ("shop.myshopify.com", "https://"),
        ("https://user:pass@shop.myshopify.com", "credentials"),
        ("https://shop.myshopify.com?x=1", "query"),
        ("https://shop.myshopify.com/#top", "fragment"),
        ("https://shop.myshopify.com/a b", "spaces"),
        ("https://shop.myshopify.com:99999", "port"),
    ],
)
def test_other_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        shopify(url)


def test_a_signed_url_may_have_a_query() -> None:
    target = SignedRefundUrl(url="https://oms-client.example/refunds?tenant=7", secret="a-raw-secret-of-16+")
    assert target.url == "https://oms-client.example/refunds?tenant=7"


def test_secrets_are_checked_and_never_shown() -> None:
    api = shopify("https://shop.myshopify.com")
    woo = WooCommerceRefundApi(
        storeUrl="https://store.example", consumerKey="ck_key", consumerSecret="cs_secret"
    )
    signed = SignedRefundUrl(url="https://x.example/r", secret="whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=")

    assert "shpat_secret-token" not in repr(api)
    assert "ck_key" not in repr(woo) and "cs_secret" not in repr(woo)
    assert "whsec_" not in repr(signed)
    assert api.apiVersion == "2026-07"
    with pytest.raises(ValidationError, match="base64"):
        SignedRefundUrl(url="https://x.example/r", secret="whsec_not base64 at all!")
    with pytest.raises(ValidationError):
        shopify("https://shop.myshopify.com", accessToken="")
    with pytest.raises(ValidationError):
        shopify("https://shop.myshopify.com", apiVersion="latest")
    with pytest.raises(ValidationError, match="Extra inputs"):
        shopify("https://shop.myshopify.com", webhookSecret="x")


@pytest.mark.parametrize(("header", "seconds"), [("0", 0.0), ("2.5", 2.5), ("3600", 10.0), ("-4", 0.0)])
def test_retry_after_is_honoured_up_to_ten_seconds(header: str, seconds: float) -> None:
    assert retry_delay(1, header, base=5.0) == seconds


def test_retry_after_may_be_an_http_date() -> None:
    in_three_seconds = email.utils.formatdate(time.time() + 3, usegmt=True)

    assert 1.0 <= retry_delay(1, in_three_seconds, base=0.0) <= 3.0
    assert retry_delay(1, "Wed, 21 Oct 2015 07:28:00 GMT", base=0.0) == 0.0


def test_without_retry_after_the_wait_doubles_with_jitter_up_to_ten_seconds() -> None:
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (8, 10.0)]:
        delays = [retry_delay(attempt, None, base=1.0) for _ in range(200)]
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(set(delays)) > 1  # jittered
    assert retry_delay(1, "soon", base=1.0) <= 1.0  # an unreadable Retry-After is ignored


def test_the_note_names_the_refund_so_its_webhook_can_be_recognised() -> None:
    request = RefundRequest(
        refundId="rf_42",
        orderId="ord_1",
        channelOrderId="1001",
        currency="USD",
        lines=[],
        total="5.00",
        reason="late: very",
    )

    assert oms_refund_note(request) == "OMS refund rf_42: late: very"
    assert oms_refund_id_in(oms_refund_note(request)) == "rf_42"
    assert oms_refund_id_in("wrong size") is None
    assert oms_refund_id_in(None) is None


def test_unavailable_is_transient() -> None:
    assert issubclass(RefundUnavailable, TransientError)
