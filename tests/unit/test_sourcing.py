import random
from dataclasses import dataclass
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.logic.sourcing import (
    COMBINATION_BUDGET,
    TRANSACTION_ACTIONS_LIMIT,
    PlanSummary,
    distance_km,
    plan_shipments,
    reservation_actions,
    shortages,
    summarize,
)
from shared.models.catalog import StockLevel, Warehouse
from shared.models.order import MAX_LINES, Address
from shared.models.sourcing import (
    DecidedBy,
    Destination,
    RejectionCode,
    SourcingPlan,
    SourcingRules,
    Unplannable,
    UnplannableCode,
    WarehouseLoad,
)

EAST = Warehouse(
    warehouseId="wh-east", name="Newark", latitude=40.73, longitude=-74.17, country="US", updatedAt="t"
)
WEST = Warehouse(
    warehouseId="wh-west", name="Reno", latitude=39.53, longitude=-119.81, country="US", updatedAt="t"
)
BOSTON = Address(name="A", line1="1 Main", city="Boston", country="US", latitude=42.36, longitude=-71.06)
NO_COORDINATES = Address(name="A", line1="1 Main", city="Boston", country="US")


def lines(**quantities: int) -> dict[str, int]:
    """Units wanted per SKU, as sourcing sees an order."""
    return dict(quantities)


def test_distance_between_new_york_and_los_angeles_is_about_3940_km():
    assert distance_km(40.7128, -74.0060, 34.0522, -118.2437) == pytest.approx(3936, rel=0.01)


def level(sku: str, warehouse_id: str, available: int) -> StockLevel:
    return StockLevel(sku=sku, warehouseId=warehouse_id, onHand=available, reserved=0, available=available)


def test_no_shortage_when_the_stock_is_there_only_split_over_warehouses():
    levels = {
        "A": [StockLevel(sku="A", warehouseId="wh-east", onHand=5, reserved=0, available=5)],
        "B": [StockLevel(sku="B", warehouseId="wh-west", onHand=5, reserved=0, available=5)],
    }
    assert shortages(lines(A=1, B=1), levels) == []


def test_shortages_name_each_short_sku_with_what_is_available():
    levels = {"A": [StockLevel(sku="A", warehouseId="wh-east", onHand=3, reserved=1, available=2)]}
    assert shortages(lines(A=5, B=1), levels) == [
        {"sku": "A", "requested": 5, "available": 2},
        {"sku": "B", "requested": 1, "available": 0},
    ]


# ---- the planner: hand-made warehouses --------------------------------------------------------------


def warehouse(warehouse_id: str, latitude: float, longitude: float, country: str = "US") -> Warehouse:
    return Warehouse(
        warehouseId=warehouse_id,
        name=warehouse_id,
        latitude=latitude,
        longitude=longitude,
        country=country,
        updatedAt="t",
    )


LA = warehouse("WH-LA", 34.05, -118.24)
NY = warehouse("WH-NY", 40.71, -74.01)
CHI = warehouse("WH-CHI", 41.88, -87.63)
LON = warehouse("WH-LON", 51.51, -0.13, "GB")
ALL = [LA, NY, CHI, LON]

TO_SANTA_MONICA = Destination(country="US", latitude=34.02, longitude=-118.49)
TO_BOSTON = Destination(country="US", latitude=42.36, longitude=-71.06)
TO_US_SOMEWHERE = Destination(country="US")
TO_GB_SOMEWHERE = Destination(country="GB")


def stock_of(**held: dict[str, int]) -> dict[str, list[StockLevel]]:
    """stock_of(A={"WH-LA": 5, "WH-NY": 2}): SKU -> its stock levels."""
    return {sku: [level(sku, w, n) for w, n in where.items()] for sku, where in held.items()}


def plan(units: dict[str, int], destination: Destination, stock, **kwargs) -> SourcingPlan:
    outcome = plan_shipments(units, destination, kwargs.pop("warehouses", ALL), stock, **kwargs)
    assert isinstance(outcome, SourcingPlan), outcome
    return outcome


