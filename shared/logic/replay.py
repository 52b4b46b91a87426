"""POST /channels/{channelId}/replay: process archived deliveries again, e.g. after a fix.

Only authenticated deliveries are archived, so a replay does not check signatures again (the
secret may have changed since). It cannot create duplicates: an event already applied answers
DUPLICATE (Powertools idempotency, for 24 hours), and a channel order already held is never
created twice (the claim).
"""

from __future__ import annotations

from typing import Any

from shared.dal import channels, deliveries
from shared.errors import InvalidRequest, NotFound, OmsError
from shared.logic import intake
from shared.models.catalog import Channel
from shared.models.intake import Delivery, DeliveryResult, ReplayedError, ReplayReport, ReplayResult


def replay(channel_id: str, delivery_ids: list[str], lambda_context: Any = None) -> ReplayReport:
    channel = channels.get(channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} is not registered")
    found = {delivery_id: deliveries.get(delivery_id) for delivery_id in dict.fromkeys(delivery_ids)}
    missing = [i for i, d in found.items() if d is None or d.channelId != channel_id]
    if missing:
        raise NotFound(f"no such deliveries for channel {channel_id}", {"deliveryIds": missing})
    return ReplayReport(
        results=[_replay_one(channel, d, lambda_context) for d in found.values() if d is not None]
    )


def _replay_one(channel: Channel, delivery: Delivery, lambda_context: Any) -> ReplayResult:
    try:
        result = _process(channel, delivery, lambda_context)
    except OmsError as refused:
        details = refused.details if isinstance(refused, InvalidRequest) else None
        error = ReplayedError(code=refused.code, message=refused.message, details=details)
        return ReplayResult(deliveryId=delivery.deliveryId, error=error)
    return ReplayResult(deliveryId=delivery.deliveryId, result=result)


def _process(channel: Channel, delivery: Delivery, lambda_context: Any) -> DeliveryResult:
    if delivery.source == "queue":
        # Only replaying a queue channel's (Amazon's) deliveries needs its adapter: not loaded at import.
        from shared.logic import amazon_intake  # noqa: PLC0415

        return amazon_intake.process_notification(channel, delivery, lambda_context)
    return intake.process_webhook(channel, delivery, lambda_context)
