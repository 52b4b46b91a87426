"""The asynchronous side of an order, counted from what a window recorded, in the quantities AWS bills.

Every committed change of an order, a return or a stock item is a stream record; `EventPublisher`
(fed the records in batches by the stream's event-source mapping) puts the domain events each means
on the bus; the bus rules copy them to SQS queues, whose event-source mappings feed batches to
`WebhookFanout`, `CustomerNotifier` (and `WebhookSender`, for the deliveries of webhook
subscriptions). What each of those does is recorded like any handler's work (`benchmarks.recorder`);
this module sorts the recorded calls into what is billed:

- EventBridge custom events: each PutEvents entry EventBridge accepted, per started 64 KB of the
  entry as EventBridge sizes it (`entry_size`);
- SQS requests (per started 64 KB of the request's payload): what EventBridge sends to the rules'
  queues (one SendMessage per event and matching rule, **computed** from the blueprint's rules, as
  moto delivers inside PutEvents without an API call; cross-checked against the messages the queues'
  consumers received), what functions send (SendMessage, SendMessageBatch), and what the event-source
  mappings do for a batch: the ReceiveMessage that returned it and the DeleteMessageBatch after it
  (the calls of the local queue pollers, threads `poll-<function>`, which do what the mapping does).
  A receive that returned nothing is idle polling: it costs the same with no orders at all, so it is
  kept apart (`empty_receives`), not counted per order;
- SES e-mails: each recipient of a send;
- the local runtime's own readers (the event log, the mail log) have no counterpart on AWS: kept
  apart (`local_only`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmarks.recorder import AwsCall, Invocation
from blueprint import FUNCTIONS, RULES, BusRule

CHUNK_BYTES = 64 * 1024  # EventBridge and SQS bill per started 64 KB
EVENT_TIME_BYTES = 14  # an entry's Time counts 14 bytes, whatever its text
QUEUE_POLLER_THREAD = "poll-"  # local/queue_poller.py names its threads poll-<function>
LOCAL_ONLY_THREADS = ("event-log", "mail-log")  # local/event_log.py, local/mail_log.py
STREAM_FUNCTIONS = frozenset(f.name for f in FUNCTIONS.values() if f.stream_source)
QUEUE_FUNCTIONS = frozenset(f.name for f in FUNCTIONS.values() if f.queue_source)
ASYNC_FUNCTIONS = STREAM_FUNCTIONS | QUEUE_FUNCTIONS
EMAIL_SENDS = frozenset({"SendEmail", "SendTemplatedEmail", "SendRawEmail", "SendBulkTemplatedEmail"})
SENDS = frozenset({"SendMessage", "SendMessageBatch"})
DELETES = frozenset({"DeleteMessage", "DeleteMessageBatch"})


def entry_size(entry: Mapping[str, Any]) -> int:
    """A PutEvents entry's size as EventBridge bills it: Time (14 bytes when given), and the UTF-8
    bytes of Source, DetailType, Detail and each of Resources
    (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html)."""
    size = EVENT_TIME_BYTES if entry.get("Time") else 0
    size += sum(len(str(entry.get(name) or "").encode()) for name in ("Source", "DetailType", "Detail"))
    return size + sum(len(str(resource).encode()) for resource in entry.get("Resources") or [])


def chunks(size: int) -> int:
    """Billed units of a payload of `size` bytes: one per started 64 KB, at least one."""
    return max(1, math.ceil(size / CHUNK_BYTES))


def rule_queues(detail_type: str, rules: Iterable[BusRule] = RULES.values()) -> list[str]:
    """The queues the bus rules copy an event of this type to (a rule without types takes every one)."""
    return [rule.queue for rule in rules if not rule.event_types or detail_type in rule.event_types]


@dataclass
class AsyncSide:
    """What a window's orders made the asynchronous side do, in all (not per order)."""

    put_events_calls: int = 0
    events: int = 0  # entries EventBridge accepted
    event_chunks: int = 0  # their billed 64 KB chunks
    refused_events: int = 0  # entries EventBridge refused (not billed; sent again)
    event_bytes: int = 0  # sizes of the accepted entries
    largest_event: int = 0  # the largest accepted entry, bytes
    events_by_type: Counter[str] = field(default_factory=Counter)
    rule_messages: Counter[str] = field(default_factory=Counter)  # queue -> sends by EventBridge (computed)
    received: Counter[str] = field(default_factory=Counter)  # queue -> messages its consumer received
    received_bytes: Counter[str] = field(default_factory=Counter)  # queue -> bytes of those bodies
    receives: Counter[str] = field(default_factory=Counter)  # queue -> billed receives that returned some
    empty_receives: int = 0  # idle long polls (every queue): not per order
    deletes: Counter[str] = field(default_factory=Counter)  # queue -> billed deletes after a batch
    sends: Counter[str] = field(default_factory=Counter)  # queue -> billed sends by functions
    emails: int = 0  # SES recipients
    emails_by_template: Counter[str] = field(default_factory=Counter)
    batches: Counter[str] = field(default_factory=Counter)  # stream- or queue-fed function -> invocations
    records: Counter[str] = field(default_factory=Counter)  # the same -> records in those batches
    local_only: Counter[str] = field(default_factory=Counter)  # "service.Operation" of local readers
    other: Counter[str] = field(default_factory=Counter)  # other calls to these services

    @property
    def sqs_requests(self) -> int:
        """Billed SQS requests: EventBridge's sends, functions' sends, the mappings' receives and deletes."""
        return sum(self.rule_messages.values()) + sum(self.sends.values()) + self.mapping_requests

    @property
    def mapping_requests(self) -> int:
        return sum(self.receives.values()) + sum(self.deletes.values())

    @property
    def queue_messages(self) -> int:
        return sum(self.received.values())

    @property
    def stream_records(self) -> int:
        return sum(n for name, n in self.records.items() if name in STREAM_FUNCTIONS)

    @property
    def stream_batches(self) -> int:
        return sum(n for name, n in self.batches.items() if name in STREAM_FUNCTIONS)

    @property
    def queue_batches(self) -> int:
        return sum(n for name, n in self.batches.items() if name in QUEUE_FUNCTIONS)

    @property
    def archived_bytes(self) -> int:
        """What the bus's archive takes in: every event whole, as EventBridge delivers it (envelope
        and detail), measured on the queue of a rule that takes every event; else the entries' sizes."""
        every = [rule.queue for rule in RULES.values() if not rule.event_types]
        return max((self.received_bytes.get(queue, 0) for queue in every), default=0) or self.event_bytes

    @property
    def rule_messages_received(self) -> bool:
        """Whether every queue a rule feeds received exactly what the rules sent it."""
        return all(self.received.get(queue, 0) == n for queue, n in self.rule_messages.items())


