"""Refund arithmetic for returns: what each line cost the customer, and what returned units give back.

Pure (no I/O). Money is Decimal in the order's currency; every amount here is exact in the currency's
smallest unit (ISO 4217 minor units: 0.01 USD, 1 JPY, 0.001 KWD).

1. What each line cost (`paid_lines`). A line's `paid` is its amount due (unit price x quantity less
   its discount, plus its tax unless the prices include tax) less its share of the order discount
   (`orderDiscount`: the discount on the whole order that the channel did not spread over the lines).
   The order discount is shared over the lines in proportion to their amounts due, in whole smallest
   units, exactly (largest-remainder method): each line gets the whole units of its exact share, and
   the units left over go one each to the lines with the largest remainders, ties to the earlier
   line, so the shares sum to the order discount. An order discount above the lines' total (the
   validator lets it reach into shipping) takes all of every line's amount, and the rest comes off
   shipping. A line's `tax` is the part of `paid` that is tax: its taxAmount reduced in the
   proportion its share reduces the line (paid / amount due), rounded, never more than `paid`.
2. What shipping cost (`shipping_paid`): shippingPrice + shippingTax (the tax not added when the
   prices include it) less the order discount left over from the lines; its tax reduced likewise.
   The lines' `paid` and the shipping sum to exactly `order.amount_due()`.
3. Units of a line (`refund_of_units`), with cumulative rounding: the first k units of a line are
   worth round(paid x k / quantity), so units before+1 .. before+units are worth
   round(paid x (before+units) / quantity) - round(paid x before / quantity), the same for tax.
   Returning all of a line's units, in any batches, sums to exactly its `paid` and `tax`, and never
   to more at any point.
4. A quote for returned units (`quote`):
   - the units of a SKU go to that SKU's lines that require shipping, in line order, after the units
     of each line refunded already (`AlreadyRefunded.units`); more units than remain is a ValueError
     naming the SKU;
   - each line's gross and tax are `refund_of_units` of its units, in the order they are allocated
     (after the units refunded already and those allocated earlier in the same quote);
   - the restocking fee is charged on RESELLABLE units only (damaged goods are the retailer's loss,
     not the customer's): round(gross of the resellable units x percent / 100);
   - amount = gross - fee, capped so that what the line had refunded already (any origin: a refund
     made in the channel counts) plus amount never exceeds the line's `paid`; `capped` is what the
     cap cut. The line's tax is reduced in proportion (amount / gross), rounded, never above amount
     (so on a line whose tax is nearly all of it and whose units are worth less than a smallest unit
     each, a return's tax can be cut and its returns' taxes add up to a little less than the line's
     tax; the amounts are exact all the same);
   - shipping: ALWAYS refunds the shipping not refunded yet (shipping_paid - already refunded, not
     below 0), with its tax in proportion; IF_DAMAGED the same, but only when a returned unit is
     DAMAGED; NEVER nothing;
   - total = the lines' amounts + shipping. Lines with no units in the quote are not listed.
5. `expected_refund`: the quote as if every returned unit came back RESELLABLE.

Rounding: every rounding here (tax parts, units, fees) rounds to the currency's smallest unit with a
`decimal` rounding mode, ROUND_HALF_UP by default (halves away from zero, as WooCommerce's PHP
round() and Shopify do; the same as `money.round_half_up`). `RefundTerms.rounding` lets a channel
round its own way. Sharing the order discount is exact and not a rounding.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from shared.models.money import minor_units, smallest_unit
from shared.models.order import CanonicalOrder

Condition = Literal["RESELLABLE", "DAMAGED"]
ShippingRefund = Literal["NEVER", "IF_DAMAGED", "ALWAYS"]
RESELLABLE: Condition = "RESELLABLE"
DAMAGED: Condition = "DAMAGED"
CONDITIONS = (RESELLABLE, DAMAGED)
SHIPPING_REFUNDS = ("NEVER", "IF_DAMAGED", "ALWAYS")
ROUNDINGS = frozenset(
    {
        decimal.ROUND_UP,
        decimal.ROUND_DOWN,
        decimal.ROUND_CEILING,
        decimal.ROUND_FLOOR,
        decimal.ROUND_HALF_UP,
        decimal.ROUND_HALF_DOWN,
        decimal.ROUND_HALF_EVEN,
        decimal.ROUND_05UP,
    }
)
ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PaidLine:
    """What a line of the order cost the customer: `paid` in all (tax included), `tax` of it."""

    index: int
    sku: str
    quantity: int
    paid: Decimal
    tax: Decimal


@dataclass(frozen=True)
class ReturnedUnits:
    sku: str
    quantity: int
    condition: Condition

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity < 0:
            raise ValueError(f"{self.sku}: the quantity returned must be a whole number, 0 or more")
        if self.condition not in CONDITIONS:
            raise ValueError(f"{self.sku}: the condition must be one of {', '.join(CONDITIONS)}")


@dataclass(frozen=True)
class RefundTerms:
    restocking_fee_percent: Decimal
    refund_shipping: ShippingRefund
    rounding: str = ROUND_HALF_UP

    def __post_init__(self) -> None:
        percent: Any = self.restocking_fee_percent
        if isinstance(percent, bool) or not isinstance(percent, Decimal | int):
            raise ValueError("restocking_fee_percent must be a Decimal (a float would lose precision)")
        percent = Decimal(percent)
        if not percent.is_finite() or not ZERO <= percent <= HUNDRED:
            raise ValueError("restocking_fee_percent must be between 0 and 100")
        object.__setattr__(self, "restocking_fee_percent", percent)
        if self.refund_shipping not in SHIPPING_REFUNDS:
            raise ValueError(f"refund_shipping must be one of {', '.join(SHIPPING_REFUNDS)}")
        if self.rounding not in ROUNDINGS:
            raise ValueError("rounding must be one of the decimal module's ROUND_* modes")


@dataclass(frozen=True)
class AlreadyRefunded:
    """What earlier refunds (of any origin) gave back: units and amount per line index, and shipping."""

    units: Mapping[int, int] = field(default_factory=dict)
    amounts: Mapping[int, Decimal] = field(default_factory=dict)
    shipping: Decimal = ZERO


NOTHING_REFUNDED = AlreadyRefunded()


@dataclass(frozen=True)
class QuotedLine:
    """A line of a quote: `quantity` units (`resellable` + `damaged`) worth `gross`, less `fee`,
    refunded as `amount` (of which `tax` is tax); `capped` is what the line's cap cut."""

    index: int
    sku: str
    quantity: int
    resellable: int
    damaged: int
    gross: Decimal
    fee: Decimal
    amount: Decimal
    tax: Decimal
    capped: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "sku": self.sku,
            "quantity": self.quantity,
            "resellable": self.resellable,
            "damaged": self.damaged,
            "gross": str(self.gross),
            "fee": str(self.fee),
            "amount": str(self.amount),
            "tax": str(self.tax),
            "capped": str(self.capped),
        }


