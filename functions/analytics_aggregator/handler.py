"""SQS batches of order events (copied from the bus by a rule): each brings its order's analytics up
to date; each message succeeds or fails alone, and a message seen again changes nothing."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.logic import aggregation
from shared.observability import count, lambda_entry

processor = BatchProcessor(event_type=EventType.SQS)


def _event(record: SQSRecord) -> None:
    data = json.loads(record.body)["detail"]["data"]
    if aggregation.refresh(str(data["orderId"])):
        count("AnalyticsOrderRefreshed")


def _batch(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(event=event, record_handler=_event, processor=processor, context=context)


lambda_handler = lambda_entry(_batch)
