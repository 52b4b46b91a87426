"""Carrier tracking in: a provider's webhook becomes the tracking history of the shipment it is about.

A delivery (`POST /tracking/{providerId}/webhooks`) is checked like a channel's: the body within the
limits every route has (413/400, `shared.api`), the provider registered (404), the signature (401);
it is then archived as it arrived and only then read by the provider's adapter (400 names the fields).
Each provider event is applied once (its event id). The tracker is matched to the fulfillment that
shipped with its carrier and tracking number (the claim the SHIPPED callback wrote); what the carrier
says is kept only if newer than what the fulfillment has, so a late event never moves it backward.
`delivered` then completes the fulfillment exactly as a DELIVERED callback does (the workflow moves
on); `return_to_sender` and `failure` flag the order for attention.
"""

from __future__ import annotations

from typing import Any

from shared.channels import lower_keys
from shared.clock import now_iso
from shared.dal import deliveries, fulfillments, orders, tracking_providers
from shared.dal.dynamo import TransactionConflict, pause_before_retry, transact
from shared.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from shared.logic import fulfillment
from shared.logic.once import once_per_key
from shared.models.intake import DeliveryResult
from shared.models.order import FulfillmentStatus
from shared.models.tracking import (
    EXCEPTION_STATUSES,
    Attention,
    ShipmentTracking,
    TrackerIgnored,
    TrackerUpdate,
    TrackingOutcome,
    TrackingProvider,
    TrackingProviderType,
    TrackingReceipt,
    TrackingResult,
    TrackingStatus,
    archive_key,
    carrier_key,
    tracking_number_key,
)
from shared.observability import correlate_with_order, count, logger
from shared.signatures import SignatureError
from shared.tracking import TrackingAdapter, aftership, easypost

ADAPTERS: dict[TrackingProviderType, TrackingAdapter] = {
    TrackingProviderType.EASYPOST: easypost,
    TrackingProviderType.AFTERSHIP: aftership,
}
# The fulfillment's tracking may be written concurrently by another event of the same tracker.
UPDATE_ATTEMPTS = 4
Item = dict[str, Any]


def receive(
    provider_id: str, headers: dict[str, str], body: bytes, lambda_context: Any = None
) -> TrackingReceipt:
    provider = _provider(provider_id)
    adapter = ADAPTERS[provider.type]
    _authenticate(provider, adapter, lower_keys(headers), body)
    delivery = deliveries.archive(archive_key(provider_id), "webhook", headers, body)
    try:
        update = adapter.interpret(provider_id, body)
    except InvalidRequest as invalid:
        deliveries.record_invalid(delivery.deliveryId, invalid)
        count("DeliveryInvalid")
        raise
    receipt = _apply_once(provider_id, update, lambda_context)
    result = DeliveryResult(outcome=receipt.outcome, orderId=receipt.orderId, reason=receipt.reason)
    deliveries.record_result(delivery.deliveryId, result, update.eventId)
    return TrackingReceipt(deliveryId=delivery.deliveryId, **receipt.model_dump())


def _provider(provider_id: str) -> TrackingProvider:
    provider = tracking_providers.get(provider_id)
    if provider is None:
        raise NotFound(f"tracking provider {provider_id} is not registered")
    return provider


def _authenticate(
    provider: TrackingProvider, adapter: TrackingAdapter, headers: dict[str, str], body: bytes
) -> None:
    try:
        adapter.authenticate(provider.secrets(now_iso()), headers, body)
    except SignatureError as refused:
        logger.warning(
            "tracking webhook signature refused",
            extra={
                "provider_id": provider.providerId,
                "provider_type": provider.type.value,
                "reason": str(refused),
            },
        )
        count("TrackingSignatureRefused")
        raise Unauthorized(f"webhook signature refused: {refused}") from refused


def _apply_once(
    provider_id: str, update: TrackerUpdate | TrackerIgnored, lambda_context: Any
) -> TrackingResult:
    if isinstance(update, TrackerIgnored):
        count("TrackingIgnored")
        return TrackingResult(outcome=TrackingOutcome.IGNORED, reason=update.reason)
    tracker = update

    def apply() -> dict[str, Any]:
        return apply_update(tracker).model_dump(mode="json")

    stored, ran_now = once_per_key(
        "tracker event",
        {"providerId": provider_id, "eventId": tracker.eventId},
        None,
        apply,
        lambda_context,
        key_name="event id",
    )
    applied = TrackingResult.model_validate(stored)
    if not ran_now:
        count("TrackingDuplicate")
        return applied.model_copy(update={"outcome": TrackingOutcome.DUPLICATE})
    return applied