def unplannable(units: dict[str, int], destination: Destination, stock, **kwargs) -> Unplannable:
    outcome = plan_shipments(units, destination, kwargs.pop("warehouses", ALL), stock, **kwargs)
    assert isinstance(outcome, Unplannable), outcome
    return outcome


def shipped(result: SourcingPlan) -> dict[str, dict[str, int]]:
    """Warehouse -> SKU -> units, in the plan's order."""
    return {s.warehouseId: {line.sku: line.quantity for line in s.lines} for s in result.shipments}


def test_one_warehouse_ships_everything_when_it_can():
    result = plan(lines(A=2, B=1), TO_SANTA_MONICA, stock_of(A={"WH-LA": 5}, B={"WH-LA": 1}))
    assert shipped(result) == {"WH-LA": {"A": 2, "B": 1}}
    assert result.decidedBy is DecidedBy.ONLY_OPTION
    assert result.shipments[0].distanceKm == pytest.approx(23.5, abs=0.5)
    assert result.considered == []
    assert not result.usedFallback
    assert result.explanation.startswith("1 shipment from WH-LA, 2")


def test_the_nearest_of_two_that_can_ship_everything():
    result = plan(lines(A=2), TO_SANTA_MONICA, stock_of(A={"WH-NY": 5, "WH-LA": 5}))
    assert shipped(result) == {"WH-LA": {"A": 2}}
    assert result.decidedBy is DecidedBy.NEAREST
    assert [c.warehouseIds for c in result.considered] == [["WH-NY"]]
    assert result.considered[0].totalDistanceKm == pytest.approx(3960, rel=0.01)
    assert "WH-NY could ship it alone but is 3,9" in result.explanation


def test_a_split_into_two_takes_the_pair_with_the_least_total_distance():
    # Nobody holds A and B: LA or NY for A, Chicago or London for B. From Boston, NY + Chicago.
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5}, B={"WH-CHI": 5, "WH-LON": 5})
    result = plan(lines(A=1, B=1), TO_BOSTON, stock)
    assert shipped(result) == {"WH-NY": {"A": 1}, "WH-CHI": {"B": 1}}
    assert result.decidedBy is DecidedBy.NEAREST
    total = distance_km(42.36, -71.06, 40.71, -74.01) + distance_km(42.36, -71.06, 41.88, -87.63)
    assert sum(s.distanceKm or 0 for s in result.shipments) == pytest.approx(total, abs=0.1)
    # Each alternative lists its warehouses nearest first.
    assert [c.warehouseIds for c in result.considered] == [
        ["WH-CHI", "WH-LA"],
        ["WH-NY", "WH-LON"],
        ["WH-LA", "WH-LON"],
    ]
    assert result.explanation.startswith("2 shipments from WH-NY + WH-CHI, 1,")


def test_fewer_shipments_beat_distance():
    # London ships both alone; NY and Chicago are nearer to Boston but would be two shipments.
    stock = stock_of(A={"WH-NY": 5, "WH-LON": 5}, B={"WH-CHI": 5, "WH-LON": 5})
    result = plan(lines(A=1, B=1), TO_BOSTON, stock)
    assert shipped(result) == {"WH-LON": {"A": 1, "B": 1}}
    assert result.decidedBy is DecidedBy.FEWEST_SHIPMENTS
    assert result.considered[0].warehouseIds == ["WH-NY", "WH-CHI"]
    assert "WH-NY + WH-CHI would need 2 shipments" in result.explanation


def test_one_shipment_allowed_makes_an_order_that_needs_a_split_unplannable():
    stock = stock_of(A={"WH-LA": 5}, B={"WH-NY": 5})
    result = unplannable(lines(A=1, B=1), TO_BOSTON, stock, rules=SourcingRules(maxShipments=1))
    assert [r.code for r in result.reasons] == [UnplannableCode.TOO_MANY_SHIPMENTS]
    assert result.reasons[0].message == "needs at least 2 shipments; the channel allows 1"
    assert result.reasons[0].details == {"minimumShipments": 2, "maxShipments": 1}


