"""The order benchmark's asynchronous side: what the recorder keeps of EventBridge, SQS and SES calls
and of stream and queue batches, how those are sorted into billed quantities (events, SQS requests,
e-mails), how they are priced beside the rest of an order, and sections 1 to 3 put into a report in
place (`--only orders`)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from benchmarks import pricing, report
from benchmarks.async_side import (
    ASYNC_FUNCTIONS,
    CHUNK_BYTES,
    AsyncSide,
    asynchronous_side,
    chunks,
    entry_size,
    rule_queues,
)
from benchmarks.dynamodb_units import Units
from benchmarks.local_run import drained_check
from benchmarks.recorder import AwsCall, Invocation, Recorder
from benchmarks.report import HEADER, invoked_by, splice_orders
from benchmarks.usage import FunctionUsage, PerOrder, Spread

WEBHOOK_EVENTS_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/oms-WebhookEvents"
NOTIFICATIONS_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/oms-CustomerNotifications"
ANALYTICS_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/oms-AnalyticsEvents"
DELIVERIES_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/oms-WebhookDeliveries"
LOG_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/oms-OmsEvents-log"
QUEUE_NAMES = {
    WEBHOOK_EVENTS_URL: "WebhookEvents",
    NOTIFICATIONS_URL: "CustomerNotifications",
    ANALYTICS_URL: "AnalyticsEvents",
    DELIVERIES_URL: "WebhookDeliveries",
}


def entry(detail_type: str, detail: str = '{"id":"e-1"}') -> dict[str, Any]:
    return {
        "Source": "oms",
        "DetailType": detail_type,
        "Detail": detail,
        "EventBusName": "oms-OmsEvents",
        "Resources": [],
        "Time": "2026-12-02T10:00:00Z",
    }


def call(
    service: str,
    operation: str,
    parameters: dict[str, Any],
    response: dict[str, Any] | None = None,
    *,
    function: str | None = None,
    thread: str = "MainThread",
    failed: bool = False,
) -> AwsCall:
    return AwsCall(function, thread, service, operation, parameters, response or {}, failed)


def received(url: str, *bodies: str, thread: str = "poll-WebhookFanout") -> AwsCall:
    messages = [{"MessageId": f"m-{n}", "Body": body} for n, body in enumerate(bodies)]
    return call(
        "sqs", "ReceiveMessage", {"QueueUrl": url}, {"Messages": messages} if bodies else {}, thread=thread
    )


# -- sizes and rules ---------------------------------------------------------------------------------


def test_an_entry_is_sized_as_eventbridge_bills_it() -> None:
    sized = entry("order.created", detail='{"note":"é"}')  # é: 2 bytes
    assert entry_size(sized) == 14 + len("oms") + len("order.created") + len('{"note":"é"}'.encode())
    assert entry_size({**sized, "Time": None, "Resources": ["arn:x"]}) == entry_size(sized) - 14 + 5


@pytest.mark.parametrize(("size", "billed"), [(0, 1), (1, 1), (CHUNK_BYTES, 1), (CHUNK_BYTES + 1, 2)])
def test_each_started_64_kb_is_billed_once(size: int, billed: int) -> None:
    assert chunks(size) == billed


def test_the_rules_copy_every_event_to_webhooks_and_some_to_the_notifier() -> None:
    assert sorted(rule_queues("order.status_changed")) == [
        "AnalyticsEvents",
        "CustomerNotifications",
        "WebhookEvents",
    ]
    assert sorted(rule_queues("order.created")) == ["AnalyticsEvents", "WebhookEvents"]
    assert rule_queues("tracking.updated") == ["WebhookEvents"]


def test_the_asynchronous_functions_are_the_stream_and_queue_fed_ones() -> None:
    assert {"EventPublisher", "WebhookFanout", "WebhookSender", "CustomerNotifier"} <= ASYNC_FUNCTIONS
    assert not {"Intake", "FulfillmentEvents", "ReserveInventory"} & ASYNC_FUNCTIONS
    assert invoked_by("EventPublisher") == "streams (Orders, Returns, Inventory)"
    assert invoked_by("CustomerNotifier") == "queue CustomerNotifications"
    assert (invoked_by("Intake"), invoked_by("AwaitEvent")) == ("API", "workflow")


# -- sorting a window's calls ------------------------------------------------------------------------


def window_calls() -> list[AwsCall]:
    put = call(
        "events",
        "PutEvents",
        {"Entries": [entry("order.status_changed"), entry("order.created"), entry("fulfillment.shipped")]},
        {"Entries": [{"EventId": "1"}, {"EventId": "2"}, {"ErrorCode": "InternalFailure"}]},
        function="EventPublisher",
        thread="stream-EventPublisher",
    )
    return [
        put,
        received(WEBHOOK_EVENTS_URL, "a" * 100, "b" * 50),
        received(WEBHOOK_EVENTS_URL),  # an idle long poll
        call("sqs", "DeleteMessageBatch", {"QueueUrl": WEBHOOK_EVENTS_URL}, thread="poll-WebhookFanout"),
        received(NOTIFICATIONS_URL, "c" * 10, thread="poll-CustomerNotifier"),
        call("sqs", "DeleteMessageBatch", {"QueueUrl": NOTIFICATIONS_URL}, thread="poll-CustomerNotifier"),
        received(ANALYTICS_URL, "e", "f", thread="poll-AnalyticsAggregator"),
        call("sqs", "DeleteMessageBatch", {"QueueUrl": ANALYTICS_URL}, thread="poll-AnalyticsAggregator"),
        call(
            "sqs",
            "SendMessageBatch",
            {"QueueUrl": DELIVERIES_URL, "Entries": [{"MessageBody": "x"}, {"MessageBody": "y"}]},
            function="WebhookFanout",
            thread="poll-WebhookFanout",
        ),
        call(
            "ses",
            "SendTemplatedEmail",
            {"Template": "oms-OrderShipped", "Destination": {"ToAddresses": ["ada@example.com"]}},
            function="CustomerNotifier",
            thread="poll-CustomerNotifier",
        ),
        # The local runtime's own readers: nothing of theirs happens on AWS.
        received(LOG_URL, "d", thread="event-log"),
        call("sqs", "DeleteMessageBatch", {"QueueUrl": LOG_URL}, thread="event-log"),
        call("ses", "TestRenderTemplate", {"TemplateName": "oms-OrderShipped"}, thread="mail-log"),
    ]


def test_a_window_is_sorted_into_events_sqs_requests_and_e_mails() -> None:
    invocations = [
        Invocation("EventPublisher", 0.01, records=5),
        Invocation("EventPublisher", 0.01, records=2),
        Invocation("WebhookFanout", 0.01, records=2),
        Invocation("CustomerNotifier", 0.01, records=1),
        Invocation("AnalyticsAggregator", 0.01, records=2),
        Invocation("Intake", 0.01),
    ]
    side = asynchronous_side(window_calls(), invocations, QUEUE_NAMES)

    assert (side.put_events_calls, side.events, side.refused_events, side.event_chunks) == (1, 2, 1, 2)
    assert side.events_by_type == Counter({"order.status_changed": 1, "order.created": 1})
    # order.status_changed goes to every rule's queue, order.created to the webhooks' and analytics'.
    assert side.rule_messages == Counter(
        {"WebhookEvents": 2, "AnalyticsEvents": 2, "CustomerNotifications": 1}
    )
    assert side.received == Counter({"WebhookEvents": 2, "AnalyticsEvents": 2, "CustomerNotifications": 1})
    assert side.rule_messages_received
    assert side.receives == Counter({"WebhookEvents": 1, "CustomerNotifications": 1, "AnalyticsEvents": 1})
    assert side.empty_receives == 1
    assert side.deletes == Counter({"WebhookEvents": 1, "CustomerNotifications": 1, "AnalyticsEvents": 1})
    assert side.sends == Counter({"WebhookDeliveries": 1})  # a batch of two small messages: one request
    assert side.sqs_requests == 5 + 1 + 3 + 3  # rule messages, sends, receives, deletes
    assert (side.emails, side.emails_by_template) == (1, Counter({"oms-OrderShipped": 1}))
    assert (side.stream_records, side.stream_batches, side.queue_batches) == (7, 2, 3)
    assert side.queue_messages == 5
    assert side.archived_bytes == 150  # every event as the webhooks' queue received it
    assert side.local_only == Counter(
        {"sqs.ReceiveMessage": 1, "sqs.DeleteMessageBatch": 1, "ses.TestRenderTemplate": 1}
    )
    assert not side.other


def test_messages_missing_on_a_queue_are_told() -> None:
    side = AsyncSide(rule_messages=Counter({"WebhookEvents": 3}), received=Counter({"WebhookEvents": 2}))
    assert not side.rule_messages_received


def test_a_failed_call_is_kept_apart() -> None:
    failed = call("events", "PutEvents", {"Entries": [entry("order.created")]}, failed=True)
    side = asynchronous_side([failed], [], QUEUE_NAMES)
    assert (side.events, side.other) == (0, Counter({"events.PutEvents (failed)": 1}))


def test_the_archive_falls_back_to_the_entries_without_the_webhooks_queue() -> None:
    side = AsyncSide(event_bytes=1234)
    assert side.archived_bytes == 1234


# -- the recorder --------------------------------------------------------------------------------------


def test_the_recorder_keeps_the_asynchronous_services_calls_with_their_thread_and_caller() -> None:
    recorder = Recorder()
    recorder.install()
    try:
        sqs = boto3.session.Session(region_name="us-east-1").client(
            "sqs", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        with Stubber(sqs) as stub, recorder.window() as usage:
            stub.add_response(
                "send_message", {"MessageId": "m-1"}, {"QueueUrl": DELIVERIES_URL, "MessageBody": "x"}
            )
            stub.add_response("receive_message", {"Messages": []}, {"QueueUrl": DELIVERIES_URL})

            def handler(event: Any, context: Any) -> None:
                sqs.send_message(QueueUrl=DELIVERIES_URL, MessageBody="x")

            recorder.timed("WebhookFanout", handler)({"Records": [{"body": "{}"}, {"body": "{}"}]}, None)
            poller = threading.Thread(
                target=lambda: sqs.receive_message(QueueUrl=DELIVERIES_URL), name="poll-X"
            )
            poller.start()
            poller.join()
    finally:
        recorder.uninstall()
    sent, polled = usage.detailed_calls
    assert (sent.function, sent.operation, sent.parameters["MessageBody"]) == (
        "WebhookFanout",
        "SendMessage",
        "x",
    )
    assert (polled.function, polled.thread, polled.response.get("Messages")) == (None, "poll-X", [])
    assert usage.invocations[0].records == 2
    assert usage.aws_calls == Counter({"sqs.SendMessage": 1, "sqs.ReceiveMessage": 1})


def test_the_recorder_knows_what_runs_and_how_far_each_stream_was_read() -> None:
    recorder = Recorder()
    seen: list[int] = []
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/oms-Orders/stream/label"

    def handler(event: Any, context: Any) -> None:
        seen.append(recorder.running(frozenset({"EventPublisher"})))

    records = [{"eventSourceARN": arn, "dynamodb": {"SequenceNumber": str(n)}} for n in (7, 9, 8)]
    recorder.timed("EventPublisher", handler)({"Records": records}, None)  # outside any window too
    assert seen == [1]
    assert recorder.running(frozenset({"EventPublisher"})) == 0
    assert recorder.stream_position(arn) == 9
    assert recorder.stream_position("arn:other") is None


def test_an_undrained_window_fails_its_check() -> None:
    assert drained_check(0.3, 1.2, timeout=300).passed
    failed = drained_check(0.3, None, timeout=300)
    assert not failed.passed and "not after 300 s" in failed.detail


# -- pricing -------------------------------------------------------------------------------------------


def per_order(side: AsyncSide, *, emails_on: bool = True) -> PerOrder:
    functions = [
        FunctionUsage("Intake", 1, 256, 50.0, 60.0),
        FunctionUsage("EventPublisher", 2, 256, 20.0, 30.0),
        FunctionUsage("CustomerNotifier", 1, 256, 40.0, 50.0),
    ]
    by_function = {
        "Intake": Units(transactional_writes=6, standard_writes=4, strong_reads=1),
        "CustomerNotifier": Units(standard_writes=2, strong_reads=3),
    }
    total = Units()
    for units in by_function.values():
        total.add(units)
    one = Spread(10, 10, 10)
    return PerOrder(
        scenario="single-shipment",
        orders=2,
        lines=1,
        shipments=1,
        branches=Spread(1, 1, 1),
        states_in_branches=2,
        states_entered=one,
        transitions=one,
        retries=0,
        workflow_lambda_tasks=5,
        api_requests={"POST /webhooks/{channelId}": 1},
        functions=functions,
        dynamodb=total,
        dynamodb_by_function=by_function,
        index_writes={},
        dynamodb_calls={},
        warmup_orders=1,
        warmup_lines=1,
        warmup_dynamodb=Units(),
        other_aws_calls={},
        unpriced_operations={},
        largest_items={},
        failed_dynamodb_calls=0,
        failed_dynamodb_units=Units(),
        asynchronous=side,
        emails_on=emails_on,
    )


def test_the_asynchronous_side_is_priced_beside_the_rest_and_apart() -> None:
    side = AsyncSide(
        events=12,
        event_chunks=12,
        rule_messages=Counter({"WebhookEvents": 12, "CustomerNotifications": 6}),
        receives=Counter({"WebhookEvents": 4}),
        deletes=Counter({"WebhookEvents": 4}),
        emails=6,
        received_bytes=Counter({"WebhookEvents": 2 * 1024**3}),
    )
    usage = per_order(side)  # two orders
    assert (usage.events, usage.sqs_requests, usage.emails, usage.archived_gb) == (6, 13, 3, 1)
    lines = {line.service: line for line in pricing.cost_lines(usage)}
    apart = {line.service: line for line in pricing.async_cost_lines(usage)}
    assert list(lines) == list(apart)
    assert lines["EventBridge (custom events)"].usd_per_1000_orders == pytest.approx(6 * 1.00 / 1000)
    assert lines["SQS (requests)"].usd_per_1000_orders == pytest.approx(13 * 0.40 / 1000)
    assert lines[pricing.EMAIL_SERVICE].usd_per_1000_orders == pytest.approx(3 * 0.10)
    assert lines["EventBridge (archive, GB archived)"].usd_per_1000_orders == pytest.approx(1000 * 0.10)
    # Only the stream- and queue-fed functions' share of Lambda and DynamoDB is the asynchronous side's.
    assert apart["Lambda (requests)"].units_per_order == 3
    assert apart["DynamoDB (write request units)"].units_per_order == 2
    assert apart["DynamoDB (read request units)"].units_per_order == 3
    assert apart["Step Functions (state transitions)"].units_per_order == 0
    assert apart["API Gateway (REST requests)"].units_per_order == 0
    everything = pricing.total(pricing.cost_lines(usage))
    without_emails = pricing.total(pricing.cost_lines(usage), without=frozenset({pricing.EMAIL_SERVICE}))
    assert everything - without_emails == pytest.approx(0.3)


def test_section_2_shows_the_asynchronous_side_and_its_share() -> None:
    side = AsyncSide(
        events=8,
        event_chunks=8,
        events_by_type=Counter({"order.created": 2, "order.status_changed": 6}),
        rule_messages=Counter({"WebhookEvents": 8, "CustomerNotifications": 6}),
        received=Counter({"WebhookEvents": 8, "CustomerNotifications": 6}),
        emails=6,
        emails_by_template=Counter({"oms-OrderConfirmed": 2, "oms-OrderShipped": 4}),
    )
    usage = per_order(side)
    shown = report._async_section(usage) + report._cost_section(usage)
    assert (
        "WebhookEvents 4; received by the queues' consumers: "
        "CustomerNotifications 3, WebhookEvents 4: they agree" in shown
    )
    assert "| SES (e-mails) | 3 | 3 | $0.10 per 1,000 e-mails | $0.3000 | $0.3000 |" in shown
    assert "With them off (a channel's default)" in shown
    assert "disagree" not in shown
    missing = per_order(AsyncSide(rule_messages=Counter({"WebhookEvents": 2})), emails_on=False)
    assert "**they disagree**" in report._async_section(missing)
    assert "were off in this run" in report._async_section(missing)


def test_every_new_price_has_a_source() -> None:
    for price in pricing.ASYNC_PRICES:
        assert price.source.startswith("https://aws.amazon.com/")
    assert pricing.SES_EMAIL.cost(1000) == pytest.approx(0.10)
    assert pricing.SQS_REQUEST.cost(1_000_000) == pytest.approx(0.40)


# -- sections 1 to 3 in place ----------------------------------------------------------------------------


REPORT = "\n\n".join(
    [
        "# OMS benchmarks\n\nGenerated long ago.",
        "Two different things are measured, the old way.",
        "## 1. Local\n\nold one",
        "## 2. Cost\n\nold two",
        "## 3. Split\n\nold three",
        "## 4. Flash sale\n\nkept four",
        "## 7. Returns\n\nkept seven",
        "## What this does not measure\n\nold limits",
        "## Notes\n\nold notes",
    ]
)
ORDERS = "## 1. Local\n\nnew one\n\n## 2. Cost\n\nnew two\n\n## 3. Split\n\nnew three"
CLOSING = "## What this does not measure\n\nnew limits\n\n## Notes\n\nnew notes"


def test_sections_1_to_3_replace_theirs_and_leave_the_others() -> None:
    spliced = splice_orders(REPORT, ORDERS, CLOSING)
    assert spliced.startswith(
        "# OMS benchmarks\n\nGenerated long ago.\n\n" + HEADER + "\n\n## 1. Local\n\nnew one"
    )
    assert not any(f"old {part}" in spliced for part in ("one", "two", "three", "limits", "notes", "way"))
    assert (
        "## 3. Split\n\nnew three\n\n## 4. Flash sale\n\nkept four\n\n## 7. Returns\n\nkept seven" in spliced
    )
    assert spliced.endswith(CLOSING + "\n")
    assert splice_orders(spliced, ORDERS, CLOSING) == spliced


def test_sections_1_to_3_start_a_new_report() -> None:
    spliced = splice_orders("# OMS benchmarks\n", ORDERS, CLOSING)
    assert spliced == "# OMS benchmarks\n\n" + HEADER + "\n\n" + ORDERS + "\n\n" + CLOSING + "\n"


def test_sections_1_to_3_go_before_the_others_when_missing() -> None:
    document = (
        "# OMS benchmarks\n\n" + HEADER + "\n\n## 4. Flash sale\n\nkept four\n\n## Notes\n\nold notes\n"
    )
    spliced = splice_orders(document, ORDERS, CLOSING)
    assert spliced.index("## 3. Split") < spliced.index("## 4. Flash sale") < spliced.index("## What this")
    assert spliced.count(HEADER) == 1
    assert "old notes" not in spliced


def test_a_recorded_window_is_json_the_report_can_read() -> None:
    # PutEvents' Detail is text: it is sized as sent, not re-encoded.
    detail = json.dumps({"data": {"name": "Zoë"}}, ensure_ascii=False)
    assert entry_size(entry("order.created", detail)) == 14 + 3 + 13 + len(detail.encode())
