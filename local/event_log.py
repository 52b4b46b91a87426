"""The local runtime's event log: every domain event on the bus, printed as it arrives and kept in memory.

A rule on the bus copies each event to a queue of the runtime's own (`local/provision.py`); this reader
empties it, logs one line per event (`local.events`: type, subject, id) and keeps the newest ones for
tests and tools (`LocalOMS.events()`). The bus itself is moto's EventBridge, with its archive, as in
the stack.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from typing import Any

logger = logging.getLogger("local.events")

KEPT = 10_000
WAIT_SECONDS = 1


class EventLog:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._events: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-log", daemon=True)

    def start(self) -> EventLog:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask it to stop, without waiting (so that several end their waits at once)."""
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=WAIT_SECONDS + 5)

    def events(self) -> list[dict[str, Any]]:
        """The domain events seen so far (each its `detail`: id, type, time, subject, data), oldest first."""
        with self._lock:
            return list(self._events)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._read_once()
            except Exception:
                if not self._stopping.is_set():
                    logger.exception("reading the event log failed")
                    self._stopping.wait(WAIT_SECONDS)

    def _read_once(self) -> None:
        answer = self._sqs.receive_message(
            QueueUrl=self._queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=WAIT_SECONDS
        )
        messages = answer.get("Messages", [])
        for message in messages:
            detail = json.loads(message["Body"])["detail"]
            with self._lock:
                self._events.append(detail)
            logger.info("event %s %s (%s)", detail["type"], detail["subject"], detail["id"])
        if messages:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
