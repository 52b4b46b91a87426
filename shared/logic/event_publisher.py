"""The outbox's publisher: stream records of committed writes in, domain events on the EventBridge bus out.

A batch is a run of one shard's records in commit order. They are published in that order, and the
first that cannot be is reported as the batch's failure with every record after it (Lambda restarts
the shard from the lowest failed sequence number, so nothing after a failure is published before it,
and nothing before it again). One record's events go in one PutEvents call; entries EventBridge
refuses are sent again a few times before the record counts as failed. Each event's id is derived
from its record, so the rare record published twice (the function dies after PutEvents) carries the
same ids and consumers drop the copy (outbound webhooks do).

Stock levels (low, out of stock, back in stock) are not in the stock item alone: a change of a
location's `available` makes the publisher read the SKU's partition (every location, its settings and
the last level published) and publish when the level changed; the level is written after the event is
on the bus, conditioned on what was read.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from shared import aws, config
from shared.clock import iso
from shared.dal import stock_levels
from shared.dal.dynamo import plain
from shared.logic.domain_events import Change, events_of
from shared.models.events import DomainEvent, EventType, InventoryLevel
from shared.observability import count, logger

PUT_EVENTS_ATTEMPTS = 3
PUT_EVENTS_MOST = 10  # entries per PutEvents call
LEVEL_EVENTS = {
    "LOW": EventType.INVENTORY_LOW,
    "OUT": EventType.INVENTORY_OUT_OF_STOCK,
    "IN": EventType.INVENTORY_BACK_IN_STOCK,
}


class PublishFailed(Exception):
    """EventBridge kept refusing some of a record's events."""


def table_of(source_arn: str) -> str:
    """The blueprint table a stream belongs to, from `arn:...:table/<name>/stream/<label>`."""
    name = source_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    by_name = {config.orders_table(): "Orders", config.returns_table(): "Returns"}
    by_name[config.inventory_table()] = "Inventory"
    return by_name.get(name, name)


def change_of(record: DynamoDBRecord) -> Change:
    stream = record.dynamodb
    assert stream is not None
    created = stream.approximate_creation_date_time
    moment = created if isinstance(created, datetime) else datetime.now(UTC)
    return Change(
        table=table_of(record.event_source_arn or ""),
        record_id=str(record.event_id),
        old=plain(stream.old_image) if stream.old_image else None,
        new=plain(stream.new_image) if stream.new_image else None,
        approximate_time=iso(moment.astimezone(UTC)),
    )


def publish_batch(records: Sequence[DynamoDBRecord]) -> dict[str, list[dict[str, str]]]:
    """Publish each record's events in order; report the first failure and everything after it."""
    for position, record in enumerate(records):
        try:
            publish_record(record)
        except Exception:
            logger.exception("publishing a stream record failed; the shard resumes from it")
            count("EventPublishFailed")
            failed = [r.dynamodb.sequence_number for r in records[position:] if r.dynamodb]
            return {"batchItemFailures": [{"itemIdentifier": str(sequence)} for sequence in failed]}
    return {"batchItemFailures": []}


def publish_record(record: DynamoDBRecord) -> list[DomainEvent]:
    change = change_of(record)
    events = events_of(change)
    level = _stock_level_change(change)
    if level is not None:
        events.append(level[0])
    publish(events)
    if level is not None:
        stock_levels.record(*level[1])
    return events


def publish(events: list[DomainEvent]) -> None:
    """Put the events on the bus, sending again what EventBridge refuses (a few times)."""
    bus = config.event_bus_name()
    pending = [event.entry(bus) for event in events]
    for attempt in range(PUT_EVENTS_ATTEMPTS):
        refused: list[dict[str, Any]] = []
        for start in range(0, len(pending), PUT_EVENTS_MOST):
            chunk = pending[start : start + PUT_EVENTS_MOST]
            answer = aws.events().put_events(Entries=chunk)
            refused += [
                entry for entry, result in zip(chunk, answer["Entries"], strict=True) if "ErrorCode" in result
            ]
        published = len(pending) - len(refused)
        if published:
            count("EventsPublished", published)
        if not refused:
            return
        pending = refused
        time.sleep(0.1 * 2**attempt)
    raise PublishFailed(f"EventBridge refused {len(pending)} event(s) of the record")


# -- stock levels -------------------------------------------------------------------------------------


def _stock_level_change(change: Change) -> tuple[DomainEvent, tuple[str, str, str | None]] | None:
    """The level event a stock change means, and what to record once it is published (sku, level,
    the level read), or None."""
    if change.table != "Inventory" or not str(change.item.get("sk", "")).startswith("LOC#"):
        return None
    if change.new is None or not change.changed("available"):
        return None
    sku = str(change.item["pk"]).removeprefix("SKU#")
    read = stock_levels.read(sku)
    level = read.level()
    previous = read.published or _level_before(read, change)
    quiet = level == "IN" and (previous == "LOW" or read.published is None)
    if level == previous or quiet:
        # Unchanged; back above the threshold without having run out; or stocked for the first time:
        # recorded, not announced.
        if level != read.published:
            stock_levels.record(sku, level, read.published)
        return None
    data = InventoryLevel(
        sku=sku, available=read.available, lowStockThreshold=read.threshold, locations=read.by_warehouse
    )
    event = DomainEvent.of(f"{change.record_id}-L", LEVEL_EVENTS[level], change.time(), sku, data)
    return event, (sku, level, read.published)


def _level_before(read: stock_levels.SkuStock, change: Change) -> str:
    """A SKU never published before: its level before this change, from the change itself."""
    before = int((change.old or {}).get("available", 0))
    after = int((change.new or {}).get("available", 0))
    return stock_levels.level_of(read.available - (after - before), read.threshold)
