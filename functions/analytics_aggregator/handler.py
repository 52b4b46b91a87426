"""SQS batches of order events (copied from the bus by a rule): the batch's orders are brought up to
date together, their changes combined into as few transactions as fit (one write per scope and day
for the whole batch, not one per event). A message seen again changes nothing. When the combined
write fails, each order is tried alone, so only the messages of an order that still fails are
retried (ReportBatchItemFailures)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SQSEvent

from shared.logic import aggregation
from shared.observability import count, lambda_entry, logger


def _order_id(body: str) -> str:
    return str(json.loads(body)["detail"]["data"]["orderId"])


def _batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    by_order: dict[str, list[str]] = {}
    failed: list[str] = []
    for record in SQSEvent(event).records:
        try:
            by_order.setdefault(_order_id(record.body), []).append(record.message_id)
        except (ValueError, KeyError, TypeError):
            logger.exception(
                "an analytics message without an order id", extra={"messageId": record.message_id}
            )
            failed.append(record.message_id)
    try:
        changed = aggregation.refresh_many(by_order)
    except Exception:
        logger.exception("combined analytics write failed; applying each order alone")
        changed = set()
        for order_id, message_ids in by_order.items():
            try:
                if aggregation.refresh(order_id):
                    changed.add(order_id)
            except Exception:
                logger.exception("analytics of an order failed", extra={"order_id": order_id})
                failed += message_ids
    if changed:
        count("AnalyticsOrderRefreshed", len(changed))
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}


lambda_handler = lambda_entry(_batch)
