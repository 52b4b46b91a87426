"""Outbound webhooks: subscriptions (what a retailer registers) and redelivery of dead letters.

Delivery itself is in `shared.logic.webhook_delivery`.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import secrets
from urllib.parse import urlsplit

from shared.clock import now_iso
from shared.dal import subscriptions
from shared.errors import Conflict, InvalidRequest, NotFound
from shared.logic import webhook_delivery
from shared.models.subscriptions import (
    SECRET_PREFIX,
    DeliveryStatus,
    RedeliverIn,
    RedeliverResult,
    Redelivery,
    RedeliveryOutcome,
    Subscription,
    SubscriptionIn,
    WebhookDelivery,
)

# Set by the local runtime only: there, a receiver on this machine may be plain http.
LOCAL_URLS_ENV = "WEBHOOK_LOCAL_URLS"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
REDELIVER_BATCH = 100


def local_urls_allowed() -> bool:
    return os.environ.get(LOCAL_URLS_ENV) == "allowed"


def check_url(url: str) -> None:
    """https to a public host; locally also http(s) to this machine. A 400 naming `url` otherwise."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises for a port that is not a number
    except ValueError as bad:
        raise _bad_url(f"url is not a URL ({bad})") from bad
    if parts.scheme not in ("https", "http") or not host:
        raise _bad_url("url must be an absolute https URL")
    if parts.username is not None or parts.password is not None:
        raise _bad_url("url must not carry credentials: the signature authenticates each delivery")
    if parts.fragment:
        raise _bad_url("url must not have a #fragment")
    on_this_machine = host in LOCAL_HOSTS
    if local_urls_allowed() and on_this_machine:
        return
    if parts.scheme != "https":
        raise _bad_url("url must be https (http is accepted only locally, to localhost or 127.0.0.1)")
    if on_this_machine or host.endswith(".localhost") or not _public(host):
        raise _bad_url(f"url must reach a public host, not {host}")


def _public(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        return True  # a name: its addresses are the receiver's business (see docs/design.md)


def _bad_url(message: str) -> InvalidRequest:
    return InvalidRequest(message, [{"field": "url", "message": message}])


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def put_subscription(subscription_id: str, data: SubscriptionIn) -> tuple[Subscription, bool, str | None]:
    """Create or replace it; returns it, whether it is new, and the secret if one was generated."""
    check_url(data.url)
    existing = subscriptions.get(subscription_id)
    generated = None if data.secret or existing else generate_secret()
    now = now_iso()
    subscription = Subscription(
        subscriptionId=subscription_id,
        url=data.url,
        eventTypes=[str(event_type) for event_type in data.eventTypes],
        secret=data.secret or (existing.secret if existing else generated) or "",
        description=data.description,
        createdAt=existing.createdAt if existing else now,
        updatedAt=now,
    )
    if not subscriptions.put(subscription, create=existing is None):
        raise Conflict(
            f"subscription {subscription_id} was changed at the same time; send it again",
            {"subscriptionId": subscription_id},
        )
    return subscription, existing is None, generated


def require(subscription_id: str) -> Subscription:
    subscription = subscriptions.get(subscription_id)
    if subscription is None:
        raise NotFound(f"subscription {subscription_id} does not exist")
    return subscription


def redeliver(subscription_id: str, request: RedeliverIn) -> RedeliverResult:
    """Queue the named deliveries again, or every dead letter (FAILED), from the schedule's start."""
    require(subscription_id)
    if request.deliveryIds:
        found = {
            d: subscriptions.get_delivery(subscription_id, d) for d in dict.fromkeys(request.deliveryIds)
        }
        more = False
    else:
        failed, cursor = subscriptions.deliveries_page(
            subscription_id, REDELIVER_BATCH, None, DeliveryStatus.FAILED
        )
        found = {delivery.deliveryId: delivery for delivery in failed}
        more = cursor is not None
    return RedeliverResult(
        redeliveries=[
            Redelivery(deliveryId=d, outcome=_redeliver(delivery)) for d, delivery in found.items()
        ],
        more=more,
    )


def _redeliver(delivery: WebhookDelivery | None) -> RedeliveryOutcome:
    if delivery is None:
        return RedeliveryOutcome.NOT_FOUND
    if delivery.status == DeliveryStatus.PENDING:
        return RedeliveryOutcome.ALREADY_PENDING
    queued = webhook_delivery.restart(delivery)
    return RedeliveryOutcome.QUEUED if queued else RedeliveryOutcome.ALREADY_PENDING
