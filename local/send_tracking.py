"""Track an order's shipments on the local OMS (while `make run` runs), as a carrier tracking provider
would, and see the workflow move on when the carrier delivers:

python -m local.send_tracking <orderId>                     # EasyPost, through to delivered
python -m local.send_tracking <orderId> --provider demo-aftership --until out_for_delivery
python -m local.send_tracking <orderId> --until return_to_sender   # an exception: the order is flagged

1. Each fulfillment the warehouse has not shipped yet is reported SHIPPED (carrier UPS, a new tracking
   number): that is what lets a tracker find its shipment.
2. For each shipment, the provider's webhook events are sent to POST /tracking/{providerId}/webhooks,
   signed as the provider signs them (EasyPost: X-Hmac-Signature; AfterShip: aftership-hmac-sha256),
   one per scan: pre_transit, in_transit, out_for_delivery, then delivered (or the exception asked for).
3. The order is printed as it is then: its status, each shipment's tracking and an attention flag.

`make run` registers demo-easypost and demo-aftership with the secrets in `local/demo.py`. The OMS is
found with the variables `python -m local` reads, with the same defaults: OMS_PORT (8000) and OMS_API_KEY.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from local.demo import DEMO_TRACKING_PROVIDERS
from local.send_order import Refused, Unreachable, add_url_option, call
from local.send_return import CannotReturn, api, released
from local.settings import API_KEY, API_PORT
from shared.signatures import base64_hmac_sha256, easypost_signature

JOURNEY = ["pre_transit", "in_transit", "out_for_delivery", "delivered"]
ENDINGS = ["out_for_delivery", "delivered", "return_to_sender", "failure"]
# EasyPost's statuses as AfterShip tags them.
AFTERSHIP_TAGS = {
    "pre_transit": "InfoReceived",
    "in_transit": "InTransit",
    "out_for_delivery": "OutForDelivery",
    "delivered": "Delivered",
    "return_to_sender": "Exception",
    "failure": "AttemptFail",
}
MESSAGES = {
    "pre_transit": "Shipper created a label",
    "in_transit": "Departed from facility",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered: front door",
    "return_to_sender": "Returned to sender: address not found",
    "failure": "Delivery attempted: no access to the building",
}
UNSHIPPED = frozenset({"REQUESTED", "PICKED", "PACKED"})
WAIT_SECONDS = 20.0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("order_id", metavar="orderId", help="the order to track (ord_...)")
    add_url_option(parser, "--url", API_PORT, "API")
    parser.add_argument("--provider", choices=sorted(DEMO_TRACKING_PROVIDERS), default="demo-easypost")
    parser.add_argument("--until", choices=ENDINGS, default="delivered", help="the last status sent")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        order = track(arguments)
    except Refused as refused:
        print(refused.explanation(), file=sys.stderr)
        return 1
    except CannotReturn as cannot:
        print(cannot, file=sys.stderr)
        return 1
    except Unreachable as unreachable:
        variables = f"{API_PORT.variable} / {API_KEY.variable}"
        print(f"{unreachable}; is `make run` running, with the same {variables}?", file=sys.stderr)
        return 2
    print("\n".join(describe(order)))
    return 0


def journey(until: str) -> list[str]:
    """The statuses sent, in order: the usual way as far as `until`, or up to in transit and then it."""
    if until in JOURNEY:
        return JOURNEY[: JOURNEY.index(until) + 1]
    return [*JOURNEY[:2], until]


def track(arguments: argparse.Namespace) -> dict[str, Any]:
    url, provider_id = arguments.url, arguments.provider
    order = shipped(url, arguments.order_id)
    provider = DEMO_TRACKING_PROVIDERS[provider_id]
    webhook_url = f"{url}/tracking/{provider_id}/webhooks"
    start = datetime.now(UTC) - timedelta(hours=len(JOURNEY))
    for fulfillment in order["fulfillments"]:
        if not fulfillment.get("trackingNumber"):
            continue
        scans: list[tuple[str, datetime]] = []
        via = f"{fulfillment['carrier']} {fulfillment['trackingNumber']}"
        print(f"Shipment {fulfillment['fulfillmentId']} ({via}):")
        for step, status in enumerate(journey(arguments.until)):
            scans.append((status, start + timedelta(hours=step)))
            body, headers = signed_event(provider, fulfillment, scans)
            answer = json.loads(call("POST", webhook_url, body, headers)[1])
            print(f"  POST {webhook_url}   {status} -> {answer['outcome']}", flush=True)
    return settled(url, arguments.order_id)


def shipped(url: str, order_id: str) -> dict[str, Any]:
    """The order once every fulfillment still at the warehouse is reported SHIPPED with a tracking number."""
    order = released(url, order_id)
    for fulfillment in order["fulfillments"]:
        if fulfillment["status"] in UNSHIPPED:
            event = {
                "type": "SHIPPED",
                "carrier": "UPS",
                "trackingNumber": f"1ZOMS{uuid.uuid4().hex[:12].upper()}",
            }
            events_url = f"{url}/fulfillments/{fulfillment['fulfillmentId']}/events"
            status, _ = api("POST", events_url, event)
            print(f"POST {events_url}   SHIPPED {event['trackingNumber']} -> {status}", flush=True)
    return dict(api("GET", f"{url}/orders/{order_id}")[1])


def signed_event(
    provider: dict[str, str], fulfillment: dict[str, Any], scans: list[tuple[str, datetime]]
) -> tuple[bytes, dict[str, str]]:
    """The provider's webhook for the tracker as it stands after `scans`, and its signature headers."""
    if provider["type"] == "easypost":
        body = json.dumps(easypost_event(fulfillment, scans)).encode()
        return body, {
            "content-type": "application/json",
            "x-hmac-signature": easypost_signature(provider["webhookSecret"], body),
        }
    body = json.dumps(aftership_event(fulfillment, scans)).encode()
    signature = base64_hmac_sha256(provider["webhookSecret"], body)
    return body, {"content-type": "application/json", "aftership-hmac-sha256": signature}


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def easypost_event(fulfillment: dict[str, Any], scans: list[tuple[str, datetime]]) -> dict[str, Any]:
    status, updated = scans[-1]
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "Event",
        "description": "tracker.updated",
        "result": {
            "id": f"trk_{fulfillment['trackingNumber']}",
            "object": "Tracker",
            "tracking_code": fulfillment["trackingNumber"],
            "carrier": fulfillment["carrier"],
            "status": status,
            "updated_at": _at(updated),
            "est_delivery_date": _at(scans[0][1] + timedelta(days=3)),
            "public_url": f"https://track.easypost.com/{fulfillment['trackingNumber']}",
            "tracking_details": [
                {
                    "object": "TrackingDetail",
                    "status": scan,
                    "message": MESSAGES[scan],
                    "datetime": _at(moment),
                    "tracking_location": {"city": "RENO", "state": "NV", "country": "US"},
                }
                for scan, moment in scans
            ],
        },
    }


