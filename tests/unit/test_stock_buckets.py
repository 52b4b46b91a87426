"""Stock spread over buckets: what a location can promise is exactly onHand - reserved - safetyStock
(never below 0), whatever the bucket count and whatever reservations, releases and counts did."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.dal import inventory, stock
from shared.dal.stock import Bucket, ChangeKind, Location, Why


def empty(count: int) -> Location:
    return Location("A", "wh", tuple(Bucket("A", "wh", i) for i in range(count)))


def promisable(found: Location) -> int:
    return max(0, found.on_hand - found.reserved - found.safety_stock)


def test_a_count_spreads_units_and_safety_stock_evenly():
    after = stock.balanced(empty(3), on_hand=10, safety_stock=4, count=3)
    assert [(b.on_hand, b.safety_stock) for b in after.buckets] == [(4, 2), (3, 1), (3, 1)]
    assert (after.on_hand, after.safety_stock, after.available) == (10, 4, 6)


def test_below_its_safety_stock_a_location_promises_nothing():
    after = stock.balanced(empty(3), on_hand=4, safety_stock=5, count=3)
    assert after.available == 0
    assert all(b.available <= 0 for b in after.buckets)


def test_a_bucket_beyond_the_count_keeps_its_reservations_and_gets_no_new_units():
    held = Location("A", "wh", (Bucket("A", "wh", 0, 5, 0, 0, 3), Bucket("A", "wh", 1, 4, 2, 0, 7)))
    after = stock.balanced(held, on_hand=9, safety_stock=0, count=1)
    assert [(b.index, b.on_hand, b.reserved) for b in after.buckets] == [(0, 7, 0), (1, 2, 2)]
    assert after.available == 7


def test_writes_are_conditioned_on_the_bucket_as_read_and_ledgered_with_the_figures(monkeypatch):
    monkeypatch.setenv("INVENTORY_TABLE", "Inventory")
    before = Location("A", "wh", (Bucket("A", "wh", 0, 5, 1, 0, seq=7),))
    after = stock.with_changes(before, {0: (0, 2)})
    actions = stock.write_actions(before, after, Why(ChangeKind.RESERVE, "test", orderId="o-1"), "2026-12-02")
    update, put = actions[0]["Update"], actions[1]["Put"]
    assert update["ConditionExpression"] == "seq = :was"
    assert update["ExpressionAttributeValues"][":was"] == 7
    entry = put["Item"]
    assert (entry["pk"], entry["sk"]) == ("LEDGER#A#wh#0", "000000000008")
    assert (entry["reservedDelta"], entry["onHandDelta"], entry["reserved"], entry["available"]) == (
        2,
        0,
        3,
        2,
    )
    assert (entry["kind"], entry["orderId"]) == ("RESERVE", "o-1")


def test_a_reservation_takes_one_bucket_when_one_has_enough_else_the_fullest():
    found = Location("A", "wh", tuple(Bucket("A", "wh", i, n, 0, 0, 1) for i, n in enumerate((2, 3, 1))))
    assert inventory.pick_buckets(found, 3) == ((1, 3),)
    assert inventory.pick_buckets(found, 5) == ((1, 3), (0, 2))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("count"), st.integers(0, 40), st.integers(0, 12)),
        st.tuples(st.just("reserve"), st.integers(1, 6), st.just(0)),
        st.tuples(st.just("release"), st.integers(0, 10), st.just(0)),
        st.tuples(st.just("ship"), st.integers(0, 10), st.just(0)),
        st.tuples(st.just("buckets"), st.integers(1, 5), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(count=st.integers(1, 5), steps=operations)
def test_what_the_buckets_promise_is_what_the_location_has_beyond_its_safety_stock(count, steps):
    found = empty(count)
    held: list[tuple[tuple[int, int], ...]] = []
    for op, a, b in steps:
        if op == "count" and a >= found.reserved:
            found = stock.balanced(found, a, b, count)
        elif op == "buckets":
            count = a
            found = stock.balanced(found, found.on_hand, found.safety_stock, count)
        elif op == "reserve" and found.available >= a:
            taken = inventory.pick_buckets(found, a)
            found = stock.with_changes(found, {i: (0, n) for i, n in taken})
            held.append(taken)
        elif op in ("release", "ship") and held:
            taken = held.pop(a % len(held))
            shipped = op == "ship"
            found = stock.with_changes(found, {i: (-n if shipped else 0, -n) for i, n in taken})
        assert found.available == promisable(found)
        assert all(b.reserved >= 0 and b.on_hand >= b.reserved for b in found.buckets)
        assert found.reserved == sum(n for taken in held for _, n in taken)
