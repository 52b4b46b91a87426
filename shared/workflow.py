"""The workflows as seen from the handlers: start one (per order, per return), resume it, fail it."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from shared import aws, config
from shared.observability import logger


def start(order_id: str) -> None:
    """Start the order's execution, named by the order id; a second start for the same order is a no-op.

    The input is derived from the order id and configuration alone, so a repeated start sends the
    same input, which Step Functions accepts idempotently.
    """
    _start(config.order_workflow_arn(), order_id, {"orderId": order_id, "timings": config.workflow_timings()})


def start_return(return_id: str, fields: dict[str, Any]) -> None:
    """Start the return's execution, named by the return id; `fields` must be derived from the
    stored return only, so a repeated start is accepted idempotently as for orders."""
    _start(config.return_workflow_arn(), return_id, {**fields, "timings": config.return_timings()})


def _start(state_machine_arn: str, name: str, fields: dict[str, Any]) -> None:
    payload = json.dumps(fields, sort_keys=True)
    try:
        aws.stepfunctions().start_execution(stateMachineArn=state_machine_arn, name=name, input=payload)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
        logger.info("workflow already started", extra={"execution": name})


_STALE_TOKEN_ERRORS = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


def _tolerating_stale_token(call: Any, **kwargs: Any) -> bool:
    """Send a task-token call; False when the task already ended (timed out, or resumed before)."""
    try:
        call(**kwargs)
    except ClientError as error:
        if error.response["Error"]["Code"] not in _STALE_TOKEN_ERRORS:
            raise
        logger.warning("task token no longer waiting", extra={"error": error.response["Error"]["Code"]})
        return False
    return True


def resume(task_token: str, output: dict[str, Any]) -> bool:
    return _tolerating_stale_token(
        aws.stepfunctions().send_task_success, taskToken=task_token, output=json.dumps(output)
    )


def fail(task_token: str, error: str, cause: str) -> bool:
    return _tolerating_stale_token(
        aws.stepfunctions().send_task_failure, taskToken=task_token, error=error, cause=cause
    )


def heartbeat(task_token: str) -> bool:
    return _tolerating_stale_token(aws.stepfunctions().send_task_heartbeat, taskToken=task_token)


# -- observing: the definition and an order's execution (the "observe" permission) --------------

# A standard execution has at most 25,000 history events; an order's has a few dozen per shipment.
MAX_HISTORY_EVENTS = 5000


def order_definition() -> tuple[str, str]:
    """The order workflow's (ARN, ASL text) as deployed."""
    arn = config.order_workflow_arn()
    described = aws.stepfunctions().describe_state_machine(stateMachineArn=arn)
    return arn, str(described["definition"])


def order_execution(order_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]], bool]:
    """The order's execution (DescribeExecution), its history events oldest first and whether there
    were more than MAX_HISTORY_EVENTS; (None, [], False) when none was started."""
    arn = execution_arn(config.order_workflow_arn(), order_id)
    client = aws.stepfunctions()
    try:
        described: dict[str, Any] = client.describe_execution(executionArn=arn)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionDoesNotExist":
            raise
        return None, [], False
    events: list[dict[str, Any]] = []
    request: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while len(events) < MAX_HISTORY_EVENTS:
        page = client.get_execution_history(**request)
        events += page["events"]
        if not page.get("nextToken"):
            return described, events, False
        request["nextToken"] = page["nextToken"]
    return described, events[:MAX_HISTORY_EVENTS], True


def execution_arn(state_machine_arn: str, name: str) -> str:
    """A standard execution's ARN: the state machine's, with `execution` and the execution's name."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
