from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.logic.refund_amounts import (
    AlreadyRefunded,
    PaidLine,
    RefundTerms,
    ReturnedUnits,
    expected_refund,
    paid_lines,
    quote,
    refund_of_units,
    shipping_paid,
)
from shared.models.money import minor_units
from shared.models.order import CanonicalOrder

D = Decimal
NO_FEE = RefundTerms(D(0), "NEVER")
NO_FEE_WITH_SHIPPING = RefundTerms(D(0), "ALWAYS")


def order(lines: list[dict[str, Any]], **overrides: Any) -> CanonicalOrder:
    data: dict[str, Any] = {
        "channelOrderId": "1001",
        "currency": "USD",
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "shippingAddress": {"name": "Ada", "line1": "1 Main St", "city": "Boston", "country": "US"},
        "lines": lines,
    }
    data.update(overrides)
    return CanonicalOrder.model_validate(data)


def line(sku: str, quantity: int, price: str, **amounts: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, "unitPrice": price, **amounts}


def figures(paid: list[PaidLine]) -> list[tuple[str, str]]:
    return [(str(p.paid), str(p.tax)) for p in paid]


def one_at_a_time(paid: PaidLine, currency: str, **kwargs: Any) -> list[tuple[str, ...]]:
    """(amount, tax) of each unit of the line, returned one unit at a time."""
    return [
        tuple(map(str, refund_of_units(paid, before, 1, currency, **kwargs)))
        for before in range(paid.quantity)
    ]


# ---- what the order cost -----------------------------------------------------------------------------


def test_a_plain_usd_line_cost_its_price_less_its_discount_plus_its_tax():
    plain = order([line("MUG", 2, "12.50", discountAmount="1.00", taxAmount="1.92")], shippingPrice="5.00")
    assert paid_lines(plain) == [PaidLine(index=0, sku="MUG", quantity=2, paid=D("25.92"), tax=D("1.92"))]
    assert shipping_paid(plain) == (D("5.00"), D("0.00"))
    refund = quote(plain, [ReturnedUnits("MUG", 1, "RESELLABLE")], NO_FEE)
    assert (refund.lines[0].amount, refund.lines[0].tax, refund.total) == (D("12.96"), D("0.96"), D("12.96"))


def test_the_order_discount_is_shared_by_largest_remainder_and_sums_exactly():
    # 1.01 over 20.00, 50.00 and 30.00: exact shares 0.202, 0.505 and 0.303 cents; 1.00 in whole cents,
    # and the cent left over goes to the largest remainder, the 50.00 line (not the first).
    sized = order(
        [line("A", 1, "20.00"), line("B", 2, "25.00"), line("C", 3, "10.00")],
        orderDiscount="1.01",
        shippingPrice="4.00",
    )
    assert figures(paid_lines(sized)) == [("19.80", "0.00"), ("49.49", "0.00"), ("29.70", "0.00")]
    assert sum(p.paid for p in paid_lines(sized)) + shipping_paid(sized)[0] == sized.amount_due()


def test_shares_rounding_each_line_would_miss_go_to_the_earlier_lines_on_ties():
    # 0.20 over three 10.00 lines: 0.0667 each; rounded each would be 0.21 in all. Largest remainder:
    # 0.06 each and the 2 cents left to the first two lines (equal remainders: the earlier line first).
    equal = order([line(sku, 1, "10.00") for sku in "ABC"], orderDiscount="0.20")
    assert figures(paid_lines(equal)) == [("9.93", "0.00"), ("9.93", "0.00"), ("9.94", "0.00")]
    # 0.05 over 1.00, 2.00, 7.00: 0.005, 0.01, 0.035; the cent left goes to line 0 (a tie with line 2).
    ties = order([line("A", 1, "1.00"), line("B", 1, "2.00"), line("C", 1, "7.00")], orderDiscount="0.05")
    assert figures(paid_lines(ties)) == [("0.99", "0.00"), ("1.99", "0.00"), ("6.97", "0.00")]


def test_a_line_s_tax_is_reduced_with_its_share_of_the_order_discount():
    taxed = order(
        [line("A", 2, "10.00", taxAmount="2.00"), line("B", 1, "8.00")], orderDiscount="3.00"
    )  # dues 22.00 and 8.00: shares 2.20 and 0.80
    assert figures(paid_lines(taxed)) == [("19.80", "1.80"), ("7.20", "0.00")]


