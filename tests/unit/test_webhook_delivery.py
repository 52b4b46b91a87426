"""Outbound webhooks, pure parts: which URLs a subscription may have, the retry schedule, delivery ids,
and the one POST (redirects not followed, timeouts told apart from refusals)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shared.errors import InvalidRequest
from shared.http_client import post
from shared.logic import webhook_delivery
from shared.logic.webhook_delivery import DeliveryMessage
from shared.logic.webhooks import LOCAL_URLS_ENV, check_url, generate_secret
from shared.models.events import EventType, example
from shared.models.subscriptions import (
    Attempt,
    AttemptResult,
    DeliveryStatus,
    SubscriptionIn,
    WebhookDelivery,
)


@pytest.fixture
def in_the_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCAL_URLS_ENV, raising=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/oms",
        "https://8.8.8.8/x",
        "https://[2001:4860:4860::8888]/x",
        "https://a.b:8443/",
    ],
)
def test_https_to_a_public_host_is_accepted_in_the_cloud(in_the_cloud: None, url: str) -> None:
    check_url(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/oms", "must be https"),
        ("http://127.0.0.1:8080/hooks", "must be https"),
        ("https://localhost/hooks", "public host"),
        ("https://shop.localhost/hooks", "public host"),
        ("https://127.0.0.1/hooks", "public host"),
        ("https://[::1]/hooks", "public host"),
        ("https://10.0.0.7/hooks", "public host"),
        ("https://192.168.1.1/hooks", "public host"),
        ("https://169.254.169.254/latest/meta-data", "public host"),
        ("https:///nohost", "absolute https URL"),
        ("hooks.example.com", "absolute https URL"),
        ("https://u:p@hooks.example.com/", "credentials"),
        ("https://hooks.example.com/#x", "fragment"),
        ("https://[::1/hooks", "not a URL"),
    ],
)
def test_other_urls_are_refused_in_the_cloud_naming_the_field(in_the_cloud: None, url: str, why: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_url(url)
    assert why in refused.value.message
    assert refused.value.details == [{"field": "url", "message": refused.value.message}]


def test_locally_plain_http_to_this_machine_is_accepted_but_not_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LOCAL_URLS_ENV, "allowed")
    for url in (
        "http://127.0.0.1:9000/hooks",
        "http://localhost/x",
        "http://[::1]:80/",
        "https://localhost/",
    ):
        check_url(url)
    for url in ("http://hooks.example.com/", "https://10.0.0.7/"):
        with pytest.raises(InvalidRequest):
            check_url(url)


def test_a_generated_secret_is_a_valid_standard_webhooks_secret() -> None:
    secrets = {generate_secret() for _ in range(5)}
    assert len(secrets) == 5
    for secret in secrets:
        assert SubscriptionIn(url="https://x.example", eventTypes=["*"], secret=secret).secret == secret


def test_event_types_are_kept_once_each_in_order() -> None:
    subscription = SubscriptionIn(
        url="https://x.example", eventTypes=["order.created", "return.refunded", "order.created"]
    )
    assert subscription.eventTypes == [EventType.ORDER_CREATED, EventType.RETURN_REFUNDED]


def test_a_delivery_id_sorts_by_the_event_time_and_names_the_event() -> None:
    event = example(EventType.ORDER_CREATED)
    first = webhook_delivery.delivery_id(event.model_copy(update={"time": "2026-12-02T09:00:00.000Z"}))
    later = webhook_delivery.delivery_id(event.model_copy(update={"time": "2026-12-02T10:00:00.000Z"}))
    assert first < later
    assert first == f"20261202090000000-{event.id}"


def _delivery(round_attempts: int = 0, attempts: int = 0) -> WebhookDelivery:
    return WebhookDelivery(
        subscriptionId="erp",
        deliveryId="20261202090000000-abc-0",
        eventId="abc-0",
        eventType="order.created",
        eventTime="2026-12-02T09:00:00.000Z",
        status=DeliveryStatus.PENDING,
        attemptCount=attempts,
        roundAttempts=round_attempts,
        createdAt="2026-12-02T09:00:00.000Z",
        version=3,
        payload="{}",
    )


def _failed_attempt(number: int) -> Attempt:
    return Attempt(
        number=number,
        at="2026-12-02T09:00:01.000Z",
        result=AttemptResult.HTTP_ERROR,
        httpStatus=500,
        durationMs=5,
    )


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[DeliveryMessage], float]]:
    sent: list[tuple[list[DeliveryMessage], float]] = []
    monkeypatch.setattr(
        webhook_delivery, "_enqueue", lambda messages, delay=0: sent.append((messages, delay))
    )
    return sent


def test_the_default_schedule_retries_for_more_than_a_day_in_eight_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("WEBHOOK_RETRY_SCHEDULE", raising=False)
    schedule = webhook_delivery.retry_schedule()
    assert len(schedule) + 1 == 8
    assert sum(schedule) >= 24 * 3600


def test_a_failed_attempt_queues_the_next_for_the_next_version_after_the_scheduled_wait(
    monkeypatch: pytest.MonkeyPatch, queued: list[tuple[list[DeliveryMessage], float]]
) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "5,300")
    after = webhook_delivery._after(_delivery(round_attempts=1, attempts=1), _failed_attempt(2))
    ((messages, delay),) = queued
    assert 299 <= delay <= 300  # the wait after the second attempt
    assert messages[0].version == 4 and messages[0].deliveryId == "20261202090000000-abc-0"
    assert after.status == DeliveryStatus.PENDING and after.attemptCount == 2 and after.roundAttempts == 2
    assert after.nextAttemptAt is not None


def test_the_last_attempt_of_the_schedule_dead_letters_the_delivery(
    monkeypatch: pytest.MonkeyPatch, queued: list[tuple[list[DeliveryMessage], float]]
) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "5,300")
    after = webhook_delivery._after(_delivery(round_attempts=2, attempts=6), _failed_attempt(7))
    assert queued == []
    assert after.status == DeliveryStatus.FAILED and after.failedAt and after.nextAttemptAt is None
    assert after.attemptCount == 7


def test_a_delivery_keeps_its_newest_attempts_only(queued: list[Any]) -> None:
    delivery = _delivery().model_copy(update={"attempts": [_failed_attempt(n) for n in range(1, 21)]})
    after = webhook_delivery._after(delivery, _failed_attempt(21))
    assert [a.number for a in after.attempts] == list(range(2, 22))


class _Answers(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        if self.path == "/slow":
            time.sleep(2)
        status = {"/ok": 204, "/moved": 302, "/down": 503}.get(self.path, 200)
        self.send_response(status)
        if status == 302:
            self.send_header("location", "/ok")
        body = b"down for maintenance" if status == 503 else b""
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_post_tells_success_refusal_redirect_timeout_and_no_listener_apart(server: str) -> None:
    assert post(f"{server}/ok", {}, b"{}", 5).succeeded
    refused = post(f"{server}/down", {}, b"{}", 5)
    assert (refused.status, refused.error, refused.succeeded) == (503, "down for maintenance", False)
    moved = post(f"{server}/moved", {}, b"{}", 5)
    assert moved.status == 302 and not moved.succeeded  # not followed
    slow = post(f"{server}/slow", {}, b"{}", 0.5)
    assert slow.timed_out and slow.status is None
    nobody = post("http://127.0.0.1:9/", {}, b"{}", 2)
    assert nobody.status is None and not nobody.timed_out and "connection failed" in (nobody.error or "")
