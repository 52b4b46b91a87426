"""Every change this project makes to moto internals, in one place.

moto is pinned exactly (requirements-dev.txt) because these reach into private code; each patch
checks the signature it relies on and `tests/unit/test_local_moto_patches.py` proves each still
applies. `apply()` is idempotent and process-wide (moto's backends are process-wide too).
A patch leaves moto's behaviour unchanged for anything the local runtime did not register.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse
from moto.core.models import botocore_stubber
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import Rule
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client, json_path
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from local.invoker import REGISTRY
from shared.logic.staff_auth import RsaKey, keys_from_jwks

LAMBDA_INVOKE = "lambda-invoke-in-process"
DYNAMODB_ATOMIC = "dynamodb-atomic-requests"
DYNAMODB_TRANSACTIONS = "dynamodb-transactions-without-table-copies"
SFN_PARSE_CACHE = "stepfunctions-parse-cache"
SFN_CLIENT_CACHE = "stepfunctions-client-cache"
SFN_JSONPATH_CACHE = "stepfunctions-jsonpath-cache"
SFN_EARLY_CALLBACK = "stepfunctions-early-task-token-callback"
SFN_EXECUTION_START = "stepfunctions-execution-start-races"
DYNAMODB_QUERY_PARTITION = "dynamodb-query-reads-one-partition"
EVENTS_DISABLED_RULES = "events-disabled-rules-send-nothing"

# Held for the whole of every DynamoDB request; see _patch_dynamodb_atomicity.
DYNAMODB_LOCK = threading.RLock()
# Counts the DynamoDB requests that may have written (under DYNAMODB_LOCK, before and after each), so
# what was read from the tables since the last one still holds; see _index_partition.
_dynamodb_writes = [0]
READ_ONLY_ACTIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable", "ListTables"}
)

_MARK = "__oms_patch__"
_apply_lock = threading.Lock()


class MotoPatchError(RuntimeError):
    """moto's internals no longer look the way a patch expects (was moto upgraded?)."""


def _require_signature(function: Callable[..., Any], expected_parameters: list[str]) -> None:
    actual = list(inspect.signature(function).parameters)
    if actual != expected_parameters:
        raise MotoPatchError(f"{function.__qualname__}{actual} != expected {expected_parameters}")


def _is_patched(function: Any) -> bool:
    return getattr(function, _MARK, False)


def _mark(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, _MARK, True)
    return function


