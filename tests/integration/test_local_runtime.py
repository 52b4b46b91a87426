"""LocalOMS wiring: environment, handlers reaching moto, the gateway, isolation, server mode."""

import json
import os
import urllib.request
from typing import Any

import boto3
import pytest
from moto.core.config import default_user_config

from blueprint import FUNCTIONS
from local.demo import DEMO_CHANNEL_ID, DEMO_WEBHOOK_SECRET, sample_order, seed
from local.invoker import REGISTRY
from local.runtime import LocalOMS
from local.send_order import order_id_of, signed_delivery
from shared.errors import OrderRejected


def ok(body: Any, status: int = 200) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def register_channel(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A fake ChannelsApi that writes where its environment says, with its own boto3 client."""
    table = boto3.resource("dynamodb").Table(os.environ["CHANNELS_TABLE"])
    channel_id = event["pathParameters"]["channelId"]
    table.put_item(Item={"channelId": channel_id, **json.loads(event["body"])})
    return ok({"channelId": channel_id, "function": context.function_name}, status=201)


def test_a_handler_gets_its_environment_and_its_boto3_calls_reach_moto() -> None:
    with LocalOMS(handlers={"ChannelsApi": register_channel}) as oms:
        response = oms.request("PUT", "/channels/shop-1", json={"type": "api"})

        assert response.status == 201
        assert response.json() == {"channelId": "shop-1", "function": "oms-ChannelsApi"}
        item = oms.client("dynamodb").get_item(TableName="oms-Channels", Key={"channelId": {"S": "shop-1"}})
        assert item["Item"]["type"] == {"S": "api"}
        assert os.environ["ORDER_WORKFLOW_ARN"] == oms.deployment.order_workflow_arn
        assert os.environ["POWERTOOLS_SERVICE_NAME"] == "oms"
        assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "true"
        assert os.environ["AWS_DEFAULT_REGION"]


def test_requests_carry_the_api_key_unless_told_otherwise() -> None:
    with LocalOMS(handlers={"OrdersApi": lambda event, context: ok({"orders": []})}) as oms:
        assert oms.request("GET", "/orders").status == 200
        assert oms.request("GET", "/orders", authenticated=False).status == 401
        assert oms.request("GET", "/orders", headers={"x-api-key": "wrong"}).status == 403


def test_closing_forgets_all_state_and_restores_the_environment() -> None:
    before = dict(os.environ)
    with LocalOMS(handlers={"ChannelsApi": register_channel}) as oms:
        oms.request("PUT", "/channels/shop-1", json={"type": "api"})

    assert dict(os.environ) == before
    assert not REGISTRY.is_registered("ChannelsApi")
    with LocalOMS() as fresh:
        assert "Item" not in fresh.client("dynamodb").get_item(
            TableName="oms-Channels", Key={"channelId": {"S": "shop-1"}}
        )


def test_handlers_not_overridden_are_the_blueprint_ones() -> None:
    with LocalOMS() as oms:
        for function in FUNCTIONS.values():
            assert REGISTRY.resolve(function.name).handler_path == function.handler
            assert (
                REGISTRY.resolve(oms.deployment.function_arns[function.name]).name == f"oms-{function.name}"
            )


def test_only_one_local_oms_runs_at_a_time() -> None:
    with LocalOMS(), pytest.raises(RuntimeError, match="another LocalOMS"):
        LocalOMS().start()


def reject(event: dict[str, Any], context: Any) -> None:
    raise OrderRejected("demo")


@pytest.mark.slow
def test_server_mode_serves_the_api_and_the_aws_endpoint_on_real_sockets() -> None:
    config_before = json.dumps(default_user_config, sort_keys=True)
    handlers = {
        "ApiInfo": lambda event, context: ok({"status": "ok"}),
        "ChannelsApi": register_channel,
        "AcceptOrder": reject,
    }
    with LocalOMS("server", aws_port=0, gateway_port=0, handlers=handlers) as oms:
        assert oms.api_url and oms.aws_endpoint_url
        with urllib.request.urlopen(f"{oms.api_url}/health", timeout=5) as response:
            assert (response.status, json.loads(response.read())) == (200, {"status": "ok"})
        # Handlers' own boto3 clients reach the server through AWS_ENDPOINT_URL.
        assert oms.request("PUT", "/channels/shop-1", json={"type": "api"}).status == 201
        dynamodb = boto3.client("dynamodb", endpoint_url=oms.aws_endpoint_url)
        assert dynamodb.get_item(TableName="oms-Channels", Key={"channelId": {"S": "shop-1"}})["Item"]
        # The interpreter reaches the in-process handlers through the server (MOTO_PORT).
        oms.client("stepfunctions").start_execution(
            stateMachineArn=oms.deployment.order_workflow_arn,
            name="o-1",
            input=json.dumps({"orderId": "o-1"}),
        )
        assert oms.wait_for_execution("o-1")["status"] == "SUCCEEDED"
        assert oms.last_state("o-1") == "Rejected"

    assert "AWS_ENDPOINT_URL" not in os.environ
    assert json.dumps(default_user_config, sort_keys=True) == config_before


def test_the_demo_data_and_the_demo_order_pass_the_real_api() -> None:
    """What `make run` seeds and `python -m local.send_order` sends, through the real handlers."""
    with LocalOMS() as oms:
        assert seed(oms.request) == []
        body, headers = signed_delivery(sample_order(), DEMO_WEBHOOK_SECRET)

        response = oms.request("POST", f"/webhooks/{DEMO_CHANNEL_ID}", headers=headers, body=body)

        assert response.status == 202, response.body
        assert oms.request("GET", f"/orders/{order_id_of(response.body)}").status == 200
