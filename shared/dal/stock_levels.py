"""A SKU's stock level as the event publisher last announced it: `SKU#<sku>`/`STOCKLEVEL` (Inventory).

Levels: OUT (nothing available anywhere), LOW (at or below the SKU's `lowStockThreshold`), IN. Only the
publisher writes the item, after the level's event is on the bus, conditioned on the level it read.
"""

from __future__ import annotations

from dataclasses import dataclass

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared import config
from shared.clock import now_iso
from shared.dal.dynamo import plain, table
from shared.dal.stock import LOCATION_PREFIX, SETTINGS_SK

LEVEL_SK = "STOCKLEVEL"


def level_of(available: int, threshold: int) -> str:
    if available <= 0:
        return "OUT"
    return "LOW" if available <= threshold else "IN"


@dataclass(frozen=True)
class SkuStock:
    sku: str
    by_warehouse: dict[str, int]
    threshold: int
    published: str | None  # the level last announced (None: never)

    @property
    def available(self) -> int:
        return sum(self.by_warehouse.values())

    def level(self) -> str:
        return level_of(self.available, self.threshold)


def read(sku: str) -> SkuStock:
    """Every location's available units, the threshold and the level announced: one consistent Query."""
    page = table(config.inventory_table()).query(
        KeyConditionExpression=Key("pk").eq(f"SKU#{sku}"), ConsistentRead=True
    )
    by_warehouse: dict[str, int] = {}
    threshold, published = 0, None
    for item in (plain(found) for found in page["Items"]):
        if item["sk"].startswith(LOCATION_PREFIX):
            warehouse = item["sk"].removeprefix(LOCATION_PREFIX).split("#", 1)[0]
            by_warehouse[warehouse] = by_warehouse.get(warehouse, 0) + max(0, int(item.get("available", 0)))
        elif item["sk"] == SETTINGS_SK:
            threshold = int(item.get("lowStockThreshold", 0))
        elif item["sk"] == LEVEL_SK:
            published = str(item["level"])
    return SkuStock(sku, by_warehouse, threshold, published)


def record(sku: str, level: str, previous: str | None) -> None:
    """Remember the level announced, unless another publisher got there first."""
    condition = "attribute_not_exists(sk)" if previous is None else "#level = :previous"
    values = {":previous": previous} if previous is not None else {}
    try:
        table(config.inventory_table()).put_item(
            Item={"pk": f"SKU#{sku}", "sk": LEVEL_SK, "level": level, "updatedAt": now_iso()},
            ConditionExpression=condition,
            **({"ExpressionAttributeNames": {"#level": "level"}} if previous is not None else {}),
            **({"ExpressionAttributeValues": values} if values else {}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
