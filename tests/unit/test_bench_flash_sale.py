"""The flash-sale benchmark's checks, on what a run could have read: they pass on a sale that held
exactly its units, and name an oversell, a failed order or a ledger that does not add up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from benchmarks import flash_sale
from benchmarks.flash_sale import SKU, WAREHOUSE, Observed

START = datetime(2026, 12, 2, 12, 0, 0, tzinfo=UTC)


def order(number: int, status: str, second: int) -> dict[str, Any]:
    return {
        "orderId": f"o-{number}",
        "status": status,
        "lines": [{"sku": SKU, "quantity": 1}],
        "timeline": [
            {"status": "RECEIVED", "at": "2026-12-02T12:00:00.500Z"},
            {"status": status, "at": f"2026-12-02T12:00:{second:02d}.000Z"},
        ],
    }


def entry(seq: int, kind: str, on_hand: int, reserved: int, available: int, **more: Any) -> dict[str, Any]:
    return {
        "warehouseId": WAREHOUSE,
        "bucket": 0,
        "seq": seq,
        "kind": kind,
        "onHandDelta": on_hand,
        "reservedDelta": reserved,
        "safetyStockDelta": 0,
        "available": available,
        **more,
    }


def sale(units: int, statuses: list[str]) -> Observed:
    orders = {f"o-{n}": order(n, status, 10 + n % 40) for n, status in enumerate(statuses)}
    held = [o for o in orders.values() if o["status"] == "FULFILLING"]
    ledger = [entry(1, "COUNT", units, 0, units)]
    ledger += [entry(n + 2, "RESERVE", 0, 1, units - n - 1, orderId=o["orderId"]) for n, o in enumerate(held)]
    stock = {WAREHOUSE: {"onHand": units, "reserved": len(held), "safetyStock": 0, "available": 0}}
    return Observed(
        buckets=1,
        units=units,
        webhooks=[(202, {"orderId": order_id}) for order_id in orders],
        orders=orders,
        unsettled=[],
        ledger=ledger,
        stock=stock,
        started_at=START,
        placing_seconds=9.0,
        reserve_transactions=(len(statuses), 2),
    )


def failed(run: flash_sale.FlashRun) -> list[str]:
    return [check.name for check in run.checks if not check.passed]


def test_a_sale_that_held_exactly_its_units_passes_every_check():
    run = flash_sale.evaluate(1, sale(3, ["FULFILLING"] * 3 + ["BACKORDERED"] * 5))
    assert failed(run) == []
    assert (run.reserved_units, run.oversold, run.lowest_available) == (3, 0, 0)
    assert run.statuses == {"FULFILLING": 3, "BACKORDERED": 5}
    assert run.settle_seconds == 17.0  # from START to the latest settled order's entry, 12:00:17
    assert run.reserves_by_bucket == {0: 3}
    assert run.reserve_transactions == (8, 2)


def test_an_oversell_is_counted_and_fails_the_checks_that_see_it():
    observed = sale(3, ["FULFILLING"] * 4 + ["BACKORDERED"] * 4)
    run = flash_sale.evaluate(1, observed)
    assert run.oversold == 1
    assert run.lowest_available == -1  # the fourth RESERVE entry left its bucket at -1
    # The ledger still explains the stock (it recorded the oversell), so only these fail.
    assert failed(run) == [
        "exactly 3 reserved",
        "the rest backordered or rejected",
        "available never below 0",
        "no unit oversold",
    ]


def test_failed_and_unsettled_orders_and_a_ledger_that_does_not_add_up_are_named():
    observed = sale(2, ["FULFILLING", "FULFILLING", "FAILED", "RECEIVED"])
    observed.stock[WAREHOUSE]["onHand"] = 5  # an unledgered change
    run = flash_sale.evaluate(1, Observed(**{**vars(observed), "unsettled": ["o-3"]}))
    assert {"no order FAILED", "every order settled", "ledger sums to stock"} <= set(failed(run))
    assert run.settle_seconds is None
