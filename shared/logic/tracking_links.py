"""Signed, expiring links to the customer tracking page: `/track?token=<order id>.<expiry>.<signature>`.

The signature is HMAC-SHA256, keyed with the secret the stack generates (`TrackingLinkKey`), over a
purpose label, the order id and the expiry (Unix seconds), so a token signs exactly one order until
one moment and nothing else made with the key. It is checked before the expiry is looked at: only a
token the OMS made can be told "expired" rather than "invalid". The token holds no secret (an order
id and a time) and needs no storage; it cannot be revoked before it expires except by changing the
key, which invalidates every link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.clock import iso
from shared.dal import orders, secrets
from shared.errors import NotFound, Unauthorized
from shared.models.order import OrderStatus
from shared.models.tracking_view import TrackingLink

PURPOSE = b"oms-tracking-link/v1"
PAGE_PATH = "/track"
DAY_SECONDS = 24 * 3600
# ord_ + 26 Crockford base32 characters, a Unix time, 32 bytes of base64url without padding.
_TOKEN = re.compile(
    r"^(?P<order>ord_[0-9A-HJKMNP-TV-Z]{26})\.(?P<expiry>[0-9]{1,12})\.(?P<mac>[A-Za-z0-9_-]{43})$"
)


class LinkInvalid(Unauthorized):
    code = "LINK_INVALID"


class LinkExpired(Unauthorized):
    code = "LINK_EXPIRED"


@dataclass(frozen=True)
class VerifiedLink:
    order_id: str
    expires_at: int


def _mac(key: bytes, order_id: str, expires_at: int) -> str:
    message = b"\n".join([PURPOSE, order_id.encode("ascii"), str(expires_at).encode("ascii")])
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(key: bytes, order_id: str, expires_at: int) -> str:
    if not _TOKEN.match(f"{order_id}.{expires_at}.{'A' * 43}"):
        raise ValueError(f"cannot sign a link to {order_id!r}")
    return f"{order_id}.{expires_at}.{_mac(key, order_id, expires_at)}"


def verify(key: bytes, token: str, now: float | None = None) -> VerifiedLink:
    """The order a token was signed for; LinkInvalid if the OMS did not make it, LinkExpired after."""
    parsed = _TOKEN.match(token)
    if parsed is None:
        raise LinkInvalid("this tracking link is not valid")
    order_id, expires_at = parsed["order"], int(parsed["expiry"])
    if not hmac.compare_digest(parsed["mac"], _mac(key, order_id, expires_at)):
        raise LinkInvalid("this tracking link is not valid")
    if (time.time() if now is None else now) >= expires_at:
        raise LinkExpired(
            "this tracking link has expired; look the order up with its number instead",
            {"expiredAt": iso_of(expires_at)},
        )
    return VerifiedLink(order_id, expires_at)


def iso_of(epoch_seconds: int) -> str:
    return iso(datetime.fromtimestamp(epoch_seconds, UTC))


def mint(order_id: str, expires_in_days: int, page_url: str, now: float | None = None) -> TrackingLink:
    """A link for the order's customer (what POST /orders/{orderId}/tracking-link and, later,
    notifications send). 404 for an unknown order; a REJECTED order has nothing to track."""
    order = orders.get(order_id)
    if order is None or order.status is OrderStatus.REJECTED:
        raise NotFound(
            f"order {order_id} does not exist" if order is None else f"order {order_id} was rejected"
        )
    expires_at = int(time.time() if now is None else now) + expires_in_days * DAY_SECONDS
    token = sign(secrets.tracking_link_key(), order_id, expires_at)
    return TrackingLink(url=f"{page_url}?token={token}", token=token, expiresAt=iso_of(expires_at))


def verified(token: str) -> VerifiedLink:
    return verify(secrets.tracking_link_key(), token)
