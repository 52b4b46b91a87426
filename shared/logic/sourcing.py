"""Which warehouses ship an order. Pure: no I/O; the caller reads stock, warehouses and loads.

`plan_shipments` routes an order to one or more warehouses. Rules, in order:
1. The fewest shipments (one shipment per warehouse), never more than the channel's `maxShipments`.
2. The nearest: the least total great-circle distance of the shipments to the destination (0.1 km).
   Without coordinates: the fewest shipments from outside the destination's country, and the plan
   says `usedFallback`.
3. The warehouse ids (sorted, compared as lists), so the plan is deterministic.
Constraints on every plan:
- only warehouses the channel allows (`SourcingRules.allowedWarehouses`);
- a warehouse at its daily capacity (orders today >= capacity) only when no plan without one exists;
- a SKU comes from the nearest warehouse of the plan that has enough of it alone; when none has,
  it is split over the plan's warehouses, nearest first;
- every warehouse of a plan ships at least one unit;
- its reservation fits one DynamoDB transaction (`reservation_actions` <= TRANSACTION_ACTIONS_LIMIT).

Search: exhaustive over combinations of k = 1, 2, ... warehouses, only those allowed and holding at
least one unit of the order's SKUs, nearest first. It goes one size beyond the first size with a plan
(to show the alternatives in `considered`, and a far single warehouse's win over two near ones as
FEWEST_SHIPMENTS) and skips combinations that merely add a warehouse to a plan. Combinations with a
warehouse at capacity are evaluated only while no plan without one has been found.

It evaluates at most `budget` combinations (COMBINATION_BUDGET). When that runs out before the best
plan is established, the plan is the better (by the rules above) of the best found so far and a greedy
cover: repeatedly the warehouse that can ship the most of the still uncovered units (ties: the nearest,
then the smaller id), first without warehouses at capacity, then with them; its `decidedBy` is GREEDY.
Before searching, two lower bounds per SKU (the fewest warehouses that hold what the order needs of
it) skip sizes that cannot cover the order and refuse, as TOO_LARGE, an order whose smallest possible
reservation exceeds one transaction.

Measured on the 2-core development machine (tests/unit/test_sourcing.py): the costliest case tested,
40 warehouses, maxShipments 5 and every combination of 5 a plan with SKUs split five ways, takes 0.15
to 0.2 s (the whole budget, then greedy); 40 warehouses and 40 SKUs where no 4 warehouses cover the
order, 0.01 to 0.02 s. With the default maxShipments (3) and up to 41 warehouses the search is always
exhaustive.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from operator import itemgetter

from shared.models.catalog import StockLevel, Warehouse
from shared.models.order import FulfillmentLine
from shared.models.sourcing import (
    ACTIONS_PER_PAIR,
    ACTIONS_PER_SHIPMENT,
    MAX_CONSIDERED,
    ORDER_ACTIONS,
    TRANSACTION_ACTIONS_LIMIT,
    ConsideredPlan,
    DecidedBy,
    Destination,
    PlannedShipment,
    RejectedWarehouse,
    RejectionCode,
    SourcingPlan,
    SourcingRules,
    Unplannable,
    UnplannableCode,
    UnplannableReason,
    WarehouseLoad,
)

EARTH_RADIUS_KM = 6371.0

# Combinations evaluated at most per order before falling back to a greedy choice: enough for every
# combination of up to 3 (the default maxShipments) of 41 warehouses (11,521); up to 5 of 40 would be
# 760,098. About 20 microseconds each at worst (every combination a plan, SKUs split 5 ways).
COMBINATION_BUDGET = 12_000

__all__ = [
    "COMBINATION_BUDGET",
    "TRANSACTION_ACTIONS_LIMIT",
    "PlanSummary",
    "distance_km",
    "plan_shipments",
    "reservation_actions",
    "shortages",
    "summarize",
]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def shortages(
    units: Mapping[str, int],
    stock: Mapping[str, Sequence[StockLevel]],
    warehouse_ids: Collection[str] | None = None,
) -> list[dict[str, object]]:
    """Lines whose SKU lacks the quantity across all warehouses together (or those of `warehouse_ids`)."""
    short: list[dict[str, object]] = []
    for sku, quantity in units.items():
        available = sum(
            max(0, level.available)
            for level in stock.get(sku, [])
            if warehouse_ids is None or level.warehouseId in warehouse_ids
        )
        if available < quantity:
            short.append({"sku": sku, "requested": quantity, "available": available})
    return short


def reservation_actions(plan: SourcingPlan) -> int:
    """DynamoDB transaction actions that reserving the plan takes."""
    return _actions(len(plan.shipments), sum(len(s.lines) for s in plan.shipments))


def _actions(shipments: int, pairs: int) -> int:
    return ORDER_ACTIONS + ACTIONS_PER_SHIPMENT * shipments + ACTIONS_PER_PAIR * pairs


@dataclass(frozen=True)
class PlanSummary:
    """What a simulation measures of a plan (distances in km, None without coordinates)."""

    shipments_count: int
    total_distance_km: float | None
    max_distance: float | None


def summarize(plan: SourcingPlan) -> PlanSummary:
    distances = [s.distanceKm for s in plan.shipments]
    known = [d for d in distances if d is not None]
    if len(known) < len(distances):
        return PlanSummary(len(distances), None, None)
    return PlanSummary(len(distances), round(sum(known), 1), max(known))


# ---- the planner ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Site:
    """An allowed warehouse holding some of the order, as the search sees it."""

    warehouse_id: str
    distance: float | None
    foreign: bool
    available: tuple[int, ...]  # per SKU of the order, at most what the order needs
    holds: int  # bit j: it has some of SKU j
    suffices: int  # bit j: it has all the order needs of SKU j
    load: WarehouseLoad | None

    @property
    def at_capacity(self) -> bool:
        return self.load is not None and self.load.at_capacity


@dataclass(frozen=True)
class _Option:
    """An acceptable combination: site indexes in preference order, and its rank (smaller is better)."""

    combo: tuple[int, ...]
    rank: tuple[bool, int, float, tuple[str, ...]]  # uses capacity, shipments, distance, sorted ids

    @property
    def capped(self) -> bool:
        return self.rank[0]

    @property
    def shipments(self) -> int:
        return self.rank[1]


@dataclass
class _Problem:
    skus: tuple[str, ...]
    need: tuple[int, ...]
    destination: Destination
    sites: list[_Site]  # in preference order: nearest (or same country) first, then id
    max_shipments: int
    budget: int

    @cached_property
    def full(self) -> int:
        return (1 << len(self.skus)) - 1

    @cached_property
    def holds(self) -> list[int]:
        return [s.holds for s in self.sites]

    @cached_property
    def suffices(self) -> list[int]:
        return [s.suffices for s in self.sites]

    @cached_property
    def columns(self) -> list[tuple[int, ...]]:
        """Per SKU, what each site has of it (at most what the order needs)."""
        return [tuple(s.available[j] for s in self.sites) for j in range(len(self.skus))]

    @property
    def has_coordinates(self) -> bool:
        return self.destination.coordinates() is not None

    @cached_property
    def sites_per_sku(self) -> list[int]:
        """Per SKU, the fewest sites that hold what the order needs of it (the most stocked first)."""
        counts = []
        for j, needed in enumerate(self.need):
            count = total = 0
            for held in sorted((s.available[j] for s in self.sites), reverse=True):
                if total >= needed:
                    break
                count, total = count + 1, total + held
            counts.append(count)
        return counts

    @property
    def fewest_shipments(self) -> int:
        return max(self.sites_per_sku)

    @property
    def fewest_actions(self) -> int:
        """No plan reserves in fewer transaction actions."""
        return _actions(self.fewest_shipments, sum(self.sites_per_sku))

    def rank(self, combo: tuple[int, ...]) -> tuple[bool, int, float, tuple[str, ...]]:
        sites = [self.sites[i] for i in combo]
        if self.has_coordinates:
            closeness = round(sum(s.distance or 0.0 for s in sites), 1)
        else:
            closeness = float(sum(s.foreign for s in sites))
        ids = tuple(sorted(s.warehouse_id for s in sites))
        return (any(s.at_capacity for s in sites), len(sites), closeness, ids)


@dataclass
class _Search:
    problem: _Problem
    options: list[_Option] = field(default_factory=list)
    evaluated: int = 0
    settled: bool = False  # the best plan is established (or none exists)
    fewest_actions_over_limit: int | None = None
    _acceptable: set[tuple[int, ...]] = field(default_factory=set)
    # Splits by (units needed, what each site holds): combinations repeat the same few stock patterns.
    _splits: dict[tuple[int, tuple[int, ...]], tuple[int, int]] = field(default_factory=dict)
    _bit_lists: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def run(self) -> None:
        p = self.problem
        everything = list(range(len(p.sites)))
        clean = [i for i in everything if not p.sites[i].at_capacity]
        best_clean: int | None = None
        best_capped: int | None = None
        for k in range(p.fewest_shipments, p.max_shipments + 1):
            alternatives_only = best_clean is not None
            with_capped = best_clean is None and (best_capped is None or k <= best_capped + 1)
            before = len(self.options)
            finished = self._level(everything if with_capped else clean, k)
            if alternatives_only:
                break
            if not finished:
                return
            found = self.options[before:]
            if any(not o.capped for o in found):
                best_clean = k
            if best_capped is None and any(o.capped for o in found):
                best_capped = k
        self.settled = True

    def _level(self, pool: list[int], k: int) -> bool:
        """Evaluate the combinations of k sites of the pool; False when the budget ran out."""
        skip_supersets = k > 1 and bool(self._acceptable)
        for combo in combinations(pool, k):
            if self.evaluated >= self.problem.budget:
                return False
            self.evaluated += 1
            if skip_supersets and any(combo[:i] + combo[i + 1 :] in self._acceptable for i in range(k)):
                continue
            self._evaluate(combo)
        return True

    def _evaluate(self, combo: tuple[int, ...]) -> None:
        split = self._covered(combo)
        if split is None:
            return
        # Each SKU no site has enough of alone takes two pairs at least: reject without allocating.
        fewest = _actions(len(combo), len(self.problem.skus) + len(split))
        if fewest > TRANSACTION_ACTIONS_LIMIT:
            self._over_limit(fewest)
            return
        pairs = self._pairs(combo, split)
        if pairs is None:
            return  # a warehouse would ship nothing: the plan without it is evaluated on its own
        actions = _actions(len(combo), pairs)
        if actions > TRANSACTION_ACTIONS_LIMIT:
            self._over_limit(actions)
            return
        self._acceptable.add(combo)
        self.options.append(_Option(combo, self.problem.rank(combo)))

    def _over_limit(self, actions: int) -> None:
        fewest = self.fewest_actions_over_limit
        self.fewest_actions_over_limit = actions if fewest is None else min(fewest, actions)

    def covers(self, combo: Sequence[int]) -> bool:
        """The sites together hold every unit the order needs."""
        return self._covered(combo) is not None

    def _covered(self, combo: Sequence[int]) -> list[tuple[int, tuple[int, ...]]] | None:
        """When the sites together hold the order: the SKUs none of them has enough of alone, each
        as (units needed, what each site holds)."""
        p = self.problem
        holds = suffices = 0
        for i in combo:
            holds |= p.holds[i]
            suffices |= p.suffices[i]
        if holds != p.full:
            return None
        missing = p.full & ~suffices
        if not missing:
            return []
        if len(combo) == 1:
            return None
        column_of = itemgetter(*combo)  # several sites: their tuple of a column
        split = [(p.need[j], column_of(p.columns[j])) for j in self._bits(missing)]
        return None if any(sum(held) < needed for needed, held in split) else split

    def _bits(self, mask: int) -> tuple[int, ...]:
        found = self._bit_lists.get(mask)
        if found is None:
            found = self._bit_lists[mask] = tuple(j for j in range(mask.bit_length()) if mask >> j & 1)
        return found

    def _pairs(self, combo: Sequence[int], split: list[tuple[int, tuple[int, ...]]]) -> int | None:
        """The (SKU, warehouse) pairs `allocate` makes, counted with bit masks; None when a site would
        ship nothing. `split`: from `_covered`."""
        p = self.problem
        taken = used = pairs = 0
        for position, i in enumerate(combo):  # a SKU one site has enough of comes from the nearest such
            mine = p.suffices[i] & ~taken
            if mine:
                used |= 1 << position
                pairs += mine.bit_count()
                taken |= mine
        for key in split:
            found = self._splits.get(key)
            if found is None:
                found = self._splits[key] = _split(*key)
            used |= found[0]
            pairs += found[1]
        return pairs if used == (1 << len(combo)) - 1 else None

    def allocate(self, combo: Sequence[int]) -> tuple[list[list[int]], int] | None:
        """Units per site and SKU, and the (SKU, warehouse) pairs; None when a site would ship nothing.
        Call only for a combination that covers the order."""
        sites = [self.problem.sites[i] for i in combo]
        take = [[0] * len(self.problem.skus) for _ in sites]
        pairs = 0
        for j, needed in enumerate(self.problem.need):
            alone = next((p for p, s in enumerate(sites) if s.suffices >> j & 1), None)
            if alone is not None:
                take[alone][j] = needed
                pairs += 1
                continue
            remaining = needed
            for p, site in enumerate(sites):
                quantity = min(remaining, site.available[j])
                if quantity:
                    take[p][j] = quantity
                    pairs += 1
                    remaining -= quantity
        if not all(any(row) for row in take):
            return None
        return take, pairs

    def greedy(self) -> _Option | None:
        p = self.problem
        everything = list(range(len(p.sites)))
        clean = [i for i in everything if not p.sites[i].at_capacity]
        for pool in [clean, everything] if len(clean) < len(everything) else [clean]:
            combo = self._greedy_cover(pool)
            if combo is None:
                continue
            allocated = self.allocate(combo)
            if allocated is None:  # a site made redundant by later ones: drop it
                combo = self._drop_idle(combo)
                allocated = self.allocate(combo)
            if allocated is not None and _actions(len(combo), allocated[1]) <= TRANSACTION_ACTIONS_LIMIT:
                return _Option(combo, p.rank(combo))
        return None

    def _greedy_cover(self, pool: list[int]) -> tuple[int, ...] | None:
        sites, remaining, chosen = self.problem.sites, list(self.problem.need), list[int]()
        while any(remaining) and len(chosen) < self.problem.max_shipments:
            best, gain = None, 0
            for i in pool:  # in preference order: a tie goes to the nearest
                g = sum(min(a, r) for a, r in zip(sites[i].available, remaining, strict=True))
                if g > gain and i not in chosen:
                    best, gain = i, g
            if best is None:
                return None
            chosen.append(best)
            remaining = [r - min(a, r) for a, r in zip(sites[best].available, remaining, strict=True)]
        return None if any(remaining) else tuple(sorted(chosen))

    def _drop_idle(self, combo: tuple[int, ...]) -> tuple[int, ...]:
        kept = list(combo)
        for i in combo:
            rest = [c for c in kept if c != i]
            if rest and self.covers(rest):
                kept = rest
        return tuple(kept)

    def fewest_covering(self, start: int) -> int | None:
        """The fewest sites that together hold the order, trying sizes from `start` within the budget."""
        everything = range(len(self.problem.sites))
        for k in range(start, len(self.problem.sites) + 1):
            for combo in combinations(everything, k):
                if self.evaluated >= self.problem.budget:
                    return None
                self.evaluated += 1
                if self.covers(combo):
                    return k
        return None


def _split(needed: int, held: tuple[int, ...]) -> tuple[int, int]:
    """Taking `needed` units nearest first from sites holding `held`: which sites ship (bit p: the
    p-th) and how many."""
    used = count = 0
    for position, quantity in enumerate(held):
        if quantity:
            used |= 1 << position
            count += 1
            needed -= quantity
            if needed <= 0:
                break
    return used, count


def plan_shipments(
    units: Mapping[str, int],
    destination: Destination,
    warehouses: Sequence[Warehouse],
    stock: Mapping[str, Sequence[StockLevel]],
    rules: SourcingRules | None = None,
    *,
    capacity: Mapping[str, WarehouseLoad] | None = None,
    budget: int = COMBINATION_BUDGET,
) -> SourcingPlan | Unplannable:
    """Route an order (`units`: SKU -> units to ship, in order-line order) to warehouses; see the module
    docstring for the rules. `stock`: SKU -> its stock levels (only `available` counts); `capacity`:
    warehouse id -> today's load, for warehouses with a daily capacity."""
    if not units or any(q <= 0 for q in units.values()):
        raise ValueError("an order to source ships at least one unit of each of its SKUs")
    rules = rules or SourcingRules()
    allowed = _allowed(warehouses, rules)
    problem = _Problem(
        skus=tuple(units),
        need=tuple(units.values()),
        destination=destination,
        sites=_sites(units, destination, allowed, stock, capacity or {}),
        max_shipments=rules.maxShipments,
        budget=budget,
    )
    rejected = _Rejections(problem, warehouses, {w.warehouseId for w in allowed})
    short = shortages(units, stock, {w.warehouseId for w in allowed})
    if not allowed or short:
        return Unplannable(reasons=_no_stock_reasons(allowed, warehouses, short), rejected=rejected.of([]))
    if problem.fewest_actions > TRANSACTION_ACTIONS_LIMIT:
        return Unplannable(reasons=[_too_large(problem, problem.fewest_actions)], rejected=rejected.of([]))
    search = _Search(problem)
    search.run()
    greedy = None if search.settled else search.greedy()
    found = [*search.options, *([greedy] if greedy is not None else [])]
    options = sorted({o.combo: o for o in found}.values(), key=lambda o: o.rank)
    if not options:
        return Unplannable(reasons=[_why_not(search)], rejected=rejected.of([]))
    chosen, alternatives = options[0], options[1:]
    decided, runner = _decide(chosen, alternatives, not search.settled, problem.has_coordinates)
    considered = [o for o in [runner] if o is not None] + [o for o in alternatives if o is not runner]
    return SourcingPlan(
        shipments=_shipments(search, chosen),
        decidedBy=decided,
        explanation=_explain(problem, chosen, decided, runner),
        considered=[_considered(problem, o) for o in considered[:MAX_CONSIDERED]],
        rejected=rejected.of([problem.sites[i].warehouse_id for i in chosen.combo]),
        usedFallback=not problem.has_coordinates,
    )


