"""Return an order on the local OMS (while `make run` runs), as a customer service agent and the
returns warehouse would, and see the refund reach the channel:

python -m local.send_return <orderId>       # e.g. an order `python -m local.send_order` sent

1. If the carrier has not delivered it yet, each fulfillment still on its way is reported SHIPPED,
   then DELIVERED (only what was delivered can be returned).
2. A return of everything delivered is authorized: POST /orders/{orderId}/returns with an
   Idempotency-Key header (--key repeats one: the same return, authorized once).
3. The warehouse that shipped it reports the goods RECEIVED, resellable: POST /returns/{returnId}/events.
4. The return's workflow restocks them and refunds; once the return is CLOSED the refund is printed
   (method, total, lines), with where the refund sandbox `make run` started saw it: demo-shopify and
   demo-woo refund through the channel's refund API, demo-store by a signed request to its refundUrl;
   demo-amazon has no refund port, so its refund is MANUAL (a person refunds it in the channel).

The OMS is found with the variables `python -m local` reads, with the same defaults: OMS_PORT (8000),
OMS_REFUNDS_PORT (4568) and OMS_API_KEY (oms-dev-key).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
import uuid
from typing import Any

from local.refund_sandbox import SEEN_PATH
from local.send_order import Refused, Unreachable, add_url_option, call
from local.settings import API_KEY, API_PORT, REFUNDS_PORT

ORDER_WAIT_SECONDS = 20.0
RETURN_WAIT_SECONDS = 60.0
POLL_SECONDS = 0.2
SHIPPED = {"type": "SHIPPED", "carrier": "UPS", "trackingNumber": "1Z999AA10123456784"}
# Where the workflow is still sourcing and releasing the order: its fulfillments are not ready yet.
NOT_RELEASED = frozenset({"RECEIVED", "RESERVED"})
OPEN_RETURN = frozenset({"AUTHORIZED", "RECEIVED"})
STILL_TO_SHIP = frozenset({"REQUESTED", "PICKED", "PACKED"})
HOW = {
    "CHANNEL": "through the channel's refund API",
    "WEBHOOK": "by a signed request to the channel's refundUrl",
    "MANUAL": "left to a person, to refund by hand in the channel (it has no refund port)",
    "NONE": "nothing to refund",
}


class CannotReturn(Exception):
    """The order has nothing that can be returned, or the return did not end CLOSED."""


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("order_id", metavar="orderId", help="the order to return (ord_...)")
    add_url_option(parser, "--url", API_PORT, "API")
    add_url_option(parser, "--refunds-url", REFUNDS_PORT, "refund sandbox")
    parser.add_argument(
        "--key",
        help="the return request's Idempotency-Key (default: a new one); the same key again is the same "
        "return",
    )
    parser.add_argument("--reason", default="does not fit", help="why it comes back (default: does not fit)")
    arguments = parser.parse_args(argv)
    arguments.key = arguments.key or f"{arguments.order_id}-return-{uuid.uuid4().hex[:8]}"
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        returned = send(arguments)
    except Refused as refused:
        print(explanation(refused), file=sys.stderr)
        return 1
    except CannotReturn as cannot:
        print(cannot, file=sys.stderr)
        return 1
    except Unreachable as unreachable:
        variables = f"{API_PORT.variable} / {API_KEY.variable}"
        print(f"{unreachable}; is `make run` running, with the same {variables}?", file=sys.stderr)
        return 2
    print(report_sighting(arguments.refunds_url, returned.get("refund")))
    print(next_steps(arguments.url, returned["orderId"], returned["returnId"]))
    return 0


def explanation(refused: Refused) -> str:
    """Why the OMS refused, with each policy reason of a 422 on its own line."""
    try:
        error = json.loads(refused.body)["error"]
        reasons = error["details"]["reasons"]
        lines = [f"  {reason['code']}: {reason['message']}" for reason in reasons]
    except (ValueError, KeyError, TypeError):
        return refused.explanation()
    return "\n".join([f"{refused.url} refused the request: {refused.status} {error['message']}", *lines])


# -- talking to the OMS ------------------------------------------------------------------------------


def api(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"x-api-key": API_KEY.value(), "content-type": "application/json", **(headers or {})}
    status, answer = call(method, url, data, all_headers)
    return status, json.loads(answer) if answer else None


def send(arguments: argparse.Namespace) -> dict[str, Any]:
    """Deliver, authorize, receive, wait: the return as it ended (CLOSED), or CannotReturn."""
    url = arguments.url
    order = delivered(url, arguments.order_id)
    lines = return_lines(order)
    returns_url = f"{url}/orders/{order['orderId']}/returns"
    request = {
        "lines": [{"sku": sku, "quantity": units, "reason": arguments.reason} for sku, units in lines],
        "resolution": "REFUND",
    }
    print(f"POST {returns_url}   (Idempotency-Key: {arguments.key})")
    status, authorization = api("POST", returns_url, request, {"Idempotency-Key": arguments.key})
    print(f"-> {status} {describe_authorization(authorization)}", flush=True)
    return_id = authorization["returnId"]
    warehouse_id = receiving_warehouse(order)
    events_url = f"{url}/returns/{return_id}/events"
    event = {
        "type": "RECEIVED",
        "warehouseId": warehouse_id,
        "lines": [{"sku": sku, "quantity": units, "condition": "RESELLABLE"} for sku, units in lines],
    }
    print(f"POST {events_url}   RECEIVED at {warehouse_id}: {units_text(lines)}, resellable")
    status, received = api("POST", events_url, event)
    print(f"-> {status} {received['status']}; the return's workflow restocks and refunds", flush=True)
    ended = wait_for_return_end(url, return_id)
    print(f"-> {ended['status']}" + (f" ({ended['statusReason']})" if ended.get("statusReason") else ""))
    if ended["status"] != "CLOSED":
        raise CannotReturn(f"return {return_id} ended {ended['status']}: {ended.get('statusReason')}")
    print("\n".join(describe_refund(ended.get("refund"))))
    return ended


def get_order(url: str, order_id: str) -> dict[str, Any]:
    return dict(api("GET", f"{url}/orders/{order_id}")[1])


def delivered(url: str, order_id: str) -> dict[str, Any]:
    """The order once every fulfillment that can be delivered is: those on their way are reported
    SHIPPED and DELIVERED here."""
    order = released(url, order_id)
    plan = to_deliver(order)
    if plan:
        print(f"Order {order_id} is {order['status']}: the warehouse ships it and the carrier delivers it.")
    for fulfillment_id, events in plan:
        for event in events:
            events_url = f"{url}/fulfillments/{fulfillment_id}/events"
            status, _ = api("POST", events_url, event)
            print(f"  POST {events_url}   {event['type']} -> {status}", flush=True)
    waiting = {fulfillment_id for fulfillment_id, _ in plan}
    deadline = time.monotonic() + ORDER_WAIT_SECONDS
    while waiting:
        statuses = {f["fulfillmentId"]: f["status"] for f in order["fulfillments"]}
        if all(statuses.get(fulfillment_id) == "DELIVERED" for fulfillment_id in waiting):
            break
        if time.monotonic() > deadline:
            raise CannotReturn(
                f"order {order_id}'s fulfillments are {statuses}, not DELIVERED; see the OMS's log"
            )
        time.sleep(POLL_SECONDS)
        order = get_order(url, order_id)
    if not return_lines(order):
        raise CannotReturn(
            f"order {order_id} is {order['status']}: nothing was delivered, so nothing to return"
        )
    print(f"Order {order_id} is {order['status']}.", flush=True)
    return order


def released(url: str, order_id: str) -> dict[str, Any]:
    """The order once its workflow released it to the warehouses (or stopped before: e.g. BACKORDERED)."""
    deadline = time.monotonic() + ORDER_WAIT_SECONDS
    while True:
        order = get_order(url, order_id)
        pending = any(f["status"] == "PENDING" for f in order["fulfillments"])
        if order["status"] not in NOT_RELEASED and not pending:
            return order
        if time.monotonic() > deadline:
            raise CannotReturn(f"order {order_id} is still {order['status']}; see the OMS's log")
        time.sleep(POLL_SECONDS)


def wait_for_return_end(url: str, return_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RETURN_WAIT_SECONDS
    while True:
        found = dict(api("GET", f"{url}/returns/{return_id}")[1])
        if found["status"] not in OPEN_RETURN:
            return found
        if time.monotonic() > deadline:
            raise CannotReturn(
                f"return {return_id} is still {found['status']} after {RETURN_WAIT_SECONDS:.0f}s; "
                "see the OMS's log"
            )
        time.sleep(POLL_SECONDS)


def sighting(refunds_url: str, refund_id: str) -> dict[str, Any] | None:
    """What the refund sandbox lists for the refund the OMS sent with this Idempotency-Key."""
    _, body = call("GET", f"{refunds_url}{SEEN_PATH}")
    seen = json.loads(body)["refunds"]
    return next((entry for entry in seen if entry.get("idempotencyKey") == refund_id), None)


def report_sighting(refunds_url: str, refund: dict[str, Any] | None) -> str:
    if not refund or refund.get("method") not in ("CHANNEL", "WEBHOOK"):
        return "The refund sandbox was not asked: no refund went to a channel."
    try:
        entry = sighting(refunds_url, refund["refundId"])
    except (Unreachable, Refused, ValueError, KeyError) as failed:
        return (
            f"The refund sandbox does not answer ({failed}); is {REFUNDS_PORT.variable} the one "
            "`make run` uses?"
        )
    return "\n".join(describe_sighting(refunds_url, refund["refundId"], entry))


# -- what is printed (no I/O) -------------------------------------------------------------------------


def to_deliver(order: dict[str, Any]) -> list[tuple[str, list[dict[str, str]]]]:
    """The events that deliver each fulfillment still on its way, in the order's order."""
    plan = []
    for fulfillment in order["fulfillments"]:
        if fulfillment["status"] in STILL_TO_SHIP:
            plan.append((fulfillment["fulfillmentId"], [SHIPPED, {"type": "DELIVERED"}]))
        elif fulfillment["status"] == "SHIPPED":
            plan.append((fulfillment["fulfillmentId"], [{"type": "DELIVERED"}]))
    return plan


