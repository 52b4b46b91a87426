"""The partition heat model on one real recording: one happy-path order on the local OMS, its units
put on the keys it really wrote, and the limits docs/design.md names found by themselves: the
write-sharded `byCreation` list holding, 32 times what one partition would take."""

from __future__ import annotations

from dataclasses import replace

from benchmarks import heat_report, heat_runs
from benchmarks.heat_runs import HAPPY


def test_one_recorded_order_shows_by_creation_spread_over_its_shards_and_its_own_keys_scaling_away() -> None:
    runs = heat_runs.run(heat_runs.HeatSettings(orders=1, returns=0, scenarios=(HAPPY,)))
    assumptions = replace(heat_report.default_assumptions(10_000, 0.3), mix={HAPPY: 1.0})

    result = heat_report.analyse(runs, assumptions)

    keys = {(k.where, k.kind, k.units, k.pattern.template): k for k in result.keys}
    by_creation = keys[("Orders.byCreation", "partition", "WRU", "ORDERS#{shard}")]
    assert by_creation.pattern.name == "per shard"
    assert by_creation.breaking_rate is not None
    # One keys-only entry per order, over 32 shards of about 1,000 write units/s each.
    assert 31_000 < by_creation.breaking_rate < 33_000
    assert by_creation.holds
    order = keys[("Orders", "partition", "WRU", "ORDER#{order}")]
    assert order.holds and order.breaking_rate is None
    assert ("Inventory", "partition", "WRU", "SKU#{sku}") in keys
    assert result.value == len([k for k in result.keys if not k.holds]) > 0
    assert result.recordings == {HAPPY: 1}
