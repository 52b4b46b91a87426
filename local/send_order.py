"""Send one demo order to the local OMS (while `make run` runs), as a channel sends it:

python -m local.send_order                          # demo-store: the canonical format, Standard Webhooks
python -m local.send_order --channel demo-shopify   # a signed Shopify orders/create webhook
python -m local.send_order --channel demo-woo       # a signed WooCommerce order.created webhook
python -m local.send_order --channel demo-amazon    # the order placed at the local SP-API sandbox,
                                                    # then an ORDER_CHANGE notification on the SQS queue

--sku and --quantity choose the order's line, on every channel. The OMS is found with the variables
`python -m local` reads, with the same defaults: OMS_PORT (8000), OMS_AWS_PORT (4566), OMS_SPAPI_PORT
(4567) and OMS_API_KEY (oms-dev-key).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3
from botocore.exceptions import EndpointConnectionError

from blueprint import AMAZON_NOTIFICATIONS
from local.demo import DEMO_CHANNEL_ID, DEMO_SKU, DEMO_WEBHOOK_SECRET, sample_order
from local.provision import DEFAULT_NAMING
from local.samples import (
    AMAZON_CHANNEL,
    SHOPIFY_CHANNEL,
    WOO_CHANNEL,
    amazon_notification,
    amazon_order,
    new_amazon_order_id,
    shopify_delivery,
    shopify_order,
    woo_delivery,
    woo_order,
)
from local.settings import API_KEY, API_PORT, AWS_PORT, PORTS, SPAPI_PORT, Setting, local_url
from local.spapi_sandbox import SANDBOX_ORDERS_PREFIX
from shared.signatures import standard_webhook_signature

AMAZON_WAIT_SECONDS = 15
Lines = list[tuple[str, int]]


class Unreachable(Exception):
    """Nothing answers at a URL."""

    def __init__(self, url: str, reason: object) -> None:
        super().__init__(f"cannot reach {url} ({reason})")


class Refused(Exception):
    """An error status (4xx or 5xx) from the OMS or its SP-API sandbox."""

    def __init__(self, url: str, status: int, body: bytes) -> None:
        super().__init__(f"{url} answered {status}")
        self.url = url
        self.status = status
        self.body = body.decode(errors="replace")

    def explanation(self) -> str:
        if self.status == 403:
            return (
                f"the API key is wrong: {self.url} answered 403. Set {API_KEY.variable} to the key the OMS"
                f" was started with (its banner shows it; the default is {API_KEY.default})."
            )
        return f"{self.url} refused the request: {self.status} {self.body}"


def signed_delivery(
    order: dict[str, Any], secret: str, now: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The webhook body and its Standard Webhooks headers (webhook-id, -timestamp, -signature)."""
    body = json.dumps(order).encode()
    message_id = f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if now is None else now
    headers = {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhook_signature(secret, message_id, timestamp, body),
    }
    return body, headers