def _allowed(warehouses: Sequence[Warehouse], rules: SourcingRules) -> list[Warehouse]:
    ids = [w.warehouseId for w in warehouses]
    if len(ids) != len(set(ids)):
        raise ValueError("warehouse ids must be unique")
    allowed = None if rules.allowedWarehouses is None else set(rules.allowedWarehouses)
    return [w for w in warehouses if allowed is None or w.warehouseId in allowed]


def _sites(
    units: Mapping[str, int],
    destination: Destination,
    allowed: list[Warehouse],
    stock: Mapping[str, Sequence[StockLevel]],
    capacity: Mapping[str, WarehouseLoad],
) -> list[_Site]:
    need = list(units.values())
    available = {w.warehouseId: [0] * len(need) for w in allowed}
    for j, sku in enumerate(units):
        for level in stock.get(sku, []):
            row = available.get(level.warehouseId)
            if row is not None:
                row[j] += max(0, level.available)
    coordinates = destination.coordinates()
    sites = []
    for w in allowed:
        held = tuple(min(a, n) for a, n in zip(available[w.warehouseId], need, strict=True))
        holds = sum(1 << j for j, a in enumerate(held) if a > 0)
        if not holds:
            continue
        sites.append(
            _Site(
                warehouse_id=w.warehouseId,
                distance=None if coordinates is None else distance_km(*coordinates, w.latitude, w.longitude),
                foreign=w.country != destination.country,
                available=held,
                holds=holds,
                suffices=sum(1 << j for j, (a, n) in enumerate(zip(held, need, strict=True)) if a >= n),
                load=capacity.get(w.warehouseId),
            )
        )
    return sorted(
        sites, key=lambda s: (s.distance if s.distance is not None else 0.0, s.foreign, s.warehouse_id)
    )