def return_lines(order: dict[str, Any]) -> list[tuple[str, int]]:
    """Per SKU, the units the order's delivered fulfillments carried (a return names each SKU once)."""
    units: dict[str, int] = {}
    for fulfillment in order["fulfillments"]:
        if fulfillment["status"] == "DELIVERED":
            for line in fulfillment["lines"]:
                units[line["sku"]] = units.get(line["sku"], 0) + line["quantity"]
    return list(units.items())


def receiving_warehouse(order: dict[str, Any]) -> str:
    """Where the goods come back: the warehouse of the first delivered fulfillment."""
    return str(next(f["warehouseId"] for f in order["fulfillments"] if f["status"] == "DELIVERED"))


def units_text(lines: list[tuple[str, int]]) -> str:
    return ", ".join(f"{units} x {sku}" for sku, units in lines)


def describe_authorization(answer: dict[str, Any]) -> str:
    lines = [(line["sku"], line["quantity"]) for line in answer["lines"]]
    return (
        f"return {answer['returnId']} {answer['status']}: {units_text(lines)}; expected refund "
        f"{answer['expectedRefund']} {answer['currency']}; to be received by {answer['deadline']}"
    )


def describe_refund(refund: dict[str, Any] | None) -> list[str]:
    if refund is None:
        return ["No refund."]
    how = HOW.get(refund["method"], refund["method"])
    printed = [
        f"Refund {refund['refundId']}: {refund['total']} {refund['currency']} {how}",
        f"  (method {refund['method']}, status {refund['status']})",
    ]
    for line in refund["lines"]:
        extras = [f"tax {line['tax']}"]
        extras += [f"restocking fee {line['fee']} kept"] if _nonzero(line["fee"]) else []
        extras += [f"{line['capped']} refunded before"] if _nonzero(line["capped"]) else []
        printed.append(f"  {line['quantity']} x {line['sku']}: {line['amount']} ({', '.join(extras)})")
    if _nonzero(refund["shipping"]):
        printed.append(f"  shipping: {refund['shipping']}")
    if refund.get("channelRefundId"):
        printed.append(f"  the channel's refund id: {refund['channelRefundId']}")
    return printed


