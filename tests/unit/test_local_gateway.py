"""The local API Gateway: routing, API key, limits, the proxy event and the proxy response."""

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from blueprint import FUNCTIONS, ROUTES, TRACKING_LOOKUP_THROTTLE, Route, Throttle
from local import gateway
from local.gateway import ClientThrottle, GatewayServer, handle, served_routes
from local.invoker import REGISTRY, RegisteredFunction
from shared.logic import staff_auth

KEY = "test-key"


class Recorder:
    """A fake handler: records events, answers with whatever the test sets."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.response: Any = {"statusCode": 200, "body": json.dumps({"ok": True})}

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if isinstance(self.response, Exception):
            raise self.response
        return self.response


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Recorder]]:
    monkeypatch.setenv(gateway.API_KEY_ENV, KEY)
    recorders = {name: Recorder() for name in FUNCTIONS}
    for name, recorder in recorders.items():
        arn = f"arn:aws:lambda:us-east-1:123456789012:function:oms-{name}"
        REGISTRY.register(RegisteredFunction(name=f"oms-{name}", arn=arn, handler=recorder, aliases=(name,)))
    yield recorders
    REGISTRY.clear()


def test_serves_exactly_the_blueprint_routes() -> None:
    assert served_routes() == {(r.method, r.path, r.function, r.api_key_required) for r in ROUTES}


def test_routes_to_the_function_with_decoded_path_parameters(fakes: dict[str, Recorder]) -> None:
    response = handle(
        "PUT", "/inventory/TEE%2FBLK%20M/locations/wh-east", {"x-api-key": KEY}, b'{"onHand": 3}'
    )

    assert response.status == 200
    event = fakes["InventoryApi"].events[-1]
    assert event["resource"] == "/inventory/{sku}/locations/{warehouseId}"
    assert event["pathParameters"] == {"sku": "TEE/BLK M", "warehouseId": "wh-east"}
    assert event["path"] == "/inventory/TEE%2FBLK%20M/locations/wh-east"


def test_a_trailing_slash_matches_the_route(fakes: dict[str, Recorder]) -> None:
    assert handle("GET", "/orders/", {"x-api-key": KEY}, b"").status == 200


def test_a_wrong_api_key_is_forbidden(fakes: dict[str, Recorder]) -> None:
    response = handle("GET", "/orders", {"x-api-key": "wrong"}, b"")

    assert response.status == 403
    assert response.json() == {
        "error": {"code": "FORBIDDEN", "message": "invalid x-api-key header", "details": None}
    }
    assert fakes["OrdersApi"].events == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Api-Key": ""},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Bearer x", "x-api-key": KEY},
    ],
)
def test_no_credential_or_a_token_is_unauthorized_locally(
    fakes: dict[str, Recorder], headers: dict[str, str]
) -> None:
    """As the stack's authorizer answers (401); with no staff pool given to the gateway no token is valid."""
    response = handle("GET", "/orders", headers, b"")

    assert response.status == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert fakes["OrdersApi"].events == []


def test_the_api_key_header_name_is_case_insensitive(fakes: dict[str, Recorder]) -> None:
    assert handle("GET", "/orders", {"X-API-Key": KEY}, b"").status == 200


def test_routes_without_a_key_requirement_need_no_key(fakes: dict[str, Recorder]) -> None:
    assert handle("GET", "/health", {}, b"").status == 200
    assert handle("POST", "/webhooks/demo-store", {}, b"{}").status == 200