def test_an_order_discount_beyond_the_lines_comes_off_shipping():
    beyond = order(
        [line("A", 1, "10.00", taxAmount="1.00")],
        shippingPrice="6.00",
        shippingTax="0.60",
        orderDiscount="13.30",
    )
    assert figures(paid_lines(beyond)) == [("0.00", "0.00")]
    assert shipping_paid(beyond) == (D("4.30"), D("0.39"))  # 0.60 x 4.30 / 6.60 = 0.3909
    assert beyond.amount_due() == D("4.30")


def test_tax_inclusive_prices_keep_the_tax_as_part_of_the_price():
    included = order(
        [line("A", 2, "12.00", taxAmount="4.00")],
        taxesIncluded=True,
        shippingPrice="6.00",
        shippingTax="1.00",
    )
    assert figures(paid_lines(included)) == [("24.00", "4.00")]
    assert shipping_paid(included) == (D("6.00"), D("1.00"))
    refund = quote(included, [ReturnedUnits("A", 2, "DAMAGED")], RefundTerms(D(10), "IF_DAMAGED"))
    assert refund.as_dict() == {
        "lines": [
            {
                "index": 0,
                "sku": "A",
                "quantity": 2,
                "resellable": 0,
                "damaged": 2,
                "gross": "24.00",
                "fee": "0.00",
                "amount": "24.00",
                "tax": "4.00",
                "capped": "0.00",
            }
        ],
        "shipping": "6.00",
        "shippingTax": "1.00",
        "total": "30.00",
        "feeTotal": "0.00",
    }
    assert refund.total == included.amount_due()


# ---- units of a line -----------------------------------------------------------------------------------


def test_three_units_paid_10_returned_one_at_a_time_refund_exactly_10_with_cumulative_rounding():
    three = paid_lines(order([line("A", 3, "3.00", taxAmount="1.00")]))[0]
    assert (three.paid, three.tax) == (D("10.00"), D("1.00"))
    # round(10/3) = 3.33, round(20/3) = 6.67, 10.00: half up, the middle unit carries the extra cent.
    assert one_at_a_time(three, "USD") == [("3.33", "0.33"), ("3.34", "0.34"), ("3.33", "0.33")]
    # A channel rounding down instead: 3.33, 6.66, 10.00.
    assert one_at_a_time(three, "USD", rounding=ROUND_DOWN) == [
        ("3.33", "0.33"),
        ("3.33", "0.33"),
        ("3.34", "0.34"),
    ]
    assert refund_of_units(three, 1, 2, "USD") == (D("6.67"), D("0.67"))
    assert refund_of_units(three, 0, 0, "USD") == (D("0.00"), D("0.00"))


def test_jpy_has_no_decimals():
    yen = order([line("A", 3, "1000", taxAmount="100")], currency="JPY", shippingPrice="500")
    paid = paid_lines(yen)[0]
    assert (str(paid.paid), str(paid.tax)) == ("3100", "100")
    assert one_at_a_time(paid, "JPY") == [("1033", "33"), ("1034", "34"), ("1033", "33")]
    refund = quote(yen, [ReturnedUnits("A", 1, "RESELLABLE")], RefundTerms(D(10), "ALWAYS"))
    assert refund.as_dict()["lines"][0] == {
        "index": 0,
        "sku": "A",
        "quantity": 1,
        "resellable": 1,
        "damaged": 0,
        "gross": "1033",
        "fee": "103",
        "amount": "930",
        "tax": "30",  # 33 x 930 / 1033 = 29.7
        "capped": "0",
    }
    assert (refund.as_dict()["shipping"], refund.as_dict()["total"]) == ("500", "1430")


def test_kwd_has_three_decimals():
    dinars = order(
        [line("A", 3, "1.250", taxAmount="0.125")],
        currency="KWD",
        orderDiscount="0.001",
        shippingPrice="1.000",
    )
    paid = paid_lines(dinars)[0]
    assert (str(paid.paid), str(paid.tax)) == ("3.874", "0.125")  # 0.125 x 3.874 / 3.875 = 0.12497
    assert one_at_a_time(paid, "KWD") == [("1.291", "0.042"), ("1.292", "0.041"), ("1.291", "0.042")]
    assert shipping_paid(dinars) == (D("1.000"), D("0.000"))


