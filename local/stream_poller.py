"""What Lambda's DynamoDB Streams event-source mapping does, for the local runtime.

moto runs a stream mapping synchronously inside the write that made the record. This poller behaves
like the AWS service instead: per shard, it reads records in order (GetRecords, from the start of the
stream: TRIM_HORIZON, as the stack's mapping starts), invokes the function with a batch in Lambda's
DynamoDB event shape, and honours ReportBatchItemFailures as Lambda does: the shard resumes from the
lowest failed sequence number. A batch that keeps failing is given up after the mapping's
`retry_attempts` (the shard moves past it) and described on the failure queue, as Lambda's on-failure
destination does.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any

from blueprint import FUNCTIONS, Function
from local.invoker import REGISTRY

logger = logging.getLogger(__name__)

IDLE_SECONDS = 0.25  # Lambda polls a shard about four times a second
SHARDS_SECONDS = 5.0  # how often the list of shards is read again
RETRY_SECONDS = 0.2


class StreamPoller:
    def __init__(
        self,
        streams: Any,
        sqs: Any,
        function: Function,
        *,
        stream_arn: str,
        failure_queue_url: str,
        region: str,
    ) -> None:
        assert function.stream_source is not None
        self._streams = streams
        self._sqs = sqs
        self._function = function
        self._batch_size = function.stream_source.batch_size
        self._retry_attempts = function.stream_source.retry_attempts
        self._stream_arn = stream_arn
        self._failure_queue_url = failure_queue_url
        self._region = region
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{function.name}", daemon=True)
        self._iterators: dict[str, str | None] = {}
        self._shard_ids: list[str] = []
        self._shards_read_at = float("-inf")

    def start(self) -> StreamPoller:
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask it to stop, without waiting (so that several end their waits at once)."""
        self._stopping.set()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if not self.poll_once():
                    self._stopping.wait(IDLE_SECONDS)
            except Exception:  # keep polling, as the service does
                if not self._stopping.is_set():
                    logger.exception("polling the stream %s failed", self._stream_arn)
                    self._stopping.wait(RETRY_SECONDS)

    def poll_once(self) -> int:
        """Read what each shard has next and hand it over in batches; returns how many records it read."""
        read = 0
        for shard_id in self._shards():
            records = self._read(shard_id)
            read += len(records)
            for start in range(0, len(records), self._batch_size):
                self._deliver(records[start : start + self._batch_size])
        return read

    def _shards(self) -> list[str]:
        if time.monotonic() - self._shards_read_at > SHARDS_SECONDS:
            described = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
            self._shard_ids = [shard["ShardId"] for shard in described["Shards"]]
            self._shards_read_at = time.monotonic()
        return self._shard_ids

    def _read(self, shard_id: str) -> list[dict[str, Any]]:
        iterator = self._iterators.get(shard_id)
        if shard_id not in self._iterators:
            iterator = self._streams.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
        if iterator is None:
            return []
        answer = self._streams.get_records(ShardIterator=iterator, Limit=1000)
        self._iterators[shard_id] = answer.get("NextShardIterator")
        return [self._record(record) for record in answer["Records"]]

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        """Invoke until the whole batch succeeded, resuming from the lowest failed record each time,
        or until the retries are used up."""
        for attempt in range(self._retry_attempts + 1):
            failed_from = self._invoke(batch)
            if failed_from is None:
                return
            batch = batch[failed_from:]
            if attempt < self._retry_attempts:
                self._stopping.wait(RETRY_SECONDS * 2 ** min(attempt, 4))
            if self._stopping.is_set():
                return
        self._give_up(batch)

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """None when every record succeeded, else the position of the lowest one that failed."""
        try:
            response = REGISTRY.invoke(self._function.name, {"Records": batch}) or {}
        except Exception:
            logger.exception(
                "%s failed on a stream batch of %d; it is retried", self._function.name, len(batch)
            )
            return 0
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        positions = [i for i, record in enumerate(batch) if record["dynamodb"]["SequenceNumber"] in failed]
        return min(positions) if positions else None

    def _give_up(self, batch: list[dict[str, Any]]) -> None:
        first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
        logger.error("%s gave up on %d stream records after its retries", self._function.name, len(batch))
        self._sqs.send_message(
            QueueUrl=self._failure_queue_url,
            MessageBody=json.dumps(
                {
                    "requestContext": {
                        "condition": "RetryAttemptsExhausted",
                        "functionArn": self._function.name,
                    },
                    "DDBStreamBatchInfo": {
                        "streamArn": self._stream_arn,
                        "startSequenceNumber": first["SequenceNumber"],
                        "endSequenceNumber": last["SequenceNumber"],
                        "batchSize": len(batch),
                    },
                }
            ),
        )

    def _record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A GetRecords record as Lambda's event spells it (its creation time in epoch seconds)."""
        stream = dict(record["dynamodb"])
        created = stream.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            stream["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": stream, "eventSourceARN": self._stream_arn, "awsRegion": self._region}


def start_stream_pollers(
    streams: Any, sqs: Any, stream_arns: dict[str, str], failure_queue_urls: dict[str, str], region: str
) -> list[StreamPoller]:
    """One poller per (function, streamed table), as Lambda makes one mapping per pair."""
    pollers = []
    for function in FUNCTIONS.values():
        if function.stream_source is None:
            continue
        for table in function.stream_source.tables:
            poller = StreamPoller(
                streams,
                sqs,
                function,
                stream_arn=stream_arns[table],
                failure_queue_url=failure_queue_urls[function.name],
                region=region,
            )
            pollers.append(poller.start())
    return pollers
