"""Refunds: a return's refund sent through its channel's port, refunds made in the channel recorded,
and every one of them in the order's refund ledger (`shared/dal/refunds.py`) exactly once.

A return's refund is a small saga: (1) its entry is written PENDING with the balance going down, in
one transaction with the return (never more than was paid: the balance's conditions); (2) the
channel's refund port is called with the refund id as idempotency key (retried with backoff on
429/5xx inside the port); (3) the entry becomes SUCCEEDED, or MANUAL where the channel has no port.
If the channel refuses or keeps failing, the workflow's RecordRefundFailure undoes (1): the entry is
FAILED with the cause and the balance given back, once. A retried step finds its PENDING entry and
sends the same request again, which the channel's idempotency makes harmless.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared import clock
from shared.dal import channels, orders, refunds
from shared.dal import returns as returns_dal
from shared.dal.dynamo import TransactionConflict, transact
from shared.errors import TransientError
from shared.logic import refund_amounts
from shared.models.catalog import Channel, ChannelType
from shared.models.money import round_half_up
from shared.models.order import Order
from shared.models.refunds import ChannelRefund, RefundReceipt, RefundRequest, RefundRequestLine
from shared.models.returns import (
    RecordedRefund,
    RefundLine,
    RefundMethod,
    RefundStatus,
    Resolution,
    Return,
    ReturnPolicy,
    ReturnRefund,
    ReturnStatus,
    replacement_worth,
)
from shared.observability import count, logger

if TYPE_CHECKING:
    import shared.channels.refunds as ports


class RefundFailed(Exception):
    """The channel refused the refund or kept failing (the return workflow's Catch matches the name)."""


def terms_of(policy: ReturnPolicy, order: Order) -> refund_amounts.RefundTerms:
    return refund_amounts.RefundTerms(
        restocking_fee_percent=policy.restockingFeePercent, refund_shipping=policy.refundShipping.value
    )


def opening_balance(order: Order) -> refunds.Balance:
    assert order.currency is not None
    currency = order.currency
    lines = {
        line.index: (refunds.to_minor(line.paid, currency), line.quantity)
        for line in refund_amounts.paid_lines(order)
    }
    shipping, _ = refund_amounts.shipping_paid(order)
    return refunds.Balance(
        lines, refunds.to_minor(shipping, currency), refunds.to_minor(order.amount_due(), currency)
    )


def balance_for(order: Order) -> refunds.Balance:
    balance = refunds.read_balance(order.orderId)
    if balance is None:
        refunds.open_balance(order.orderId, opening_balance(order))
        balance = refunds.read_balance(order.orderId)
    assert balance is not None
    return balance


def already_refunded(
    balance: refunds.Balance | None, order: Order, currency: str
) -> refund_amounts.AlreadyRefunded:
    """What earlier refunds took, from the balance (paid minus what is left)."""
    if balance is None:
        return refund_amounts.AlreadyRefunded()
    return _already(balance, order, currency)


def _already(balance: refunds.Balance, order: Order | None, currency: str) -> refund_amounts.AlreadyRefunded:
    opened = opening_balance(order) if order is not None else None
    units: dict[int, int] = {}
    amounts: dict[int, Decimal] = {}
    for index, (left, units_left) in balance.lines.items():
        paid, quantity = opened.lines[index] if opened else (left, units_left)
        units[index] = quantity - units_left
        amounts[index] = refunds.from_minor(paid - left, currency)
    shipping = refunds.from_minor(
        (opened.shipping if opened else balance.shipping) - balance.shipping, currency
    )
    return refund_amounts.AlreadyRefunded(units=units, amounts=amounts, shipping=shipping)


# -- a return's refund ------------------------------------------------------------------------------


def refund_return(return_id: str) -> dict[str, Any]:
    """Workflow step Refund: the refund the receipt earns, recorded and sent; {outcome, total}."""
    item = returns_dal.require_item(return_id)
    found = Return.model_validate(item)
    if found.refund is not None and found.refund.status is not RefundStatus.PENDING:
        return {"outcome": found.refund.status.value, "total": str(found.refund.total)}
    order = orders.require(found.orderId)
    channel = channels.get(found.channelId)
    refund = found.refund or _record(item, found, order)
    if refund.total == 0:
        return {"outcome": refund.status.value, "total": str(refund.total)}
    status = RefundStatus.MANUAL if refund.method is RefundMethod.MANUAL else RefundStatus.SUCCEEDED
    at = clock.now_iso()
    recorded = refunds.get_entry(found.orderId, refund.refundId) if found.refund is not None else None
    receipt: RefundReceipt | None
    if recorded is not None and recorded.status is status:
        # Made by an attempt of this step that failed before the return said so: not sent again.
        receipt = RefundReceipt(channelRefundId=recorded.channelRefundId)
    else:
        receipt = _send(channel, order, found, refund)
        refunds.settle(found.orderId, refund.refundId, status, receipt, at)
    settled = refund.model_copy(
        update={"status": status, "channelRefundId": receipt.channelRefundId if receipt else None}
    )
    transact(
        [
            returns_dal.change_action(
                item,
                [ReturnStatus.RECEIVED],
                sets={"refund": settled.model_dump(mode="json", exclude_none=True)},
                entry=f"REFUND_{status.value}",
                reason=_refund_reason(settled),
                at=at,
            )
        ]
    )
    count(f"Refund{status.value.title()}")
    return {"outcome": status.value, "total": str(refund.total)}


def _refund_reason(refund: ReturnRefund) -> str:
    via = {
        RefundMethod.CHANNEL: "through the channel",
        RefundMethod.WEBHOOK: "by signed request",
        RefundMethod.MANUAL: "to be refunded by hand in the channel",
        RefundMethod.NONE: "",
    }[refund.method]
    return f"{refund.total} {refund.currency} {via}".strip()


def _method(channel: Channel | None) -> RefundMethod:
    if channel is None:
        return RefundMethod.MANUAL
    if channel.type in (ChannelType.SHOPIFY, ChannelType.WOOCOMMERCE) and channel.refundApi is not None:
        return RefundMethod.CHANNEL
    if channel.type is ChannelType.API and channel.refundUrl:
        return RefundMethod.WEBHOOK
    return RefundMethod.MANUAL


def _quote(found: Return, order: Order, balance: refunds.Balance) -> refund_amounts.RefundQuote:
    assert found.receipt is not None and order.currency is not None
    already = _already(balance, order, order.currency)
    returned = [
        refund_amounts.ReturnedUnits(line.sku, line.quantity, line.condition.value)
        for line in found.receipt.lines
        if line.quantity
    ]
    kept = refundable_units(order, returned, already)
    return refund_amounts.quote(order, kept, terms_of(found.policy, order), already)


def refundable_units(
    order: Order, returned: list[refund_amounts.ReturnedUnits], already: refund_amounts.AlreadyRefunded
) -> list[refund_amounts.ReturnedUnits]:
    """The returned units not refunded already (e.g. refunded in the shop before they came back):
    those are not refunded again. Damaged units are counted first (they carry no fee)."""
    left: dict[str, int] = {}
    for index, line in enumerate(order.lines):
        if line.requiresShipping:
            left[line.sku] = left.get(line.sku, 0) + line.quantity - already.units.get(index, 0)
    kept = []
    for units in sorted(returned, key=lambda u: u.condition != "DAMAGED"):
        quantity = min(units.quantity, max(0, left.get(units.sku, 0)))
        left[units.sku] = left.get(units.sku, 0) - quantity
        if quantity:
            kept.append(refund_amounts.ReturnedUnits(units.sku, quantity, units.condition))
    return kept


def _record(item: dict[str, Any], found: Return, order: Order) -> ReturnRefund:
    """Write the refund PENDING, with the balance going down, in one transaction with the return."""
    assert order.currency is not None
    # Read, not opened: an even exchange refunds nothing and writes no balance.
    balance = refunds.read_balance(order.orderId) or opening_balance(order)
    quote = _quote(found, order, balance)
    lines, shipping = _refunded_part(found, quote, order.currency)
    total = sum((line.amount for line in lines), Decimal("0")) + shipping
    method = _method(channels.get(found.channelId)) if total else RefundMethod.NONE
    status = RefundStatus.PENDING if total else RefundStatus.SUCCEEDED
    refund = ReturnRefund(
        refundId=f"{found.returnId}-RF",
        status=status,
        method=method,
        lines=lines,
        shipping=shipping,
        total=total,
        currency=order.currency,
    )
    at = clock.now_iso()
    entry = RecordedRefund(
        refundId=refund.refundId,
        origin="RETURN",
        status=status,
        method=method,
        returnId=found.returnId,
        lines={str(line.lineIndex): line.amount for line in lines},
        units={str(line.lineIndex): line.quantity for line in lines},
        shipping=shipping,
        total=total,
        at=at,
    )
    taken = refunds.Taken(
        lines={
            line.lineIndex: (refunds.to_minor(line.amount, order.currency), line.quantity) for line in lines
        },
        shipping=refunds.to_minor(shipping, order.currency),
        unallocated=0,
    )
    update = returns_dal.change_action(
        item,
        [ReturnStatus.RECEIVED],
        sets={"refund": refund.model_dump(mode="json", exclude_none=True)},
        entry="REFUND_RECORDED",
        reason=f"{total} {order.currency}",
        at=at,
        extra_condition="attribute_not_exists(refund)",
    )
    # Nothing to refund (an even exchange): the return says so, the ledger gets no empty entry.
    if total:
        refunds.open_balance(order.orderId, opening_balance(order))
    actions = [*refunds.record_actions(order.orderId, entry, taken), update] if total else [update]
    try:
        transact(actions)
    except TransactionConflict as conflict:
        stored = Return.model_validate(returns_dal.require_item(found.returnId)).refund
        if stored is None:
            # The balance moved meanwhile (a refund made in the channel came in): quote again.
            raise TransientError(
                f"the refund balance of order {order.orderId} changed; retrying"
            ) from conflict
        return stored  # recorded by an earlier attempt of this step
    return refund


def _refunded_part(
    found: Return, quote: refund_amounts.RefundQuote, currency: str
) -> tuple[list[RefundLine], Decimal]:
    """The quote's lines as refund lines; for a placed exchange only a price difference in the
    customer's favour (the returned goods pay for the replacement)."""
    lines = [
        RefundLine(
            lineIndex=q.index,
            sku=q.sku,
            quantity=q.quantity,
            resellable=q.resellable,
            damaged=q.damaged,
            gross=q.gross,
            fee=q.fee,
            amount=q.amount,
            tax=q.tax,
            capped=q.capped,
        )
        for q in quote.lines
    ]
    if found.resolution is Resolution.REFUND:
        return lines, quote.shipping
    worth = replacement_worth(found.exchangeLines)
    value = sum((line.amount for line in lines), Decimal("0"))
    if worth is None or worth >= value:
        return [
            line.model_copy(update={"amount": Decimal("0"), "tax": Decimal("0")}) for line in lines
        ], Decimal("0")
    share = (value - worth) / value
    return [_scaled(line, share, currency) for line in lines], Decimal("0")


def _scaled(line: RefundLine, share: Decimal, currency: str) -> RefundLine:
    amount = round_half_up(line.amount * share, currency)
    return line.model_copy(
        update={"amount": amount, "tax": min(amount, round_half_up(line.tax * share, currency))}
    )


def _send(channel: Channel | None, order: Order, found: Return, refund: ReturnRefund) -> RefundReceipt | None:
    if refund.method is RefundMethod.MANUAL or channel is None:
        logger.info(
            "refund left to a person", extra={"return_id": found.returnId, "total": str(refund.total)}
        )
        return None
    by_index = dict(enumerate(order.lines))
    request = RefundRequest(
        refundId=refund.refundId,
        orderId=order.orderId,
        channelOrderId=order.channelOrderId,
        currency=refund.currency,
        lines=[
            RefundRequestLine(
                channelLineId=by_index[line.lineIndex].channelLineId,
                channelTaxRateId=by_index[line.lineIndex].channelTaxRateId,
                sku=line.sku,
                quantity=line.quantity,
                amount=line.amount,
                tax=line.tax,
            )
            for line in refund.lines
            if line.amount or line.quantity
        ],
        shipping=refund.shipping,
        total=refund.total,
        reason=f"return {found.returnId}",
    )
    # The ports (HTTP clients of the channels' refund APIs) load with the first refund sent: most
    # functions importing this module never send one.
    import shared.channels.refunds as ports  # noqa: PLC0415

    try:
        return ports.send_refund(_target(channel), request)
    except (ports.RefundRefused, ports.RefundUnavailable) as failure:
        raise RefundFailed(str(failure)) from failure


def _target(channel: Channel) -> ports.ShopifyRefundApi | ports.WooCommerceRefundApi | ports.SignedRefundUrl:
    import shared.channels.refunds as ports  # noqa: PLC0415 - as in _send

    if channel.type is ChannelType.API:
        assert channel.refundUrl is not None and channel.webhookSecret is not None
        return ports.SignedRefundUrl(url=channel.refundUrl, secret=channel.webhookSecret)
    assert channel.refundApi is not None
    return channel.refundApi


def undo(found: Return, cause: str) -> list[dict[str, Any]]:
    """The actions that give a PENDING refund's amounts back and mark it FAILED."""
    refund = found.refund
    if refund is None or refund.status is not RefundStatus.PENDING:
        return []
    taken = refunds.Taken(
        lines={
            line.lineIndex: (refunds.to_minor(line.amount, refund.currency), line.quantity)
            for line in refund.lines
        },
        shipping=refunds.to_minor(refund.shipping, refund.currency),
        unallocated=0,
    )
    return refunds.undo_actions(found.orderId, refund.refundId, taken, cause[:1000], clock.now_iso())


# -- refunds made in the channel ---------------------------------------------------------------------


def record_channel_refunds(channel_id: str, seen: list[ChannelRefund]) -> int:
    """Record refunds the channel reports against their order, each once; a refund the OMS made
    itself (its note names our refund id) is only linked to our entry. Returns how many were new."""
    recorded = 0
    for refund in seen:
        order_id = orders.claimed_order_id(channel_id, refund.channelOrderId)
        if order_id is None:
            logger.info(
                "refund for an order the OMS does not hold", extra={"channel_order_id": refund.channelOrderId}
            )
            continue
        if refund.omsRefundId:
            refunds.note_channel_id(order_id, refund.omsRefundId, refund.channelRefundId)
            continue
        recorded += _record_channel_refund(orders.require(order_id), refund)
    return recorded


def _record_channel_refund(order: Order, refund: ChannelRefund) -> int:
    assert order.currency is not None
    currency = order.currency
    balance = balance_for(order)
    index_of = {line.channelLineId: i for i, line in enumerate(order.lines) if line.channelLineId}
    lines: dict[int, tuple[int, int]] = {}
    unallocated = refunds.to_minor(refund.unallocated, currency)
    for line in refund.lines:
        index = index_of.get(line.channelLineId)
        amount = refunds.to_minor(line.amount, currency)
        if index is None:
            unallocated += amount  # a line the OMS does not know (e.g. not shipped): counted in the total
            continue
        left, units_left = balance.lines.get(index, (0, 0))
        before = lines.get(index, (0, 0))
        lines[index] = (min(left, before[0] + amount), min(units_left, before[1] + line.quantity))
        unallocated += max(0, before[0] + amount - left)
    shipping = min(balance.shipping, refunds.to_minor(refund.shipping, currency))
    reported = refunds.to_minor(refund.total, currency)
    room = balance.total - sum(a for a, _ in lines.values()) - shipping
    unallocated = max(0, min(unallocated, room))
    taken = refunds.Taken(lines=lines, shipping=shipping, unallocated=unallocated)
    beyond = reported - taken.total
    note = refund.note
    if beyond > 0:
        # The channel refunded more than the ledger has left (e.g. a goodwill refund on top): kept
        # within what was paid, and said.
        excess = f"{refunds.from_minor(beyond, currency)} {currency} beyond what was left to refund"
        note = f"{note}; {excess}" if note else excess
        logger.warning(
            "channel refund beyond the balance", extra={"order_id": order.orderId, "excess": excess}
        )
    entry = RecordedRefund(
        refundId=f"CH-{refund.channelRefundId}",
        origin="CHANNEL",
        status=RefundStatus.SUCCEEDED,
        channelRefundId=refund.channelRefundId,
        lines={str(i): refunds.from_minor(a, currency) for i, (a, _) in lines.items()},
        units={str(i): u for i, (_, u) in lines.items()},
        shipping=refunds.from_minor(shipping, currency),
        unallocated=refunds.from_minor(unallocated, currency),
        total=refunds.from_minor(taken.total, currency),
        at=refund.processedAt or clock.now_iso(),
        note=note,
    )
    try:
        transact(refunds.record_actions(order.orderId, entry, taken))
    except TransactionConflict as conflict:
        if refunds.get_entry(order.orderId, entry.refundId) is not None:
            return 0  # recorded before (the same refund reported again)
        # The balance moved since we read it (a return's refund): the channel retries the delivery.
        raise TransientError(f"the refund balance of order {order.orderId} changed; retry") from conflict
    count("ChannelRefundRecorded")
    return 1
