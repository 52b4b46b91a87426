from __future__ import annotations

from datetime import UTC, datetime, timedelta

# How far the OMS's clock is from the real one: always zero, but while the local runtime's demo
# history is being made (local/history.py), which dates the orders it places weeks back. Signatures,
# queue delays and record expiry keep the real time (they use time.time()).
_offset = timedelta(0)


def travel(offset: timedelta) -> None:
    """Set the clock `offset` from the real time (the local demo history only; never in Lambda)."""
    global _offset  # noqa: PLW0603 - one clock for the process, as it has one real clock
    _offset = offset


def now() -> datetime:
    return datetime.now(UTC) + _offset


def now_iso() -> str:
    """UTC timestamp with milliseconds, lexically sortable."""
    return iso(now())


def iso_in(seconds: float) -> str:
    """The timestamp `seconds` from now, in the same format."""
    return iso(now() + timedelta(seconds=seconds))


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def iso_after(timestamp: str, seconds: float) -> str:
    """The timestamp `seconds` after `timestamp`, in the same format."""
    return iso(parse(timestamp) + timedelta(seconds=seconds))


def seconds_until(timestamp: str) -> float:
    """From now until `timestamp` (negative once it passed)."""
    return (parse(timestamp) - now()).total_seconds()
