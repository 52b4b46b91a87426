"""Webhook signature schemes, computed and verified in constant time."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import unicodedata
from collections.abc import Mapping, Sequence

STANDARD_WEBHOOK_TOLERANCE_SECONDS = 5 * 60


class SignatureError(Exception):
    """The delivery is not authentic; the message says why (never the secret)."""


def standard_webhook_key(secret: str) -> bytes:
    """Standard Webhooks secrets are `whsec_` + base64; any other string is used as raw UTF-8 bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    return secret.encode("utf-8")


def standard_webhook_signature(secret: str, message_id: str, timestamp: int | str, body: bytes) -> str:
    """The `webhook-signature` header value (`v1,<base64 HMAC-SHA256>`) for one delivery."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_standard_webhook(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    now: float | None = None,
    tolerance: int = STANDARD_WEBHOOK_TOLERANCE_SECONDS,
) -> str:
    """Check a Standard Webhooks delivery; return its `webhook-id` or raise SignatureError."""
    lowered = {k.lower(): v for k, v in headers.items()}
    message_id = lowered.get("webhook-id")
    timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (message_id and timestamp and signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError("webhook-timestamp is not a number of seconds")
    sent_at = int(timestamp)
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise SignatureError("webhook-timestamp is outside the accepted window")
    expected = standard_webhook_signature(secret, message_id, sent_at, body)
    # The header may carry several space-separated signatures (e.g. during secret rotation).
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures.split()):
        raise SignatureError("no signature matches")
    return message_id


def base64_hmac_sha256(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key=UTF-8 secret, msg=raw body)): Shopify's and WooCommerce's scheme."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_base64_hmac(header: str, secrets: Sequence[str], headers: Mapping[str, str], body: bytes) -> None:
    """Accept the delivery if the `header` (lower-case name) matches one of `secrets` (the current
    one, then the previous one during a rotation); raise SignatureError otherwise.

    An empty secret is never used: its HMAC is a checksum anyone can compute. Every secret is tried
    (no early exit), so the time taken does not tell which one matched.
    """
    received = headers.get(header, "").strip()
    if not received:
        raise SignatureError(f"missing {header} header")
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise SignatureError("no webhook secret is configured")
    received_bytes = received.encode("utf-8")
    matches = [
        hmac.compare_digest(base64_hmac_sha256(secret, body).encode("ascii"), received_bytes)
        for secret in usable
    ]
    if not any(matches):
        raise SignatureError(f"{header} does not match the body")


def easypost_signature(secret: str, body: bytes) -> str:
    """EasyPost's `X-Hmac-Signature`: `hmac-sha256-hex=` + hex HMAC-SHA256 of the raw body, keyed with
    the NFKD-normalized secret (as EasyPost's client libraries verify it)."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_easypost(secrets: Sequence[str], headers: Mapping[str, str], body: bytes) -> None:
    """Accept the delivery if `x-hmac-signature` matches one of `secrets`; raise SignatureError otherwise."""
    received = headers.get("x-hmac-signature", "").strip().encode("utf-8")
    if not received:
        raise SignatureError("missing x-hmac-signature header")
    usable = [secret for secret in secrets if secret]
    if not usable:
        raise SignatureError("no webhook secret is configured")
    matches = [
        hmac.compare_digest(easypost_signature(secret, body).encode("utf-8"), received) for secret in usable
    ]
    if not any(matches):
        raise SignatureError("x-hmac-signature does not match the body")