def _decide(
    chosen: _Option, alternatives: list[_Option], greedy: bool, coordinates: bool
) -> tuple[DecidedBy, _Option | None]:
    """The rule that separates the chosen plan from the best alternative, and that alternative."""
    if greedy:
        return DecidedBy.GREEDY, alternatives[0] if alternatives else None
    if not alternatives:
        return DecidedBy.ONLY_OPTION, None
    if not chosen.capped:
        better = [o for o in alternatives if o.capped and o.rank[1:] < chosen.rank[1:]]
        if better:
            return DecidedBy.CAPACITY, better[0]
    runner = alternatives[0]
    if runner.shipments != chosen.shipments:
        return DecidedBy.FEWEST_SHIPMENTS, runner
    if runner.rank[2] != chosen.rank[2]:
        return DecidedBy.NEAREST if coordinates else DecidedBy.SAME_COUNTRY, runner
    return DecidedBy.WAREHOUSE_ID, runner


def _shipments(search: _Search, chosen: _Option) -> list[PlannedShipment]:
    problem = search.problem
    allocated = search.allocate(chosen.combo)
    assert allocated is not None  # every option was allocated when found
    shipments = []
    for i, row in zip(chosen.combo, allocated[0], strict=True):
        site = problem.sites[i]
        lines = [FulfillmentLine(sku=sku, quantity=q) for sku, q in zip(problem.skus, row, strict=True) if q]
        shipments.append(
            PlannedShipment(warehouseId=site.warehouse_id, lines=lines, distanceKm=_km(site.distance))
        )
    return shipments


