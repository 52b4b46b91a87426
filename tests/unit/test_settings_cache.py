"""The settings cache with the real TTL: a second read within it makes no DynamoDB call, a read after
it reads again, a write through the DAL is seen at once in its process, and a write another
function's container made (straight to the table here) is seen after at most the TTL. A stock
change for an unknown warehouse is still a 404, without a ConditionCheck in its transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from blueprint import CHANNELS, INVENTORY, SUBSCRIPTIONS
from local.provision import DEFAULT_NAMING, _create_table
from shared import aws, settings_cache
from shared.dal import channels, inventory, notification_settings, subscriptions
from shared.dal.stock import ChangeKind, Why
from shared.errors import NotFound
from shared.models.catalog import ApiChannelIn, WarehouseIn
from shared.models.notifications import NotificationSettingsIn
from shared.models.subscriptions import Subscription

TTL = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    for cache in settings_cache._caches:
        monkeypatch.setattr(cache, "_clock", fake)
    monkeypatch.setenv(settings_cache.TTL_VARIABLE, str(TTL))
    return fake


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for variable, blueprint_table in (
        ("CHANNELS_TABLE", CHANNELS),
        ("INVENTORY_TABLE", INVENTORY),
        ("SUBSCRIPTIONS_TABLE", SUBSCRIPTIONS),
    ):
        monkeypatch.setenv(variable, DEFAULT_NAMING.table(blueprint_table))
    with mock_aws():
        aws.reset()
        for blueprint_table in (CHANNELS, INVENTORY, SUBSCRIPTIONS):
            _create_table(aws.dynamodb().meta.client, blueprint_table, DEFAULT_NAMING)
        yield
    aws.reset()


@pytest.fixture
def calls(tables: None) -> Iterator[Counter[str]]:
    """DynamoDB operations made from now on, by name."""
    made: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        made[model.name] += 1

    events = aws.dynamodb().meta.client.meta.events
    events.register("before-call.dynamodb", count)
    yield made
    events.unregister("before-call.dynamodb", count)


def register(channel_id: str, secret: str) -> None:
    channels.put(channel_id, ApiChannelIn(type="api", webhookSecret=secret))


def store_directly(channel_id: str, secret: str) -> None:
    """What another function's container writes: this process's cache is not told."""
    table = aws.dynamodb().Table(DEFAULT_NAMING.table(CHANNELS))
    item = table.get_item(Key={"channelId": channel_id})["Item"]
    table.put_item(Item={**item, "webhookSecret": secret})


def secret_of(channel_id: str) -> str | None:
    found = channels.get(channel_id)
    return found.webhookSecret if found else None


def test_a_second_read_within_the_ttl_makes_no_dynamodb_call(clock: Clock, calls: Counter[str]) -> None:
    register("shop", "first-secret-0000")
    settings_cache.clear_all()  # another container: it did not write the channel
    calls.clear()

    channels.get("shop")
    clock.now += TTL - 0.1
    channels.get("shop")

    assert calls["GetItem"] == 1


def test_after_the_ttl_it_reads_again(clock: Clock, calls: Counter[str]) -> None:
    register("shop", "first-secret-0000")
    channels.get("shop")
    calls.clear()

    clock.now += TTL
    channels.get("shop")

    assert calls["GetItem"] == 1


def test_another_functions_write_is_seen_after_at_most_the_ttl(clock: Clock, calls: Counter[str]) -> None:
    register("shop", "first-secret-0000")
    assert secret_of("shop") == "first-secret-0000"

    store_directly("shop", "rotated-secret-00")
    clock.now += TTL - 0.1
    stale = secret_of("shop")
    clock.now += 0.1

    assert (stale, secret_of("shop")) == ("first-secret-0000", "rotated-secret-00")


def test_a_write_through_the_dal_is_seen_at_once_in_its_process(clock: Clock, calls: Counter[str]) -> None:
    register("shop", "first-secret-0000")
    assert secret_of("shop") == "first-secret-0000"

    register("shop", "rotated-secret-00")

    assert secret_of("shop") == "rotated-secret-00"


def test_a_channel_written_here_is_remembered_and_a_fill_is_an_eventually_consistent_read(
    clock: Clock, calls: Counter[str]
) -> None:
    consistent: list[bool] = []
    events = aws.dynamodb().meta.client.meta.events
    events.register(
        "provide-client-params.dynamodb.GetItem",
        lambda params, **_: consistent.append(bool(params.get("ConsistentRead"))),
    )
    register("shop", "first-secret-0000")
    calls.clear()

    assert secret_of("shop") == "first-secret-0000"  # remembered: no read
    assert calls["GetItem"] == 0
    clock.now += TTL
    secret_of("shop")

    assert consistent == [True, False]  # the write's own read, then the cache's fill


def test_an_unknown_channel_is_not_kept_but_missing_email_settings_are(
    clock: Clock, calls: Counter[str]
) -> None:
    assert channels.get("new") is None
    assert notification_settings.get("new") is None
    calls.clear()

    assert channels.get("new") is None
    assert notification_settings.get("new") is None

    assert calls["GetItem"] == 1  # the channel's, read again


def test_email_settings_subscriptions_and_warehouses_are_cached_and_forgotten_on_write(
    clock: Clock, calls: Counter[str]
) -> None:
    register("shop", "secret-secret-000")
    notification_settings.put("shop", NotificationSettingsIn(enabled=False))
    subscription = Subscription(
        subscriptionId="sub1",
        url="https://example.com/hook",
        eventTypes=["*"],
        secret="s",
        createdAt="t",
        updatedAt="t",
    )
    subscriptions.put(subscription, create=True)
    inventory.put_warehouse("wh-east", WarehouseIn(name="East", latitude=40, longitude=-74, country="US"))
    read_all = (
        lambda: notification_settings.get("shop"),
        subscriptions.all_subscriptions,
        inventory.list_warehouses,
        lambda: inventory.warehouse_exists("wh-east"),
    )
    first = [read() for read in read_all]
    calls.clear()

    assert [read() for read in read_all] == first
    assert sum(calls.values()) == 0

    subscriptions.delete("sub1")
    assert subscriptions.all_subscriptions() == []


def test_a_zero_ttl_reads_every_time(monkeypatch: pytest.MonkeyPatch, calls: Counter[str]) -> None:
    monkeypatch.setenv(settings_cache.TTL_VARIABLE, "0")
    register("shop", "first-secret-0000")
    calls.clear()

    channels.get("shop")
    channels.get("shop")

    assert calls["GetItem"] == 2


def test_the_dynamodb_calls_that_fill_an_entry_are_marked_as_a_cached_read(
    clock: Clock, calls: Counter[str]
) -> None:
    register("shop", "first-secret-0000")
    settings_cache.clear_all()
    marks: list[settings_cache.Load | None] = []
    events = aws.dynamodb().meta.client.meta.events
    events.register("before-call.dynamodb", lambda **_: marks.append(settings_cache.loading()))

    channels.get("shop")
    with settings_cache.pass_through():
        channels.get("shop")  # warm, yet read again: the benchmark records every reader this way
    channels.read("shop")

    assert [(m.cache, m.key) if m else None for m in marks] == [("channels", "shop")] * 2 + [None]


def test_a_stock_change_at_an_unknown_warehouse_is_refused_without_a_condition_check(
    clock: Clock, calls: Counter[str]
) -> None:
    why = Why(ChangeKind.COUNT, "test")
    with pytest.raises(NotFound):
        inventory.count_stock("MUG", "nowhere", 5, why)
    inventory.put_warehouse("wh-east", WarehouseIn(name="East", latitude=40, longitude=-74, country="US"))

    inventory.count_stock("MUG", "wh-east", 5, why)

    assert inventory.stock_of("MUG")[0].onHand == 5
