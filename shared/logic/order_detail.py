"""An order as GET /orders/{orderId} shows it: with its returns, its refunds, and one timeline."""

from __future__ import annotations

from shared.dal import orders, refunds
from shared.dal import returns as returns_dal
from shared.models.order import TimelineEntry
from shared.models.returns import OrderDetail


def detail(order_id: str) -> OrderDetail:
    view = orders.view(order_id)
    _, found = returns_dal.of_order(order_id)
    events = [
        TimelineEntry(
            status=f"RETURN_{entry.status}",
            at=entry.at,
            reason=f"return {r.returnId}: {entry.reason or ''}".rstrip(": "),
        )
        for r in found
        for entry in r.timeline
    ]
    return OrderDetail(
        **view.model_dump(exclude={"timeline"}),
        timeline=sorted([*view.timeline, *events], key=lambda e: e.at),
        returns=found,
        refunds=refunds.entries(order_id),
    )