def _km(distance: float | None) -> float | None:
    return None if distance is None else round(distance, 1)


def _considered(problem: _Problem, option: _Option) -> ConsideredPlan:
    sites = [problem.sites[i] for i in option.combo]
    return ConsideredPlan(
        warehouseIds=[s.warehouse_id for s in sites],
        shipments=len(sites),
        totalDistanceKm=option.rank[2] if problem.has_coordinates else None,
        atCapacity=[s.warehouse_id for s in sites if s.at_capacity],
    )


# ---- explanations -----------------------------------------------------------------------------------


def _names(problem: _Problem, option: _Option) -> str:
    return " + ".join(problem.sites[i].warehouse_id for i in option.combo)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _distance(kilometres: float) -> str:
    return f"{kilometres:,.1f} km"


def _at_capacity(problem: _Problem, option: _Option) -> tuple[list[str], str]:
    """Its warehouses at capacity, and what to say of them: 'is at capacity (120 of 120 orders today)'."""
    capped = [problem.sites[i] for i in option.combo if problem.sites[i].at_capacity]
    loads = [(s.warehouse_id, s.load) for s in capped if s.load is not None]
    if len(loads) == 1:
        return [loads[0][0]], f"is at capacity ({loads[0][1].describe()})"
    each = ", ".join(f"{w}: {load.ordersToday:,} of {load.dailyCapacity:,}" for w, load in loads)
    return [w for w, _ in loads], f"are at capacity ({each} orders today)"