def test_the_shipment_count_needed_is_reported():
    stock = stock_of(A={"WH-LA": 1}, B={"WH-NY": 1}, C={"WH-CHI": 1}, D={"WH-LON": 1})
    result = unplannable(lines(A=1, B=1, C=1, D=1), TO_BOSTON, stock)
    assert result.reasons[0].message == "needs at least 4 shipments; the channel allows 3"
    assert plan(lines(A=1, B=1, C=1, D=1), TO_BOSTON, stock, rules=SourcingRules(maxShipments=4))


def test_only_the_channels_allowed_warehouses_are_used():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5, "WH-LON": 5})
    rules = SourcingRules(allowedWarehouses=["WH-NY", "WH-LON"])
    result = plan(lines(A=1), TO_SANTA_MONICA, stock, rules=rules)
    assert shipped(result) == {"WH-NY": {"A": 1}}
    assert [(r.warehouseId, r.reason, r.message) for r in result.rejected] == [
        ("WH-CHI", RejectionCode.NOT_ALLOWED, "not allowed for this channel"),
        ("WH-LA", RejectionCode.NOT_ALLOWED, "not allowed for this channel"),
    ]
    assert [c.warehouseIds for c in result.considered] == [["WH-LON"]]


def test_stock_in_warehouses_the_channel_may_not_use_does_not_count():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 1})
    result = unplannable(lines(A=2), TO_BOSTON, stock, rules=SourcingRules(allowedWarehouses=["WH-NY"]))
    assert [(r.code, r.details) for r in result.reasons] == [
        (UnplannableCode.SHORTAGE, {"sku": "A", "requested": 2, "available": 1})
    ]


def test_no_allowed_warehouse():
    stock = stock_of(A={"WH-LA": 5})
    result = unplannable(lines(A=1), TO_BOSTON, stock, rules=SourcingRules(allowedWarehouses=["WH-XX"]))
    assert [r.code for r in result.reasons] == [UnplannableCode.NO_WAREHOUSE, UnplannableCode.SHORTAGE]
    assert result.reasons[0].message == "no warehouse is allowed for this channel"
    assert unplannable(lines(A=1), TO_BOSTON, stock, warehouses=[]).reasons[0].message == (
        "no warehouse is configured"
    )


def test_a_warehouse_at_capacity_is_passed_over_while_another_can_ship():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5})
    loads = {"WH-LA": WarehouseLoad(ordersToday=120, dailyCapacity=120)}
    result = plan(lines(A=1), TO_SANTA_MONICA, stock, capacity=loads)
    assert shipped(result) == {"WH-NY": {"A": 1}}
    assert result.decidedBy is DecidedBy.CAPACITY
    assert [(r.warehouseId, r.reason, r.message) for r in result.rejected] == [
        ("WH-CHI", RejectionCode.NO_STOCK, "holds none of the order's SKUs"),
        ("WH-LA", RejectionCode.AT_CAPACITY, "at capacity: 120 of 120 orders today"),
        ("WH-LON", RejectionCode.NO_STOCK, "holds none of the order's SKUs"),
    ]
    assert result.considered[0].atCapacity == ["WH-LA"]
    assert result.explanation.endswith("; WH-LA would be better but is at capacity (120 of 120 orders today)")


def test_a_warehouse_below_its_capacity_is_used_as_any_other():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5})
    loads = {"WH-LA": WarehouseLoad(ordersToday=119, dailyCapacity=120)}
    result = plan(lines(A=1), TO_SANTA_MONICA, stock, capacity=loads)
    assert shipped(result) == {"WH-LA": {"A": 1}}
    assert result.decidedBy is DecidedBy.NEAREST


def test_a_warehouse_at_capacity_ships_when_nothing_else_can():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 1})
    loads = {"WH-LA": WarehouseLoad(ordersToday=130, dailyCapacity=120)}
    result = plan(lines(A=2), TO_BOSTON, stock, capacity=loads)
    assert shipped(result) == {"WH-LA": {"A": 2}}
    assert result.explanation.endswith(
        "; WH-LA is at capacity (130 of 120 orders today), "
        "but no plan without a warehouse at capacity was found"
    )
    assert all(r.warehouseId != "WH-LA" for r in result.rejected)