def apply_update(update: TrackerUpdate) -> TrackingResult:
    """Keep what the carrier says on the fulfillment it is about, then act on it."""
    found = fulfillments.find_by_tracking(update.carrier, update.trackingNumber)
    item = fulfillments.get_item(*found) if found else None
    if item is None or not _same_shipment(item, update):
        logger.info("tracker for no known shipment", extra={"carrier": update.carrier})
        count("TrackingUnmatched")
        return TrackingResult(
            outcome=TrackingOutcome.UNMATCHED,
            trackingStatus=update.tracking.status,
            reason=f"no shipment with carrier {update.carrier} and tracking number {update.trackingNumber}",
        )
    correlate_with_order(item["orderId"])
    item, newer = _record(item, update.tracking)
    current = ShipmentTracking.model_validate(item["tracking"])
    applied = TrackingResult(
        outcome=TrackingOutcome.UPDATED if newer else TrackingOutcome.STALE,
        fulfillmentId=item["fulfillmentId"],
        orderId=item["orderId"],
        trackingStatus=current.status,
    )
    if newer:
        count("TrackingUpdated")
    # Also when this event was stale: a retry after a failure between the two writes completes it.
    return _deliver_if_delivered(item, current, applied)


def _same_shipment(item: Item, update: TrackerUpdate) -> bool:
    """The claim may be older than a correction of the fulfillment's carrier or number."""
    return carrier_key(item.get("carrier") or "") == carrier_key(update.carrier) and tracking_number_key(
        item.get("trackingNumber") or ""
    ) == tracking_number_key(update.trackingNumber)


def _record(item: Item, tracking: ShipmentTracking) -> tuple[Item, bool]:
    """Write `tracking` if newer than what the fulfillment has; returns the fulfillment as it is now
    and whether this write made it so."""
    for attempt in range(UPDATE_ATTEMPTS):
        if not _newer(item, tracking):
            return item, False
        try:
            transact(_record_actions(item, tracking))
        except TransactionConflict:
            pause_before_retry(attempt)
            fresh = fulfillments.get_item(item["orderId"], item["fulfillmentId"])
            if fresh is None:
                raise NotFound(f"fulfillment {item['fulfillmentId']} does not exist") from None
            item = fresh
            continue
        return {
            **item,
            "tracking": tracking.model_dump(mode="json"),
            "trackingUpdatedAt": tracking.updatedAt,
        }, True
    raise Conflict(
        f"the tracking of fulfillment {item['fulfillmentId']} changed concurrently; retry the event"
    )


def _newer(item: Item, tracking: ShipmentTracking) -> bool:
    recorded = item.get("trackingUpdatedAt")
    return recorded is None or recorded < tracking.updatedAt


def _record_actions(item: Item, tracking: ShipmentTracking) -> list[dict[str, Any]]:
    """The tracking, and when its status changed, the order's timeline (and its attention flag)."""
    actions = [fulfillments.tracking_action(item, tracking)]
    previous = (item.get("tracking") or {}).get("status")
    if previous == tracking.status.value:
        return actions
    at = now_iso()
    reason = _describe(item, tracking)
    actions.append(
        orders.timeline_put(item["orderId"], f"TRACKING_{tracking.status.value.upper()}", at, reason)
    )
    if tracking.status in EXCEPTION_STATUSES:
        attention = Attention(
            reason=reason, at=at, fulfillmentId=item["fulfillmentId"], trackingStatus=tracking.status
        )
        actions.append(orders.attention_action(item["orderId"], attention))
        logger.warning(
            "carrier exception",
            extra={"fulfillment_id": item["fulfillmentId"], "status": tracking.status.value},
        )
        count("CarrierException")
    return actions


def _describe(item: Item, tracking: ShipmentTracking) -> str:
    said = (
        f": {tracking.checkpoints[-1].message}"
        if tracking.checkpoints and tracking.checkpoints[-1].message
        else ""
    )
    return (
        f"fulfillment {item['fulfillmentId']} ({item.get('carrier')} {item.get('trackingNumber')}) "
        f"{tracking.status.value}{said}"
    )[:1000]


def _deliver_if_delivered(item: Item, tracking: ShipmentTracking, applied: TrackingResult) -> TrackingResult:
    if tracking.status is not TrackingStatus.DELIVERED or item["status"] != FulfillmentStatus.SHIPPED.value:
        return applied
    event = fulfillment.FulfillmentEventIn(type="DELIVERED", occurredAt=_delivered_at(tracking))
    try:
        fulfillment.apply_event(item["fulfillmentId"], event)
    except Conflict as refused:  # e.g. the order was cancelled meanwhile: the tracking is still kept
        logger.warning("tracker delivered a fulfillment that cannot be", extra={"reason": refused.message})
        return applied.model_copy(update={"reason": refused.message})
    count("DeliveredByTracker")
    return applied.model_copy(update={"outcome": TrackingOutcome.DELIVERED})


def _delivered_at(tracking: ShipmentTracking) -> str:
    """When the carrier delivered: its delivered checkpoint, else when the tracker said so."""
    delivered = [c.at for c in tracking.checkpoints if c.status is TrackingStatus.DELIVERED]
    return delivered[-1] if delivered else tracking.updatedAt
