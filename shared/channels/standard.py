"""Channel type `api`: the OMS's own canonical order, signed per the Standard Webhooks spec."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from pydantic import ValidationError

from shared.channels import Headers, Inbound, OrderPlaced, required_header
from shared.errors import InvalidRequest, validation_message
from shared.models.order import CanonicalOrder
from shared.signatures import SignatureError, verify_standard_webhook


def authenticate(secrets: Sequence[str], headers: Headers, body: bytes) -> None:
    refusal = SignatureError("the channel has no webhook secret")
    for secret in secrets:
        try:
            verify_standard_webhook(secret, dict(headers), body)
            return
        except SignatureError as refused:
            refusal = refused
    raise refusal


def interpret(headers: Headers, body: bytes) -> Inbound:
    event_id = required_header(headers, "webhook-id")
    return Inbound(
        eventId=event_id,
        fingerprint=hashlib.sha256(body).hexdigest(),
        topic="order",
        action=OrderPlaced(order=parse_canonical_order(body)),
    )


def parse_canonical_order(body: bytes) -> CanonicalOrder:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise InvalidRequest("body is not valid JSON", [{"field": "body", "message": str(exc)}]) from exc
    try:
        return CanonicalOrder.model_validate(data)
    except ValidationError as invalid:
        raise InvalidRequest("order is invalid", field_errors(invalid)) from invalid


def field_errors(invalid: ValidationError) -> list[dict[str, str]]:
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "body",
            "message": validation_message(error),
        }
        for error in invalid.errors(include_url=False)
    ]