def test_a_split_without_a_warehouse_at_capacity_beats_one_shipment_from_it():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5}, B={"WH-LA": 5, "WH-CHI": 5})
    loads = {"WH-LA": WarehouseLoad(ordersToday=1, dailyCapacity=1)}
    result = plan(lines(A=1, B=1), TO_SANTA_MONICA, stock, capacity=loads)
    assert shipped(result) == {"WH-CHI": {"B": 1}, "WH-NY": {"A": 1}}
    assert result.decidedBy is DecidedBy.CAPACITY
    assert result.considered[0].warehouseIds == ["WH-LA"]


def test_a_sku_no_chosen_warehouse_holds_enough_of_comes_from_two_nearest_first():
    # From Boston: NY (3) is nearest, then Chicago (4), then LA (2); none has 5 alone.
    stock = stock_of(A={"WH-NY": 3, "WH-CHI": 4, "WH-LA": 2})
    result = plan(lines(A=5), TO_BOSTON, stock)
    assert shipped(result) == {"WH-NY": {"A": 3}, "WH-CHI": {"A": 2}}
    assert reservation_actions(result) == 3 + 3 * 2 + 2 * 2


def test_a_sku_one_chosen_warehouse_holds_enough_of_comes_from_it_alone():
    # NY and Chicago must both ship (only NY has B); A comes whole from Chicago, not 2 + 2.
    stock = stock_of(A={"WH-NY": 2, "WH-CHI": 4}, B={"WH-NY": 1})
    result = plan(lines(A=4, B=1), TO_BOSTON, stock)
    assert shipped(result) == {"WH-NY": {"B": 1}, "WH-CHI": {"A": 4}}


def test_without_coordinates_same_country_warehouses_come_first():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5, "WH-LON": 5})
    result = plan(lines(A=1), TO_GB_SOMEWHERE, stock)
    assert shipped(result) == {"WH-LON": {"A": 1}}
    assert result.usedFallback
    assert result.decidedBy is DecidedBy.SAME_COUNTRY
    assert result.shipments[0].distanceKm is None
    assert result.considered[0].totalDistanceKm is None
    assert "no coordinates" in result.explanation


def test_without_coordinates_the_warehouse_id_decides_within_the_country():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5, "WH-LON": 5})
    result = plan(lines(A=1), TO_US_SOMEWHERE, stock)
    assert shipped(result) == {"WH-LA": {"A": 1}}
    assert result.decidedBy is DecidedBy.WAREHOUSE_ID
    assert [c.warehouseIds for c in result.considered] == [["WH-NY"], ["WH-LON"]]


def test_half_a_position_is_no_position():
    address = Address(name="A", line1="1 Main", city="Boston", country="US", latitude=42.36)
    assert Destination.of(address).coordinates() is None
    assert Destination.of(BOSTON) == TO_BOSTON


def test_an_order_of_40_skus_each_split_over_two_warehouses_exceeds_one_transaction():
    units = {f"SKU-{n}": 2 for n in range(MAX_LINES)}
    stock = {sku: [level(sku, "WH-NY", 1), level(sku, "WH-CHI", 1)] for sku in units}
    result = unplannable(units, TO_BOSTON, stock)
    assert [r.code for r in result.reasons] == [UnplannableCode.TOO_LARGE]
    assert result.reasons[0].details == {"actions": 3 + 3 * 2 + 2 * 80, "limit": 100, "maxShipments": 3}


def test_a_plan_over_the_transaction_limit_gives_way_to_one_within_it():
    # NY + Chicago are nearest but need 80 (SKU, warehouse) pairs; LA + London need 40.
    units = {f"SKU-{n}": 2 for n in range(MAX_LINES)}
    stock = {
        sku: [level(sku, "WH-NY", 1), level(sku, "WH-CHI", 1), level(sku, "WH-LA" if n < 20 else "WH-LON", 2)]
        for n, sku in enumerate(units)
    }
    result = plan(units, TO_BOSTON, stock)
    assert {s.warehouseId for s in result.shipments} == {"WH-LA", "WH-LON"}
    assert reservation_actions(result) == 3 + 3 * 2 + 2 * 40 <= TRANSACTION_ACTIONS_LIMIT


