"""DynamoDB access shared by the repositories: one cached resource, item conversion, transactions,
and pages with their cursors."""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import ConditionBase
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from shared import aws
from shared.errors import InvalidRequest


def client() -> Any:
    # The resource's client accepts plain Python values (it applies the type transformation),
    # which keeps transaction items readable.
    return aws.dynamodb().meta.client


def table(name: str) -> Any:
    return aws.dynamodb().Table(name)


def to_item(model: BaseModel, **extra: Any) -> dict[str, Any]:
    """A model as a DynamoDB item: JSON-mode values, floats as Decimal, None values dropped."""
    data = json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)
    data.update(extra)
    return data


def to_value(value: BaseModel | Sequence[BaseModel]) -> Any:
    """A model, or a list of models, as a DynamoDB attribute value (as `to_item` converts them)."""
    if not isinstance(value, BaseModel):
        return [to_value(v) for v in value]
    return json.loads(value.model_dump_json(exclude_none=True), parse_float=Decimal)


def plain(value: Any) -> Any:
    """Undo DynamoDB's Decimal numbers: whole numbers become int, others float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class TransactionConflict(Exception):
    """A transaction was cancelled; `reasons` holds one code per action ('None' where it was fine)."""

    def __init__(self, reasons: list[str], items: list[dict[str, Any] | None]) -> None:
        super().__init__(f"transaction cancelled: {reasons}")
        self.reasons = reasons
        self.items = items

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


def pause_before_retry(attempt: int) -> None:
    """A short random wait before attempt `attempt + 1` of a transaction a concurrent writer
    cancelled (full jitter, 10 ms doubling), so writers of the same items drift apart."""
    time.sleep(random.uniform(0, 0.01 * 2**attempt))


def transact(actions: list[dict[str, Any]]) -> None:
    try:
        client().transact_write_items(TransactItems=actions)
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons", [])
        raise TransactionConflict(
            [r.get("Code", "None") for r in reasons], [_deserialized(r.get("Item")) for r in reasons]
        ) from error


def _deserialized(item: dict[str, Any] | None) -> dict[str, Any] | None:
    # An error's items come as DynamoDB wrote them ({"S": ...}): the resource converts only results.
    return plain(TypeDeserializer().deserialize({"M": item})) if item else None


def status_update(
    table_name: str, key: Mapping[str, str], expression: str, condition: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    """A transaction's Update conditioned on the item's status (`#status` names `status`)."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": dict(key),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": dict(values),
        }
    }


def in_list_condition(attribute: str, values: Sequence[str], prefix: str) -> tuple[str, dict[str, str]]:
    """`#attr IN (:p0, :p1, ...)` with its value placeholders (enum members become plain strings)."""
    names = [f":{prefix}{i}" for i in range(len(values))]
    return f"{attribute} IN ({', '.join(names)})", {n: str(v) for n, v in zip(names, values, strict=True)}


# -- pages ---------------------------------------------------------------------------------------
# A cursor is the key of the last item a page returned, as base64url JSON. On its way back it is
# checked to be a key of the same query (its attributes, and its partition where the query has one),
# so a made-up cursor or one from another list is a 400, never a DynamoDB error.


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def invalid_cursor() -> InvalidRequest:
    return InvalidRequest("cursor does not belong to this query", {"field": "cursor"})


def encode_cursor(key: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(dict(key)).encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str, attributes: Collection[str], fixed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The start key a cursor encodes: exactly `attributes`, all strings, with the `fixed` values."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(key, dict) or set(key) != set(attributes):
        raise invalid_cursor()
    if not all(isinstance(value, str) for value in key.values()):
        raise invalid_cursor()
    if any(key[name] != value for name, value in (fixed or {}).items()):
        raise invalid_cursor()
    return key


def read_page(read: Callable[..., dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """`table.query` or `table.scan`; a start key DynamoDB refuses is the client's cursor, so a 400."""
    try:
        return read(**request)
    except ClientError as error:
        if "ExclusiveStartKey" in request and error.response["Error"]["Code"] == "ValidationException":
            raise invalid_cursor() from error
        raise


def scan_page(
    table_name: str, key_attributes: Collection[str], wanted: ConditionBase, limit: int, cursor: str | None
) -> Page:
    """Up to `limit` of the `wanted` items from where the cursor left off, by Scans of `limit` items
    each until the page is full or the table ends: skipped items never make a page short or empty
    while more follow. The cursor is the key of the last item returned."""
    scan: dict[str, Any] = {"Limit": limit, "FilterExpression": wanted, "ConsistentRead": True}
    if cursor:
        scan["ExclusiveStartKey"] = decode_cursor(cursor, key_attributes)
    found: list[dict[str, Any]] = []
    more = True
    while more and len(found) < limit:
        page = read_page(table(table_name).scan, scan)
        found += [plain(item) for item in page["Items"]]
        more = "LastEvaluatedKey" in page
        scan["ExclusiveStartKey"] = page.get("LastEvaluatedKey")
    returned = found[:limit]
    if not returned or not (more or len(found) > limit):
        return Page(returned, None)
    return Page(returned, encode_cursor({name: returned[-1][name] for name in key_attributes}))


CREATED_KEY_ATTRIBUTES = ("pk", "sk", "createdKey")


def batch_get(table_name: str, keys: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Items by (pk, sk), for at most 100 keys: one BatchGetItem plus retries of what it left over."""
    pending: dict[str, Any] = {table_name: {"Keys": [{"pk": key["pk"], "sk": key["sk"]} for key in keys]}}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    while pending.get(table_name, {}).get("Keys"):
        response = aws.dynamodb().batch_get_item(RequestItems=pending)
        for item in response["Responses"].get(table_name, []):
            found[(item["pk"], item["sk"])] = plain(item)
        pending = response.get("UnprocessedKeys") or {}
    return found
