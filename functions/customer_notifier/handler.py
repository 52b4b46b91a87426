"""SQS batches of domain events (each the EventBridge event, `detail` the DomainEvent envelope): each
may mean an e-mail to the order's customer; each succeeds or fails alone."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.logic import notifications
from shared.models.events import DomainEvent
from shared.observability import forget_order, lambda_entry

processor = BatchProcessor(event_type=EventType.SQS)


def _event(record: SQSRecord, lambda_context: Any) -> None:
    forget_order()  # the previous record's order, if any, is not this one's
    # A body that is no OMS event raises: retried, then kept in the dead-letter queue to look at.
    event = DomainEvent.model_validate(json.loads(record.body)["detail"])
    notifications.notify(event, lambda_context)


def _batch(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=_event, processor=processor, context=context)


lambda_handler = lambda_entry(_batch)
