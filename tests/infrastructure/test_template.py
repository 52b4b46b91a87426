"""The synthesized template renders the blueprint: functions, permissions, tables, workflow, API."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest

from blueprint import (
    BUSES,
    COMMON_ENVIRONMENT,
    EMAIL_TEMPLATES,
    FUNCTIONS,
    ORDER_WORKFLOW,
    QUEUES,
    ROUTES,
    RULES,
    SECRETS,
    STAFF_POOL,
    TABLES,
    TRACKING_PAGE_URL_ENV,
    WORKFLOWS,
    Workflow,
)
from infra.constructs import BlueprintKind
from infra.constructs.functions import (
    CHECK_IDENTITY_ACTIONS,
    POWERTOOLS_LAYER_PARAMETER,
    RUNTIME,
    SEND_EMAIL_ACTIONS,
    TASK_TOKEN_ACTIONS,
)
from infra.synth import STACK_NAME, arn_references, blueprint_names, resources_of_type, template_routes

pytestmark = pytest.mark.slow

Template = dict[str, Any]
WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
QUEUE_CONSUMER_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
SECRET_READ_ACTIONS = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
# Scan too: the channel and stock lists read their tables by paginated Scans.
READ_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
}


def logical_ids(template: Template, kind: BlueprintKind) -> dict[str, str]:
    """Blueprint name -> logical id."""
    return {name: lid for lid, name in blueprint_names(template, kind).items()}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_props(template: Template, name: str) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][logical_ids(template, "Function")[name]]["Properties"]
    return props


def role_statements(template: Template, role_arn: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the inline and attached policies of the role `role_arn` points to."""
    (role_id,) = arn_references(role_arn)
    statements = [
        statement
        for policy in template["Resources"][role_id]["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for policy in resources_of_type(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def function_statements(template: Template, name: str) -> list[dict[str, Any]]:
    return role_statements(template, function_props(template, name)["Role"])


def table_actions(template: Template, statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Blueprint table name -> actions the statements allow on it (or its indexes)."""
    tables = blueprint_names(template, "Table")
    granted: dict[str, set[str]] = defaultdict(set)
    for statement in statements:
        for table_id in arn_references(statement["Resource"]):
            if table_id in tables:
                granted[tables[table_id]] |= set(as_list(statement["Action"]))
    return dict(granted)


def state_machine_id(template: Template, workflow: Workflow = ORDER_WORKFLOW) -> str:
    return logical_ids(template, "Workflow")[workflow.name]


# Functions


def cdk_own_functions(template: Template) -> dict[str, dict[str, Any]]:
    """The Lambda functions CDK writes itself (the console's BucketDeployment), not the blueprint's."""
    blueprint = blueprint_names(template, "Function")
    return {
        lid: r
        for lid, r in resources_of_type(template, "AWS::Lambda::Function").items()
        if lid not in blueprint
    }


def test_every_blueprint_function_and_nothing_else(template: Template) -> None:
    assert sorted(blueprint_names(template, "Function").values()) == sorted(FUNCTIONS)
    (deployment,) = cdk_own_functions(template).values()
    assert deployment["Properties"]["Handler"] == "index.handler"  # CDK's BucketDeployment
    assert len(resources_of_type(template, "AWS::Lambda::Function")) == len(FUNCTIONS) + 1


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_configuration(template: Template, name: str) -> None:
    spec, props = FUNCTIONS[name], function_props(template, name)
    assert props["Runtime"] == RUNTIME.name == "python3.14"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == spec.handler
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout_seconds
    assert props["TracingConfig"] == {"Mode": "Active"}
    log_group = template["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] > 0


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_uses_powertools_layer_resolved_at_deploy_time(template: Template, name: str) -> None:
    (layer,) = function_props(template, name)["Layers"]
    parameter = template["Parameters"][layer["Ref"]]
    assert parameter == {"Type": "AWS::SSM::Parameter::Value<String>", "Default": POWERTOOLS_LAYER_PARAMETER}
    assert POWERTOOLS_LAYER_PARAMETER == "/aws/service/powertools/python/arm64/python3.14/3.37.0"


def user_pool_environment(template: Template) -> dict[str, Any]:
    """The staff pool's issuer, JWKS URL and console client id, as the template writes them."""
    (pool,) = resources_of_type(template, "AWS::Cognito::UserPool")
    (client,) = resources_of_type(template, "AWS::Cognito::UserPoolClient")
    issuer = [
        "https://cognito-idp.",
        {"Ref": "AWS::Region"},
        ".",
        {"Ref": "AWS::URLSuffix"},
        "/",
        {"Ref": pool},
    ]
    return {
        STAFF_POOL.issuer_env: {"Fn::Join": ["", issuer]},
        STAFF_POOL.jwks_url_env: {"Fn::Join": ["", [*issuer, "/.well-known/jwks.json"]]},
        STAFF_POOL.client_id_env: {"Ref": client},
    }


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_environment(template: Template, name: str) -> None:
    spec = FUNCTIONS[name]
    tables = logical_ids(template, "Table")
    values = {table.env: {"Ref": tables[table.name]} for table in TABLES.values()}
    values |= {w.env: {"Ref": state_machine_id(template, w)} for w in WORKFLOWS.values()}
    values |= {s.env: {"Ref": logical_ids(template, "Secret")[s.name]} for s in SECRETS.values()}
    values |= {b.env: {"Ref": logical_ids(template, "EventBus")[b.name]} for b in BUSES.values()}
    values |= {q.env: {"Ref": logical_ids(template, "Queue")[q.name]} for q in QUEUES.values() if q.env}
    values |= {t.env: f"{STACK_NAME}-{t.name}" for t in EMAIL_TEMPLATES.values()}
    values[TRACKING_PAGE_URL_ENV] = tracking_page_url(template)
    values |= user_pool_environment(template)
    expected = {
        **COMMON_ENVIRONMENT,
        **spec.settings,
        **{key: values[key] for key in spec.environment_keys()},
    }
    assert function_props(template, name)["Environment"]["Variables"] == expected


def test_each_function_has_its_own_role_without_managed_policies(template: Template) -> None:
    roles = [function_props(template, name)["Role"] for name in FUNCTIONS]
    assert len({json.dumps(role) for role in roles}) == len(FUNCTIONS)
    for role in roles:
        (role_id,) = arn_references(role)
        assert "ManagedPolicyArns" not in template["Resources"][role_id]["Properties"]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_may_touch_exactly_its_tables(template: Template, name: str) -> None:
    granted = table_actions(template, function_statements(template, name))
    assert granted.keys() == FUNCTIONS[name].tables.keys()
    for table, access in FUNCTIONS[name].tables.items():
        assert granted[table] >= READ_ACTIONS
        if access == "write":
            assert granted[table] >= WRITE_ACTIONS
        else:
            assert not WRITE_ACTIONS & granted[table], f"{name} may write {table}"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_workflow_permissions(template: Template, name: str) -> None:
    spec = FUNCTIONS[name]
    expected = set()
    workflow_ids = logical_ids(template, "Workflow")
    for workflow in spec.workflows_allowed_to("start"):
        expected.add(("states:StartExecution", json.dumps({"Ref": workflow_ids[workflow]})))
    if spec.workflows_allowed_to("callback"):
        expected |= {(action, json.dumps("*")) for action in TASK_TOKEN_ACTIONS}
    for workflow in spec.workflows_allowed_to("observe"):
        expected.add(("states:DescribeStateMachine", json.dumps({"Ref": workflow_ids[workflow]})))
        executions = json.dumps(executions_arn(workflow_ids[workflow]))
        expected |= {
            (action, executions) for action in ("states:DescribeExecution", "states:GetExecutionHistory")
        }
    granted = {
        (action, json.dumps(resource))
        for statement in function_statements(template, name)
        for action in as_list(statement["Action"])
        if action.startswith("states:")
        for resource in as_list(statement["Resource"])
    }
    assert granted == expected


def executions_arn(state_machine: str) -> dict[str, Any]:
    """`arn:<partition>:states:<region>:<account>:execution:<the state machine's name>:*`."""
    parts = ["arn:", {"Ref": "AWS::Partition"}, ":states:", {"Ref": "AWS::Region"}, ":"]
    parts += [{"Ref": "AWS::AccountId"}, ":execution:", {"Fn::GetAtt": [state_machine, "Name"]}, ":*"]
    return {"Fn::Join": ["", parts]}


def test_the_orders_api_may_observe_the_order_workflow_and_its_executions_only(template: Template) -> None:
    """GET /orders/{orderId}/workflow: the definition, an execution's status and its history; no
    listing, no other state machine's executions, nothing that changes an execution."""
    workflow_ids = logical_ids(template, "Workflow")
    observed = {
        action: statement["Resource"]
        for statement in function_statements(template, "OrdersApi")
        for action in as_list(statement["Action"])
        if action.startswith("states:") and action not in TASK_TOKEN_ACTIONS
    }
    order_workflow = workflow_ids[ORDER_WORKFLOW.name]
    assert observed == {
        "states:DescribeStateMachine": {"Ref": order_workflow},
        "states:DescribeExecution": executions_arn(order_workflow),
        "states:GetExecutionHistory": executions_arn(order_workflow),
    }
    environment = function_props(template, "OrdersApi")["Environment"]["Variables"]
    assert environment[ORDER_WORKFLOW.env] == {"Ref": order_workflow}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_role_touches_only_logs_xray_tables_and_workflow(template: Template, name: str) -> None:
    own_log_group = {
        "Fn::GetAtt": [function_props(template, name)["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]
    }
    own_queue = FUNCTIONS[name].queue_source
    sent_to = FUNCTIONS[name].sends_to
    own_secrets = [{"Ref": logical_ids(template, "Secret")[s]} for s in FUNCTIONS[name].secrets]
    own_buses = [
        {"Fn::GetAtt": [logical_ids(template, "EventBus")[b], "Arn"]} for b in FUNCTIONS[name].publishes_to
    ]
    streamed = FUNCTIONS[name].stream_source is not None
    emails = FUNCTIONS[name].sends_email or FUNCTIONS[name].checks_email_identities
    for statement in function_statements(template, name):
        services = {action.split(":")[0] for action in as_list(statement["Action"])}
        optional = [
            *(["sqs"] if own_queue or streamed or sent_to else []),
            *(["secretsmanager"] if own_secrets else []),
            *(["events"] if own_buses else []),
            *(["ses"] if emails else []),
        ]
        assert services <= {"logs", "xray", "dynamodb", "states", *optional}
        if "ses" in services:
            assert_ses_statement_is_narrow(template, name, statement)
        if "events" in services:
            assert set(as_list(statement["Action"])) == {"events:PutEvents"}
            assert statement["Resource"] in own_buses
        if "sqs" in services:
            assert_sqs_statement_is_its_own(template, name, statement)
        if "secretsmanager" in services:
            assert set(as_list(statement["Action"])) == SECRET_READ_ACTIONS
            assert statement["Resource"] in own_secrets
        if "logs" in services:
            assert statement["Resource"] == own_log_group


def assert_sqs_statement_is_its_own(template: Template, name: str, statement: dict[str, Any]) -> None:
    """The stream's on-failure queue, the queues it sends to, or the queue it consumes: nothing else."""
    spec = FUNCTIONS[name]
    queues = logical_ids(template, "Queue")
    actions = set(as_list(statement["Action"]))
    sending = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    if spec.stream_source is not None:
        # Lambda's stream mapping sends a batch it gave up on to the on-failure queue, as this role.
        assert actions <= sending
        assert statement["Resource"] == {"Fn::GetAtt": [_stream_failure_queue(template, name), "Arn"]}
        return
    consumed = {"Fn::GetAtt": [queues[spec.queue_source.queue], "Arn"]} if spec.queue_source else None
    if statement["Resource"] in [{"Fn::GetAtt": [queues[q], "Arn"]} for q in spec.sends_to]:
        # CDK merges sending and (for a queue it also consumes) receiving into one statement.
        assert sending <= actions
        assert actions <= sending | (QUEUE_CONSUMER_ACTIONS if statement["Resource"] == consumed else set())
        return
    assert consumed is not None
    assert actions <= QUEUE_CONSUMER_ACTIONS
    assert statement["Resource"] == consumed


def assert_ses_statement_is_narrow(template: Template, name: str, statement: dict[str, Any]) -> None:
    """Sending: the account's identities in the region and the function's own templates, nothing else;
    checking identities: Resource '*', which is all IAM offers for it."""
    spec = FUNCTIONS[name]
    ses_actions = {a for a in as_list(statement["Action"]) if a.startswith("ses:")}
    if ses_actions == set(SEND_EMAIL_ACTIONS):
        assert spec.sends_email
        assert [json.dumps(r) for r in as_list(statement["Resource"])] == [
            json.dumps(ses_arn("identity/*")),
            *(json.dumps(ses_arn(f"template/{STACK_NAME}-{t}")) for t in sorted(spec.sends_email)),
        ]
    else:
        assert ses_actions == set(CHECK_IDENTITY_ACTIONS) and spec.checks_email_identities
        assert statement["Resource"] == "*"


def ses_arn(resource: str) -> dict[str, Any]:
    region, account = {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}
    return {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ses:", region, ":", account, f":{resource}"]]
    }


def test_no_iam_statement_has_a_wildcard_action(template: Template) -> None:
    """None of the stack's own roles; CDK's BucketDeployment role (acknowledged) is CDK's to write."""
    cdk_roles = {
        lid for f in cdk_own_functions(template).values() for lid in arn_references(f["Properties"]["Role"])
    }
    documents = [
        p["Properties"]["PolicyDocument"]
        for p in resources_of_type(template, "AWS::IAM::Policy").values()
        if not {r["Ref"] for r in p["Properties"]["Roles"]} & cdk_roles
    ]
    for lid, role in resources_of_type(template, "AWS::IAM::Role").items():
        if lid in cdk_roles:
            continue
        documents += [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
        documents.append(role["Properties"]["AssumeRolePolicyDocument"])
    actions = [a for doc in documents for statement in doc["Statement"] for a in as_list(statement["Action"])]
    assert actions
    assert [action for action in actions if "*" in action] == []


# Tables


def test_every_blueprint_table_and_nothing_else(template: Template) -> None:
    assert sorted(blueprint_names(template, "Table").values()) == sorted(TABLES)
    assert len(resources_of_type(template, "AWS::DynamoDB::Table")) == len(TABLES)


def key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    keys = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    return keys + ([{"AttributeName": sort_key, "KeyType": "RANGE"}] if sort_key else [])


@pytest.mark.parametrize("name", TABLES)
def test_table(template: Template, name: str) -> None:
    spec, resource = TABLES[name], template["Resources"][logical_ids(template, "Table")[name]]
    props = resource["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}  # AWS-managed KMS key
    assert props["KeySchema"] == key_schema(spec.partition_key, spec.sort_key)
    assert all(attribute["AttributeType"] == "S" for attribute in props["AttributeDefinitions"])
    expected_policy = "Retain" if spec.retain_on_delete else "Delete"
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == expected_policy
    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props


@pytest.mark.parametrize("name", TABLES)
def test_table_indexes(template: Template, name: str) -> None:
    props = template["Resources"][logical_ids(template, "Table")[name]]["Properties"]
    expected = [
        {
            "IndexName": index.name,
            "KeySchema": key_schema(index.partition_key, index.sort_key),
            "Projection": index.projection_spec(),
        }
        for index in TABLES[name].indexes
    ]
    assert props.get("GlobalSecondaryIndexes", []) == expected


# Queues


def _stream_failure_queue(template: Template, name: str) -> str:
    mappings = _mappings_of(template, name)
    (queue,) = {
        ref for m in mappings for ref in arn_references(m["DestinationConfig"]["OnFailure"]["Destination"])
    }
    return str(queue)


def _mappings_of(template: Template, name: str) -> list[dict[str, Any]]:
    function_id = logical_ids(template, "Function")[name]
    mappings = resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    return [m["Properties"] for m in mappings if m["Properties"]["FunctionName"]["Ref"] == function_id]


STREAM_FED = [name for name, f in FUNCTIONS.items() if f.stream_source]


def test_every_blueprint_queue_has_a_dead_letter_queue_and_nothing_else(template: Template) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert sorted(blueprint_names(template, "Queue").values()) == sorted(QUEUES)
    # ...and each stream-fed function has its on-failure queue.
    assert len(queues) == 2 * len(QUEUES) + len(STREAM_FED)


@pytest.mark.parametrize("name", QUEUES)
def test_queue(template: Template, name: str) -> None:
    spec, queue_id = QUEUES[name], logical_ids(template, "Queue")[name]
    props = template["Resources"][queue_id]["Properties"]
    assert props["VisibilityTimeout"] == spec.visibility_timeout_seconds
    assert props["MessageRetentionPeriod"] == spec.retention_days * 24 * 3600
    assert props["SqsManagedSseEnabled"] is True
    assert props["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
    (dead_letters_id,) = arn_references(props["RedrivePolicy"]["deadLetterTargetArn"])
    assert template["Resources"][dead_letters_id]["Properties"]["SqsManagedSseEnabled"] is True
    consumers = [f for f in FUNCTIONS.values() if f.queue_source and f.queue_source.queue == name]
    for consumer in consumers:
        timeout = function_props(template, consumer.name)["Timeout"]
        assert spec.visibility_timeout_seconds >= 6 * timeout  # AWS's advice for Lambda consumers


@pytest.mark.parametrize("name", QUEUES)
def test_queue_policy_refuses_plain_http_and_admits_only_its_senders(template: Template, name: str) -> None:
    queue_id = logical_ids(template, "Queue")[name]
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources_of_type(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    statements = [s for statements in policies for s in statements]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    accounts = [s for s in allowed if "AWS" in s["Principal"]]
    assert {json.dumps(s["Principal"], sort_keys=True) for s in accounts} == {
        json.dumps({"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{account}:root"]]}})
        for account in QUEUES[name].sender_accounts
    }
    for statement in accounts:
        assert set(as_list(statement["Action"])) == {"sqs:SendMessage", "sqs:GetQueueAttributes"}
    # A bus rule that feeds the queue may send, and only from that rule.
    rules = logical_ids(template, "Rule")
    feeding = sorted(rules[rule.name] for rule in RULES.values() if rule.queue == name)
    services = [s for s in allowed if "AWS" not in s["Principal"]]
    assert all(s["Principal"] == {"Service": "events.amazonaws.com"} for s in services)
    # CDK's SQS target grants what `grant_send_messages` does: send, read the queue's URL and attributes.
    rule_actions = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    assert all(set(as_list(s["Action"])) == rule_actions for s in services)
    assert (
        sorted(next(arn_references(s["Condition"]["ArnEquals"]["aws:SourceArn"])) for s in services)
        == feeding
    )


def test_queue_fed_functions_report_failed_records_alone(template: Template) -> None:
    mappings = resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    by_function = {m["Properties"]["FunctionName"]["Ref"]: m["Properties"] for m in mappings}
    fed = {name: f for name, f in FUNCTIONS.items() if f.queue_source}
    assert len(by_function) == len(fed) + len(STREAM_FED)
    for name, function in fed.items():
        assert function.queue_source is not None
        props = by_function[logical_ids(template, "Function")[name]]
        assert props["BatchSize"] == function.queue_source.batch_size
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue_id = logical_ids(template, "Queue")[function.queue_source.queue]
        assert props["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_streamed_tables_keep_old_and_new_images_and_nothing_else_streams(template: Template) -> None:
    tables = logical_ids(template, "Table")
    for name, spec in TABLES.items():
        props = template["Resources"][tables[name]]["Properties"]
        expected = {"StreamViewType": "NEW_AND_OLD_IMAGES"} if spec.stream else None
        assert props.get("StreamSpecification") == expected, name


@pytest.mark.parametrize("name", STREAM_FED)
def test_stream_fed_functions_read_each_table_in_order_and_resume_at_the_first_failure(
    template: Template, name: str
) -> None:
    source = FUNCTIONS[name].stream_source
    assert source is not None
    mappings = _mappings_of(template, name)
    tables = logical_ids(template, "Table")
    assert sorted(json.dumps(m["EventSourceArn"]) for m in mappings) == sorted(
        json.dumps({"Fn::GetAtt": [tables[t], "StreamArn"]}) for t in source.tables
    )
    failures = _stream_failure_queue(template, name)
    for props in mappings:
        assert props["StartingPosition"] == "TRIM_HORIZON"
        assert props["BatchSize"] == source.batch_size
        assert props["MaximumRetryAttempts"] == source.retry_attempts
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["ParallelizationFactor"] == 1
        assert props["BisectBatchOnFunctionError"] is False
    assert template["Resources"][failures]["Properties"]["SqsManagedSseEnabled"] is True


def test_every_bus_is_archived_for_replays(template: Template) -> None:
    buses = logical_ids(template, "EventBus")
    assert sorted(buses) == sorted(BUSES)
    archives = list(resources_of_type(template, "AWS::Events::Archive").values())
    assert len(archives) == len(BUSES)
    for name, spec in BUSES.items():
        [archive] = [
            a["Properties"]
            for a in archives
            if a["Properties"]["SourceArn"] == {"Fn::GetAtt": [buses[name], "Arn"]}
        ]
        assert archive["RetentionDays"] == spec.archive_retention_days
        assert archive["EventPattern"] == {"source": ["oms"]}


@pytest.mark.parametrize("name", RULES)
def test_a_bus_rule_copies_its_event_types_from_its_bus_to_its_queue(template: Template, name: str) -> None:
    spec = RULES[name]
    rule = template["Resources"][logical_ids(template, "Rule")[name]]["Properties"]
    assert rule["EventBusName"] == {"Ref": logical_ids(template, "EventBus")[spec.bus]}
    expected_pattern: dict[str, list[str]] = {"source": ["oms"]}
    if spec.event_types:
        expected_pattern["detail-type"] = list(spec.event_types)
    assert rule["EventPattern"] == expected_pattern
    assert rule["State"] == "ENABLED"
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_ids(template, "Queue")[spec.queue], "Arn"]}


def test_every_rule_is_a_blueprint_rule(template: Template) -> None:
    assert sorted(blueprint_names(template, "Rule").values()) == sorted(RULES)
    assert len(resources_of_type(template, "AWS::Events::Rule")) == len(RULES)


# Workflow


def test_every_blueprint_workflow_and_nothing_else(template: Template) -> None:
    assert sorted(blueprint_names(template, "Workflow").values()) == sorted(WORKFLOWS)
    assert len(resources_of_type(template, "AWS::StepFunctions::StateMachine")) == len(WORKFLOWS)


@pytest.mark.parametrize("workflow", WORKFLOWS.values(), ids=list(WORKFLOWS))
def test_state_machine_is_standard_logged_and_traced(template: Template, workflow: Workflow) -> None:
    props = template["Resources"][state_machine_id(template, workflow)]["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    (destination,) = props["LoggingConfiguration"]["Destinations"]
    assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
    assert props["TracingConfiguration"] == {"Enabled": True}


@pytest.mark.parametrize("workflow", WORKFLOWS.values(), ids=list(WORKFLOWS))
def test_state_machine_may_invoke_exactly_its_functions(template: Template, workflow: Workflow) -> None:
    props = template["Resources"][state_machine_id(template, workflow)]["Properties"]
    functions = logical_ids(template, "Function")
    expected = {functions[name] for name in workflow.function_arns.values()}
    statements = role_statements(template, props["RoleArn"])
    invoke = [s for s in statements if "lambda" in {a.split(":")[0] for a in as_list(s["Action"])}]
    assert [as_list(s["Action"]) for s in invoke] == [["lambda:InvokeFunction"]]
    assert set(arn_references(invoke[0]["Resource"])) == expected
    assert all(isinstance(r, dict) for r in as_list(invoke[0]["Resource"])), "no wildcard ARNs"


# API


def test_api_has_exactly_the_blueprint_routes(template: Template) -> None:
    expected = {(route.method, route.path, route.function, route.api_key_required) for route in ROUTES}
    assert template_routes(template) == expected


def test_api_methods_are_lambda_proxy_with_request_validation(template: Template) -> None:
    (validator,) = resources_of_type(template, "AWS::ApiGateway::RequestValidator").values()
    assert validator["Properties"]["ValidateRequestParameters"] is True
    for method in resources_of_type(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        assert props["Integration"]["Type"] == "AWS_PROXY"
        assert props["AuthorizationType"] in {"NONE", "CUSTOM"}  # see test_staff_sign_in.py
        assert "RequestValidatorId" in props


def test_api_stage_traces_and_logs(template: Template) -> None:
    (stage,) = resources_of_type(template, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    assert props["AccessLogSetting"]["DestinationArn"]
    (settings,) = [s for s in props["MethodSettings"] if s["ResourcePath"] == "/*"]
    assert settings["LoggingLevel"] in {"ERROR", "INFO"}
    assert settings["ThrottlingRateLimit"] > 0
    assert resources_of_type(template, "AWS::ApiGateway::Account"), "CloudWatch role for API Gateway"


def test_routes_with_a_throttle_of_their_own_have_it_as_method_settings(template: Template) -> None:
    (stage,) = resources_of_type(template, "AWS::ApiGateway::Stage").values()
    settings = {
        (s["HttpMethod"], s["ResourcePath"]): (s.get("ThrottlingRateLimit"), s.get("ThrottlingBurstLimit"))
        for s in stage["Properties"]["MethodSettings"]
        if s["ResourcePath"] != "/*"
    }
    # The stage's MethodSettings spell a resource path "/" + the path with each "/" escaped as "~1".
    expected = {
        (r.method, "/" + r.path.replace("/", "~1")): (r.throttle.rate_per_second, r.throttle.burst)
        for r in ROUTES
        if r.throttle is not None
    }
    assert settings == expected == {("POST", "/~1track~1lookup"): (5, 10)}
    stage_rate = next(s for s in stage["Properties"]["MethodSettings"] if s["ResourcePath"] == "/*")
    assert all(rate < stage_rate["ThrottlingRateLimit"] for rate, _ in settings.values())


def test_the_tracking_page_and_its_lookup_are_public(template: Template) -> None:
    public = {(m, p) for m, p, _, key in template_routes(template) if not key}
    assert {("GET", "/track"), ("POST", "/track/lookup")} <= public
    assert ("POST", "/orders/{orderId}/tracking-link", "OrdersApi", True) in template_routes(template)


def test_api_key_is_generated_and_throttled_by_a_usage_plan(template: Template) -> None:
    keys = resources_of_type(template, "AWS::ApiGateway::ApiKey")
    generated, console = sorted(keys.values(), key=lambda key: "Value" in key["Properties"])
    assert "Value" not in generated["Properties"]
    # The console's key: its value is the ConsoleApiKey secret's, resolved at deploy time.
    secret = logical_ids(template, "Secret")["ConsoleApiKey"]
    assert console["Properties"]["Value"] == {
        "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret}, ":SecretString:::}}"]]
    }
    (plan,) = resources_of_type(template, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"]["RateLimit"] > 0
    assert plan["Properties"]["ApiStages"]
    plan_keys = {
        k["Properties"]["KeyId"]["Ref"]
        for k in resources_of_type(template, "AWS::ApiGateway::UsagePlanKey").values()
    }
    assert plan_keys == set(keys)


def test_gateway_errors_use_the_oms_error_format(template: Template) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in resources_of_type(template, "AWS::ApiGateway::GatewayResponse").values()
    }
    statuses = {kind: props.get("StatusCode") for kind, props in responses.items()}
    assert {
        "UNAUTHORIZED": "401",
        "INVALID_API_KEY": "403",
        "THROTTLED": "429",
        "REQUEST_TOO_LARGE": "413",
    }.items() <= statuses.items()
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= responses.keys()
    for props in responses.values():
        assert props["ResponseParameters"] == {"gatewayresponse.header.Content-Type": "'application/json'"}
        body = props["ResponseTemplates"]["application/json"]
        rendered = json.loads(body.replace("$context.error.messageString", '"Forbidden"'))
        assert rendered == {
            "error": {"code": rendered["error"]["code"], "message": "Forbidden", "details": None}
        }
        assert rendered["error"]["code"].isupper()


# Secrets


READERS = {
    "TrackingLinkKey": {"OrdersApi", "TrackingPage", "CustomerNotifier"},
    "ConsoleApiKey": {"ApiAuthorizer"},
}


def test_every_blueprint_secret_is_generated_and_read_only_by_its_functions(template: Template) -> None:
    secrets = resources_of_type(template, "AWS::SecretsManager::Secret")
    assert sorted(blueprint_names(template, "Secret").values()) == sorted(SECRETS)
    assert sorted(SECRETS) == ["ConsoleApiKey", "TrackingLinkKey"]
    assert len(secrets) == len(SECRETS)
    for logical_id, name in blueprint_names(template, "Secret").items():
        props = secrets[logical_id]["Properties"]
        assert "SecretString" not in props  # generated by Secrets Manager, in no template
        assert props["GenerateSecretString"]["PasswordLength"] >= 32
        readers = {
            function
            for function in FUNCTIONS
            for statement in function_statements(template, function)
            if statement["Resource"] == {"Ref": logical_id}
        }
        assert readers == {f.name for f in FUNCTIONS.values() if name in f.secrets} == READERS[name]
    every_statement = [
        statement
        for policy in resources_of_type(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    secret_statements = [
        s for s in every_statement if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
    ]
    assert len(secret_statements) == sum(len(readers) for readers in READERS.values())


# Customer e-mails


def tracking_page_url(template: Template) -> Any:
    """The customer tracking page's URL, `<the stage's invoke URL>/track`, as CloudFormation joins it."""
    (api,) = resources_of_type(template, "AWS::ApiGateway::RestApi")
    (stage,) = resources_of_type(template, "AWS::ApiGateway::Stage")
    return {
        "Fn::Join": [
            "",
            [
                "https://",
                {"Ref": api},
                ".execute-api.",
                {"Ref": "AWS::Region"},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/",
                {"Ref": stage},
                "/track",
            ],
        ]
    }


def test_every_blueprint_email_template_is_an_ses_template_named_after_the_stack(template: Template) -> None:
    templates = resources_of_type(template, "AWS::SES::Template")
    names = blueprint_names(template, "EmailTemplate")
    assert sorted(names.values()) == sorted(EMAIL_TEMPLATES) and len(templates) == len(EMAIL_TEMPLATES)
    for logical_id, name in names.items():
        spec = EMAIL_TEMPLATES[name]
        assert templates[logical_id]["Properties"]["Template"] == {
            "TemplateName": f"{STACK_NAME}-{name}",
            "SubjectPart": spec.subject(),
            "HtmlPart": spec.html(),
            "TextPart": spec.text(),
        }


def test_only_the_notifier_may_send_email_and_only_the_channels_api_check_senders(template: Template) -> None:
    granted: dict[str, set[str]] = defaultdict(set)
    for name in FUNCTIONS:
        for statement in function_statements(template, name):
            granted[name] |= {a for a in as_list(statement["Action"]) if a.startswith("ses:")}
    assert {name: actions for name, actions in granted.items() if actions} == {
        "CustomerNotifier": set(SEND_EMAIL_ACTIONS),
        "ChannelsApi": set(CHECK_IDENTITY_ACTIONS),
    }


def test_the_customer_email_rule_copies_exactly_its_event_types_to_the_notifiers_queue(
    template: Template,
) -> None:
    # Each rule's pattern and target: test_a_bus_rule_copies_its_event_types_from_its_bus_to_its_queue.
    rule = RULES["CustomerEmailEvents"]
    assert rule.queue == "CustomerNotifications"
    assert set(rule.event_types) == {
        "order.status_changed",
        "fulfillment.shipped",
        "fulfillment.delivered",
        "return.refunded",
    }
    consumers = [f.name for f in FUNCTIONS.values() if f.queue_source and f.queue_source.queue == rule.queue]
    assert consumers == ["CustomerNotifier"]


def test_the_notifier_learns_the_tracking_pages_url_from_the_api(template: Template) -> None:
    variables = function_props(template, "CustomerNotifier")["Environment"]["Variables"]
    assert variables[TRACKING_PAGE_URL_ENV] == tracking_page_url(template)
    linking = {name for name, f in FUNCTIONS.items() if f.links_to_tracking_page}
    assert linking == {"CustomerNotifier"}
    assert not linking & {route.function for route in ROUTES}  # an API function would be a cycle


# Stack


def test_outputs(template: Template) -> None:
    expected = (
        {"ApiUrl", "ApiKeyId", "ConsoleUrl", "StaffUserPoolId", "StaffSignInUrl"}
        | {f"{name}Arn" for name in WORKFLOWS}
        | {f"{name}TableName" for name in TABLES}
        | {f"{name}QueueArn" for name, queue in QUEUES.items() if queue.sender_accounts}
        | {f"{name}DeadLetterQueueUrl" for name in QUEUES}
    )
    assert expected <= template["Outputs"].keys()


def test_synth_needs_no_lookup(synthesized: Any) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert "missing" not in manifest, "a context lookup would need AWS credentials"
