"""How long a backordered order waits, and for which SKUs."""

from __future__ import annotations

from shared.logic.backorders import expiry_reason, wait_for
from shared.logic.reservation import _short_skus
from shared.models.order import BackorderWait, Order
from shared.models.sourcing import Unplannable, UnplannableCode, UnplannableReason
from tests.unit.test_models import canonical


def order(**extra: object) -> Order:
    lines = [
        {"sku": "A", "quantity": 2, "unitPrice": "1.00"},
        {"sku": "B", "quantity": 1, "unitPrice": "1.00"},
    ]
    return Order.model_validate(
        canonical(lines=lines)
        | {"orderId": "o-1", "channelId": "c", "status": "BACKORDERED", "createdAt": "x", "updatedAt": "x"}
        | extra
    )


def test_a_wait_counts_from_the_first_backorder_and_lists_the_short_skus():
    first = wait_for(order(), ["A"], max_wait_days=14, day_seconds=86400, seen={"A": 1, "B": 9})
    assert first.until[:10] == _days_after(first.since, 14)
    assert (first.skus, first.seenAvailable) == (["A"], {"A": 1})

    earlier = BackorderWait(since="2026-01-01T00:00:00.000Z", until="x", skus=["A"])
    again = wait_for(order(backorder=earlier), ["A"], max_wait_days=2, day_seconds=86400, seen={"A": 1})
    assert (again.since, again.until) == ("2026-01-01T00:00:00.000Z", "2026-01-03T00:00:00.000Z")


def test_without_a_short_sku_every_sku_of_the_order_can_wake_it():
    wait = wait_for(order(), [], max_wait_days=1, day_seconds=60, seen={"A": 5, "B": 5})
    assert wait.skus == ["A", "B"]
    assert expiry_reason(wait).startswith("BACKORDER_EXPIRED: no stock of A, B since ")


def test_the_short_skus_are_the_shortages_named_by_sourcing():
    reasons = [
        UnplannableReason(code=UnplannableCode.SHORTAGE, message="B short", details={"sku": "B"}),
        UnplannableReason(code=UnplannableCode.SHORTAGE, message="A short", details={"sku": "A"}),
    ]
    assert _short_skus(Unplannable(reasons=reasons)) == ["A", "B"]
    too_many = UnplannableReason(code=UnplannableCode.TOO_MANY_SHIPMENTS, message="3 needed")
    assert _short_skus(Unplannable(reasons=[too_many])) == []


def _days_after(timestamp: str, days: int) -> str:
    from datetime import datetime, timedelta

    return (
        (datetime.fromisoformat(timestamp.replace("Z", "+00:00")) + timedelta(days=days)).date().isoformat()
    )
