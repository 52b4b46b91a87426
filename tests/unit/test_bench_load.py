"""The soak's and the webhook load's verdicts, from made-up minutes and latencies."""

from __future__ import annotations

from benchmarks import soak, webhook_load
from benchmarks.soak import Minute, SoakSettings


def minutes(latencies: list[float], memory: list[float]) -> list[Minute]:
    return [
        Minute(i, webhook_ms=[ms] * 10, done=10, rss_mb=mb)
        for i, (ms, mb) in enumerate(zip(latencies, memory, strict=True))
    ]


def verdicts(found: list[Minute]) -> dict[str, bool]:
    checks = soak._checks(SoakSettings(minutes=len(found)), found, count=10 * len(found))
    return {check.name: check.passed for check in checks}


def test_a_steady_run_is_flat_and_the_first_minute_is_not_counted() -> None:
    # The first minute (imports, first calls) is slow and small: not held against the run.
    steady = minutes([900, 100, 110, 105, 100, 110, 108], [200, 400, 405, 410, 408, 412, 415])

    assert verdicts(steady) == {"every order delivered": True, "latency flat": True, "memory flat": True}
    checks = soak._checks(SoakSettings(minutes=7), steady, 70)
    assert soak.reached(soak.Soak(SoakSettings(minutes=30), steady, checks)).value == 1
    shorter = soak.reached(soak.Soak(SoakSettings(minutes=7), steady, checks))
    assert shorter.value == 0 and "not counted" in shorter.note


def test_latency_or_memory_that_keeps_growing_is_not_flat() -> None:
    slower = minutes([100, 100, 100, 150, 200, 250, 300], [400] * 7)
    fatter = minutes([100] * 7, [400, 400, 420, 470, 520, 560, 600])

    assert verdicts(slower)["latency flat"] is False and verdicts(slower)["memory flat"] is True
    assert verdicts(fatter)["memory flat"] is False and verdicts(fatter)["latency flat"] is True


def test_the_webhook_goal_is_the_p99_of_every_latency() -> None:
    load = webhook_load.WebhookLoad(
        webhook_load.WebhookLoadSettings(senders=20, per_sender=5),
        latencies_ms=[10.0] * 98 + [50.0, 400.0],
        statuses={202: 100},
        seconds=2.0,
        checks=[],
    )

    reached = webhook_load.reached(load)
    assert (reached.key, reached.value) == ("local_webhook_p99_ms", 50)
    assert reached.note == "100 webhooks from 20 senders; p50 10 ms"