@pytest.mark.parametrize(("before", "units"), [(0, 4), (2, 2), (3, 1), (0, -1), (-1, 1)])
def test_more_units_than_the_line_has_or_negative_units_are_refused(before: int, units: int):
    three = PaidLine(index=0, sku="A", quantity=3, paid=D("10.00"), tax=D("0"))
    with pytest.raises(ValueError, match="A"):
        refund_of_units(three, before, units, "USD")


# ---- quotes ------------------------------------------------------------------------------------------

FOUR = order([line("A", 4, "20.00", taxAmount="8.00")], shippingPrice="5.00", shippingTax="0.50")


def test_the_restocking_fee_is_charged_on_resellable_units_only():
    returned = [ReturnedUnits("A", 2, "RESELLABLE"), ReturnedUnits("A", 1, "DAMAGED")]
    refund = quote(FOUR, returned, RefundTerms(D(15), "NEVER"))
    [quoted] = refund.lines
    # 22.00 a unit (2.00 of it tax): 44.00 resellable, 22.00 damaged; 15% of 44.00 = 6.60.
    assert (quoted.resellable, quoted.damaged, quoted.quantity) == (2, 1, 3)
    assert (quoted.gross, quoted.fee, quoted.amount) == (D("66.00"), D("6.60"), D("59.40"))
    assert quoted.tax == D("5.40")  # 6.00 x 59.40 / 66.00
    assert (refund.total, refund.fee_total, refund.shipping) == (D("59.40"), D("6.60"), D("0.00"))
    damaged_only = quote(FOUR, [ReturnedUnits("A", 4, "DAMAGED")], RefundTerms(D(15), "NEVER"))
    assert (damaged_only.total, damaged_only.fee_total, damaged_only.lines[0].tax) == (
        D("88.00"),
        D("0.00"),
        D("8.00"),
    )


def test_the_fee_rounds_the_terms_way():
    cheap = order([line("A", 1, "0.25")])
    returned = [ReturnedUnits("A", 1, "RESELLABLE")]
    assert quote(cheap, returned, RefundTerms(D(10), "NEVER")).fee_total == D("0.03")  # 0.025 half up
    even = RefundTerms(D(10), "NEVER", rounding=ROUND_HALF_EVEN)
    assert quote(cheap, returned, even).fee_total == D("0.02")


@pytest.mark.parametrize(
    ("policy", "condition", "shipping", "tax"),
    [
        ("NEVER", "DAMAGED", "0.00", "0.00"),
        ("IF_DAMAGED", "RESELLABLE", "0.00", "0.00"),
        ("IF_DAMAGED", "DAMAGED", "5.50", "0.50"),
        ("ALWAYS", "RESELLABLE", "5.50", "0.50"),
    ],
)
def test_shipping_is_refunded_as_the_terms_say(policy: Any, condition: Any, shipping: str, tax: str):
    refund = quote(FOUR, [ReturnedUnits("A", 1, condition)], RefundTerms(D(0), policy))
    assert (refund.shipping, refund.shipping_tax) == (D(shipping), D(tax))
    assert refund.total == D("22.00") + D(shipping)


def test_shipping_is_refunded_once_across_two_returns():
    first = expected_refund(FOUR, [("A", 1)], NO_FEE_WITH_SHIPPING)
    assert (first.shipping, first.total) == (D("5.50"), D("27.50"))
    after_first = AlreadyRefunded(units={0: 1}, amounts={0: first.lines[0].amount}, shipping=first.shipping)
    second = expected_refund(FOUR, [("A", 3)], NO_FEE_WITH_SHIPPING, after_first)
    assert (second.shipping, second.shipping_tax, second.total) == (D("0.00"), D("0.00"), D("66.00"))
    assert first.total + second.total == FOUR.amount_due()
    partly = expected_refund(FOUR, [("A", 1)], NO_FEE_WITH_SHIPPING, AlreadyRefunded(shipping=D("2.00")))
    assert (partly.shipping, partly.shipping_tax) == (D("3.50"), D("0.32"))  # 0.50 x 3.50 / 5.50


