from __future__ import annotations

from datetime import UTC, datetime, timedelta


def now_iso() -> str:
    """UTC timestamp with milliseconds, lexically sortable."""
    return iso(datetime.now(UTC))


def iso_in(seconds: float) -> str:
    """The timestamp `seconds` from now, in the same format."""
    return iso(datetime.now(UTC) + timedelta(seconds=seconds))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def iso_after(timestamp: str, seconds: float) -> str:
    """The timestamp `seconds` after `timestamp`, in the same format."""
    return iso(parse(timestamp) + timedelta(seconds=seconds))


def seconds_until(timestamp: str) -> float:
    """From now until `timestamp` (negative once it passed)."""
    return (parse(timestamp) - datetime.now(UTC)).total_seconds()