def test_reservation_actions_of_the_largest_single_shipment():
    units = {f"SKU-{n}": 1 for n in range(MAX_LINES)}
    result = plan(units, TO_BOSTON, {sku: [level(sku, "WH-NY", 1)] for sku in units})
    assert reservation_actions(result) == 3 + 3 + 2 * MAX_LINES == 86


def test_shortages_are_reported_per_sku():
    stock = stock_of(A={"WH-LA": 1, "WH-NY": 1}, B={"WH-NY": 9})
    result = unplannable(lines(A=3, B=2, C=1), TO_BOSTON, stock)
    assert [(r.code, r.details) for r in result.reasons] == [
        (UnplannableCode.SHORTAGE, {"sku": "A", "requested": 3, "available": 2}),
        (UnplannableCode.SHORTAGE, {"sku": "C", "requested": 1, "available": 0}),
    ]
    assert result.reasons[0].message == "A: 2 available of 3 requested across the allowed warehouses"
    assert shortages(lines(A=3), stock, ["WH-LA"]) == [{"sku": "A", "requested": 3, "available": 1}]


def test_not_enough_stock_names_what_a_warehouse_lacks():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 1}, B={"WH-LA": 5})
    result = plan(lines(A=2, B=1), TO_BOSTON, stock)
    assert [(r.warehouseId, r.reason, r.message) for r in result.rejected if r.warehouseId == "WH-NY"] == [
        ("WH-NY", RejectionCode.NOT_ENOUGH_STOCK, "not enough stock for A (1 of 2), B (0 of 1)")
    ]


def test_the_plan_does_not_depend_on_the_order_of_warehouses_or_stock_levels():
    ring = [warehouse(f"WH-{n:02}", 40 + n % 3, -100 + n % 4, "US" if n % 2 else "CA") for n in range(12)]
    stock = {
        sku: [level(sku, w.warehouseId, (n * 7 + m * 3) % 4) for n, w in enumerate(ring)]
        for m, sku in enumerate(["A", "B", "C"])
    }
    units = lines(A=4, B=3, C=2)
    for destination in (Destination(country="US", latitude=41, longitude=-99), TO_US_SOMEWHERE):
        expected = plan(units, destination, stock, warehouses=ring)
        shuffler = random.Random(8)
        for _ in range(5):
            shuffled = shuffler.sample(ring, len(ring))
            levels = {sku: shuffler.sample(found, len(found)) for sku, found in stock.items()}
            assert plan(units, destination, levels, warehouses=shuffled) == expected


def test_at_most_five_alternatives_are_shown_best_first():
    ring = [warehouse(f"WH-{n}", 40 + n, -90, "US") for n in range(8)]
    result = plan(lines(A=1), TO_BOSTON, {"A": [level("A", w.warehouseId, 1) for w in ring]}, warehouses=ring)
    assert len(result.considered) == 5
    distances = [c.totalDistanceKm or 0 for c in result.considered]
    assert distances == sorted(distances)


def test_the_plan_is_json_for_dynamodb_and_the_api():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5}, B={"WH-CHI": 5})
    result = plan(lines(A=1, B=1), TO_BOSTON, stock)
    assert SourcingPlan.model_validate_json(result.model_dump_json()) == result
    assert all(s.distanceKm == round(s.distanceKm or 0, 1) for s in result.shipments)


def test_summary_of_a_plan():
    stock = stock_of(A={"WH-NY": 5}, B={"WH-CHI": 5})
    result = plan(lines(A=1, B=1), TO_BOSTON, stock)
    ny, chi = (s.distanceKm or 0 for s in result.shipments)
    assert summarize(result) == PlanSummary(
        shipments_count=2, total_distance_km=round(ny + chi, 1), max_distance=chi
    )
    fallback = plan(lines(A=1, B=1), TO_US_SOMEWHERE, stock)
    assert summarize(fallback) == PlanSummary(shipments_count=2, total_distance_km=None, max_distance=None)


