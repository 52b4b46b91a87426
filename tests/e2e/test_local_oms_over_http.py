"""A client's view of the running local OMS: HTTP only, plus the AWS endpoint for inspection."""

from __future__ import annotations

import json
import re
import time

import boto3
import requests

from tests.e2e.conftest import API_KEY, ROOT, RunningOMS
from tests.support.orders import Client, canonical_order


def test_the_banner_tells_how_to_send_a_first_order(running_oms: RunningOMS) -> None:
    assert running_oms.api_url in running_oms.banner
    assert running_oms.aws_url in running_oms.banner
    assert "python -m local.send_order" in running_oms.banner
    assert "could NOT" not in running_oms.banner


def test_health_is_public_and_the_openapi_document_is_served(running_oms: RunningOMS) -> None:
    assert requests.get(running_oms.api_url + "/health", timeout=10).json() == {"status": "ok"}
    headers = {"x-api-key": API_KEY}
    document = requests.get(running_oms.api_url + "/openapi.json", headers=headers, timeout=10).json()
    assert document["openapi"].startswith("3.")
    assert {"/webhooks/{channelId}", "/orders/{orderId}", "/fulfillments/{fulfillmentId}/events"} <= set(
        document["paths"]
    )


def test_the_swagger_ui_needs_no_cdn_and_no_key_and_loads_the_published_document(
    running_oms: RunningOMS,
) -> None:
    """What a browser opening /swagger does, without an x-api-key: the page, whose scripts and styles
    are in it, then the one document its script fetches."""
    page = requests.get(running_oms.api_url + "/swagger", timeout=30)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text and ".swagger-ui" in page.text  # Swagger UI's script and styles
    assert not re.search(r"<(script|link|img)[^>]*(src|href)=", page.text), "nothing else to fetch"
    [document_path] = re.findall(r'var documentPath = "([^"]+)";', page.text)
    document = requests.get(running_oms.api_url + document_path, timeout=10)
    assert document.status_code == 200
    assert document.json() == json.loads((ROOT / "docs" / "openapi.json").read_text())


def test_everything_else_needs_the_api_key(running_oms: RunningOMS) -> None:
    response = requests.get(running_oms.api_url + "/orders", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    wrong = requests.get(running_oms.api_url + "/orders", headers={"x-api-key": "wrong"}, timeout=10)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "FORBIDDEN")


def test_an_order_travels_from_webhook_to_delivered_over_http(
    running_oms: RunningOMS, client: Client
) -> None:
    order_id = client.place(canonical_order([("MUG-BLUE", 1)]))

    delivered = client.ship_and_deliver(order_id)

    assert [e["status"] for e in delivered["timeline"]] == [
        "RECEIVED",
        "RESERVED",
        "FULFILLING",
        "PICKED",
        "PACKED",
        "SHIPPED",
        "DELIVERED",
    ]
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=running_oms.aws_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    machines = {m["name"]: m for m in sfn.list_state_machines()["stateMachines"]}
    assert sorted(machines) == ["oms-OrderWorkflow", "oms-ReturnWorkflow"]
    machine = machines["oms-OrderWorkflow"]
    execution_arn = machine["stateMachineArn"].replace(":stateMachine:", ":execution:") + f":{order_id}"
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "SUCCEEDED"


def test_cancelling_over_http_gives_the_stock_back(client: Client) -> None:
    before = client.stock("MUG-BLUE")["wh-east"]["available"]
    order_id = client.place(canonical_order([("MUG-BLUE", 2)]))
    client.wait_for_status(order_id, "FULFILLING")

    status, body = client.call("POST", f"/orders/{order_id}/cancel")

    assert (status, body["status"]) == (200, "CANCELLED")
    # The workflow releases the stock right after the cancellation, asynchronously.
    deadline = time.monotonic() + 10
    while client.stock("MUG-BLUE")["wh-east"]["available"] != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.stock("MUG-BLUE")["wh-east"]["available"] == before


def test_client_mistakes_get_json_errors_never_5xx(running_oms: RunningOMS, client: Client) -> None:
    headers = {"x-api-key": API_KEY, "content-type": "application/json"}
    cases = [
        ("PUT", "/warehouses/wh-x", b'{"name": 1}'),
        ("PUT", "/warehouses/wh-x", b"not json"),
        ("GET", "/orders?limit=0", None),
        ("POST", "/fulfillments/nope/events", b'{"type": "SHIPPED"}'),
        ("GET", "/no/such/route", None),
        ("DELETE", "/orders/ord_x", None),
    ]
    for method, path, body in cases:
        response = requests.request(
            method, running_oms.api_url + path, headers=headers, data=body, timeout=10
        )
        assert 400 <= response.status_code < 500, (method, path, response.status_code)
        assert set(response.json()["error"]) == {"code", "message", "details"}, (method, path)


def test_a_json_body_labelled_as_a_form_is_still_read_as_json(
    running_oms: RunningOMS, client: Client
) -> None:
    """`curl -d '{...}'` without a content type sends application/x-www-form-urlencoded."""
    headers = {"x-api-key": API_KEY, "content-type": "application/x-www-form-urlencoded"}
    body = b'{"name": "Form Labelled", "latitude": 1, "longitude": 2, "country": "US"}'

    response = requests.put(
        running_oms.api_url + "/warehouses/wh-form", headers=headers, data=body, timeout=10
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Form Labelled"
