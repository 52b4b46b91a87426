"""Subscriptions table: the webhook subscriptions (`SUBSCRIPTIONS` / `SUB#<id>`, one partition: a
retailer has a handful) and each one's deliveries (`SUB#<id>` / `DELIVERY#<deliveryId>`, newest last
in key order since delivery ids start with the event's time). Finished deliveries expire (TTL)."""

from __future__ import annotations

import time
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from shared import config, settings_cache
from shared.dal.dynamo import (
    Page,
    decode_cursor,
    encode_cursor,
    invalid_cursor,
    plain,
    read_page,
    table,
    to_item,
)
from shared.models.subscriptions import DeliveryStatus, Subscription, WebhookDelivery

SUBSCRIPTIONS_PARTITION = "SUBSCRIPTIONS"
# Delivered, failed and cancelled deliveries are kept this long for GET .../deliveries and redelivery.
FINISHED_RETENTION_SECONDS = 30 * 24 * 3600
KEY_ATTRIBUTES = ("pk", "sk")
# The fan-out's list, read on every event: a new subscription gets events within the TTL; a deleted
# one's deliveries are cancelled when they come up (`get`, not cached).
_every: settings_cache.SettingsCache[tuple[Subscription, ...]] = settings_cache.SettingsCache(
    "subscriptions", keep_missing=False
)


def _table() -> Any:
    return table(config.subscriptions_table())


def _subscription_key(subscription_id: str) -> dict[str, str]:
    return {"pk": SUBSCRIPTIONS_PARTITION, "sk": f"SUB#{subscription_id}"}


def _delivery_key(subscription_id: str, delivery_id: str) -> dict[str, str]:
    return {"pk": f"SUB#{subscription_id}", "sk": f"DELIVERY#{delivery_id}"}


def _conditional(write: Any, **request: Any) -> bool:
    """Run a conditional write; False when its condition did not hold."""
    try:
        write(**request)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


# -- subscriptions -----------------------------------------------------------------------------


def get(subscription_id: str) -> Subscription | None:
    item = _table().get_item(Key=_subscription_key(subscription_id), ConsistentRead=True).get("Item")
    return Subscription.model_validate(plain(item)) if item else None


def put(subscription: Subscription, *, create: bool) -> bool:
    """Store it; `create`: only if there is none yet (False if one appeared meanwhile)."""
    condition = "attribute_not_exists(pk)" if create else "attribute_exists(pk)"
    item = to_item(subscription, **_subscription_key(subscription.subscriptionId))
    try:
        return _conditional(_table().put_item, Item=item, ConditionExpression=condition)
    finally:
        _every.forget(SUBSCRIPTIONS_PARTITION)


def delete(subscription_id: str) -> bool:
    """Remove it; whether there was one. Its queued deliveries are cancelled as they come up."""
    try:
        answer = _table().delete_item(Key=_subscription_key(subscription_id), ReturnValues="ALL_OLD")
    finally:
        _every.forget(SUBSCRIPTIONS_PARTITION)
    return "Attributes" in answer


def list_page(limit: int, cursor: str | None) -> tuple[list[Subscription], str | None]:
    page = _query_page(SUBSCRIPTIONS_PARTITION, "SUB#", limit, cursor, forward=True)
    return [Subscription.model_validate(item) for item in page.items], page.cursor


def all_subscriptions() -> list[Subscription]:
    """Every subscription, as read at most `SETTINGS_CACHE_SECONDS` ago (`shared.settings_cache`)."""
    return list(_every.get(SUBSCRIPTIONS_PARTITION, lambda: tuple(_read_all())) or ())


def _read_all() -> list[Subscription]:
    found: list[Subscription] = []
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(SUBSCRIPTIONS_PARTITION) & Key("sk").begins_with("SUB#")
    }
    while True:
        answer = _table().query(**request)
        found += [Subscription.model_validate(plain(item)) for item in answer["Items"]]
        if "LastEvaluatedKey" not in answer:
            return found
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


# -- deliveries --------------------------------------------------------------------------------


def create_delivery(delivery: WebhookDelivery) -> bool:
    """Store a new delivery; False if this event was already fanned out to this subscription."""
    item = to_item(delivery, **_delivery_key(delivery.subscriptionId, delivery.deliveryId))
    return _conditional(_table().put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")


def get_delivery(subscription_id: str, delivery_id: str) -> WebhookDelivery | None:
    item = _table().get_item(Key=_delivery_key(subscription_id, delivery_id), ConsistentRead=True).get("Item")
    return WebhookDelivery.model_validate(plain(item)) if item else None


def save_delivery(delivery: WebhookDelivery, *, expected_version: int) -> bool:
    """Replace it if nobody changed it since `expected_version` was read (False otherwise)."""
    extra: dict[str, Any] = _delivery_key(delivery.subscriptionId, delivery.deliveryId)
    if delivery.status != DeliveryStatus.PENDING:
        extra["expiresAt"] = int(time.time()) + FINISHED_RETENTION_SECONDS
    return _conditional(
        _table().put_item,
        Item=to_item(delivery, **extra),
        ConditionExpression="version = :expected",
        ExpressionAttributeValues={":expected": expected_version},
    )


def deliveries_page(
    subscription_id: str, limit: int, cursor: str | None, status: DeliveryStatus | None = None
) -> tuple[list[WebhookDelivery], str | None]:
    """Newest first, optionally only those in `status`."""
    wanted = Attr("status").eq(status.value) if status else None
    page = _query_page(f"SUB#{subscription_id}", "DELIVERY#", limit, cursor, forward=False, wanted=wanted)
    return [WebhookDelivery.model_validate(item) for item in page.items], page.cursor


def _query_page(
    partition: str,
    prefix: str,
    limit: int,
    cursor: str | None,
    *,
    forward: bool,
    wanted: ConditionBase | None = None,
) -> Page:
    """Up to `limit` items of the partition whose sort key starts with `prefix`, read until the page
    is full or the partition ends (a filter never makes a page short while more follow)."""
    query: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq(partition) & Key("sk").begins_with(prefix),
        "ScanIndexForward": forward,
        "Limit": limit,
        "ConsistentRead": True,
    }
    if wanted is not None:
        query["FilterExpression"] = wanted
    if cursor:
        start = decode_cursor(cursor, KEY_ATTRIBUTES, {"pk": partition})
        if not start["sk"].startswith(prefix):
            raise invalid_cursor()
        query["ExclusiveStartKey"] = start
    found: list[dict[str, Any]] = []
    more = True
    while more and len(found) < limit:
        answer = read_page(_table().query, query)
        found += [plain(item) for item in answer["Items"]]
        more = "LastEvaluatedKey" in answer
        query["ExclusiveStartKey"] = answer.get("LastEvaluatedKey")
    returned = found[:limit]
    if not returned or not (more or len(found) > limit):
        return Page(returned, None)
    return Page(returned, encode_cursor({name: returned[-1][name] for name in KEY_ATTRIBUTES}))