def describe_sighting(refunds_url: str, refund_id: str, entry: dict[str, Any] | None) -> list[str]:
    if entry is None:
        return [
            f"The refund sandbox ({refunds_url}) has no refund sent with Idempotency-Key {refund_id}:"
            " does the channel refund elsewhere?"
        ]
    return [
        f"The refund sandbox saw it: {entry['channel']} refund {entry['channelRefundId']} of "
        f"{entry['amount']}, asked for at POST {refunds_url}{entry['path']}",
        f"  (Idempotency-Key {entry['idempotencyKey']}, the OMS's refund id)",
        f"  curl -s {refunds_url}{SEEN_PATH} | python3 -m json.tool   (every refund it made)",
    ]


def next_steps(url: str, order_id: str, return_id: str) -> str:
    key = f"-H {shlex.quote(f'x-api-key: {API_KEY.value()}')}"
    return "\n".join(
        [
            "",
            "Look at the return (its receipt, refund and timeline), and at the order: its returns, its",
            "refunds and the RETURN_* entries of its timeline:",
            f"  curl {key} {url}/returns/{return_id}",
            f"  curl {key} {url}/orders/{order_id}",
        ]
    )


def _nonzero(amount: str) -> bool:
    return any(digit not in "0." for digit in amount)


if __name__ == "__main__":
    sys.exit(main())