def test_a_line_refunded_in_the_channel_already_refunds_nothing_more():
    in_channel = AlreadyRefunded(amounts={0: D("88.00")})
    refund = expected_refund(FOUR, [("A", 2)], NO_FEE, in_channel)
    [quoted] = refund.lines
    assert (quoted.gross, quoted.amount, quoted.tax, quoted.capped) == (
        D("44.00"),
        D("0.00"),
        D("0.00"),
        D("44.00"),
    )
    assert refund.total == D("0.00")


def test_a_line_refunded_in_part_is_capped_at_what_it_has_left():
    refund = expected_refund(
        FOUR, [("A", 2)], RefundTerms(D(10), "NEVER"), AlreadyRefunded(amounts={0: D("50.00")})
    )
    [quoted] = refund.lines
    # 44.00 less a 4.40 fee is 39.60; 38.00 of the line is left: 1.60 capped; tax 4.00 x 38 / 44.
    assert (quoted.gross, quoted.fee, quoted.amount, quoted.capped, quoted.tax) == (
        D("44.00"),
        D("4.40"),
        D("38.00"),
        D("1.60"),
        D("3.45"),
    )


def test_a_sku_on_two_lines_fills_them_in_line_order_after_what_was_refunded():
    two = order([line("A", 2, "10.00"), line("B", 1, "5.00"), line("A", 3, "8.00")])
    refund = expected_refund(two, [("A", 3)], NO_FEE)
    assert [(q.index, q.quantity, str(q.amount)) for q in refund.lines] == [(0, 2, "20.00"), (2, 1, "8.00")]
    after = expected_refund(two, [("A", 3)], NO_FEE, AlreadyRefunded(units={0: 1}))
    assert [(q.index, q.quantity, str(q.amount)) for q in after.lines] == [(0, 1, "10.00"), (2, 2, "16.00")]


def test_units_of_one_line_in_both_conditions_are_refunded_in_the_order_given():
    three = order([line("A", 3, "3.00", taxAmount="1.00")])
    returned = [ReturnedUnits("A", 1, "DAMAGED"), ReturnedUnits("A", 2, "RESELLABLE")]
    [quoted] = quote(three, returned, RefundTerms(D(50), "NEVER")).lines
    # The damaged unit is the first (3.33), the two resellable ones the rest (6.67, a 3.34 fee).
    assert (quoted.gross, quoted.fee, quoted.amount, quoted.tax) == (
        D("10.00"),
        D("3.34"),
        D("6.66"),
        D("0.67"),
    )


def test_too_many_units_unknown_skus_and_lines_with_nothing_to_ship_are_refused():
    two = order(
        [line("A", 2, "10.00"), line("A", 1, "10.00"), line("GIFT", 1, "25.00", requiresShipping=False)]
    )
    with pytest.raises(ValueError, match="SKU A: 4 units returned, only 3 left"):
        expected_refund(two, [("A", 2), ("A", 2)], NO_FEE)
    with pytest.raises(ValueError, match="SKU A: 2 units returned, only 1 left"):
        expected_refund(two, [("A", 2)], NO_FEE, AlreadyRefunded(units={0: 2}))
    with pytest.raises(ValueError, match="SKU NOPE"):
        expected_refund(two, [("NOPE", 1)], NO_FEE)
    with pytest.raises(ValueError, match="SKU GIFT"):
        expected_refund(two, [("GIFT", 1)], NO_FEE)


def test_lines_with_no_units_are_not_listed():
    two = order([line("A", 1, "10.00"), line("B", 1, "5.00")])
    returned = [ReturnedUnits("A", 0, "DAMAGED"), ReturnedUnits("B", 1, "RESELLABLE")]
    refund = quote(two, returned, RefundTerms(D(0), "IF_DAMAGED"), AlreadyRefunded())
    assert [q.index for q in refund.lines] == [1]
    assert refund.shipping == D("0.00")  # no damaged unit came back: 0 damaged units do not count