@dataclass(frozen=True)
class RefundQuote:
    lines: list[QuotedLine]
    shipping: Decimal
    shipping_tax: Decimal
    total: Decimal
    fee_total: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": [line.as_dict() for line in self.lines],
            "shipping": str(self.shipping),
            "shippingTax": str(self.shipping_tax),
            "total": str(self.total),
            "feeTotal": str(self.fee_total),
        }


# ---- what the order cost -----------------------------------------------------------------------------


def paid_lines(order: CanonicalOrder, rounding: str = ROUND_HALF_UP) -> list[PaidLine]:
    """What every line of the order cost the customer, its share of the order discount taken off."""
    dues = _dues(order)
    shares = _discount_shares(dues, order.orderDiscount, order.currency)
    paid: list[PaidLine] = []
    for index, (line, due, share) in enumerate(zip(order.lines, dues, shares, strict=True)):
        amount = due - share
        tax = min(_in_proportion(line.taxAmount, amount, due, order.currency, rounding), amount)
        paid.append(
            PaidLine(
                index=index,
                sku=line.sku,
                quantity=line.quantity,
                paid=_exact(amount, order.currency),
                tax=_exact(tax, order.currency),
            )
        )
    return paid


def shipping_paid(order: CanonicalOrder, rounding: str = ROUND_HALF_UP) -> tuple[Decimal, Decimal]:
    """(amount, tax) the customer paid for shipping: the tax included, the order discount the
    lines could not take off."""
    charged = order.shippingPrice + (ZERO if order.taxesIncluded else order.shippingTax)
    left_over = max(order.orderDiscount - sum(_dues(order), ZERO), ZERO)
    if left_over > charged:
        raise ValueError("the order discount exceeds the order's lines and shipping")
    amount = charged - left_over
    tax = min(_in_proportion(order.shippingTax, amount, charged, order.currency, rounding), amount)
    return _exact(amount, order.currency), _exact(tax, order.currency)