def _patch_lambda_invoke() -> None:
    """With `use_docker: False`, moto's Lambda `invoke` only echoes the payload back.

    Run the registered handler instead and answer like the Lambda service: the JSON result, or
    `x-amz-function-error: Unhandled` with the runtime's error body so that Step Functions
    Retry/Catch match on `errorType`. Functions without a local handler keep moto's behaviour.
    """
    original = LambdaSimpleBackend.invoke
    if _is_patched(original):
        return
    _require_signature(
        original, ["self", "function_name", "qualifier", "body", "headers", "response_headers"]
    )

    def invoke(  # noqa: PLR0917 - moto calls it with these positional arguments
        self: LambdaSimpleBackend,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> str | bytes | None:
        if not REGISTRY.is_registered(function_name):
            return original(self, function_name, qualifier, body, headers, response_headers)
        invocation = REGISTRY.invoke_payload(function_name, body)
        if invocation.unhandled_error:
            response_headers["x-amz-function-error"] = "Unhandled"
        return invocation.payload

    LambdaSimpleBackend.invoke = _mark(invoke)  # type: ignore[method-assign]


def _patch_dynamodb_atomicity() -> None:
    """moto evaluates a ConditionExpression and writes without holding any lock.

    Concurrent conditional writes then interleave: 16 threads decrementing a stock of 100 with
    `available >= :one` got up to 156 successes (oversold in 5 runs of 6, lost updates too).
    Real DynamoDB applies each write atomically. Holding one lock for the whole request,
    not just the backend write, also covers what moto's response layer reads before writing
    (ReturnValues ALL_OLD/UPDATED_OLD) and keeps query/scan from iterating a table that another
    thread is inserting into. Locally that serialises DynamoDB requests, which is fine.
    """
    original = DynamoHandler.call_action
    if _is_patched(original):
        return
    _require_signature(original, ["self"])

    @functools.wraps(original)
    def call_action(self: DynamoHandler) -> Any:
        action = str(self.headers.get("X-Amz-Target", "")).rpartition(".")[2]
        with DYNAMODB_LOCK:
            if action in READ_ONLY_ACTIONS:
                return original(self)
            _dynamodb_writes[0] += 1
            try:
                return original(self)
            finally:
                _dynamodb_writes[0] += 1

    DynamoHandler.call_action = _mark(call_action)  # type: ignore[method-assign]


def _patch_dynamodb_transactions() -> None:
    """moto's TransactWriteItems deep-copies every table it touches, once per action, to be able to
    roll back: a transaction costs time in proportion to the table (288 ms for 3 actions on a
    1,000-item table, all of it under the DynamoDB lock), so the local OMS slowed down as it filled.

    Same semantics, without the copies: check every condition first (nothing else runs meanwhile,
    the request holds DYNAMODB_LOCK), cancel with one reason per action if any fails, otherwise
    apply the actions, restoring just the touched items if applying one fails.
    """
    original = DynamoDBBackend.transact_write_items
    if _is_patched(original):
        return
    _require_signature(original, ["self", "transact_items"])

    @functools.wraps(original)
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        actions = [_transaction_action(self, item) for item in transact_items]
        _refuse_repeated_items(actions)
        reasons = [_condition_failure(self, action) for action in actions]
        if any(reason[0] is not None for reason in reasons):
            raise TransactionCanceledException(reasons)
        _apply_or_restore(self, actions)

    DynamoDBBackend.transact_write_items = _mark(transact_write_items)  # type: ignore[method-assign]


def _transaction_action(
    backend: DynamoDBBackend, item: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    if len(item) != 1:
        raise MockValidationException("TransactItems can only contain one of Check, Put, Update or Delete")
    op_type, op = next(iter(item.items()))
    if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
        raise MockValidationException(f"Unsupported transaction operation {op_type}")
    if op_type != "Put":
        return op_type, op, op["Key"]
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return op_type, op, key


def _refuse_repeated_items(actions: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    targets = [(op["TableName"], str(sorted(key.items()))) for _, op, key in actions]
    if len(set(targets)) != len(targets):
        raise MultipleTransactionsException()


def _condition_failure(
    backend: DynamoDBBackend, action: tuple[str, dict[str, Any], dict[str, Any]]
) -> tuple[Any, Any, Any]:
    _, op, key = action
    expression = op.get("ConditionExpression")
    if expression is None:
        return (None, None, None)
    current = backend.get_item(op["TableName"], key)
    condition = get_filter_expression(
        expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if condition.expr(current):
        return (None, None, None)
    wants_item = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    old_item = current.to_json()["Attributes"] if wants_item and current is not None else None
    return ("ConditionalCheckFailed", ConditionalCheckFailed().message, old_item)


def _apply_or_restore(
    backend: DynamoDBBackend, actions: list[tuple[str, dict[str, Any], dict[str, Any]]]
) -> None:
    touched = [(op["TableName"], key, backend.get_item(op["TableName"], key)) for _, op, key in actions]
    before = [(table, key, item.to_json()["Attributes"] if item else None) for table, key, item in touched]
    try:
        for op_type, op, key in actions:
            _apply(backend, op_type, op, key)
    except Exception:
        for table, key, attributes in before:
            if attributes is None:
                backend.delete_item(table, key)
            else:
                backend.put_item(table, attributes)
        raise


def _apply(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    # moto's own transaction passes these straight from the request, absent ones as None.
    names: Any = op.get("ExpressionAttributeNames")
    values: Any = op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(
            op["TableName"], op["Item"], expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Delete":
        backend.delete_item(
            op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
        )
    elif op_type == "Update":
        backend.update_item(
            op["TableName"],
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def _patch_stepfunctions_parse_cache() -> None:
    """moto's ASL interpreter re-parses the definition with a pure-Python ANTLR parser for every
    execution (about 30 ms for the order workflow, more than the rest of an execution).

    The program it builds is not mutated by evaluation (per-execution state lives in the
    Environment), so it is parsed once per definition text and shared. Parsing is also serialised:
    moto's Preprocessor keeps its query-language scope stack in a class attribute shared by all
    threads, so two concurrent parses could corrupt each other's scopes.
    """
    original = AmazonStateLanguageParser.__dict__["parse"].__func__
    if _is_patched(original):
        return
    _require_signature(original, ["definition"])
    parse_lock = threading.Lock()

    @functools.lru_cache(maxsize=64)
    def parse_once(definition: str) -> Any:
        program, tree = original(definition)
        for component in _components(program):
            _ = component.heap_key  # assigned lazily, racily; fix it before threads share the program
        return program, tree

    def parse(definition: str) -> Any:
        with parse_lock:
            return parse_once(definition)

    AmazonStateLanguageParser.parse = staticmethod(_mark(parse))  # type: ignore[method-assign]


def _components(root: Any) -> Iterator[Any]:
    """Every EvalComponent reachable from `root` through attributes, lists, tuples and dicts."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        value = pending.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, EvalComponent):
            yield value
            pending.extend(getattr(value, "__dict__", {}).values())
        elif isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())


def _patch_stepfunctions_client_cache() -> None:
    """moto's ASL interpreter builds a new boto3 client (about 20-50 ms) for every Task it runs.

    boto3 clients are thread-safe, and the interpreter always builds them from the same fixed
    arguments, so one per (region, service, endpoint) is reused.
    """
    original = boto_client.boto_client_for
    if _is_patched(original):
        return
    _require_signature(original, ["region", "service", "state_credentials"])
    clients: dict[tuple[str, str, bool, str], Any] = {}
    clients_lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # The endpoint depends on whether moto intercepts in-process or serves on MOTO_PORT.
        key = (region, service, botocore_stubber.enabled, moto_server_port())
        with clients_lock:
            if key not in clients:
                clients[key] = original(region=region, service=service, state_credentials=state_credentials)
            return clients[key]

    _mark(boto_client_for)
    boto_client.boto_client_for = boto_client_for
    # Modules imported already did `from ...boto_client import boto_client_for`: rebind theirs too.
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("moto.stepfunctions.parser") and (
            getattr(module, "boto_client_for", None) is original
        ):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]


def _patch_stepfunctions_jsonpath_cache() -> None:
    """moto compiles every JSONPath (`$.orderId`, ResultPath, Choice variables...) each time it is
    evaluated, and jsonpath_ng rebuilds its PLY parser tables for each compilation (about 20
    compilations per order workflow execution). A compiled path is immutable: compile each once.
    """
    for module in (json_path, result_path):
        original = module.parse
        if _is_patched(original):
            continue
        _require_signature(original, ["path", "debug"] if module is json_path else ["string"])
        module.parse = _mark(functools.lru_cache(maxsize=4096)(original))  # type: ignore[attr-defined]


def _patch_stepfunctions_early_callback() -> None:
    """A task token is valid as soon as the task starts: on AWS, SendTaskSuccess may arrive before
    the Lambda that received the token has even returned (a fast warehouse, an automated test).

    moto sets up the heartbeat listener only after the invocation returns, and then waits for a
    heartbeat without looking at an outcome that already arrived: with HeartbeatSeconds set, the
    early success is lost and the task fails with States.HeartbeatTimeout. Look first.
    """
    callback_task = state_task_service_callback.StateTaskServiceCallback
    original = callback_task._wait_for_task_token_heartbeat
    if _is_patched(original):
        return
    _require_signature(original, ["self", "env", "callback_endpoint", "heartbeat_endpoint"])

    @functools.wraps(original)
    def wait_for_task_token_heartbeat(
        self: Any, env: Any, callback_endpoint: Any, heartbeat_endpoint: Any
    ) -> Any:
        early_outcome = callback_endpoint.get_outcome()
        if early_outcome is not None:
            return early_outcome
        return original(self, env, callback_endpoint, heartbeat_endpoint)

    callback_task._wait_for_task_token_heartbeat = _mark(wait_for_task_token_heartbeat)  # type: ignore[method-assign]


def _patch_stepfunctions_execution_start() -> None:
    """A new execution is visible to other requests before it can be used, in two steps.

    moto's StartExecution checks the name, appends the execution, then starts it, unlocked; and
    the interpreter builds the execution's environment later, on the execution's own thread.
    Meanwhile SendTaskSuccess/Failure/Heartbeat scan every RUNNING execution and fail with
    AttributeError on a status or environment that does not exist yet (seen with a burst of
    orders while callbacks arrive); two concurrent starts with one name can also both succeed.
    So: start executions one at a time, give a not-yet-started execution no status, and let the
    callback scans skip executions whose environment is not built (they hold no task token yet).
    """
    original_start = StepFunctionsParserBackend.start_execution
    original_get_executions = StepFunctionsParserBackend._get_executions
    status = Execution.__dict__["status"]
    if _is_patched(original_start):
        return
    _require_signature(
        original_start, ["self", "state_machine_arn", "name", "execution_input", "trace_header"]
    )
    _require_signature(original_get_executions, ["self", "execution_status"])
    start_lock = threading.Lock()

    @functools.wraps(original_start)
    def start_execution(self: StepFunctionsParserBackend, *args: Any, **kwargs: Any) -> Any:
        with start_lock:
            return original_start(self, *args, **kwargs)

    def status_once_started(self: Execution) -> Any:
        return None if self.exec_status is None else status.fget(self)

    def get_executions(self: StepFunctionsParserBackend, execution_status: Any = None) -> list[Execution]:
        executions: list[Execution] = original_get_executions(self, execution_status)
        return [e for e in executions if e.exec_worker is None or e.exec_worker.env is not None]

    StepFunctionsParserBackend.start_execution = _mark(start_execution)  # type: ignore[method-assign]
    StepFunctionsParserBackend._get_executions = get_executions  # type: ignore[method-assign]
    Execution.status = property(status_once_started)  # type: ignore[assignment,method-assign]


_query_scope = threading.local()


def _patch_dynamodb_query_partition() -> None:
    """moto's Query walks every item of the table to find the partition's, so each Query costs the
    table's size: with 20,000 stock and ledger items, a stock import slowed to a few rows per second.
    DynamoDB reads the one partition. While such a Query runs, this thread's `all_items` of that
    table is the partition: a table's from moto's own per-partition dict, an index's from a grouping
    of the table's items by the index's partition key, made by one walk and kept until a request
    writes (an order list reads 32 index partitions at once: one walk, not 32). Everything after
    (sorting, key conditions, filters, paging) is moto's, unchanged."""
    original_query, original_all_items = Table.query, Table.all_items
    if _is_patched(original_query):
        return
    _require_signature(
        original_query,
        [
            "self",
            "hash_key",
            "range_comparison",
            "range_objs",
            "limit",
            "exclusive_start_key",
            "scan_index_forward",
            "projection_expressions",
            "index_name",
            "consistent_read",
            "filter_expression",
            "hash_key_conditions",
            "range_key_conditions",
            "filter_kwargs",
        ],
    )
    _require_signature(original_all_items, ["self"])

    @functools.wraps(original_query)
    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name:
            conditions = args[9] if len(args) > 9 else kwargs.get("hash_key_conditions")
            partition = _index_partition(self, index_name, conditions)
        elif hash_key is not None and self.range_key_attr:
            partition = list(self.items.get(hash_key, {}).values())
        else:
            partition = None
        if partition is None:
            return original_query(self, hash_key, *args, **kwargs)
        _query_scope.partition = (self, partition)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.partition = None

    @functools.wraps(original_all_items)
    def all_items(self: Table) -> list[Any]:
        scoped = getattr(_query_scope, "partition", None)
        if scoped is not None and scoped[0] is self:
            return list(scoped[1])
        return original_all_items(self)

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = _mark(query)  # type: ignore[method-assign]


def _index_partition(table: Table, index_name: str, conditions: Any) -> list[Any] | None:
    """The items of one partition of a global index (None: leave the Query to moto as it is). The
    grouping is only trusted while every write request counts itself (the atomicity patch)."""
    index = next((i for i in table.global_indexes if i.name == index_name), None)
    if index is None or not _is_patched(DynamoHandler.call_action) or not conditions or len(conditions) != 1:
        return None
    hash_keys = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
    attribute, value = conditions[0]
    if hash_keys != [attribute]:
        return None
    written: int | None
    groups: dict[str, dict[Any, list[Any]]]
    written, groups = getattr(table, "_oms_index_partitions", (None, {}))
    if written != _dynamodb_writes[0]:
        groups = {}
        table._oms_index_partitions = (_dynamodb_writes[0], groups)  # type: ignore[attr-defined]
    if index_name not in groups:
        grouped: dict[Any, list[Any]] = {}
        for item in table.all_items():  # not scoped yet: the whole table
            key = getattr(item, "attrs", {}).get(attribute)
            if key is not None:
                grouped.setdefault(key, []).append(item)
        groups[index_name] = grouped
    return list(groups[index_name].get(value, []))


def _patch_events_disabled_rules() -> None:
    """moto's EventBridge sends an event to a rule's targets whatever the rule's state. A DISABLED
    rule matches nothing in EventBridge (DisableRule); the local demo history pauses rules so."""
    original = Rule.send_to_targets
    if _is_patched(original):
        return
    _require_signature(original, ["self", "original_event", "transform_input"])

    @functools.wraps(original)
    def send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
        if self.state != "ENABLED":
            return
        original(self, original_event, transform_input)

    Rule.send_to_targets = _mark(send_to_targets)  # type: ignore[method-assign]


PATCHES: dict[str, Callable[[], None]] = {
    LAMBDA_INVOKE: _patch_lambda_invoke,
    DYNAMODB_ATOMIC: _patch_dynamodb_atomicity,
    DYNAMODB_TRANSACTIONS: _patch_dynamodb_transactions,
    SFN_PARSE_CACHE: _patch_stepfunctions_parse_cache,
    SFN_CLIENT_CACHE: _patch_stepfunctions_client_cache,
    SFN_JSONPATH_CACHE: _patch_stepfunctions_jsonpath_cache,
    SFN_EARLY_CALLBACK: _patch_stepfunctions_early_callback,
    SFN_EXECUTION_START: _patch_stepfunctions_execution_start,
    DYNAMODB_QUERY_PARTITION: _patch_dynamodb_query_partition,
    EVENTS_DISABLED_RULES: _patch_events_disabled_rules,
}


def apply(names: Iterable[str] | None = None) -> None:
    """Apply the named patches (all by default); applying one twice is a no-op."""
    with _apply_lock:
        for name in list(PATCHES) if names is None else names:
            PATCHES[name]()


def moto_signing_keys() -> dict[str, RsaKey]:
    """The keys moto's Cognito signs every pool's tokens with (one fixed RSA key shipped with moto), as
    the JWKS it serves at `/<pool id>/.well-known/jwks.json`. Read, not patched: an internal attribute."""
    return keys_from_jwks(json.loads(CognitoIdpJsonWebKeyResponse.json_web_key))