@pytest.mark.parametrize(
    "make",
    [
        lambda: RefundTerms(D(101), "NEVER"),
        lambda: RefundTerms(D(-1), "NEVER"),
        lambda: RefundTerms(10.0, "NEVER"),  # type: ignore[arg-type]
        lambda: RefundTerms(D(0), "SOMETIMES"),  # type: ignore[arg-type]
        lambda: RefundTerms(D(0), "NEVER", rounding="ROUND_SOMEHOW"),
        lambda: ReturnedUnits("A", 1, "LOST"),  # type: ignore[arg-type]
        lambda: ReturnedUnits("A", -1, "DAMAGED"),
    ],
)
def test_terms_and_returned_units_are_checked(make: Any):
    with pytest.raises(ValueError):
        make()


def test_a_return_s_tax_is_never_more_than_its_amount_even_where_that_cuts_the_line_s_tax():
    # 0.03 paid for 4 units, 0.02 of it tax: the third unit is worth 0.00 (round(0.0225) - round(0.015))
    # but its tax would be 0.01 (round(0.015) - round(0.01)); the quote refunds no tax above the amount.
    tiny = order([line("A", 4, "0.01", discountAmount="0.03", taxAmount="0.02")])
    already, refunds = AlreadyRefunded(), []
    for _ in range(4):
        refund = expected_refund(tiny, [("A", 1)], NO_FEE, already)
        refunds.append((str(refund.lines[0].amount), str(refund.lines[0].tax)))
        already = refunded_after(already, refund)
    assert refunds == [("0.01", "0.01"), ("0.01", "0.00"), ("0.00", "0.00"), ("0.01", "0.00")]
    assert one_at_a_time(paid_lines(tiny)[0], "USD")[2] == ("0.00", "0.01")


# ---- properties --------------------------------------------------------------------------------------


def amount_of(units: int, currency: str) -> str:
    return str(D(units).scaleb(-minor_units(currency)))


