"""`python -m local.send_order` against stand-ins: what it says and returns when the OMS refuses, and
the Amazon order it places at the SP-API sandbox."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from local.send_order import main, place_at_amazon
from local.spapi_sandbox import SANDBOX_ORDERS_PREFIX, FakeSpApi
from shared.channels.amazon import to_canonical
from shared.channels.spapi import SpApiClient

CREATED = (202, {"outcome": "CREATED", "orderId": "ord_1"})


class FakeOms(ThreadingHTTPServer):
    """Answers GETs and POSTs with the (status, JSON body) set for the method; records the paths."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answers: dict[str, tuple[int, Any]] = {"GET": (200, {"orders": []}), "POST": CREATED}
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOms

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer()

    def _answer(self) -> None:
        self.server.requests.append((self.command, self.path))
        status, body = self.server.answers[self.command]
        data = json.dumps(body).encode()
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


def test_a_403_says_the_api_key_is_wrong_and_which_variable_sets_it_before_sending(
    oms: FakeOms, capsys: pytest.CaptureFixture[str]
) -> None:
    oms.answers["GET"] = (403, {"error": {"code": "FORBIDDEN", "message": "Forbidden", "details": None}})

    returned = main(["--url", oms.url])

    printed = capsys.readouterr()
    assert returned != 0
    assert "API key is wrong" in printed.err
    assert "OMS_API_KEY" in printed.err
    assert "cannot reach" not in printed.err
    assert "Follow the order" not in printed.out
    assert [method for method, _ in oms.requests] == ["GET"]  # nothing was sent


@pytest.mark.parametrize("status", [400, 401, 404, 500, 503])
def test_a_refused_delivery_leaves_nothing_to_follow_and_fails(
    oms: FakeOms, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    oms.answers["POST"] = (status, {"error": {"code": "X", "message": "refused here", "details": None}})

    returned = main(["--url", oms.url, "--channel", "demo-shopify"])

    printed = capsys.readouterr()
    assert returned != 0
    assert f"refused the request: {status}" in printed.err
    assert "refused here" in printed.err
    assert "Follow the order" not in printed.out


def test_an_accepted_order_is_followed_with_the_key_in_use(
    oms: FakeOms, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMS_API_KEY", "k-1")

    returned = main(["--url", oms.url, "--channel", "demo-woo"])

    printed = capsys.readouterr().out
    assert returned == 0
    assert "Follow the order" in printed
    assert f"curl -H 'x-api-key: k-1' {oms.url}/orders/ord_1\n" in printed


def test_nothing_listening_is_cannot_reach(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"  # bound, never listening

        assert main(["--url", closed]) == 2

    assert f"cannot reach {closed}" in capsys.readouterr().err


@pytest.mark.parametrize("channel", ["demo-shopify", "demo-woo", "demo-amazon"])
def test_a_channel_order_id_is_refused_where_the_channel_makes_its_own(
    channel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--channel", channel, "--channel-order-id", "c-1"])

    assert refused.value.code == 2
    assert "--channel-order-id is for api channels" in capsys.readouterr().err


def test_the_amazon_order_placed_at_the_sandbox_is_the_sku_and_quantity_asked_for() -> None:
    with FakeSpApi() as spapi:
        place_at_amazon(spapi.endpoint, "111-0000001-0000002", [("MUG-WHT-11OZ", 3)])
        client = SpApiClient(spapi.credentials(), timeout=2.0)
        order = client.get_order("111-0000001-0000002")
        items = client.get_order_items("111-0000001-0000002")

    [line] = to_canonical(order, items).lines
    assert (line.sku, line.quantity) == ("MUG-WHT-11OZ", 3)


def test_the_sandbox_refuses_an_order_it_cannot_serve() -> None:
    with FakeSpApi() as spapi:
        answer = requests.put(f"{spapi.endpoint}{SANDBOX_ORDERS_PREFIX}111-1", json={"order": []}, timeout=5)

    assert answer.status_code == 400
    assert "orderItems" in answer.json()["errors"][0]["message"]


def test_repeating_sku_gives_an_order_of_several_lines() -> None:
    from local.demo import sample_order
    from local.send_order import parse_arguments

    arguments = parse_arguments(["--sku", "MUG-WHT-11OZ", "--sku", "HOODIE-GRY-L", "--quantity", "2"])
    order = sample_order(lines=[(sku, arguments.quantity) for sku in arguments.skus])

    assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [
        ("MUG-WHT-11OZ", 2),
        ("HOODIE-GRY-L", 2),
    ]
    assert parse_arguments([]).skus == ["TSHIRT-BLK-M"]
