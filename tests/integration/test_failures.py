"""Failing steps: transient errors are retried, lasting ones compensate and end FAILED with the cause."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from local.runtime import LocalOMS
from shared.errors import TransientError
from tests.support.orders import Client, canonical_order


def test_a_step_failing_for_good_releases_the_stock_and_ends_failed(oms: LocalOMS, client: Client) -> None:
    def warehouse_system_down(event, context):
        raise RuntimeError("warehouse system rejected the release")

    oms.override_handler("AwaitEvent", warehouse_system_down)
    order_id = client.place(canonical_order([("MUG-BLUE", 4)]))

    failed = client.wait_for_status(order_id, "FAILED")

    # The failing step waits on one fulfillment: that fulfillment failed, and with it the order.
    (fulfillment,) = failed["fulfillments"]
    assert fulfillment["status"] == "FAILED"
    assert failed["statusReason"].startswith(
        f"fulfillment {fulfillment['fulfillmentId']} from wh-east failed"
    )
    assert "RuntimeError" in failed["statusReason"]
    assert "warehouse system rejected the release" in failed["statusReason"]
    execution = oms.wait_for_execution(order_id)
    assert (execution["status"], execution.get("error")) == ("FAILED", "FulfillmentFailed")
    level = client.stock("MUG-BLUE")["wh-east"]
    assert (level["onHand"], level["reserved"], level["available"]) == (10, 0, 10)
    assert [e["status"] for e in failed["timeline"]] == ["RECEIVED", "RESERVED", "FAILED"]


def test_a_transient_failure_is_retried_and_the_order_carries_on(oms: LocalOMS, client: Client) -> None:
    from functions.accept_order.handler import lambda_handler as real_accept

    attempts = []

    def flaky_once(event, context):
        attempts.append(event)
        if len(attempts) == 1:
            raise TransientError("throttled")
        return real_accept(event, context)

    oms.override_handler("AcceptOrder", flaky_once)
    order_id = client.place()

    client.wait_for_status(order_id, "FULFILLING")

    assert len(attempts) == 2


def test_a_warehouse_that_never_reports_times_out_and_the_stock_is_released(
    oms: LocalOMS, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FULFILLMENT_TIMEOUT_SECONDS", "1")
    order_id = client.place(canonical_order([("MUG-BLUE", 2)]))

    failed = client.wait_for_status(order_id, "FAILED", timeout=20)

    assert "States.Timeout" in failed["statusReason"]
    assert client.stock("MUG-BLUE")["wh-east"]["available"] == 10
    assert oms.wait_for_execution(order_id)["status"] == "FAILED"


def test_cancel_while_reserving_never_leaves_stock_held(
    oms: LocalOMS, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.logic import outcomes

    real_reserve = outcomes.reserve
    cancelled = threading.Event()

    def reserve_after_cancel(order_id: str) -> Any:
        cancelled.wait(timeout=10)  # validated already: the cancel lands while AcceptOrder reserves
        return real_reserve(order_id)

    monkeypatch.setattr(outcomes, "reserve", reserve_after_cancel)
    order_id = client.place()
    client.wait_for_status(order_id, "RECEIVED")
    assert client.call("POST", f"/orders/{order_id}/cancel")[0] == 200
    cancelled.set()

    assert oms.wait_for_execution(order_id)["status"] == "SUCCEEDED"
    assert oms.last_state(order_id) == "Cancelled"
    assert client.stock("MUG-BLUE")["wh-east"]["reserved"] == 0
    assert client.order(order_id)["status"] == "CANCELLED"


def test_a_failed_fulfillment_never_shows_while_its_stock_is_still_held(
    oms: LocalOMS, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marking the fulfillment FAILED and releasing its stock are one transaction: however slow the
    step's later (idempotent) release is, the order is never FAILED with the stock still reserved."""
    from shared.logic import compensation

    real_release = compensation.release_reservations

    def slow_release(order_id: str, fulfillment_id: str | None = None) -> int:
        time.sleep(2)
        return real_release(order_id, fulfillment_id)

    monkeypatch.setattr(compensation, "release_reservations", slow_release)
    monkeypatch.setenv("FULFILLMENT_TIMEOUT_SECONDS", "1")
    order_id = client.place(canonical_order([("MUG-BLUE", 2)]))

    client.wait_for_status(order_id, "FAILED", timeout=20)

    level = client.stock("MUG-BLUE")["wh-east"]
    assert (level["reserved"], level["available"]) == (0, 10)
