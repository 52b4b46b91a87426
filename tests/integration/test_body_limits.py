"""Bodies the OMS cannot parse within sane limits are the client's mistake: 400, on every route."""

from __future__ import annotations

import pytest

from shared.api import MAX_BODY_BYTES, MAX_JSON_DEPTH
from tests.support.orders import CHANNEL_ID, Client, signed_headers


def nested(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/webhooks/{CHANNEL_ID}"),
        ("PUT", "/channels/deep"),
        ("POST", "/fulfillments/ord_x-F1/events"),
        ("POST", f"/channels/{CHANNEL_ID}/replay"),
        ("PUT", "/inventory/MUG-BLUE/locations/wh-east"),
    ],
)
def test_a_body_nested_thousands_deep_is_400_naming_the_body(client: Client, method: str, path: str) -> None:
    body = nested(5000)
    status, error = client.send(
        method, path, {"content-type": "application/json", **signed_headers(body)}, body
    )

    assert status == 400
    assert error["error"]["details"] == [
        {"field": "body", "message": f"the body nests deeper than {MAX_JSON_DEPTH} levels"}
    ]


def test_a_signed_order_nested_deeply_is_refused_before_it_is_archived(client: Client) -> None:
    body = nested(MAX_JSON_DEPTH + 1)
    status, _ = client.send("POST", f"/webhooks/{CHANNEL_ID}", signed_headers(body), body)

    assert status == 400
    assert client.call("GET", f"/channels/{CHANNEL_ID}/deliveries")[1]["deliveries"] == []


def test_brackets_inside_strings_do_not_count_as_depth(client: Client) -> None:
    status, body = client.call(
        "PUT",
        "/warehouses/wh-deep",
        {"name": "[" * 100 + '{"' * 50, "latitude": 1, "longitude": 2, "country": "US"},
    )

    assert status == 201, body


@pytest.mark.parametrize(("method", "path"), [("PUT", "/channels/big"), ("POST", "/orders/ord_x/cancel")])
def test_a_body_over_the_limit_is_413_on_any_route(client: Client, method: str, path: str) -> None:
    body = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    status, error = client.send(method, path, {"content-type": "application/json"}, body)

    assert status == 413
    assert error["error"] == {
        "code": "PAYLOAD_TOO_LARGE",
        "message": f"the body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}",
        "details": {"limitBytes": MAX_BODY_BYTES},
    }
