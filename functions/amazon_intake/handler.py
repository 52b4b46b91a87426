"""SQS batches of Amazon SP-API ORDER_CHANGE notifications; each message succeeds or fails alone."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.logic import amazon_intake
from shared.observability import logger, tracer, with_metrics

processor = BatchProcessor(event_type=EventType.SQS)


def _notification(record: SQSRecord, lambda_context: Any) -> None:
    amazon_intake.receive(record.body, amazon_intake.message_headers(record.raw_event), lambda_context)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@with_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(
        event=event, record_handler=_notification, processor=processor, context=context
    )