def call(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """The status and body of a 2xx answer. Raises Refused for an error status, Unreachable if none."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        raise Refused(url, error.code, error.read()) from error
    except urllib.error.URLError as error:
        raise Unreachable(url, error.reason) from error


def get_json(url: str) -> Any:
    return json.loads(call("GET", url, headers={"x-api-key": API_KEY.value()})[1])


def order_id_of(response_body: bytes) -> str | None:
    try:
        document = json.loads(response_body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    nested = document.get("order")
    found = document.get("orderId") or (nested.get("orderId") if isinstance(nested, dict) else None)
    return str(found) if found else None


def positive_integer(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def add_url_option(parser: argparse.ArgumentParser, option: str, port: Setting, what: str) -> None:
    default = local_url(port)
    parser.add_argument(option, default=default, help=f"the local {what} ({port.variable}; {default})")


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_url_option(parser, "--url", API_PORT, "API")
    add_url_option(parser, "--aws-url", AWS_PORT, "AWS endpoint")
    add_url_option(parser, "--spapi-url", SPAPI_PORT, "SP-API sandbox")
    parser.add_argument(
        "--channel",
        default=DEMO_CHANNEL_ID,
        help=f"{DEMO_CHANNEL_ID} (or any api channel), {SHOPIFY_CHANNEL}, {WOO_CHANNEL}, {AMAZON_CHANNEL}",
    )
    parser.add_argument("--secret", default=DEMO_WEBHOOK_SECRET, help="an api channel's webhook secret")
    parser.add_argument(
        "--sku",
        dest="skus",
        action="append",
        help=f"a line's SKU; repeat it for more lines (default: {DEMO_SKU}; "
        "MUG-WHT-11OZ and HOODIE-GRY-L are each in one warehouse only, so together they ship in two parts)",
    )
    parser.add_argument(
        "--quantity", type=positive_integer, default=1, help="each line's quantity (default: 1)"
    )
    parser.add_argument("--channel-order-id", help="reuse one to see de-duplication (api channels only)")
    arguments = parser.parse_args(argv)
    arguments.skus = arguments.skus or [DEMO_SKU]
    if arguments.channel_order_id and arguments.channel in (SHOPIFY_CHANNEL, WOO_CHANNEL, AMAZON_CHANNEL):
        parser.error(f"--channel-order-id is for api channels; {arguments.channel} makes up its own ids")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        order_id = send(arguments)
    except Refused as refused:
        print(refused.explanation(), file=sys.stderr)
        return 1
    except Unreachable as unreachable:
        variables = " / ".join(port.variable for port in PORTS)
        print(f"{unreachable}; is `make run` running, with the same {variables}?", file=sys.stderr)
        return 2
    if order_id is None:
        return 1
    print(next_steps(arguments.url, order_id, arguments.skus[0]))
    return 0


def send(arguments: argparse.Namespace) -> str | None:
    """Send the order; return the id of the order the OMS made of it, if any."""
    # Webhooks need no API key, but following the order does: a wrong key is said before sending.
    get_json(f"{arguments.url}/orders?limit=1")
    lines = [(sku, arguments.quantity) for sku in arguments.skus]
    if arguments.channel == AMAZON_CHANNEL:
        return send_amazon_order(arguments, lines)
    return send_webhook(arguments, lines)


def send_webhook(arguments: argparse.Namespace, lines: Lines) -> str | None:
    if arguments.channel == SHOPIFY_CHANNEL:
        headers, body = shopify_delivery(shopify_order(lines))
    elif arguments.channel == WOO_CHANNEL:
        headers, body = woo_delivery(woo_order("processing", lines))
    else:
        order = sample_order(arguments.channel_order_id, lines=lines)
        body, headers = signed_delivery(order, arguments.secret)
    url = f"{arguments.url}/webhooks/{arguments.channel}"
    print(f"POST {url}")
    status, response_body = call("POST", url, body, headers)
    print(f"-> {status} {response_body.decode(errors='replace')}")
    return order_id_of(response_body)


def send_amazon_order(arguments: argparse.Namespace, lines: Lines) -> str | None:
    """Amazon answers nobody: the order is placed at the SP-API, its notification put on the queue,
    then the order it made is looked for."""
    amazon_order_id = new_amazon_order_id()
    place_at_amazon(arguments.spapi_url, amazon_order_id, lines)
    notify_order_change(arguments.aws_url, amazon_order_id)
    return wait_for_amazon_order(arguments.url, amazon_order_id)


def place_at_amazon(spapi_url: str, amazon_order_id: str, lines: Lines) -> None:
    order, items = amazon_order(amazon_order_id, lines)
    body = json.dumps({"order": order, "orderItems": items}).encode()
    url = f"{spapi_url}{SANDBOX_ORDERS_PREFIX}{amazon_order_id}"
    call("PUT", url, body, {"Content-Type": "application/json"})
    print(f"Amazon order {amazon_order_id} placed at the SP-API sandbox ({url})")


def notify_order_change(aws_url: str, amazon_order_id: str) -> None:
    sqs = boto3.client(
        "sqs",
        endpoint_url=aws_url,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        queue_url = sqs.get_queue_url(QueueName=DEFAULT_NAMING.queue(AMAZON_NOTIFICATIONS))["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody=amazon_notification(amazon_order_id))
    except EndpointConnectionError as error:
        raise Unreachable(aws_url, error) from error
    print(f"ORDER_CHANGE for Amazon order {amazon_order_id} sent to {queue_url}")


def wait_for_amazon_order(api_url: str, amazon_order_id: str) -> str | None:
    deadline = time.monotonic() + AMAZON_WAIT_SECONDS
    while time.monotonic() < deadline:
        listed = get_json(f"{api_url}/orders?channelId={AMAZON_CHANNEL}&limit=100")
        for order in listed["orders"]:
            if order["channelOrderId"] == amazon_order_id:
                print(f"-> order {order['orderId']} is {order['status']}")
                return str(order["orderId"])
        time.sleep(0.2)
    print(f"no order for {amazon_order_id} after {AMAZON_WAIT_SECONDS}s; see the OMS's log", file=sys.stderr)
    return None


def next_steps(url: str, order_id: str, sku: str) -> str:
    key = f"-H {shlex.quote(f'x-api-key: {API_KEY.value()}')}"
    events = f"{url}/fulfillments/{order_id}-F1/events"
    shipped = '{"type": "SHIPPED", "carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}'
    restock = '{"delta": 100, "reason": "RECEIPT"}'
    return "\n".join(
        [
            "",
            "Follow the order (its workflow waits for the warehouse once it is FULFILLING):",
            f"  curl {key} {url}/orders/{order_id}",
            "The warehouse ships it, then the carrier delivers it:",
            f"  curl {key} -d '{shipped}' {events}",
            f'  curl {key} -d \'{{"type": "DELIVERED"}}\' {events}',
            "An order that ships in parts has one fulfillment per warehouse (-F1, -F2, ...: see the order).",
            "Or let a carrier's tracker (EasyPost or AfterShip, signed as they sign) ship and deliver it:",
            f"  .venv/bin/python -m local.send_tracking {order_id}",
            "Or let send_return deliver it and return it (refunded through the refund sandbox):",
            f"  .venv/bin/python -m local.send_return {order_id}",
            "Or cancel what has not shipped yet:",
            f"  curl {key} -X POST {url}/orders/{order_id}/cancel",
            "If it is BACKORDERED (not enough stock), a receipt wakes it:",
            f"  curl {key} -H 'Idempotency-Key: {order_id}-restock' -d '{restock}' "
            f"{url}/inventory/{sku}/locations/wh-west/adjustments",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
