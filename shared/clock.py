from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """UTC timestamp with milliseconds, lexically sortable."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