@st.composite
def orders(draw: st.DrawFn, all_shipped: bool = False) -> CanonicalOrder:
    currency = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    included = draw(st.booleans())
    count = draw(st.integers(1, 5))
    lines, total = [], 0
    for index in range(count):
        quantity = draw(st.integers(1, 12))
        price = draw(st.integers(0, 50_000))
        discount = draw(st.integers(0, price * quantity))
        tax = draw(st.integers(0, (price * quantity - discount) // 4 + 3))
        shipped = all_shipped or index == 0 or draw(st.booleans())
        lines.append(
            {
                "sku": draw(st.sampled_from(["A", "B", "C"])),
                "quantity": quantity,
                "unitPrice": amount_of(price, currency),
                "discountAmount": amount_of(discount, currency),
                "taxAmount": amount_of(tax, currency),
                "requiresShipping": shipped,
            }
        )
        total += price * quantity - discount + (0 if included else tax)
    shipping, shipping_tax = draw(st.integers(0, 3_000)), draw(st.integers(0, 600))
    total += shipping + (0 if included else shipping_tax)
    return order(
        lines,
        currency=currency,
        taxesIncluded=included,
        shippingPrice=amount_of(shipping, currency),
        shippingTax=amount_of(shipping_tax, currency),
        orderDiscount=amount_of(draw(st.integers(0, total)), currency),
    )


def zero(currency: str) -> Decimal:
    return D(0).scaleb(-minor_units(currency))


@settings(max_examples=200, deadline=None)
@given(orders())
def test_the_order_discount_shares_sum_exactly_and_no_line_is_paid_below_zero(placed: CanonicalOrder):
    paid = paid_lines(placed)
    dues = [line.amount_due(placed.taxesIncluded) for line in placed.lines]
    shares = [due - p.paid for due, p in zip(dues, paid, strict=True)]
    on_shipping = placed.orderDiscount - sum(shares, D(0))
    assert on_shipping == max(placed.orderDiscount - sum(dues, D(0)), D(0))
    assert all(0 <= p.tax <= p.paid for p in paid)
    assert all(0 <= share <= due for share, due in zip(shares, dues, strict=True))
    shipping, shipping_tax = shipping_paid(placed)
    assert 0 <= shipping_tax <= shipping
    assert sum(p.paid for p in paid) + shipping == placed.amount_due()


def returns_of(placed: CanonicalOrder, data: st.DataObject) -> list[list[ReturnedUnits]]:
    """Every unit of every shipped line, returned in random batches (at least a unit each) of random
    conditions; the simplest example returns everything at once."""
    left = placed.units_by_sku()
    batches = []
    while any(left.values()):
        batch = []
        for position, sku in enumerate(sorted(sku for sku, units in left.items() if units)):
            kept_back = data.draw(st.integers(0, left[sku] - 1 if position == 0 else left[sku]))
            units = left[sku] - kept_back
            condition = data.draw(st.sampled_from(["RESELLABLE", "DAMAGED"]))
            batch.append(ReturnedUnits(sku, units, condition))
            left[sku] -= units
        batches.append(batch)
    return batches


def refunded_after(already: AlreadyRefunded, refund: Any) -> AlreadyRefunded:
    units, amounts = dict(already.units), dict(already.amounts)
    for quoted in refund.lines:
        units[quoted.index] = units.get(quoted.index, 0) + quoted.quantity
        amounts[quoted.index] = amounts.get(quoted.index, D(0)) + quoted.amount
    return AlreadyRefunded(units=units, amounts=amounts, shipping=already.shipping + refund.shipping)


@settings(max_examples=200, deadline=None)
@given(orders(all_shipped=True), st.data())
def test_returning_every_unit_in_batches_refunds_exactly_the_amount_due_and_never_more(
    placed: CanonicalOrder, data: st.DataObject
):
    already, total, taxes = AlreadyRefunded(), zero(placed.currency), zero(placed.currency)
    for batch in returns_of(placed, data):
        refund = quote(placed, batch, NO_FEE_WITH_SHIPPING, already)
        assert all(q.fee == q.capped == 0 and q.amount == q.gross for q in refund.lines)
        total += refund.total
        taxes += sum((q.tax for q in refund.lines), refund.shipping_tax)
        assert total <= placed.amount_due()
        already = refunded_after(already, refund)
    assert total == placed.amount_due()
    paid = paid_lines(placed)
    assert {i: amount for i, amount in already.amounts.items() if amount} == {
        p.index: p.paid for p in paid if p.paid
    }
    assert taxes <= sum((p.tax for p in paid), shipping_paid(placed)[1])


@settings(max_examples=200, deadline=None)
@given(orders(), st.data())
def test_with_any_fee_and_terms_the_refunds_never_exceed_the_amount_due(
    placed: CanonicalOrder, data: st.DataObject
):
    terms = RefundTerms(
        D(data.draw(st.integers(0, 10_000))).scaleb(-2),
        data.draw(st.sampled_from(["NEVER", "IF_DAMAGED", "ALWAYS"])),
        data.draw(st.sampled_from([ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_DOWN])),
    )
    already, total = AlreadyRefunded(), zero(placed.currency)
    paid = {p.index: p.paid for p in paid_lines(placed, terms.rounding)}
    for batch in returns_of(placed, data):
        refund = quote(placed, batch, terms, already)
        for q in refund.lines:
            assert 0 <= q.fee <= q.gross and 0 <= q.tax <= q.amount and q.capped >= 0
            assert q.gross - q.fee - q.capped == q.amount
        total += refund.total
        already = refunded_after(already, refund)
        assert all(already.amounts.get(i, 0) <= paid[i] for i in paid)
        assert total <= placed.amount_due()


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(0, 10**7),
    st.integers(0, 10**6),
    st.sampled_from(["USD", "JPY", "KWD"]),
    st.data(),
)
def test_units_of_a_line_in_any_batches_sum_to_exactly_the_line(
    quantity: int, paid_units: int, tax_units: int, currency: str, data: st.DataObject
):
    paid = D(paid_units).scaleb(-minor_units(currency))
    tax = min(D(tax_units).scaleb(-minor_units(currency)), paid)
    line_paid = PaidLine(index=0, sku="A", quantity=quantity, paid=paid, tax=tax)
    before, amounts, taxes = 0, zero(currency), zero(currency)
    while before < quantity:
        units = data.draw(st.integers(1, quantity - before))
        amount, part = refund_of_units(line_paid, before, units, currency)
        assert amount >= 0 and part >= 0
        amounts, taxes, before = amounts + amount, taxes + part, before + units
        assert amounts <= paid and taxes <= tax
    assert (amounts, taxes) == (paid, tax)
