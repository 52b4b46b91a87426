"""What the local OMS prints: each handler log line once, as the JSON a Lambda would write."""

from __future__ import annotations

import json

import requests

from tests.e2e.conftest import RunningOMS
from tests.support.orders import CHANNEL_ID, Client, canonical_order, signed_headers


def test_a_handler_log_line_is_printed_once_as_json_naming_the_service(
    running_oms: RunningOMS, client: Client
) -> None:
    mark = running_oms.output.mark()
    body = json.dumps(canonical_order()).encode()
    forged = signed_headers(body, secret="not-the-channel-secret")
    response = requests.post(
        f"{running_oms.api_url}/webhooks/{CHANNEL_ID}", data=body, headers=forged, timeout=30
    )

    assert response.status_code == 401
    printed = running_oms.output.wait_for('"webhook signature refused"', mark)
    mentions = [line for line in printed.splitlines() if "webhook signature refused" in line]
    assert len(mentions) == 1, printed
    line = json.loads(mentions[0])
    assert line["service"] == "oms"
    assert line["function_name"] == "oms-Intake"
