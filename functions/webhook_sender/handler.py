"""SQS batches of due webhook deliveries: each is attempted concurrently with the others of its batch
(a subscriber that hangs until the timeout holds up no other), and succeeds or fails alone."""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from shared.logic import webhook_delivery
from shared.logic.webhook_delivery import DeliveryMessage
from shared.observability import lambda_entry

processor = AsyncBatchProcessor(event_type=EventType.SQS)


async def _delivery(record: SQSRecord) -> None:
    message = DeliveryMessage.model_validate_json(record.body)
    await asyncio.to_thread(webhook_delivery.attempt, message)


def _batch(event: dict[str, Any], context: Any) -> Any:
    return async_process_partial_response(
        event=event, record_handler=_delivery, processor=processor, context=context
    )


lambda_handler = lambda_entry(_batch)