def test_an_order_without_units_is_a_programming_error():
    with pytest.raises(ValueError):
        plan_shipments({}, TO_BOSTON, ALL, {})
    with pytest.raises(ValueError):
        plan_shipments({"A": 0}, TO_BOSTON, ALL, {})


# ---- the search budget ----------------------------------------------------------------------------


def crowded(warehouse_count: int, sku_count: int, per_warehouse: int) -> tuple[list[Warehouse], dict]:
    """Warehouse n holds SKUs n .. n + per_warehouse - 1 (around the ring), one unit each: no fewer
    than sku_count / per_warehouse warehouses cover an order of one unit of every SKU."""
    ring = [warehouse(f"WH-{n:02}", 30 + n * 0.5, -120 + n, "US") for n in range(warehouse_count)]
    stock: dict[str, list[StockLevel]] = {f"SKU-{m:02}": [] for m in range(sku_count)}
    for n, w in enumerate(ring):
        for m in range(n, n + per_warehouse):
            sku = f"SKU-{m % sku_count:02}"
            stock[sku].append(level(sku, w.warehouseId, 1))
    return ring, stock


def test_forty_warehouses_no_four_of_which_cover_the_order_fall_back_to_greedy_within_the_budget():
    # 40 warehouses, 40 SKUs, at most 5 shipments: no 4 warehouses cover the order, so the
    # exhaustive search would evaluate 102,090 combinations of up to 4 before reaching 5.
    ring, stock = crowded(40, 40, 8)
    units = dict.fromkeys(stock, 1)
    result = plan(units, TO_BOSTON, stock, warehouses=ring, rules=SourcingRules(maxShipments=5))
    assert result.decidedBy is DecidedBy.GREEDY
    assert len(result.shipments) == 5
    assert sum(len(s.lines) for s in result.shipments) == 40
    assert "a greedy choice: the search stopped after 12,000 combinations" in result.explanation


def test_the_costliest_combinations_tested_end_in_a_greedy_plan_once_the_budget_is_spent():
    # Each of the 40 warehouses holds 1 of each of 8 SKUs the order needs 5 of: every combination of
    # 5 warehouses is a plan, each allocated (SKUs split five ways) and ranked until the budget ends.
    # (Its time, 0.15 to 0.2 s on the 2-core development machine, is the module docstring's figure,
    # not asserted here: a timed test fails on a loaded machine.)
    ring = [warehouse(f"WH-{n:02}", 30 + n * 0.5, -120 + n, "US") for n in range(40)]
    skus = [f"SKU-{m}" for m in range(8)]
    stock = {sku: [level(sku, w.warehouseId, 1) for w in ring] for sku in skus}
    result = plan(
        dict.fromkeys(skus, 5), TO_BOSTON, stock, warehouses=ring, rules=SourcingRules(maxShipments=5)
    )
    assert result.decidedBy is DecidedBy.GREEDY
    assert len(result.shipments) == 5


def test_within_the_budget_the_search_is_exhaustive():
    ring, stock = crowded(12, 12, 4)
    units = dict.fromkeys(stock, 1)
    result = plan(units, TO_BOSTON, stock, warehouses=ring, rules=SourcingRules(maxShipments=3))
    assert result.decidedBy is not DecidedBy.GREEDY
    assert len(result.shipments) == 3
    assert sum(len(list(combinations(ring, k))) for k in (1, 2, 3, 4)) < COMBINATION_BUDGET


def test_a_small_budget_falls_back_to_greedy():
    stock = stock_of(A={"WH-LA": 5, "WH-NY": 5})
    result = plan(lines(A=1), TO_BOSTON, stock, budget=1)
    assert result.decidedBy is DecidedBy.GREEDY
    assert shipped(result) == {"WH-NY": {"A": 1}}  # greedy: the most units, ties to the nearest


