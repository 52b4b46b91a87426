"""SQS batches of OMS events (copied from the bus by a rule): each becomes one delivery per matching
webhook subscription; each message succeeds or fails alone."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.logic import webhook_delivery
from shared.observability import lambda_entry

processor = BatchProcessor(event_type=EventType.SQS)


def _event(record: SQSRecord) -> None:
    webhook_delivery.fan_out(json.loads(record.body))


def _batch(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=_event, processor=processor, context=context)


lambda_handler = lambda_entry(_batch)
