"""Fulfillments (one shipment from one warehouse each), stored beside their order.

Key: `ORDER#<order id>`/`FULFILLMENT#<fulfillment id>`. Besides the public fields an item keeps its
`history` and, while the workflow waits on it, the parked task token (`waitToken`) and what the
workflow awaits (`awaiting`). Every write here is conditioned on the fulfillment's status, and a
write made from what a caller read is also conditioned on the token it read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import config
from shared.dal.dynamo import in_list_condition, plain, status_update, table, to_item, to_value
from shared.models.order import Fulfillment, FulfillmentStatus, fulfillment_statuses_leading_to
from shared.models.tracking import ShipmentTracking, carrier_key, tracking_number_key

Item = dict[str, Any]


def _table_name() -> str:
    return config.orders_table()


def key(order_id: str, fulfillment_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": f"FULFILLMENT#{fulfillment_id}"}


def get_item(order_id: str, fulfillment_id: str) -> Item | None:
    item = table(_table_name()).get_item(Key=key(order_id, fulfillment_id), ConsistentRead=True).get("Item")
    return plain(item) if item else None


def of_order(order_id: str) -> list[Item]:
    """Raw fulfillment items of an order, including the workflow's parked task tokens."""
    page = table(_table_name()).query(
        KeyConditionExpression=Key("pk").eq(f"ORDER#{order_id}") & Key("sk").begins_with("FULFILLMENT#"),
        ConsistentRead=True,
    )
    return [plain(item) for item in page["Items"]]


def put_action(fulfillment: Fulfillment) -> Item:
    item = to_item(fulfillment, **key(fulfillment.orderId, fulfillment.fulfillmentId))
    item["history"] = [{"status": fulfillment.status.value, "at": fulfillment.createdAt}]
    return {
        "Put": {"TableName": _table_name(), "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
    }


def update_action(
    item: Item, expression: str, values: Mapping[str, Any], allowed_statuses: Sequence[str]
) -> Item:
    """Update a fulfillment only while its status is one of `allowed_statuses` (`#status` is bound)."""
    condition, condition_values = in_list_condition("#status", allowed_statuses, "allowed")
    item_key = key(item["orderId"], item["fulfillmentId"])
    return status_update(_table_name(), item_key, expression, condition, {**values, **condition_values})


def advance_action(
    item: Item,
    target: FulfillmentStatus,
    at: str,
    *,
    sets: Mapping[str, Any] | None = None,
    removes: Sequence[str] = (),
) -> Item:
    """Move a fulfillment to `target` from the status and parked token we read, appending to its
    history; `sets` are further attributes to write, `removes` attributes to drop."""
    assignments = ["#status = :to", "updatedAt = :at", "history = list_append(history, :entry)"]
    values: dict[str, Any] = {":to": target.value, ":at": at, ":from": item["status"]}
    values[":entry"] = [{"status": target.value, "at": at}]
    for name, value in (sets or {}).items():
        assignments.append(f"{name} = :{name}")
        values[f":{name}"] = value
    condition = "#status = :from"
    if "waitToken" in item:
        condition += " AND waitToken = :token"
        values[":token"] = item["waitToken"]
    else:
        condition += " AND attribute_not_exists(waitToken)"
    expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removes) if removes else "")
    return status_update(
        _table_name(), key(item["orderId"], item["fulfillmentId"]), expression, condition, values
    )


def request_action(item: Item, at: str, token: str, awaiting: str) -> Item:
    """Release a PENDING fulfillment to its warehouse (REQUESTED), parking the task token with it."""
    action = advance_action(item, FulfillmentStatus.REQUESTED, at)
    action["Update"]["UpdateExpression"] += ", waitToken = :newToken, awaiting = :awaiting"
    action["Update"]["ExpressionAttributeValues"] |= {":newToken": token, ":awaiting": awaiting}
    return action


def park_action(item: Item, awaiting: str, token: str, allowed_statuses: Sequence[str]) -> Item:
    """Keep the workflow's task token on the fulfillment while its status is one of `allowed_statuses`."""
    return update_action(
        item,
        "SET waitToken = :token, awaiting = :awaiting",
        {":token": token, ":awaiting": awaiting},
        allowed_statuses,
    )


def correction_action(item: Item, changes: Mapping[str, str], at: str) -> Item:
    """Write corrected attributes (carrier, tracking number) while the status is still the one read."""
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    return update_action(
        item,
        f"SET {assignments}, updatedAt = :at",
        {f":{name}": value for name, value in changes.items()} | {":at": at},
        [item["status"]],
    )


def cancel_action(item: Item, at: str) -> Item:
    cancelled = FulfillmentStatus.CANCELLED.value
    return update_action(
        item,
        "SET #status = :cancelled, updatedAt = :at, history = list_append(history, :entry)",
        {":cancelled": cancelled, ":at": at, ":entry": [{"status": cancelled, "at": at}]},
        fulfillment_statuses_leading_to(FulfillmentStatus.CANCELLED),
    )


# -- tracking: which fulfillment a carrier's tracking number belongs to, and what the carrier said ------


def tracking_claim_key(carrier: str, tracking_number: str) -> dict[str, str]:
    return {"pk": f"TRACKING#{carrier_key(carrier)}#{tracking_number_key(tracking_number)}", "sk": "TRACKING"}


def claim_tracking_action(order_id: str, fulfillment_id: str, carrier: str, tracking_number: str) -> Item:
    """Point the carrier's tracking number at this fulfillment, written with the shipment that got it.
    Unconditional: a number a carrier reuses belongs to its newest shipment (the match is checked
    against the fulfillment's own carrier and number when a tracker arrives)."""
    claim = {
        **tracking_claim_key(carrier, tracking_number),
        "orderId": order_id,
        "fulfillmentId": fulfillment_id,
    }
    return {"Put": {"TableName": _table_name(), "Item": claim}}


def find_by_tracking(carrier: str, tracking_number: str) -> tuple[str, str] | None:
    """(order id, fulfillment id) of the shipment with this carrier and tracking number, if any."""
    claim = (
        table(_table_name())
        .get_item(Key=tracking_claim_key(carrier, tracking_number), ConsistentRead=True)
        .get("Item")
    )
    return (claim["orderId"], claim["fulfillmentId"]) if claim else None


def tracking_action(item: Item, tracking: ShipmentTracking) -> Item:
    """Keep what the carrier says now, only if it is newer than what the fulfillment has: an event
    that arrives late never moves the tracking backward."""
    return {
        "Update": {
            "TableName": _table_name(),
            "Key": key(item["orderId"], item["fulfillmentId"]),
            "UpdateExpression": "SET tracking = :tracking, trackingUpdatedAt = :updated",
            "ConditionExpression": "attribute_exists(pk) AND "
            "(attribute_not_exists(trackingUpdatedAt) OR trackingUpdatedAt < :updated)",
            "ExpressionAttributeValues": {
                ":tracking": to_value(tracking),
                ":updated": tracking.updatedAt,
            },
        }
    }
