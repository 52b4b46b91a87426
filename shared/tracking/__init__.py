"""Tracking-provider adapters: each turns one provider's webhook deliveries into `TrackerUpdate`s.

Like the channel adapters (`shared.channels`), an adapter knows its provider's wire format and nothing
about storage: it verifies a delivery and reads it as a provider-neutral tracker update (or as
something to acknowledge). `shared.logic.tracking` does the rest the same way for every provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from shared.clock import iso
from shared.errors import InvalidRequest, validation_message
from shared.models.tracking import MAX_CHECKPOINTS, Checkpoint, TrackerIgnored, TrackerUpdate

Headers = Mapping[str, str]


class TrackingAdapter(Protocol):
    def authenticate(self, secrets: Sequence[str], headers: Headers, body: bytes) -> None: ...

    def interpret(self, provider_id: str, body: bytes) -> TrackerUpdate | TrackerIgnored: ...


def utc_timestamp(value: Any, field: str) -> str:
    """A provider's date-time (ISO 8601 with an offset, or a Unix time) as the OMS's UTC timestamp."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (TypeError, ValueError, OverflowError) as bad:
        raise invalid(field, "is not a date-time") from bad
    if moment.tzinfo is None:
        raise invalid(field, "has no UTC offset")
    return iso(moment.astimezone(UTC))


def date_only(value: Any) -> str | None:
    """A provider's estimated delivery date or date-time, as YYYY-MM-DD (None when absent or unreadable)."""
    text = str(value or "")[:10]
    try:
        return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
    except ValueError:
        return None


def text(value: Any, most: int = 128) -> str | None:
    """A provider's free text, trimmed and cut to `most` characters; None when empty."""
    if value is None:
        return None
    stripped = str(value).strip()
    return stripped[:most] or None


def latest_checkpoints(checkpoints: list[Checkpoint]) -> list[Checkpoint]:
    """Oldest first, at most MAX_CHECKPOINTS (the newest ones)."""
    return sorted(checkpoints, key=lambda checkpoint: checkpoint.at)[-MAX_CHECKPOINTS:]


def mapping(value: Any) -> dict[str, Any]:
    """A nested object of the provider's body, or {} where it is absent or not an object."""
    return value if isinstance(value, dict) else {}


def invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{field} {message}", [{"field": field, "message": message}])


def build(model: type[TrackerUpdate], data: dict[str, Any]) -> TrackerUpdate:
    """The update, or a 400 that names each field the provider's body got wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(part) for part in problem["loc"]), "message": validation_message(problem)}
            for problem in error.errors()
        ]
        raise InvalidRequest("the tracker in the body is not usable", problems) from error
