"""Hot SKU write spread: a simulation of DynamoDB's per-item write limits, not a measurement.

One second of single-unit reservations on one SKU-location spread over N buckets. Each bucket
choice is the OMS's own (`shared.dal.inventory.pick_buckets`, at random among the buckets that
have the unit) on `shared.dal.stock.Location` figures updated with `shared.dal.stock.with_changes`,
with stock enough that no bucket runs out. A reservation writes, in one transaction (2 write units
per item of up to 1 KB), the bucket item it takes from, a new entry in that bucket's ledger
partition, and its warehouse's order count for the day (`LOAD#<warehouse>`/`<day>`, written for
every shipment planned: `shared.logic.reservation._reserve_plan`). Keys come from the real key
functions; what is counted is how many of those writes land on each item or partition key value.
Nothing runs against DynamoDB (moto has no throughput limits): the limits are AWS's published ones.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from shared.dal import inventory, stock
from shared.dal.stock import Bucket, Location
from shared.models.inventory import MAX_BUCKETS

RESERVATIONS_PER_SECOND = 5_000
BUCKET_COUNTS = (1, 2, 4, 10, 16, 25)
SEED = 20261202
SKU, WAREHOUSE, DAY = "HOT-1", "wh-east", "2026-12-02"
# AWS: a partition takes about 1,000 write units/s; a transactional write of an item up to 1 KB costs 2.
WRITE_UNITS_PER_ITEM_SECOND = 1_000
TRANSACTIONAL_UNITS_PER_WRITE = 2
TRANSACTIONAL_WRITES_PER_ITEM_SECOND = WRITE_UNITS_PER_ITEM_SECOND // TRANSACTIONAL_UNITS_PER_WRITE


@dataclass(frozen=True)
class Spread:
    """Writes in the simulated second, per item written (each bucket, each ledger partition)."""

    buckets: int
    reservations: int
    bucket_writes: tuple[int, ...]  # per bucket item, in index order
    ledger_writes: tuple[int, ...]  # per bucket's ledger partition (`LEDGER#<sku>#<wh>#<k>`)
    load_writes: int  # the warehouse's count of orders today, one item
    sku_partition_writes: int  # every bucket item of the SKU has the partition key `SKU#<sku>`

    @property
    def max_writes(self) -> int:
        return max((*self.bucket_writes, *self.ledger_writes))

    @property
    def mean_writes(self) -> float:
        return sum(self.bucket_writes) / len(self.bucket_writes)

    @property
    def within_limit(self) -> bool:
        """Every bucket item and ledger partition at or under ~500 transactional writes/s."""
        return self.max_writes <= TRANSACTIONAL_WRITES_PER_ITEM_SECOND


@dataclass(frozen=True)
class HotSkuResult:
    reservations: int
    seed: int
    spreads: list[Spread]
    smallest_within: int | None  # the fewest buckets (of 1..MAX_BUCKETS) keeping every item in

    @property
    def smallest_listed_within(self) -> int | None:
        return next((s.buckets for s in self.spreads if s.within_limit), None)


def units(writes: float) -> float:
    """Write units of `writes` transactional writes of items up to 1 KB."""
    return writes * TRANSACTIONAL_UNITS_PER_WRITE


def stocked(buckets: int, units_per_bucket: int) -> Location:
    """A location holding `units_per_bucket` in each of `buckets`, spread as a count spreads it."""
    empty = Location(SKU, WAREHOUSE, tuple(Bucket(SKU, WAREHOUSE, i) for i in range(buckets)))
    return stock.balanced(empty, units_per_bucket * buckets, 0, buckets)


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """`pick_buckets` draws from the module `random`: seed it, and put its state back after."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def simulate(buckets: int, reservations: int = RESERVATIONS_PER_SECOND, seed: int = SEED) -> Spread:
    """One second of `reservations` single-unit reservations of one SKU-location with `buckets`."""
    found = stocked(buckets, reservations)  # no bucket can run out
    items: Counter[tuple[str, str]] = Counter()
    partitions: Counter[str] = Counter()
    with seeded(seed):
        for _ in range(reservations):
            taken = inventory.pick_buckets(found, 1)
            found = stock.with_changes(found, {index: (0, held) for index, held in taken})
            for index, _held in taken:
                key = stock.bucket_key(SKU, WAREHOUSE, index)
                items[key["pk"], key["sk"]] += 1
                partitions[stock.ledger_pk(SKU, WAREHOUSE, index)] += 1
            # No LOAD#<warehouse>/<day> write: the simulated warehouse has no daily capacity.
    if found.reserved != reservations:
        raise AssertionError(f"{found.reserved} units reserved by {reservations} reservations")
    return _spread(buckets, reservations, items, partitions)


def _spread(
    buckets: int, reservations: int, items: Counter[tuple[str, str]], partitions: Counter[str]
) -> Spread:
    def bucket(index: int) -> int:
        key = stock.bucket_key(SKU, WAREHOUSE, index)
        return items[key["pk"], key["sk"]]

    load = inventory.load_key(WAREHOUSE, DAY)
    sku_pk = stock.bucket_key(SKU, WAREHOUSE, 0)["pk"]
    return Spread(
        buckets=buckets,
        reservations=reservations,
        bucket_writes=tuple(bucket(i) for i in range(buckets)),
        ledger_writes=tuple(partitions[stock.ledger_pk(SKU, WAREHOUSE, i)] for i in range(buckets)),
        load_writes=items[load["pk"], load["sk"]],
        sku_partition_writes=sum(n for (pk, _), n in items.items() if pk == sku_pk),
    )


def smallest_within(reservations: int, seed: int, most: int) -> int | None:
    """The fewest buckets, 1 to `most`, whose simulated second keeps every item within the limit."""
    return next((n for n in range(1, most + 1) if simulate(n, reservations, seed).within_limit), None)


def run(
    reservations: int = RESERVATIONS_PER_SECOND,
    bucket_counts: Sequence[int] = BUCKET_COUNTS,
    seed: int = SEED,
) -> HotSkuResult:
    spreads = [simulate(n, reservations, seed) for n in bucket_counts]
    return HotSkuResult(reservations, seed, spreads, smallest_within(reservations, seed, MAX_BUCKETS))
