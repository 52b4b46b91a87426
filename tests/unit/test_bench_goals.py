"""The benchmark's goal table: every goal kept, figures merged across partial runs, met as stated."""

from __future__ import annotations

from pathlib import Path

from benchmarks import goals


def test_every_goal_is_in_the_document_with_value_goal_and_met() -> None:
    document = goals.merged({}, [goals.Reached("transitions_single_shipment", 5, "counted")], "2026-12-03")

    assert list(document) == [goal.key for goal in goals.GOALS]
    assert all({"value", "goal", "met"} <= entry.keys() for entry in document.values())
    assert (
        document["transitions_single_shipment"]["value"],
        document["transitions_single_shipment"]["met"],
    ) == (
        5,
        True,
    )
    # Not measured by any run: no figure, not met.
    assert (document["soak_flat"]["value"], document["soak_flat"]["met"]) == (None, False)


def test_a_partial_run_keeps_the_figures_it_did_not_measure(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.json"
    goals.write(path, goals.merged({}, [goals.Reached("local_orders_per_second", 3.1, "slow")], "day 1"))

    later = goals.merged(goals.read(path), [goals.Reached("handler_import_ratio_worst", 1.7)], "day 2")

    assert later["local_orders_per_second"]["met"] is False
    assert (later["local_orders_per_second"]["value"], later["local_orders_per_second"]["measuredAt"]) == (
        3.1,
        "day 1",
    )
    assert (later["handler_import_ratio_worst"]["value"], later["handler_import_ratio_worst"]["met"]) == (
        1.7,
        True,
    )


def test_met_follows_each_goals_comparison() -> None:
    at_most, below, at_least = (
        goals.BY_KEY[k]
        for k in ("transitions_single_shipment", "local_webhook_p99_ms", "local_orders_per_second")
    )

    assert (goals.met(at_most, 5), goals.met(at_most, 5.5)) == (True, False)
    assert (goals.met(below, 99.9), goals.met(below, 100)) == (True, False)
    assert (goals.met(at_least, 40), goals.met(at_least, 39.9)) == (True, False)


def test_the_report_gets_one_goals_section_replaced_on_every_run() -> None:
    first = goals.merged({}, [goals.Reached("transitions_single_shipment", 10)], "day 1")
    second = goals.merged(first, [goals.Reached("transitions_single_shipment", 5)], "day 2")
    report = "# OMS benchmarks\n\nIntro.\n\n## 1. Local\n"

    once = goals.splice(report, first)
    twice = goals.splice(once, second)

    assert once.startswith("# OMS benchmarks\n\n" + goals.SECTION_START)
    assert twice.count(goals.SECTION_START) == 1 and "## 1. Local" in twice
    row = next(line for line in twice.splitlines() if line.startswith("| Step Functions transitions"))
    assert row.split(" | ")[1:4] == ["5", "<= 5", "met"]