def test_when_the_greedy_choice_fails_too_the_order_is_unplannable_for_the_budget():
    # Greedy takes the warehouse with the most units (BIG: 1, 2, 4, 5), then needs two more;
    # LEFT (1, 2, 3) + RIGHT (4, 5, 6) would do in two.
    ring = [warehouse("BIG", 41, -87), warehouse("LEFT", 40, -74), warehouse("RIGHT", 34, -118)]
    held = {"BIG": "1245", "LEFT": "123", "RIGHT": "456"}
    stock = {s: [level(s, w, 1) for w, skus in held.items() if s in skus] for s in "123456"}
    units = dict.fromkeys("123456", 1)
    result = unplannable(
        units, TO_BOSTON, stock, warehouses=ring, rules=SourcingRules(maxShipments=2), budget=1
    )
    assert [r.code for r in result.reasons] == [UnplannableCode.SEARCH_LIMIT]
    exhaustive = plan(units, TO_BOSTON, stock, warehouses=ring, rules=SourcingRules(maxShipments=2))
    assert {s.warehouseId for s in exhaustive.shipments} == {"LEFT", "RIGHT"}


# ---- properties -------------------------------------------------------------------------------------

PLACES = [
    (34.05, -118.24, "US"),
    (40.71, -74.01, "US"),
    (41.88, -87.63, "US"),
    (43.65, -79.38, "CA"),
    (51.51, -0.13, "GB"),
    (48.86, 2.35, "FR"),
]


@dataclass
class Scenario:
    units: dict[str, int]
    destination: Destination
    warehouses: list[Warehouse]
    stock: dict[str, list[StockLevel]]
    rules: SourcingRules
    capacity: dict[str, WarehouseLoad]

    def outcome(self) -> SourcingPlan | Unplannable:
        return plan_shipments(
            self.units, self.destination, self.warehouses, self.stock, self.rules, capacity=self.capacity
        )

    def available(self, warehouse_id: str, sku: str) -> int:
        return sum(s.available for s in self.stock.get(sku, []) if s.warehouseId == warehouse_id)

    def covers(self, warehouse_ids: tuple[str, ...]) -> bool:
        return all(sum(self.available(w, sku) for w in warehouse_ids) >= n for sku, n in self.units.items())

    def fewest(self, warehouse_ids: list[str]) -> int | None:
        """The fewest of these warehouses that cover the order, by brute force."""
        for k in range(1, len(warehouse_ids) + 1):
            if any(self.covers(c) for c in combinations(warehouse_ids, k)):
                return k
        return None


@st.composite
def scenarios(draw: st.DrawFn, most_skus: int = 4, most_warehouses: int = 6) -> Scenario:
    places = draw(st.lists(st.sampled_from(PLACES), min_size=1, max_size=most_warehouses))
    warehouses = [warehouse(f"WH-{n}", lat, lon, country) for n, (lat, lon, country) in enumerate(places)]
    skus = [f"SKU-{m}" for m in range(draw(st.integers(1, most_skus)))]
    units = {sku: draw(st.integers(1, 6)) for sku in skus}
    stock = {
        sku: [level(sku, w.warehouseId, draw(st.integers(0, 6))) for w in warehouses if draw(st.booleans())]
        for sku in skus
    }
    lat, lon, country = draw(st.sampled_from(PLACES))
    with_coordinates = draw(st.booleans())
    destination = Destination(
        country=country,
        latitude=lat + 0.3 if with_coordinates else None,
        longitude=lon if with_coordinates else None,
    )
    ids = [w.warehouseId for w in warehouses]
    allowed = draw(st.none() | st.lists(st.sampled_from(ids), min_size=1, unique=True))
    rules = SourcingRules(maxShipments=draw(st.integers(1, 4)), allowedWarehouses=allowed)
    loaded = draw(st.lists(st.sampled_from(ids), unique=True))
    capacity = {w: WarehouseLoad(ordersToday=draw(st.integers(0, 2)), dailyCapacity=2) for w in loaded}
    return Scenario(units, destination, warehouses, stock, rules, capacity)


