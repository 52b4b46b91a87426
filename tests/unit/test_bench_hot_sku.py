"""The hot-SKU simulation of the benchmarks: the OMS's own bucket choice, counted per item written."""

from __future__ import annotations

import random

from benchmarks import hot_sku


def test_one_bucket_takes_every_write_and_a_warehouse_without_capacity_counts_no_orders():
    spread = hot_sku.simulate(1, reservations=600)
    assert spread.bucket_writes == (600,)
    assert spread.ledger_writes == (600,)
    assert spread.load_writes == 0  # no dailyOrderCapacity: no LOAD#<warehouse>/<day> item
    assert spread.sku_partition_writes == 600
    assert not spread.within_limit  # 600 transactional writes/s on one item: over ~500


def test_buckets_share_the_writes_and_each_ledger_partition_takes_its_buckets():
    spread = hot_sku.simulate(4, reservations=2_000)
    assert sum(spread.bucket_writes) == 2_000
    assert spread.ledger_writes == spread.bucket_writes
    assert all(300 < writes < 700 for writes in spread.bucket_writes)  # random, about even
    assert spread.load_writes == 0
    assert spread.sku_partition_writes == 2_000  # every bucket has the partition key SKU#<sku>
    assert spread.mean_writes == 500


def test_the_simulation_repeats_with_its_seed_and_leaves_the_global_random_as_it_was():
    random.seed(7)
    expected_next = random.random()
    random.seed(7)
    first = hot_sku.simulate(10, reservations=1_000, seed=3)
    assert random.random() == expected_next
    assert hot_sku.simulate(10, reservations=1_000, seed=3) == first
    assert hot_sku.simulate(10, reservations=1_000, seed=4) != first


def test_the_smallest_bucket_count_within_the_limit_needs_headroom_over_an_even_spread():
    result = hot_sku.run(reservations=2_000, bucket_counts=(1, 4, 8))
    assert [s.within_limit for s in result.spreads] == [False, False, True]
    assert result.smallest_listed_within == 8
    assert result.smallest_within is not None
    assert 5 <= result.smallest_within <= 8  # 4 would be enough only if the spread were exactly even
    assert hot_sku.units(500) == 1_000
