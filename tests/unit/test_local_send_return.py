"""`python -m local.send_return`: its arguments, what it would send for an order, what it prints, and
what it says when the OMS refuses or is not there (against a stand-in; the real one: tests/e2e)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.send_return import (
    describe_authorization,
    describe_refund,
    describe_sighting,
    main,
    parse_arguments,
    receiving_warehouse,
    return_lines,
    to_deliver,
)


def fulfillment(fulfillment_id: str, status: str, warehouse: str, *lines: tuple[str, int]) -> dict[str, Any]:
    return {
        "fulfillmentId": fulfillment_id,
        "warehouseId": warehouse,
        "status": status,
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
    }


def order(*fulfillments: dict[str, Any], status: str = "DELIVERED") -> dict[str, Any]:
    return {"orderId": "ord_1", "status": status, "fulfillments": list(fulfillments)}


REFUND: dict[str, Any] = {
    "refundId": "ord_1-R1-RF",
    "status": "SUCCEEDED",
    "method": "CHANNEL",
    "lines": [
        {
            "lineIndex": 0,
            "sku": "TSHIRT-BLK-M",
            "quantity": 2,
            "resellable": 2,
            "damaged": 0,
            "gross": "27.00",
            "fee": "0.00",
            "amount": "27.00",
            "tax": "2.00",
            "capped": "0.00",
        }
    ],
    "shipping": "0.00",
    "total": "27.00",
    "currency": "USD",
    "channelRefundId": "929361001",
}


# -- arguments -----------------------------------------------------------------------------------------


def test_the_order_id_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        parse_arguments([])

    assert refused.value.code == 2
    assert "orderId" in capsys.readouterr().err


def test_each_run_has_its_own_idempotency_key_unless_one_is_given() -> None:
    first, second = parse_arguments(["ord_1"]), parse_arguments(["ord_1"])

    assert first.key.startswith("ord_1-return-")
    assert first.key != second.key
    assert parse_arguments(["ord_1", "--key", "rma-7"]).key == "rma-7"


def test_the_oms_and_the_refund_sandbox_are_found_where_the_variables_put_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMS_PORT", "18100")
    monkeypatch.setenv("OMS_REFUNDS_PORT", "18103")

    arguments = parse_arguments(["ord_1"])

    assert (arguments.url, arguments.refunds_url) == ("http://127.0.0.1:18100", "http://127.0.0.1:18103")


def test_without_the_variables_it_looks_where_make_run_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMS_PORT", raising=False)
    monkeypatch.delenv("OMS_REFUNDS_PORT", raising=False)

    arguments = parse_arguments(["ord_1"])

    assert (arguments.url, arguments.refunds_url) == ("http://127.0.0.1:8000", "http://127.0.0.1:4568")


# -- what it sends -------------------------------------------------------------------------------------


def test_each_fulfillment_on_its_way_is_shipped_then_delivered_and_the_rest_left_alone() -> None:
    plan = to_deliver(
        order(
            fulfillment("ord_1-F1", "REQUESTED", "wh-east", ("MUG", 1)),
            fulfillment("ord_1-F2", "SHIPPED", "wh-west", ("TEE", 1)),
            fulfillment("ord_1-F3", "DELIVERED", "wh-west", ("CAP", 1)),
            fulfillment("ord_1-F4", "CANCELLED", "wh-west", ("HAT", 1)),
            fulfillment("ord_1-F5", "PACKED", "wh-east", ("SOCK", 1)),
        )
    )

    assert [(f, [event["type"] for event in events]) for f, events in plan] == [
        ("ord_1-F1", ["SHIPPED", "DELIVERED"]),
        ("ord_1-F2", ["DELIVERED"]),
        ("ord_1-F5", ["SHIPPED", "DELIVERED"]),
    ]
    assert plan[0][1][0]["carrier"] and plan[0][1][0]["trackingNumber"]


def test_the_return_names_each_delivered_sku_once_with_all_its_units() -> None:
    delivered = order(
        fulfillment("ord_1-F1", "DELIVERED", "wh-west", ("TSHIRT-BLK-M", 1), ("HOODIE-GRY-L", 1)),
        fulfillment("ord_1-F2", "DELIVERED", "wh-east", ("TSHIRT-BLK-M", 2), ("MUG-WHT-11OZ", 1)),
        fulfillment("ord_1-F3", "FAILED", "wh-east", ("MUG-WHT-11OZ", 4)),
    )

    assert return_lines(delivered) == [("TSHIRT-BLK-M", 3), ("HOODIE-GRY-L", 1), ("MUG-WHT-11OZ", 1)]
    assert receiving_warehouse(delivered) == "wh-west"


def test_nothing_delivered_is_nothing_to_return() -> None:
    assert return_lines(order(fulfillment("ord_1-F1", "CANCELLED", "wh-east", ("MUG", 1)))) == []


# -- what it prints ------------------------------------------------------------------------------------


def test_the_authorization_says_what_may_come_back_what_it_is_worth_and_until_when() -> None:
    printed = describe_authorization(
        {
            "returnId": "ord_1-R1",
            "status": "AUTHORIZED",
            "deadline": "2027-01-01T06:00:00.000Z",
            "expectedRefund": "27.00",
            "currency": "USD",
            "lines": [{"sku": "TSHIRT-BLK-M", "quantity": 2, "reason": "does not fit", "delivered": []}],
        }
    )

    assert printed == (
        "return ord_1-R1 AUTHORIZED: 2 x TSHIRT-BLK-M; expected refund 27.00 USD; "
        "to be received by 2027-01-01T06:00:00.000Z"
    )


def test_a_channel_refund_is_printed_with_its_method_total_lines_and_the_channels_id() -> None:
    assert describe_refund(REFUND) == [
        "Refund ord_1-R1-RF: 27.00 USD through the channel's refund API",
        "  (method CHANNEL, status SUCCEEDED)",
        "  2 x TSHIRT-BLK-M: 27.00 (tax 2.00)",
        "  the channel's refund id: 929361001",
    ]


def test_a_fee_an_earlier_refund_and_shipping_are_shown_only_when_there_are_some() -> None:
    line = {**REFUND["lines"][0], "fee": "1.25", "capped": "13.50", "amount": "12.25"}
    refund = {**REFUND, "method": "MANUAL", "status": "MANUAL", "lines": [line], "shipping": "5.00"}
    del refund["channelRefundId"]

    assert describe_refund(refund) == [
        "Refund ord_1-R1-RF: 27.00 USD left to a person, to refund by hand in the channel "
        "(it has no refund port)",
        "  (method MANUAL, status MANUAL)",
        "  2 x TSHIRT-BLK-M: 12.25 (tax 2.00, restocking fee 1.25 kept, 13.50 refunded before)",
        "  shipping: 5.00",
    ]


def test_where_the_sandbox_saw_the_refund_and_how_to_list_them_all() -> None:
    entry = {
        "channel": "shopify",
        "path": "/admin/api/2026-07/orders/7001/refunds.json",
        "idempotencyKey": "ord_1-R1-RF",
        "channelRefundId": "929361001",
        "amount": "27.00",
    }

    printed = describe_sighting("http://127.0.0.1:4568", "ord_1-R1-RF", entry)

    assert printed == [
        "The refund sandbox saw it: shopify refund 929361001 of 27.00, asked for at POST "
        "http://127.0.0.1:4568/admin/api/2026-07/orders/7001/refunds.json",
        "  (Idempotency-Key ord_1-R1-RF, the OMS's refund id)",
        "  curl -s http://127.0.0.1:4568/sandbox/refunds | python3 -m json.tool   (every refund it made)",
    ]
    [missing] = describe_sighting("http://127.0.0.1:4568", "ord_1-R1-RF", None)
    assert "no refund sent with Idempotency-Key ord_1-R1-RF" in missing


# -- against a stand-in OMS ----------------------------------------------------------------------------


class FakeOms(ThreadingHTTPServer):
    """Answers by (method, path) with the (status, JSON body) set; records what it was sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[tuple[str, str], tuple[int, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOms

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.requests.append((self.command, self.path, dict(self.headers), body))
        status, answer = self.server.answers.get((self.command, self.path), (404, {"error": {}}))
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def oms() -> Iterator[FakeOms]:
    server = FakeOms()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def error(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def test_a_403_says_the_api_key_is_wrong_and_nothing_is_sent(
    oms: FakeOms, capsys: pytest.CaptureFixture[str]
) -> None:
    oms.answers[("GET", "/orders/ord_1")] = (403, error("FORBIDDEN", "Forbidden"))

    assert main(["ord_1", "--url", oms.url]) == 1

    assert "OMS_API_KEY" in capsys.readouterr().err
    assert [method for method, *_ in oms.requests] == ["GET"]


def test_a_policy_refusal_names_each_reason(oms: FakeOms, capsys: pytest.CaptureFixture[str]) -> None:
    delivered = order(fulfillment("ord_1-F1", "DELIVERED", "wh-east", ("TSHIRT-BLK-M", 1)))
    oms.answers[("GET", "/orders/ord_1")] = (200, delivered)
    reasons = [{"code": "OUTSIDE_WINDOW", "sku": "TSHIRT-BLK-M", "message": "the return window closed"}]
    refusal = error("NOT_ALLOWED", "the return is outside the channel's return policy", {"reasons": reasons})
    oms.answers[("POST", "/orders/ord_1/returns")] = (422, refusal)

    returned = main(["ord_1", "--url", oms.url, "--key", "rma-1"])

    printed = capsys.readouterr()
    assert returned == 1
    assert "refused the request: 422 the return is outside the channel's return policy" in printed.err
    assert "  OUTSIDE_WINDOW: the return window closed" in printed.err
    [(_, _, headers, body)] = [r for r in oms.requests if r[0] == "POST"]
    assert headers["Idempotency-Key"] == "rma-1"
    assert body == {
        "lines": [{"sku": "TSHIRT-BLK-M", "quantity": 1, "reason": "does not fit"}],
        "resolution": "REFUND",
    }


def test_an_order_with_nothing_delivered_is_not_returned(
    oms: FakeOms, capsys: pytest.CaptureFixture[str]
) -> None:
    cancelled = order(fulfillment("ord_1-F1", "CANCELLED", "wh-east", ("MUG", 1)), status="CANCELLED")
    oms.answers[("GET", "/orders/ord_1")] = (200, cancelled)

    assert main(["ord_1", "--url", oms.url]) == 1

    assert "order ord_1 is CANCELLED: nothing was delivered" in capsys.readouterr().err
    assert [method for method, *_ in oms.requests] == ["GET"]


def test_nothing_listening_is_cannot_reach(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening

        assert main(["ord_1", "--url", closed]) == 2

    assert f"cannot reach {closed}" in capsys.readouterr().err
