"""DynamoDB access shared by the repositories: one cached resource, item conversion, transactions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from shared import aws


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


def transact(actions: list[dict[str, Any]]) -> None:
    try:
        client().transact_write_items(TransactItems=actions)
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons", [])
        raise TransactionConflict(
            [r.get("Code", "None") for r in reasons], [r.get("Item") for r in reasons]
        ) from error


def in_list_condition(attribute: str, values: Sequence[str], prefix: str) -> tuple[str, dict[str, str]]:
    """`#attr IN (:p0, :p1, ...)` with its value placeholders (enum members become plain strings)."""
    names = [f":{prefix}{i}" for i in range(len(values))]
    return f"{attribute} IN ({', '.join(names)})", {n: str(v) for n, v in zip(names, values, strict=True)}