def _dues(order: CanonicalOrder) -> list[Decimal]:
    return [line.amount_due(order.taxesIncluded) for line in order.lines]


def _discount_shares(dues: list[Decimal], discount: Decimal, currency: str) -> list[Decimal]:
    """Each line's share of the order discount, in proportion to its amount due, in whole smallest
    units (largest remainder, ties to the earlier line): the shares sum to the discount, or to the
    lines' total when the discount is larger (the rest comes off shipping)."""
    if discount >= sum(dues, ZERO):
        return list(dues)
    due_units = [_units(due, currency) for due in dues]
    total_units = sum(due_units)  # > 0, as it exceeds the discount
    discount_units = _units(discount, currency)
    exact = [divmod(discount_units * units, total_units) for units in due_units]
    left = discount_units - sum(whole for whole, _ in exact)
    by_remainder = sorted(range(len(dues)), key=lambda index: (-exact[index][1], index))
    extra = set(by_remainder[:left])
    return [_amount(whole + (index in extra), currency) for index, (whole, _) in enumerate(exact)]


# ---- what returned units give back -----------------------------------------------------------------


def refund_of_units(
    line: PaidLine, units_before: int, units: int, currency: str, rounding: str = ROUND_HALF_UP
) -> tuple[Decimal, Decimal]:
    """(amount, tax) of `units` units of the line, after `units_before` units refunded already."""
    if units < 0 or units_before < 0 or units_before + units > line.quantity:
        raise ValueError(
            f"{line.sku} (line {line.index}): cannot refund {units} units"
            f" after {units_before} of its {line.quantity}"
        )
    after = units_before + units

    def worth(amount: Decimal, count: int) -> Decimal:
        return _round(amount * count / line.quantity, currency, rounding)

    return (
        worth(line.paid, after) - worth(line.paid, units_before),
        worth(line.tax, after) - worth(line.tax, units_before),
    )


def quote(
    order: CanonicalOrder,
    returned: Sequence[ReturnedUnits],
    terms: RefundTerms,
    already: AlreadyRefunded = NOTHING_REFUNDED,
) -> RefundQuote:
    """What returning these units refunds, under these terms, after what was refunded already."""
    paid = paid_lines(order, terms.rounding)
    allocated = _allocate(order, returned, already)
    lines = [
        _quote_line(paid[index], pieces, terms, already, order.currency)
        for index, pieces in sorted(allocated.items())
    ]
    shipping, shipping_tax = _shipping_refund(order, returned, terms, already)
    currency = order.currency
    return RefundQuote(
        lines=lines,
        shipping=shipping,
        shipping_tax=shipping_tax,
        total=_exact(sum((line.amount for line in lines), shipping), currency),
        fee_total=_exact(sum((line.fee for line in lines), ZERO), currency),
    )


def expected_refund(
    order: CanonicalOrder,
    returned_lines: Sequence[tuple[str, int]],
    terms: RefundTerms,
    already: AlreadyRefunded = NOTHING_REFUNDED,
) -> RefundQuote:
    """The quote for these (sku, units) if every unit comes back RESELLABLE."""
    returned = [ReturnedUnits(sku, units, RESELLABLE) for sku, units in returned_lines]
    return quote(order, returned, terms, already)


Pieces = list[tuple[Condition, int]]


def _allocate(
    order: CanonicalOrder, returned: Sequence[ReturnedUnits], already: AlreadyRefunded
) -> dict[int, Pieces]:
    """The returned units per line index, as (condition, units) in the order they are allocated."""
    left = {
        index: line.quantity - _units_before(already, index, line.quantity)
        for index, line in enumerate(order.lines)
        if line.requiresShipping
    }
    _refuse_too_many(order, returned, left)
    allocated: dict[int, Pieces] = {}
    for item in returned:
        wanted = item.quantity
        for index in (i for i in left if order.lines[i].sku == item.sku):
            taken = min(wanted, left[index])
            if taken:
                allocated.setdefault(index, []).append((item.condition, taken))
                left[index] -= taken
                wanted -= taken
    return allocated