def assert_within_the_rules(scenario: Scenario, result: SourcingPlan) -> None:
    allowed = scenario.rules.allowedWarehouses
    shipped_units: dict[str, int] = {}
    for shipment in result.shipments:
        assert allowed is None or shipment.warehouseId in allowed
        assert shipment.lines, "every warehouse of a plan ships something"
        for line in shipment.lines:
            assert 0 < line.quantity <= scenario.available(shipment.warehouseId, line.sku)
            shipped_units[line.sku] = shipped_units.get(line.sku, 0) + line.quantity
    assert shipped_units == scenario.units
    assert len(result.shipments) <= scenario.rules.maxShipments
    assert reservation_actions(result) <= TRANSACTION_ACTIONS_LIMIT
    assert len(result.considered) <= 5


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_a_plan_ships_exactly_the_order_within_the_rules_and_in_the_fewest_shipments(scenario: Scenario):
    result = scenario.outcome()
    allowed = [
        w.warehouseId
        for w in scenario.warehouses
        if scenario.rules.allowedWarehouses is None or w.warehouseId in scenario.rules.allowedWarehouses
    ]
    clean = [w for w in allowed if w not in scenario.capacity or not scenario.capacity[w].at_capacity]
    fewest_clean, fewest = scenario.fewest(clean), scenario.fewest(allowed)
    limit = scenario.rules.maxShipments
    if fewest_clean is not None and fewest_clean <= limit:
        assert isinstance(result, SourcingPlan)
        assert len(result.shipments) == fewest_clean
        assert all(s.warehouseId in clean for s in result.shipments)
    elif fewest is not None and fewest <= limit:
        assert isinstance(result, SourcingPlan)
        assert len(result.shipments) == fewest
    else:
        assert isinstance(result, Unplannable)
        assert {r.code for r in result.reasons} <= {
            UnplannableCode.SHORTAGE,
            UnplannableCode.NO_WAREHOUSE,
            UnplannableCode.TOO_MANY_SHIPMENTS,
        }
        return
    assert_within_the_rules(scenario, result)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_a_plan_is_the_nearest_of_those_with_as_few_shipments(scenario: Scenario):
    result = scenario.outcome()
    if not isinstance(result, SourcingPlan) or result.usedFallback or result.decidedBy is DecidedBy.CAPACITY:
        return
    chosen = {s.warehouseId for s in result.shipments}
    pool = [w.warehouseId for w in scenario.warehouses]
    if scenario.rules.allowedWarehouses is not None:
        pool = [w for w in pool if w in scenario.rules.allowedWarehouses]
    uses_capped = any(scenario.capacity.get(w) and scenario.capacity[w].at_capacity for w in chosen)
    if not uses_capped:
        pool = [w for w in pool if not (scenario.capacity.get(w) and scenario.capacity[w].at_capacity)]
    total = summarize(result).total_distance_km
    assert total is not None
    where = {w.warehouseId: (w.latitude, w.longitude) for w in scenario.warehouses}
    coordinates = scenario.destination.coordinates()
    assert coordinates is not None
    for other in combinations(pool, len(chosen)):
        if scenario.covers(other):
            distance = sum(distance_km(*coordinates, *where[w]) for w in other)
            assert total <= round(distance, 1) + 0.1 * len(chosen)


@settings(max_examples=100, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_the_plan_is_deterministic(scenario: Scenario, shuffler: random.Random):
    expected = scenario.outcome()
    scenario.warehouses = shuffler.sample(scenario.warehouses, len(scenario.warehouses))
    scenario.stock = {sku: shuffler.sample(levels, len(levels)) for sku, levels in scenario.stock.items()}
    assert scenario.outcome() == expected


@settings(max_examples=60, deadline=None)
@given(scenarios(most_skus=MAX_LINES, most_warehouses=4))
def test_a_large_order_is_planned_within_one_transaction_or_not_at_all(scenario: Scenario):
    result = scenario.outcome()
    if isinstance(result, SourcingPlan):
        assert_within_the_rules(scenario, result)


@settings(max_examples=150, deadline=None)
@given(scenarios(most_warehouses=8), st.integers(1, 40))
def test_a_plan_found_with_a_small_budget_is_still_within_the_rules(scenario: Scenario, budget: int):
    result = plan_shipments(
        scenario.units,
        scenario.destination,
        scenario.warehouses,
        scenario.stock,
        scenario.rules,
        capacity=scenario.capacity,
        budget=budget,
    )
    if isinstance(result, SourcingPlan):
        assert_within_the_rules(scenario, result)
