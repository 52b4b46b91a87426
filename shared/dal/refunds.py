"""An order's refund ledger, in the Orders table beside the order.

Keys: `ORDER#<order id>`/`REFUNDS` the balance: what is left to refund, in the currency's minor
units (whole numbers, so DynamoDB's arithmetic is exact): per order line `L#<index>` (amount) and
`Q#<index>` (units), `S` shipping, `T` the whole order. `ORDER#<order id>`/`REFUND#<refund id>`
each refund, whatever its origin (a return, or the channel itself).

Every refund is written in one transaction with the balance's update, each figure conditioned on
staying at or above zero: the database, not the code, keeps the total refunded within what was paid,
per line and for shipping, however many refunds race.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from shared import config
from shared.dal.dynamo import plain, table, to_item
from shared.models.money import minor_units
from shared.models.refunds import RefundReceipt
from shared.models.returns import RecordedRefund, RefundStatus

BALANCE_SK = "REFUNDS"
SHIPPING = "S"
TOTAL = "T"


def _name() -> str:
    return config.orders_table()


def balance_key(order_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": BALANCE_SK}


def entry_key(order_id: str, refund_id: str) -> dict[str, str]:
    return {"pk": f"ORDER#{order_id}", "sk": f"REFUND#{refund_id}"}


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)))


def from_minor(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency))


@dataclass(frozen=True)
class Balance:
    """What is left to refund, in minor units: per line (amount, units), shipping, and in all."""

    lines: dict[int, tuple[int, int]]
    shipping: int
    total: int

    def item(self, order_id: str) -> dict[str, Any]:
        figures: dict[str, Any] = {SHIPPING: self.shipping, TOTAL: self.total}
        for index, (amount, units) in self.lines.items():
            figures[f"L#{index}"] = amount
            figures[f"Q#{index}"] = units
        return {**balance_key(order_id), **figures}


def balance_of(item: Mapping[str, Any]) -> Balance:
    indexes = sorted(int(name[2:]) for name in item if name.startswith("L#"))
    return Balance(
        lines={i: (int(item[f"L#{i}"]), int(item[f"Q#{i}"])) for i in indexes},
        shipping=int(item[SHIPPING]),
        total=int(item[TOTAL]),
    )


def read_balance(order_id: str) -> Balance | None:
    item = table(_name()).get_item(Key=balance_key(order_id), ConsistentRead=True).get("Item")
    return balance_of(plain(item)) if item else None


def open_balance(order_id: str, balance: Balance) -> None:
    """Create the balance from what was paid, unless it exists (whoever comes first writes it)."""
    try:
        table(_name()).put_item(Item=balance.item(order_id), ConditionExpression="attribute_not_exists(pk)")
    except table(_name()).meta.client.exceptions.ConditionalCheckFailedException:
        pass


def entries(order_id: str) -> list[RecordedRefund]:
    page = table(_name()).query(
        KeyConditionExpression=Key("pk").eq(f"ORDER#{order_id}") & Key("sk").begins_with("REFUND#"),
        ConsistentRead=True,
    )
    return sorted((RecordedRefund.model_validate(plain(i)) for i in page["Items"]), key=lambda r: r.at)


def get_entry(order_id: str, refund_id: str) -> RecordedRefund | None:
    item = table(_name()).get_item(Key=entry_key(order_id, refund_id), ConsistentRead=True).get("Item")
    return RecordedRefund.model_validate(plain(item)) if item else None


@dataclass(frozen=True)
class Taken:
    """What one refund takes from the balance, in minor units."""

    lines: dict[int, tuple[int, int]]  # line index -> (amount, units)
    shipping: int
    unallocated: int

    @property
    def total(self) -> int:
        return sum(amount for amount, _ in self.lines.values()) + self.shipping + self.unallocated


def _balance_update(order_id: str, taken: Taken, sign: str, conditioned: bool) -> dict[str, Any]:
    figures: dict[str, int] = {TOTAL: taken.total}
    if taken.shipping:
        figures[SHIPPING] = taken.shipping
    for index, (amount, units) in taken.lines.items():
        figures[f"L#{index}"] = amount
        figures[f"Q#{index}"] = units
    names = {f"#f{i}": name for i, name in enumerate(figures)}
    values = {f":v{i}": value for i, value in enumerate(figures.values())}
    update: dict[str, Any] = {
        "TableName": _name(),
        "Key": balance_key(order_id),
        "UpdateExpression": "SET " + ", ".join(f"#f{i} = #f{i} {sign} :v{i}" for i in range(len(names))),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if conditioned:
        update["ConditionExpression"] = " AND ".join(f"#f{i} >= :v{i}" for i in range(len(names)))
    else:
        update["ConditionExpression"] = "attribute_exists(pk)"
    return {"Update": update}


def record_actions(order_id: str, entry: RecordedRefund, taken: Taken) -> list[dict[str, Any]]:
    """The refund's entry (once: a second write of the same refund id fails) and the balance
    going down by what it takes, never below zero anywhere."""
    put = {
        "Put": {
            "TableName": _name(),
            "Item": to_item(entry, **entry_key(order_id, entry.refundId)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    return [put, _balance_update(order_id, taken, "-", conditioned=True)]


def undo_actions(order_id: str, refund_id: str, taken: Taken, cause: str, at: str) -> list[dict[str, Any]]:
    """A refund the channel never made: FAILED with its cause, and the balance given back (once:
    conditioned on the entry still being PENDING)."""
    entry = {
        "Update": {
            "TableName": _name(),
            "Key": entry_key(order_id, refund_id),
            "UpdateExpression": "SET #status = :failed, cause = :cause, updatedAt = :at",
            "ConditionExpression": "#status = :pending",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":failed": RefundStatus.FAILED.value,
                ":pending": RefundStatus.PENDING.value,
                ":cause": cause,
                ":at": at,
            },
        }
    }
    return [entry, _balance_update(order_id, taken, "+", conditioned=False)]


def settle(
    order_id: str, refund_id: str, status: RefundStatus, receipt: RefundReceipt | None, at: str
) -> None:
    """A PENDING refund made (SUCCEEDED) or left to a person (MANUAL). Settled already as `status`
    (by an attempt of the step that failed afterwards, before the return recorded it), it is left
    as it is; settled otherwise or undone, the condition's failure is raised."""
    sets = "SET #status = :to, updatedAt = :at"
    values: dict[str, Any] = {":to": status.value, ":at": at, ":pending": RefundStatus.PENDING.value}
    if receipt is not None and receipt.channelRefundId:
        sets += ", channelRefundId = :channelRefundId"
        values[":channelRefundId"] = receipt.channelRefundId
    try:
        table(_name()).update_item(
            Key=entry_key(order_id, refund_id),
            UpdateExpression=sets,
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
    except table(_name()).meta.client.exceptions.ConditionalCheckFailedException:
        settled = get_entry(order_id, refund_id)
        if settled is None or settled.status is not status:
            raise


def note_channel_id(order_id: str, refund_id: str, channel_refund_id: str) -> bool:
    """The channel reported a refund the OMS made: remember its id on our entry (recorded once)."""
    try:
        table(_name()).update_item(
            Key=entry_key(order_id, refund_id),
            UpdateExpression="SET channelRefundId = :id",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":id": channel_refund_id},
        )
    except table(_name()).meta.client.exceptions.ConditionalCheckFailedException:
        return False
    return True
