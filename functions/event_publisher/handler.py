"""DynamoDB Streams batches of the Orders, Returns and Inventory tables: the domain events each committed
change means, published on the EventBridge bus in commit order (the first record that fails, and every
record after it, is retried)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from shared.logic import event_publisher
from shared.observability import lambda_entry


def _batch(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    return event_publisher.publish_batch(list(DynamoDBStreamEvent(event).records))


lambda_handler = lambda_entry(_batch)
