"""Send one signed demo order to the local OMS: `python -m local.send_order` (while `make run` runs)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from local.demo import DEMO_CHANNEL_ID, DEMO_SKU, DEMO_WEBHOOK_SECRET, sample_order
from local.gateway import api_key
from shared.signatures import standard_webhook_signature


def default_api_url() -> str:
    return f"http://127.0.0.1:{os.environ.get('OMS_PORT', '8000')}"


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


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


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


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=default_api_url(), help="local API (default: %(default)s)")
    parser.add_argument("--channel", default=DEMO_CHANNEL_ID)
    parser.add_argument("--secret", default=DEMO_WEBHOOK_SECRET, help="the channel's webhook secret")
    parser.add_argument("--sku", default=DEMO_SKU)
    parser.add_argument("--quantity", type=int, default=1)
    parser.add_argument("--channel-order-id", help="reuse one to see de-duplication")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    order = sample_order(arguments.channel_order_id, arguments.sku, arguments.quantity)
    body, headers = signed_delivery(order, arguments.secret)
    url = f"{arguments.url}/webhooks/{arguments.channel}"
    print(f"POST {url}  (channelOrderId {order['channelOrderId']})")
    try:
        status, response_body = post(url, body, headers)
    except urllib.error.URLError as error:
        print(f"cannot reach {arguments.url} ({error.reason}); is `make run` running?", file=sys.stderr)
        return 2
    print(f"-> {status} {response_body.decode(errors='replace')}")
    order_id = order_id_of(response_body) or "<orderId>"
    print(next_steps(arguments.url, order_id))
    return 0 if status < 300 else 1


def next_steps(url: str, order_id: str) -> str:
    key = f"-H 'x-api-key: {api_key()}'"
    events = f"{url}/fulfillments/{order_id}-F1/events"
    shipped = '{"type": "SHIPPED", "carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}'
    return "\n".join(
        [
            "",
            "Follow the order (its workflow waits for the warehouse once it is FULFILLING):",
            f"  curl {key} {url}/orders/{order_id}",
            "The warehouse ships it, then the carrier delivers it:",
            f"  curl {key} -d '{shipped}' {events}",
            f'  curl {key} -d \'{{"type": "DELIVERED"}}\' {events}',
            "Or cancel it before it ships:",
            f"  curl {key} -X POST {url}/orders/{order_id}/cancel",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
