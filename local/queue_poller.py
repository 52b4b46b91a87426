"""What Lambda's SQS event-source mapping does, for the local runtime.

moto runs an SQS event-source mapping synchronously inside SendMessage and knows nothing of
ReportBatchItemFailures. This poller behaves like the AWS service instead: it long-polls the queue,
invokes the function with a batch in the SQS event shape, deletes the records that succeeded and
leaves the failed ones to reappear after the visibility timeout, so moto's redrive policy moves a
message to the dead-letter queue after `max_receive_count` receives, as on AWS.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from blueprint import FUNCTIONS, QUEUES, Function
from local.invoker import REGISTRY

logger = logging.getLogger(__name__)

WAIT_SECONDS = 1


class QueuePoller:
    def __init__(self, sqs: Any, function: Function, queue_url: str, queue_arn: str, region: str) -> None:
        assert function.queue_source is not None
        self._sqs = sqs
        self._function = function
        self._batch_size = min(function.queue_source.batch_size, 10)
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._region = region
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"poll-{function.name}", daemon=True)

    def start(self) -> QueuePoller:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask it to stop, without waiting (so that several end their waits at once)."""
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=WAIT_SECONDS + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # keep polling, as the service does; the message is retried
                if not self._stopping.is_set():
                    logger.exception("polling %s failed", self._queue_url)
                    self._stopping.wait(WAIT_SECONDS)

    def poll_once(self) -> int:
        """One receive and one invocation; returns how many messages were received."""
        received = self._sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=WAIT_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages", [])
        if messages:
            self._deliver(messages)
        return len(messages)

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [self._record(message) for message in messages]}
        try:
            response = REGISTRY.invoke(self._function.name, event) or {}
            failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        except Exception:
            logger.exception(
                "%s failed on a batch of %d; all will be retried", self._function.name, len(messages)
            )
            return
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": _lambda_shape(message.get("MessageAttributes", {})),
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._region,
        }


def _lambda_shape(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute names (StringValue, DataType) as Lambda's event spells them."""
    return {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        for name, value in attributes.items()
    }


def start_pollers(sqs: Any, queue_urls: dict[str, str], region: str) -> list[QueuePoller]:
    pollers = []
    for function in FUNCTIONS.values():
        if function.queue_source is None:
            continue
        name = function.queue_source.queue
        assert name in QUEUES, f"{function.name} reads unknown queue {name}"
        url = queue_urls[name]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        pollers.append(QueuePoller(sqs, function, url, arn, region).start())
    return pollers