def aftership_event(fulfillment: dict[str, Any], scans: list[tuple[str, datetime]]) -> dict[str, Any]:
    status, updated = scans[-1]
    return {
        "event_id": str(uuid.uuid4()),
        "event": "tracking_update",
        "msg": {
            "id": f"as-{fulfillment['trackingNumber']}",
            "tracking_number": fulfillment["trackingNumber"],
            "slug": fulfillment["carrier"].lower(),
            "tag": AFTERSHIP_TAGS[status],
            "return_to_sender": status == "return_to_sender",
            "updated_at": _at(updated),
            "expected_delivery": (scans[0][1] + timedelta(days=3)).date().isoformat(),
            "checkpoints": [
                {
                    "tag": AFTERSHIP_TAGS[scan],
                    "message": MESSAGES[scan],
                    "checkpoint_time": _at(moment),
                    "city": "RENO",
                    "state": "NV",
                    "country_iso3": "USA",
                }
                for scan, moment in scans
            ],
        },
    }


def settled(url: str, order_id: str) -> dict[str, Any]:
    """The order once the workflow has caught up with what the carrier said (or after a while)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        order = dict(api("GET", f"{url}/orders/{order_id}")[1])
        moving = any(
            (f.get("tracking") or {}).get("status") == "delivered" and f["status"] != "DELIVERED"
            for f in order["fulfillments"]
        )
        if not moving or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


def describe(order: dict[str, Any]) -> list[str]:
    lines = [f"Order {order['orderId']} is {order['status']}."]
    for fulfillment in order["fulfillments"]:
        tracking = fulfillment.get("tracking") or {}
        latest = (tracking.get("checkpoints") or [{}])[-1]
        lines.append(
            f"  {fulfillment['fulfillmentId']}: {fulfillment['status']}, "
            f"carrier says {tracking.get('status', '-')}"
            + (f" ({latest.get('message')})" if latest.get("message") else "")
            + (f", expected {tracking['estimatedDelivery']}" if tracking.get("estimatedDelivery") else "")
        )
    if order.get("attention"):
        lines.append(f"  Needs attention: {order['attention']['reason']}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