def _explain(problem: _Problem, chosen: _Option, decided: DecidedBy, runner: _Option | None) -> str:
    if problem.has_coordinates:
        where = _distance(chosen.rank[2]) + (" in total" if chosen.shipments > 1 else "")
    else:
        where = f"no coordinates, so same-country warehouses first ({problem.destination.country})"
    parts = [f"{_plural(chosen.shipments, 'shipment')} from {_names(problem, chosen)}, {where}"]
    if decided is DecidedBy.ONLY_OPTION:
        parts.append("the only plan within the channel's rules")
    elif runner is not None and decided is not DecidedBy.GREEDY:
        parts.append(_against(problem, decided, runner))
    if decided is DecidedBy.GREEDY:
        parts.append(f"a greedy choice: the search stopped after {problem.budget:,} combinations")
    if chosen.capped:
        capped, clause = _at_capacity(problem, chosen)
        parts.append(
            f"{' and '.join(capped)} {clause}, but no plan without a warehouse at capacity was found"
        )
    return "; ".join(parts)


def _against(problem: _Problem, decided: DecidedBy, runner: _Option) -> str:
    """Why the best alternative lost, e.g. 'WH-NY could ship it alone but is 3,935.7 km away'."""
    names, km = _names(problem, runner), _distance(runner.rank[2])
    if decided is DecidedBy.CAPACITY:
        capped, clause = _at_capacity(problem, runner)
        who = "" if len(capped) == len(runner.combo) else " and ".join(capped) + " "
        return f"{names} would be better but {who}{clause}"
    if decided is DecidedBy.FEWEST_SHIPMENTS:
        distance = f" ({km} in total)" if problem.has_coordinates else ""
        return f"{names} would need {_plural(runner.shipments, 'shipment')}{distance}"
    if decided is DecidedBy.NEAREST:
        if runner.shipments == 1:
            return f"{names} could ship it alone but is {km} away"
        return f"{names} would be {km} in total"
    if decided is DecidedBy.SAME_COUNTRY:
        foreign = _plural(int(runner.rank[2]), "shipment")
        return f"{names} would send {foreign} from outside {problem.destination.country}"
    return f"{names} is as good by every other rule; the warehouse ids decide"