def asynchronous_side(
    calls: Iterable[AwsCall], invocations: Iterable[Invocation], queue_names: Mapping[str, str]
) -> AsyncSide:
    """Sort one window's calls (and its stream- and queue-fed invocations) into what is billed.
    `queue_names`: queue URL -> blueprint queue name."""
    side = AsyncSide()
    for invocation in invocations:
        if invocation.function in ASYNC_FUNCTIONS:
            side.batches[invocation.function] += 1
            side.records[invocation.function] += invocation.records
    for call in calls:
        _sort(side, call, queue_names)
    return side


def _sort(side: AsyncSide, call: AwsCall, queue_names: Mapping[str, str]) -> None:
    name = f"{call.service}.{call.operation}"
    if call.thread.startswith(LOCAL_ONLY_THREADS):
        side.local_only[name] += 1
    elif call.failed:
        side.other[f"{name} (failed)"] += 1
    elif name == "events.PutEvents":
        _put_events(side, call)
    elif call.service == "sqs":
        _sqs(side, call, queue_names.get(str(call.parameters.get("QueueUrl")), "?"))
    elif call.service == "ses" and call.operation in EMAIL_SENDS:
        _email(side, call)
    else:
        side.other[name] += 1


def _email(side: AsyncSide, call: AwsCall) -> None:
    destination = call.parameters.get("Destination") or {}
    recipients = sum(len(destination.get(k) or []) for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
    side.emails += recipients
    side.emails_by_template[str(call.parameters.get("Template", call.operation))] += recipients


def _put_events(side: AsyncSide, call: AwsCall) -> None:
    side.put_events_calls += 1
    results = call.response.get("Entries") or []
    for position, entry in enumerate(call.parameters.get("Entries") or []):
        result = results[position] if position < len(results) else {}
        if result.get("ErrorCode"):
            side.refused_events += 1
            continue
        size = entry_size(entry)
        detail_type = str(entry.get("DetailType", ""))
        side.events += 1
        side.event_chunks += chunks(size)
        side.event_bytes += size
        side.largest_event = max(side.largest_event, size)
        side.events_by_type[detail_type] += 1
        for queue in rule_queues(detail_type):
            side.rule_messages[queue] += 1


def _sqs(side: AsyncSide, call: AwsCall, queue: str) -> None:
    mapping = call.thread.startswith(QUEUE_POLLER_THREAD)
    if call.operation == "ReceiveMessage" and mapping:
        messages = call.response.get("Messages") or []
        if not messages:
            side.empty_receives += 1
            return
        size = sum(len(str(m.get("Body", "")).encode()) for m in messages)
        side.receives[queue] += chunks(size)
        side.received[queue] += len(messages)
        side.received_bytes[queue] += size
    elif call.operation in DELETES and mapping:
        side.deletes[queue] += 1
    elif call.operation in SENDS:
        bodies = (
            [call.parameters.get("MessageBody", "")]
            if call.operation == "SendMessage"
            else [e.get("MessageBody", "") for e in call.parameters.get("Entries") or []]
        )
        side.sends[queue] += chunks(sum(len(str(body).encode()) for body in bodies))
    else:
        side.other[f"sqs.{call.operation}"] += 1
