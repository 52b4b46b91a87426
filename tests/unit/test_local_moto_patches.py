"""Each moto patch still applies to the pinned moto, and does what it claims."""

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import Rule
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E501
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from blueprint import ORDER_WORKFLOW
from local import moto_patches
from local.invoker import REGISTRY, Handler, RegisteredFunction
from local.runtime import MOTO_CONFIG

REGION = "us-east-1"


def patched_targets() -> dict[str, object]:
    return {
        moto_patches.LAMBDA_INVOKE: LambdaSimpleBackend.invoke,
        moto_patches.DYNAMODB_ATOMIC: DynamoHandler.call_action,
        moto_patches.DYNAMODB_TRANSACTIONS: DynamoDBBackend.transact_write_items,
        moto_patches.SFN_PARSE_CACHE: AmazonStateLanguageParser.__dict__["parse"].__func__,
        moto_patches.SFN_CLIENT_CACHE: boto_client.boto_client_for,
        moto_patches.SFN_JSONPATH_CACHE: json_path.parse,
        moto_patches.SFN_EARLY_CALLBACK: StateTaskServiceCallback._wait_for_task_token_heartbeat,
        moto_patches.SFN_EXECUTION_START: StepFunctionsParserBackend.start_execution,
        moto_patches.DYNAMODB_QUERY_PARTITION: Table.query,
        moto_patches.EVENTS_DISABLED_RULES: Rule.send_to_targets,
    }


@pytest.fixture(autouse=True)
def patches() -> None:
    moto_patches.apply()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(config=MOTO_CONFIG):
        yield
    REGISTRY.clear()


def test_every_patch_applies_and_reapplying_changes_nothing() -> None:
    before = patched_targets()
    assert set(before) == set(moto_patches.PATCHES)
    assert all(getattr(target, "__oms_patch__", False) for target in before.values())
    assert getattr(result_path.parse, "__oms_patch__", False)
    assert Execution.__dict__["status"].fget.__name__ == "status_once_started"

    moto_patches.apply()

    assert patched_targets() == before


def test_a_changed_moto_signature_is_reported() -> None:
    with pytest.raises(moto_patches.MotoPatchError, match="expected"):
        moto_patches._require_signature(lambda self, other: None, ["self"])


# -- Lambda in-process ---------------------------------------------------------------------


class TransientError(Exception):
    pass


def create_function(name: str) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("stub.py", "")
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    created = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=role,
        Handler="stub.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    arn: str = created["FunctionArn"]
    return arn


def register(name: str, arn: str, handler: Handler) -> None:
    REGISTRY.register(
        RegisteredFunction(name=name, arn=arn, handler=handler, memory_mb=512, timeout_seconds=7)
    )


def invoke(function_name: str, payload: object) -> tuple[str | None, object]:
    response = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName=function_name, Payload=json.dumps(payload)
    )
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_lambda_invoke_runs_the_registered_handler_with_a_lambda_context(aws: None) -> None:
    arn = create_function("echo")
    seen = {}

    def handler(event: dict, context: Any) -> dict:
        seen.update(vars(context) | {"remaining": context.get_remaining_time_in_millis()})
        seen["log_group_name"] = context.log_group_name
        seen["log_stream_name"] = context.log_stream_name
        return {"got": event, "price": Decimal("12.50"), "count": Decimal(3)}

    register("echo", arn, handler)

    error, payload = invoke(arn, {"orderId": "o-1"})

    assert error is None
    assert payload == {"got": {"orderId": "o-1"}, "price": 12.5, "count": 3}
    assert seen["function_name"] == "echo"
    assert seen["invoked_function_arn"] == arn
    assert seen["memory_limit_in_mb"] == 512
    assert seen["function_version"] == "$LATEST"
    assert len(seen["aws_request_id"]) == 36
    assert seen["log_group_name"] == "/aws/lambda/echo"
    assert seen["log_stream_name"]
    assert 0 < seen["remaining"] <= 7000


def test_lambda_invoke_reports_an_exception_like_the_python_runtime(aws: None) -> None:
    arn = create_function("flaky")

    def handler(event: dict, context: Any) -> None:
        raise TransientError("the warehouse system is down")

    register("flaky", arn, handler)

    error, payload = invoke("flaky", {})

    assert error == "Unhandled"
    assert isinstance(payload, dict)
    assert payload["errorType"] == "TransientError"
    assert payload["errorMessage"] == "the warehouse system is down"
    assert any("in handler" in line for line in payload["stackTrace"])