# ---- what is rejected, and why an order cannot be planned -------------------------------------------


@dataclass
class _Rejections:
    problem: _Problem
    warehouses: Sequence[Warehouse]
    allowed: set[str]

    def of(self, used: list[str]) -> list[RejectedWarehouse]:
        sites = {s.warehouse_id: s for s in self.problem.sites}
        found = []
        for warehouse_id in sorted(w.warehouseId for w in self.warehouses):
            if warehouse_id in used:
                continue
            reason = self._reason(warehouse_id, sites.get(warehouse_id))
            if reason is not None:
                found.append(RejectedWarehouse(warehouseId=warehouse_id, reason=reason[0], message=reason[1]))
        return found

    def _reason(self, warehouse_id: str, site: _Site | None) -> tuple[RejectionCode, str] | None:
        if warehouse_id not in self.allowed:
            return RejectionCode.NOT_ALLOWED, "not allowed for this channel"
        if site is None:
            return RejectionCode.NO_STOCK, "holds none of the order's SKUs"
        if site.at_capacity and site.load is not None:
            return RejectionCode.AT_CAPACITY, f"at capacity: {site.load.describe()}"
        if site.suffices != self.problem.full:
            return RejectionCode.NOT_ENOUGH_STOCK, "not enough stock for " + self._lacking(site)
        return None  # it could ship the order alone: see the plan's `considered`

    def _lacking(self, site: _Site) -> str:
        p = self.problem
        short = [
            f"{sku} ({a} of {n})" for sku, a, n in zip(p.skus, site.available, p.need, strict=True) if a < n
        ]
        more = f" and {len(short) - 5} more SKUs" if len(short) > 5 else ""
        return ", ".join(short[:5]) + more