def test_the_documented_dev_key_is_the_default(
    fakes: dict[str, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(gateway.API_KEY_ENV)

    assert handle("GET", "/orders", {"x-api-key": "oms-dev-key"}, b"").status == 200


def test_an_unknown_path_is_404(fakes: dict[str, Recorder]) -> None:
    response = handle("GET", "/nope", {"x-api-key": KEY}, b"")

    assert response.status == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_known_path_with_another_method_is_405_with_allow(fakes: dict[str, Recorder]) -> None:
    response = handle("DELETE", "/channels/c-1", {"x-api-key": KEY}, b"")

    assert response.status == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert response.header("Allow") == "GET, PUT"


def test_a_body_over_10_mib_is_413(fakes: dict[str, Recorder]) -> None:
    response = handle("POST", "/webhooks/demo-store", {}, b"x" * (10 * 1024 * 1024 + 1))

    assert response.status == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert fakes["Intake"].events == []


def test_builds_the_rest_api_proxy_event(fakes: dict[str, Recorder]) -> None:
    headers = [("x-api-key", KEY), ("Accept", "a/b"), ("Accept", "c/d"), ("User-Agent", "pytest")]

    handle(
        "GET", "/orders?status=RECEIVED&status=VALIDATED&limit=10&empty=", headers, b"", source_ip="10.1.2.3"
    )

    event = fakes["OrdersApi"].events[-1]
    assert event["resource"] == "/orders"
    assert event["path"] == "/orders"
    assert event["httpMethod"] == "GET"
    assert event["headers"] == {"x-api-key": KEY, "Accept": "c/d", "User-Agent": "pytest"}
    assert event["multiValueHeaders"]["Accept"] == ["a/b", "c/d"]
    assert event["queryStringParameters"] == {"status": "VALIDATED", "limit": "10", "empty": ""}
    assert event["multiValueQueryStringParameters"]["status"] == ["RECEIVED", "VALIDATED"]
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["resourcePath"] == "/orders"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/orders"  # as requested: this gateway serves the API at the root
    assert context["stage"] == "local"
    assert context["requestId"]
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["identity"] == {"sourceIp": "10.1.2.3", "userAgent": "pytest", "apiKey": KEY}
    assert context["authorizer"] == {"principalId": "api-key", "authMethod": "apiKey"}


def test_a_staff_token_of_the_gateways_pool_counts_as_the_api_key(fakes: dict[str, Recorder]) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.public_key().public_numbers()
    pool = staff_auth.UserPool(issuer="https://cognito-idp.local/pool", client_id="console")
    keys = {"k": staff_auth.RsaKey(kid="k", n=numbers.n, e=numbers.e)}
    now = int(time.time())
    claims = {"sub": "s-1", "username": "alice", "iss": pool.issuer, "client_id": "console"}
    claims |= {"token_use": "access", "iat": now, "exp": now + 600}

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signed = f"{b64(json.dumps({'alg': 'RS256', 'kid': 'k'}).encode())}.{b64(json.dumps(claims).encode())}"
    token = f"{signed}.{b64(private.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256()))}"
    gateway.use_staff_pool((pool, keys.get))
    try:
        assert handle("GET", "/orders", {"Authorization": f"Bearer {token}"}, b"").status == 200
    finally:
        gateway.use_staff_pool(None)
    context = fakes["OrdersApi"].events[-1]["requestContext"]
    assert context["identity"]["apiKey"] == KEY
    assert context["authorizer"] == {
        "principalId": "cognito:s-1",
        "authMethod": "cognito",
        "username": "alice",
    }
    # Without the pool the same token is refused.
    assert handle("GET", "/orders", {"Authorization": f"Bearer {token}"}, b"").status == 401


def test_a_request_without_headers_or_query_has_null_maps(fakes: dict[str, Recorder]) -> None:
    handle("GET", "/health", {}, b"")

    event = fakes["ApiInfo"].events[-1]
    assert "authorizer" not in event["requestContext"]  # a public route: no authorizer ran
    assert event["headers"] is None
    assert event["multiValueHeaders"] is None
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["requestContext"]["identity"]["apiKey"] is None


def test_a_text_body_is_passed_as_is_and_a_binary_one_base64(fakes: dict[str, Recorder]) -> None:
    handle("POST", "/webhooks/c", {}, '{"name": "café"}'.encode())
    handle("POST", "/webhooks/c", {}, b"\xff\xfe\x00")

    text_event, binary_event = fakes["Intake"].events
    assert (text_event["body"], text_event["isBase64Encoded"]) == ('{"name": "café"}', False)
    assert (binary_event["body"], binary_event["isBase64Encoded"]) == ("//4A", True)


def test_turns_the_proxy_response_into_the_http_response(fakes: dict[str, Recorder]) -> None:
    fakes["OrdersApi"].response = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "Location": "/orders/o-1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": '{"orderId": "o-1"}',
        "isBase64Encoded": False,
    }

    response = handle("POST", "/orders/o-1/cancel", {"x-api-key": KEY}, b"")

    assert response.status == 201
    assert response.json() == {"orderId": "o-1"}
    assert response.header("location") == "/orders/o-1"
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]


