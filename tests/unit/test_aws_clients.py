"""The DynamoDB resource is per thread: threads building queries at once never corrupt each other's."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from boto3.dynamodb.conditions import Key
from moto import mock_aws

from shared import aws


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        aws.reset()
        aws.dynamodb().create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        aws.dynamodb().Table("t").put_item(Item={"pk": "SKU#A", "sk": "LOC#wh-east"})
        yield "t"
    aws.reset()


def test_each_thread_has_its_own_resource_until_reset(table: str) -> None:
    mine = aws.dynamodb()
    theirs: list[object] = []
    worker = threading.Thread(target=lambda: theirs.append(aws.dynamodb()))
    worker.start()
    worker.join()
    assert aws.dynamodb() is mine and theirs[0] is not mine
    aws.reset()
    assert aws.dynamodb() is not mine


def test_threads_querying_at_once_get_what_they_asked_for(table: str) -> None:
    problems: Counter[str] = Counter()

    def query() -> None:
        for _ in range(150):
            try:
                condition = Key("pk").eq("SKU#A") & Key("sk").begins_with("LOC#")
                if not aws.dynamodb().Table(table).query(KeyConditionExpression=condition)["Items"]:
                    problems["empty"] += 1
            except Exception as error:
                problems[type(error).__name__] += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=query) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not problems  # one shared resource: ValidationException and empty answers