def _refuse_too_many(order: CanonicalOrder, returned: Sequence[ReturnedUnits], left: dict[int, int]) -> None:
    wanted: dict[str, int] = {}
    for item in returned:
        wanted[item.sku] = wanted.get(item.sku, 0) + item.quantity
    for sku, units in wanted.items():
        remaining = sum(units_left for i, units_left in left.items() if order.lines[i].sku == sku)
        if units > remaining:
            raise ValueError(f"SKU {sku}: {units} units returned, only {remaining} left to refund")


def _units_before(already: AlreadyRefunded, index: int, quantity: int) -> int:
    """Units of the line refunded already (no more than the line has)."""
    return min(already.units.get(index, 0), quantity)


def _quote_line(
    line: PaidLine, pieces: Pieces, terms: RefundTerms, already: AlreadyRefunded, currency: str
) -> QuotedLine:
    before = _units_before(already, line.index, line.quantity)
    gross = {RESELLABLE: ZERO, DAMAGED: ZERO}
    units = {RESELLABLE: 0, DAMAGED: 0}
    gross_tax = ZERO
    for condition, count in pieces:
        amount, tax = refund_of_units(line, before, count, currency, terms.rounding)
        before += count
        gross[condition] += amount
        units[condition] += count
        gross_tax += tax
    total_gross = gross[RESELLABLE] + gross[DAMAGED]
    fee = min(
        _round(gross[RESELLABLE] * terms.restocking_fee_percent / HUNDRED, currency, terms.rounding),
        gross[RESELLABLE],
    )
    room = max(line.paid - already.amounts.get(line.index, ZERO), ZERO)
    refunded = min(total_gross - fee, room)
    tax = min(_in_proportion(gross_tax, refunded, total_gross, currency, terms.rounding), refunded)
    return QuotedLine(
        index=line.index,
        sku=line.sku,
        quantity=units[RESELLABLE] + units[DAMAGED],
        resellable=units[RESELLABLE],
        damaged=units[DAMAGED],
        gross=_exact(total_gross, currency),
        fee=_exact(fee, currency),
        amount=_exact(refunded, currency),
        tax=_exact(tax, currency),
        capped=_exact(total_gross - fee - refunded, currency),
    )


def _shipping_refund(
    order: CanonicalOrder, returned: Sequence[ReturnedUnits], terms: RefundTerms, already: AlreadyRefunded
) -> tuple[Decimal, Decimal]:
    damaged = any(item.condition == DAMAGED and item.quantity > 0 for item in returned)
    if terms.refund_shipping == "NEVER" or (terms.refund_shipping == "IF_DAMAGED" and not damaged):
        return _amount(0, order.currency), _amount(0, order.currency)
    paid, tax = shipping_paid(order, terms.rounding)
    amount = max(paid - already.shipping, ZERO)
    tax = min(_in_proportion(tax, amount, paid, order.currency, terms.rounding), amount)
    return _exact(amount, order.currency), _exact(tax, order.currency)


# ---- amounts in the currency -------------------------------------------------------------------------


def _round(amount: Decimal, currency: str, rounding: str) -> Decimal:
    return amount.quantize(smallest_unit(currency), rounding=rounding)


def _exact(amount: Decimal, currency: str) -> Decimal:
    """The amount written in the currency's smallest unit (10 -> 10.00 USD); it must be exact in it."""
    written = amount.quantize(smallest_unit(currency))
    if written != amount:
        raise ValueError(f"{amount} is finer than {currency}'s smallest unit")
    return written


def _units(amount: Decimal, currency: str) -> int:
    """The amount in whole smallest units of the currency: 12.34 USD -> 1234."""
    return int(_exact(amount, currency).scaleb(minor_units(currency)))


def _amount(units: int, currency: str) -> Decimal:
    return Decimal(units).scaleb(-minor_units(currency))


def _in_proportion(amount: Decimal, part: Decimal, whole: Decimal, currency: str, rounding: str) -> Decimal:
    """amount x part / whole, rounded; the amount itself when part is the whole, 0 when whole is 0."""
    if part == whole:
        return amount
    if whole == 0:
        return ZERO
    return _round(amount * part / whole, currency, rounding)