def _no_stock_reasons(
    allowed: list[Warehouse], warehouses: Sequence[Warehouse], short: list[dict[str, object]]
) -> list[UnplannableReason]:
    reasons = []
    if not allowed:
        message = "no warehouse is allowed for this channel" if warehouses else "no warehouse is configured"
        reasons.append(
            UnplannableReason(code=UnplannableCode.NO_WAREHOUSE, message=message, details={"warehouses": 0})
        )
    for s in short:
        reasons.append(
            UnplannableReason(
                code=UnplannableCode.SHORTAGE,
                message=f"{s['sku']}: {s['available']} available of {s['requested']} requested "
                "across the allowed warehouses",
                details={
                    "sku": str(s["sku"]),
                    "requested": _int(s["requested"]),
                    "available": _int(s["available"]),
                },
            )
        )
    return reasons


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _why_not(search: _Search) -> UnplannableReason:
    p = search.problem
    limit = p.max_shipments
    if not search.settled:
        return UnplannableReason(
            code=UnplannableCode.SEARCH_LIMIT,
            message=f"no plan of at most {_plural(limit, 'shipment')} found within {p.budget:,} "
            "combinations, nor by a greedy choice",
            details={"combinations": search.evaluated, "maxShipments": limit},
        )
    if search.fewest_actions_over_limit is not None:
        return _too_large(p, search.fewest_actions_over_limit)
    fewest = search.fewest_covering(max(limit + 1, p.fewest_shipments))
    needs = f"at least {fewest}" if fewest is not None else f"more than {limit}"
    return UnplannableReason(
        code=UnplannableCode.TOO_MANY_SHIPMENTS,
        message=f"needs {needs} shipments; the channel allows {limit}",
        details={"minimumShipments": fewest, "maxShipments": limit},
    )


def _too_large(problem: _Problem, actions: int) -> UnplannableReason:
    limit = problem.max_shipments
    return UnplannableReason(
        code=UnplannableCode.TOO_LARGE,
        message=f"every plan of at most {_plural(limit, 'shipment')} needs at least {actions} actions "
        f"to reserve; one DynamoDB transaction takes {TRANSACTION_ACTIONS_LIMIT}",
        details={"actions": actions, "limit": TRANSACTION_ACTIONS_LIMIT, "maxShipments": limit},
    )