def test_decodes_a_base64_proxy_body_and_defaults_the_content_type(fakes: dict[str, Recorder]) -> None:
    fakes["ApiInfo"].response = {
        "statusCode": 200,
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }

    response = handle("GET", "/health", {}, b"")

    assert response.body == b"\x00\x01"
    assert response.header("Content-Type") == "application/json"


@pytest.mark.parametrize(
    "failure", [RuntimeError("boom"), {"body": "no status"}, {"statusCode": 200, "body": 42}]
)
def test_a_failing_or_malformed_integration_is_502(fakes: dict[str, Recorder], failure: Any) -> None:
    fakes["ApiInfo"].response = failure

    response = handle("GET", "/health", {}, b"")

    assert response.status == 502
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"


def test_the_http_server_serves_the_gateway(fakes: dict[str, Recorder]) -> None:
    fakes["ApiInfo"].response = {"statusCode": 200, "body": '{"status": "ok"}'}
    server = GatewayServer("127.0.0.1", 0).start()
    try:
        with urllib.request.urlopen(f"{server.url}/health", timeout=5) as response:
            assert (response.status, json.loads(response.read())) == (200, {"status": "ok"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/orders", timeout=5)
        assert refused.value.code == 401
        request = urllib.request.Request(f"{server.url}/webhooks/c", data=b'{"a": 1}', method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert fakes["Intake"].events[-1]["body"] == '{"a": 1}'
    finally:
        server.stop()


def test_a_request_line_http_server_refuses_still_gets_the_json_error() -> None:
    server = GatewayServer("127.0.0.1", 0).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/inventory?skus={'A' * 70_000}", timeout=5)
        assert refused.value.code == 414
        assert refused.value.headers["Content-Type"] == "application/json"
        error = json.loads(refused.value.read())["error"]
        assert (error["code"], error["details"]) == ("URI_TOO_LONG", None)
    finally:
        server.stop()


def test_a_throttled_route_admits_a_burst_per_client_then_its_rate() -> None:
    route = Route("POST", "/track/lookup", "TrackingPage", api_key_required=False, throttle=Throttle(5, 10))
    throttle = ClientThrottle()
    assert [throttle.admit(route, Throttle(5, 10), "a", now=100.0) for _ in range(10)] == [0.0] * 10
    assert throttle.admit(route, Throttle(5, 10), "a", now=100.0) == pytest.approx(0.2)
    assert throttle.admit(route, Throttle(5, 10), "b", now=100.0) == 0.0  # each client has its bucket
    assert throttle.admit(route, Throttle(5, 10), "a", now=100.2) == 0.0  # one token back after 1/5 s
    assert throttle.admit(route, Throttle(5, 10), "a", now=100.2) > 0
    assert [throttle.admit(route, Throttle(5, 10), "a", now=200.0) for _ in range(11)].count(0.0) == 10
    throttle.reset()
    assert throttle.admit(route, Throttle(5, 10), "a", now=200.0) == 0.0


def test_the_stack_and_this_gateway_read_one_throttle_from_the_blueprint() -> None:
    throttled = [route for route in ROUTES if route.throttle is not None]
    assert [(r.method, r.path) for r in throttled] == [("POST", "/track/lookup")]
    assert throttled[0].throttle == TRACKING_LOOKUP_THROTTLE