def test_lambda_invoke_of_an_unregistered_function_keeps_moto_behaviour(aws: None) -> None:
    create_function("unregistered")

    assert invoke("unregistered", {"a": 1}) == (None, {"a": 1})


# -- DynamoDB atomicity --------------------------------------------------------------------


def decrement_concurrently(threads: int, attempts_per_thread: int) -> tuple[int, int]:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.put_item(TableName="stock", Item={"pk": {"S": "sku-1"}, "available": {"N": "100"}})
    successes = []

    def decrement() -> None:
        client = boto3.client("dynamodb", region_name=REGION)
        for _ in range(attempts_per_thread):
            try:
                client.update_item(
                    TableName="stock",
                    Key={"pk": {"S": "sku-1"}},
                    UpdateExpression="SET available = available - :one",
                    ConditionExpression="available >= :one",
                    ExpressionAttributeValues={":one": {"N": "1"}},
                )
                successes.append(1)
            except ClientError as error:
                assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"

    workers = [threading.Thread(target=decrement) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    final = dynamodb.get_item(TableName="stock", Key={"pk": {"S": "sku-1"}})["Item"]["available"]["N"]
    return len(successes), int(final)


def test_concurrent_conditional_decrements_never_oversell(aws: None) -> None:
    # Without the lock moto oversold in every run of this size (e.g. 128 successes ending at -1).
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="stock",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for _ in range(3):
        assert decrement_concurrently(threads=16, attempts_per_thread=15) == (100, 0)


# -- Step Functions speed-ups --------------------------------------------------------------


def test_a_definition_is_parsed_once_and_shared() -> None:
    definition = ORDER_WORKFLOW.definition_text()

    first_program, _ = AmazonStateLanguageParser.parse(definition)
    second_program, _ = AmazonStateLanguageParser.parse(definition)

    assert first_program is second_program


def test_jsonpaths_are_compiled_once() -> None:
    assert json_path.parse("$.orderId") is json_path.parse("$.orderId")
    assert result_path.parse("$.validation") is result_path.parse("$.validation")


def test_interpreter_clients_are_reused_per_service(aws: None) -> None:
    lambda_client = boto_client.boto_client_for(REGION, "lambda")

    assert boto_client.boto_client_for(REGION, "lambda") is lambda_client
    assert boto_client.boto_client_for(REGION, "dynamodb") is not lambda_client


# -- DynamoDB transactions without table copies ----------------------------------------------


def stock_table() -> Any:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="ledger",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="ledger", Item={"pk": {"S": "a"}, "units": {"N": "5"}})
    return dynamodb


def decrement(pk: str, by: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": "ledger",
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": "SET units = units - :by",
            "ConditionExpression": "units >= :by",
            "ExpressionAttributeValues": {":by": {"N": str(by)}},
        }
    }


