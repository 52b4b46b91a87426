"""Stock changes the retailer asks for, and the ledger that explains every unit."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from shared.models.base import Model
from shared.models.catalog import MAX_UNITS, Identifier, InventoryView, NotBoolean, StockLevel, Units
from shared.models.order import Sku


class AdjustmentReason(StrEnum):
    RECEIPT = "RECEIPT"  # goods arrived
    CYCLE_COUNT = "CYCLE_COUNT"  # a count found more or fewer
    DAMAGE = "DAMAGE"  # units written off
    CORRECTION = "CORRECTION"  # an earlier figure was wrong


Reference = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Note = Annotated[str, StringConstraints(max_length=1000)]
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"


class AdjustmentIn(Model):
    model_config = ConfigDict(extra="forbid")
    delta: Annotated[
        int, Field(ge=-MAX_UNITS, le=MAX_UNITS, json_schema_extra={"not": {"const": 0}}), NotBoolean
    ] = Field(description="Units to add to onHand (negative: to remove); not 0")
    reason: AdjustmentReason
    reference: Reference | None = Field(
        default=None, description="Your document: a receipt, count or case number"
    )
    note: Note | None = None

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: int) -> int:
        if delta == 0:
            raise ValueError("must not be 0: an adjustment changes the stock")
        return delta


class LedgerEntry(Model):
    """One change of one stock bucket (a location has one bucket unless its SKU is hot)."""

    sku: str
    warehouseId: str
    bucket: int
    seq: int = Field(description="The bucket's entry number, from 1, without gaps")
    at: str
    kind: str = Field(
        description="COUNT, ADJUSTMENT, IMPORT, RESERVE, RELEASE, COMMIT, REBALANCE or RECONCILE"
    )
    actor: str = Field(description="Who or what made the change: api, cli:import, workflow:<step>, ...")
    reason: str | None = None
    orderId: str | None = None
    fulfillmentId: str | None = None
    reference: str | None = None
    note: str | None = None
    onHandDelta: int
    reservedDelta: int
    safetyStockDelta: int = 0
    onHand: int = Field(description="The bucket's onHand after the change")
    reserved: int
    safetyStock: int
    available: int = Field(
        description="onHand - reserved - safetyStock of the bucket (below 0 only when "
        "counted stock fell under the safety stock)"
    )


class LedgerPage(Model):
    sku: str
    warehouseId: str | None = None
    entries: list[LedgerEntry] = Field(description="Newest first")
    nextCursor: str | None = Field(description="Pass as `cursor` for older entries; null after the oldest")


class AdjustmentResult(Model):
    entries: list[LedgerEntry] = Field(
        description="What the adjustment wrote, one entry per bucket it changed"
    )
    location: StockLevel = Field(description="The location's figures after it")


class InventoryBySku(Model):
    """Stock of several SKUs, in the order asked."""

    inventory: list[InventoryView]
    unknown: list[str] = Field(description="SKUs asked for that are stocked nowhere")


MAX_COUNTS_PER_REQUEST = 100


class CountRow(Model):
    """One counted location: absolute figures, as a stock count or an import file gives them."""

    model_config = ConfigDict(extra="forbid")
    sku: Sku
    warehouseId: Identifier
    onHand: Units
    safetyStock: Units | None = Field(default=None, description="Unchanged if not given (0 if new)")


class CountsIn(Model):
    model_config = ConfigDict(extra="forbid")
    counts: Annotated[list[CountRow], Field(min_length=1, max_length=MAX_COUNTS_PER_REQUEST)]
    reference: Reference | None = Field(
        default=None, description="What the counts come from (a file name, a count id): on every entry"
    )


class CountOutcome(StrEnum):
    APPLIED = "APPLIED"
    UNCHANGED = "UNCHANGED"  # the location already had these figures: no ledger entry
    REFUSED = "REFUSED"  # see `error`; the other rows are applied regardless


class CountError(Model):
    code: str
    message: str


class CountResult(Model):
    index: int = Field(description="The row's position in `counts`, from 0")
    sku: str
    warehouseId: str
    outcome: CountOutcome
    error: CountError | None = None
    location: StockLevel | None = None


class CountsResult(Model):
    results: list[CountResult]
    applied: int
    unchanged: int
    refused: int


# A count rewrites every bucket of a location in one transaction (2 actions each, plus 1).
MAX_BUCKETS = 25


class SkuSettingsIn(Model):
    model_config = ConfigDict(extra="forbid")
    buckets: Annotated[int, Field(ge=1, le=MAX_BUCKETS), NotBoolean] = Field(
        description="Items each location's stock is spread over. One takes about 500 reservations/s "
        "(DynamoDB: about 1,000 writes/s per item, 2 per transactional write): a flash-sale SKU "
        "needing more gets more buckets",
    )
    lowStockThreshold: Annotated[int, Field(ge=0, le=1_000_000), NotBoolean] = Field(
        default=0,
        description="inventory.low is published when the SKU's available units (all warehouses) fall to "
        "this or below (0: never; inventory.out_of_stock and back_in_stock are published whatever it is)",
    )


class SkuSettings(Model):
    sku: str
    buckets: int
    lowStockThreshold: int = 0
    locations: list[StockLevel] = Field(description="Each location, rebalanced over the buckets")
