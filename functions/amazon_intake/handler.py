"""SQS batches of Amazon SP-API ORDER_CHANGE notifications; each message succeeds or fails alone."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.logic import amazon_intake
from shared.observability import forget_order, lambda_entry

processor = BatchProcessor(event_type=EventType.SQS)


def _notification(record: SQSRecord, lambda_context: Any) -> None:
    forget_order()  # the previous record's order, if any, is not this one's
    amazon_intake.receive(record.body, amazon_intake.message_headers(record.raw_event), lambda_context)


def _batch(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(
        event=event, record_handler=_notification, processor=processor, context=context
    )


lambda_handler = lambda_entry(_batch)