def put_new(pk: str) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": "ledger",
            "Item": {"pk": {"S": pk}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def units(dynamodb: Any, pk: str) -> str | None:
    item = dynamodb.get_item(TableName="ledger", Key={"pk": {"S": pk}}).get("Item")
    return item["units"]["N"] if item else None


def test_a_transaction_applies_every_action_when_every_condition_holds(aws: None) -> None:
    dynamodb = stock_table()

    dynamodb.transact_write_items(TransactItems=[decrement("a", 2), put_new("b")])

    assert units(dynamodb, "a") == "3"
    assert "Item" in dynamodb.get_item(TableName="ledger", Key={"pk": {"S": "b"}})


def test_a_failed_condition_cancels_the_whole_transaction_with_one_reason_per_action(aws: None) -> None:
    dynamodb = stock_table()

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(TransactItems=[put_new("b"), decrement("a", 9)])

    reasons = [r["Code"] for r in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert units(dynamodb, "a") == "5"
    assert "Item" not in dynamodb.get_item(TableName="ledger", Key={"pk": {"S": "b"}})


def test_an_action_failing_while_applied_restores_the_items_already_written(aws: None) -> None:
    dynamodb = stock_table()
    invalid = {
        "Update": {
            "TableName": "ledger",
            "Key": {"pk": {"S": "a"}},
            "UpdateExpression": "SET units = missing_attribute - :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }

    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[put_new("b"), invalid])

    assert units(dynamodb, "a") == "5"
    assert "Item" not in dynamodb.get_item(TableName="ledger", Key={"pk": {"S": "b"}})


def test_two_actions_on_one_item_are_refused(aws: None) -> None:
    dynamodb = stock_table()

    with pytest.raises(ClientError, match="multiple operations on one item"):
        dynamodb.transact_write_items(TransactItems=[decrement("a", 1), decrement("a", 1)])

    assert units(dynamodb, "a") == "5"


def test_a_table_query_reads_only_its_partition_and_answers_as_before(aws: None) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for pk in ("a", "b"):
        for n in range(5):
            dynamodb.put_item(
                TableName="items", Item={"pk": {"S": pk}, "sk": {"S": f"{n:02d}"}, "n": {"N": str(n)}}
            )
    walked: list[int] = []
    original = moto_patches.Table.all_items

    def counting(self: Table) -> list[Any]:
        items = original(self)
        walked.append(len(items))
        return items

    moto_patches.Table.all_items = counting  # type: ignore[method-assign]
    try:
        page = dynamodb.query(
            TableName="items",
            KeyConditionExpression="pk = :pk AND sk > :from",
            ExpressionAttributeValues={":pk": {"S": "b"}, ":from": {"S": "01"}},
            ScanIndexForward=False,
            Limit=2,
        )
    finally:
        moto_patches.Table.all_items = original  # type: ignore[method-assign]

    assert [item["sk"]["S"] for item in page["Items"]] == ["04", "03"]
    assert page["LastEvaluatedKey"] == {"pk": {"S": "b"}, "sk": {"S": "03"}}
    assert walked == [5]  # the partition's items, not the table's 10
    assert len(dynamodb.scan(TableName="items")["Items"]) == 10  # outside a Query: the whole table


def test_an_index_query_reads_only_its_partition_walking_the_table_once_between_writes(aws: None) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName="listed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "part", "created")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byPart",
                "KeySchema": [
                    {"AttributeName": "part", "KeyType": "HASH"},
                    {"AttributeName": "created", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(12):
        item = {"pk": {"S": f"o{n:02d}"}, "part": {"S": f"s{n % 3}"}, "created": {"S": f"{n:02d}"}}
        dynamodb.put_item(TableName="listed", Item=item)
    dynamodb.put_item(TableName="listed", Item={"pk": {"S": "unlisted"}})
    walked: list[int] = []
    original = moto_patches.Table.all_items

    def counting(self: Table) -> list[Any]:
        items = original(self)
        walked.append(len(items))
        return items

    def newest(shard: str) -> list[str]:
        page = dynamodb.query(
            TableName="listed",
            IndexName="byPart",
            KeyConditionExpression="part = :part AND created < :before",
            ExpressionAttributeValues={":part": {"S": shard}, ":before": {"S": "10"}},
            ScanIndexForward=False,
            Limit=3,
        )
        return [item["pk"]["S"] for item in page["Items"]]

    moto_patches.Table.all_items = counting  # type: ignore[method-assign]
    try:
        before = [newest(f"s{n}") for n in range(3)]
        walks_before = len(walked)
        dynamodb.update_item(
            TableName="listed",
            Key={"pk": {"S": "o09"}},
            UpdateExpression="SET part = :to",
            ExpressionAttributeValues={":to": {"S": "s1"}},
        )
        dynamodb.delete_item(TableName="listed", Key={"pk": {"S": "o07"}})
        after = [newest(f"s{n}") for n in range(3)]
    finally:
        moto_patches.Table.all_items = original  # type: ignore[method-assign]

    assert before == [["o09", "o06", "o03"], ["o07", "o04", "o01"], ["o08", "o05", "o02"]]
    assert after == [["o06", "o03", "o00"], ["o09", "o04", "o01"], ["o08", "o05", "o02"]]
    # One walk of the table for three queries (then moto reads just the partition), again after writes.
    assert (walks_before, walked) == (4, [13, 4, 4, 4, 12, 3, 4, 4])


# -- EventBridge -----------------------------------------------------------------------------


def test_a_disabled_rule_sends_nothing_and_sends_again_once_enabled(aws: None) -> None:
    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="copies")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="copy", EventPattern=json.dumps({"source": ["oms"]}))
    events.put_targets(Rule="copy", Targets=[{"Id": "queue", "Arn": arn}])

    def publish(detail: str) -> list[str]:
        events.put_events(Entries=[{"Source": "oms", "DetailType": "t", "Detail": json.dumps({"n": detail})}])
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"])["detail"]["n"] for m in received]

    events.disable_rule(Name="copy")
    assert publish("while disabled") == []
    events.enable_rule(Name="copy")
    assert publish("once enabled") == ["once enabled"]
