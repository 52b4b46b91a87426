"""Carrier tracking on the running local OMS (`python -m local`), over HTTP: the demo tracking providers
`make run` registers, a tracker delivering an order (the workflow moves on), an exception flagging one,
and `python -m local.send_tracking` pasted from the banner into another terminal."""

from __future__ import annotations

import json
import subprocess

from local.demo import DEMO_TRACKING_PROVIDERS
from shared.signatures import base64_hmac_sha256
from tests.e2e.conftest import ROOT, RunningOMS
from tests.e2e.test_returns_over_http import another_terminal
from tests.support.orders import Client
from tests.support.tracking import aftership_event, easypost_event, easypost_headers, shipped_order


def test_the_demo_providers_are_registered_without_showing_their_secrets(client: Client) -> None:
    status, listed = client.call("GET", "/tracking-providers")
    assert status == 200
    assert {p["providerId"]: p["type"] for p in listed["providers"]} == {
        pid: body["type"] for pid, body in DEMO_TRACKING_PROVIDERS.items()
    }
    assert not any(body["webhookSecret"] in json.dumps(listed) for body in DEMO_TRACKING_PROVIDERS.values())


def test_an_easypost_tracker_delivers_an_order_over_http(client: Client) -> None:
    order_id, _ = shipped_order(client, "1ZE2EDELIVER")
    body = json.dumps(easypost_event("1ZE2EDELIVER", "delivered")).encode()
    secret = DEMO_TRACKING_PROVIDERS["demo-easypost"]["webhookSecret"]
    status, receipt = client.send(
        "POST", "/tracking/demo-easypost/webhooks", easypost_headers(body, secret), body
    )
    assert status == 200 and receipt["outcome"] == "DELIVERED", receipt
    order = client.wait_for_status(order_id, "DELIVERED")
    assert order["fulfillments"][0]["tracking"]["status"] == "delivered"


def test_an_aftership_exception_flags_the_order_over_http(client: Client) -> None:
    order_id, _ = shipped_order(client, "1ZE2ERETURN")
    body = json.dumps(aftership_event("1ZE2ERETURN", "Exception", return_to_sender=True)).encode()
    secret = DEMO_TRACKING_PROVIDERS["demo-aftership"]["webhookSecret"]
    headers = {"content-type": "application/json", "aftership-hmac-sha256": base64_hmac_sha256(secret, body)}
    status, receipt = client.send("POST", "/tracking/demo-aftership/webhooks", headers, body)
    assert status == 200 and receipt["outcome"] == "UPDATED", receipt
    assert client.order(order_id)["attention"]["trackingStatus"] == "return_to_sender"
    status, refused = client.send("POST", "/tracking/demo-aftership/webhooks", headers, body + b" ")
    assert status == 401 and refused["error"]["code"] == "UNAUTHORIZED"


def test_the_banner_send_tracking_command_ships_and_delivers_an_order(
    running_oms: RunningOMS, client: Client
) -> None:
    order_id = client.place()
    [printed] = [line.strip() for line in running_oms.banner.splitlines() if "-m local.send_tracking" in line]
    command = printed.replace("<orderId>", order_id)
    ran = subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env=another_terminal(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "out_for_delivery -> UPDATED" in ran.stdout and "delivered -> DELIVERED" in ran.stdout
    assert f"Order {order_id} is DELIVERED." in ran.stdout
    assert client.order(order_id)["status"] == "DELIVERED"
