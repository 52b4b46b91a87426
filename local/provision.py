"""Creates on moto what the blueprint describes: tables, functions and the order workflow.

Everything comes from `blueprint`; nothing here lists a table, a function or a route by name.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from blueprint import (
    BUSES,
    COMMON_ENVIRONMENT,
    EMAIL_TEMPLATES,
    FUNCTIONS,
    ORDER_WORKFLOW,
    QUEUES,
    RULES,
    SECRETS,
    TABLES,
    TRACKING_PAGE_URL_ENV,
    USER_POOLS,
    WORKFLOWS,
    BusRule,
    EmailTemplate,
    EventBus,
    Function,
    Queue,
    Secret,
    Table,
    UserPool,
    Workflow,
)
from shared.models.events import SOURCE as EVENT_SOURCE

LAMBDA_RUNTIME = "python3.13"
# Where the customer tracking page is when no gateway serves the API on a socket (in-process tests):
# what the tracking-link route answers for a request without a Host.
DEFAULT_TRACKING_PAGE_URL = "http://localhost/track"
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")

_ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
_STUB_SOURCE = (
    "# Local stub: the local runtime runs the real handler in-process (see local/invoker.py).\n"
    "def lambda_handler(event, context):\n"
    "    raise NotImplementedError('the local runtime invokes handlers in-process')\n"
)


@dataclass(frozen=True)
class Naming:
    """Physical names of the local resources, e.g. `oms-Orders`, `oms-Intake`."""

    prefix: str = "oms"

    def table(self, table: Table) -> str:
        return f"{self.prefix}-{table.name}"

    def function(self, function: Function) -> str:
        return f"{self.prefix}-{function.name}"

    def state_machine(self, workflow: Workflow) -> str:
        return f"{self.prefix}-{workflow.name}"

    def queue(self, queue: Queue) -> str:
        return f"{self.prefix}-{queue.name}"

    def dead_letter_queue(self, queue: Queue) -> str:
        return f"{self.prefix}-{queue.name}-dlq"

    def role(self) -> str:
        return f"{self.prefix}-local-execution"

    def user_pool(self, pool: UserPool) -> str:
        return f"{self.prefix}-{pool.name}"

    def secret(self, secret: Secret) -> str:
        return f"{self.prefix}-{secret.name}"

    def bus(self, bus: EventBus) -> str:
        return f"{self.prefix}-{bus.name}"

    def stream_failures(self, function: Function) -> str:
        return f"{self.prefix}-{function.name}-stream-failures"

    def event_log(self, bus: EventBus) -> str:
        """The local runtime's own subscriber to a bus: what it prints as its event log."""
        return f"{self.prefix}-{bus.name}-local-log"

    def email_template(self, template: EmailTemplate) -> str:
        return f"{self.prefix}-{template.name}"


DEFAULT_NAMING = Naming()


@dataclass(frozen=True)
class LocalUserPool:
    """A user pool on moto's Cognito and its console app client; `issuer` is what its tokens say."""

    pool_id: str
    client_id: str
    issuer: str


@dataclass(frozen=True)
class Deployment:
    """What `provision` created; keys are blueprint names."""

    table_names: dict[str, str]
    function_names: dict[str, str]
    function_arns: dict[str, str]
    state_machine_arns: dict[str, str]
    # The exact ASL text each state machine was created with (placeholders substituted).
    definitions: dict[str, str]
    # The union of every handler's environment (values never conflict between functions).
    environment: dict[str, str]
    queue_urls: dict[str, str]
    dead_letter_queue_urls: dict[str, str]
    # Blueprint secret name -> the local secret's name (what its `env` carries to handlers).
    secret_names: dict[str, str]
    # Blueprint table name -> its stream's ARN, for the streamed tables.
    stream_arns: dict[str, str] = field(default_factory=dict)
    # Blueprint bus name -> its name; function name -> its stream-failure queue URL.
    bus_names: dict[str, str] = field(default_factory=dict)
    stream_failure_queue_urls: dict[str, str] = field(default_factory=dict)
    # Blueprint bus name -> the URL of the queue a rule copies every event of the bus to (the event log).
    event_log_queue_urls: dict[str, str] = field(default_factory=dict)
    # Blueprint e-mail template name -> the SES template's name; where the customer tracking page is.
    email_template_names: dict[str, str] = field(default_factory=dict)
    tracking_page_url: str = DEFAULT_TRACKING_PAGE_URL
    # Blueprint user pool name -> the pool moto made for it (its staff sign in with moto's tokens).
    user_pools: dict[str, LocalUserPool] = field(default_factory=dict)

    @property
    def order_workflow_arn(self) -> str:
        return self.state_machine_arns[ORDER_WORKFLOW.name]

    @property
    def order_workflow_definition(self) -> str:
        return self.definitions[ORDER_WORKFLOW.name]


class EnvironmentConflictError(ValueError):
    """Two functions need different values for one variable; in-process they share os.environ."""


def render_definition(workflow: Workflow, function_arns: Mapping[str, str]) -> str:
    """The ASL with each `${Placeholder}` replaced by its function's ARN, as CDK's
    `definition_substitutions` does: textual substitution inside the JSON text."""
    text = workflow.definition_text()
    wanted = set(PLACEHOLDER.findall(text))
    if wanted != set(workflow.function_arns):
        raise ValueError(
            f"{workflow.name}: ASL placeholders {sorted(wanted)} != {sorted(workflow.function_arns)}"
        )
    for placeholder, function_name in workflow.function_arns.items():
        text = text.replace("${" + placeholder + "}", function_arns[function_name])
    json.loads(text)  # an ARN must not break the JSON
    return text


def merge_environment(into: dict[str, str], values: Mapping[str, str], owner: str) -> None:
    for key, value in values.items():
        if into.setdefault(key, value) != value:
            raise EnvironmentConflictError(f"{owner}: {key}={value!r} conflicts with {into[key]!r}")


def function_environment(function: Function, resources: Mapping[str, str]) -> dict[str, str]:
    """COMMON_ENVIRONMENT + the function's settings + the location of what it may touch."""
    environment = dict(COMMON_ENVIRONMENT)
    merge_environment(environment, function.settings, function.name)
    merge_environment(
        environment, {key: resources[key] for key in function.environment_keys()}, function.name
    )
    return environment


def handler_environment(resources: Mapping[str, str]) -> dict[str, str]:
    environment: dict[str, str] = {}
    for function in FUNCTIONS.values():
        merge_environment(environment, function_environment(function, resources), function.name)
    return environment


def resource_locations(
    table_names: Mapping[str, str],
    state_machine_arns: Mapping[str, str],
    secret_names: Mapping[str, str] | None = None,
    bus_names: Mapping[str, str] | None = None,
    queue_urls: Mapping[str, str] | None = None,
    *,
    email_template_names: Mapping[str, str] | None = None,
    tracking_page_url: str = DEFAULT_TRACKING_PAGE_URL,
) -> dict[str, str]:
    """Environment variable -> physical name or ARN, for every resource a function may be given."""
    tables = {TABLES[name].env: physical for name, physical in table_names.items()}
    secrets_ = {SECRETS[name].env: physical for name, physical in (secret_names or {}).items()}
    buses = {BUSES[name].env: physical for name, physical in (bus_names or {}).items()}
    queues = {env: url for name, url in (queue_urls or {}).items() if (env := QUEUES[name].env)}
    workflows = {WORKFLOWS[name].env: arn for name, arn in state_machine_arns.items()}
    emails = {EMAIL_TEMPLATES[name].env: physical for name, physical in (email_template_names or {}).items()}
    pages = {TRACKING_PAGE_URL_ENV: tracking_page_url}
    # No user pool locally: the API key signs in (the authorizer refuses every token).
    pools = {key: "" for pool in USER_POOLS.values() for key in pool.environment_keys()}
    return tables | workflows | secrets_ | buses | queues | emails | pages | pools


def provision(
    session: boto3.Session,
    naming: Naming = DEFAULT_NAMING,
    tracking_page_url: str = DEFAULT_TRACKING_PAGE_URL,
) -> Deployment:
    """Create every blueprint resource through `session`'s clients (moto in-process or on a port).
    `tracking_page_url`: where the gateway serves the customer tracking page (`<API URL>/track`)."""
    dynamodb = session.client("dynamodb")
    table_names = {table.name: _create_table(dynamodb, table, naming) for table in TABLES.values()}
    sqs = session.client("sqs")
    queues = {queue.name: _create_queue(sqs, queue, naming) for queue in QUEUES.values()}
    # Functions need the state machine ARN and the state machine needs the function ARNs: like
    # CloudFormation, know the state machine ARN from its name before creating it.
    state_machine_arns = _state_machine_arns(session, naming)
    secretsmanager = session.client("secretsmanager")
    secret_names = {
        secret.name: _create_secret(secretsmanager, secret, naming) for secret in SECRETS.values()
    }
    events = session.client("events")
    bus_names = {bus.name: _create_bus(events, bus, naming) for bus in BUSES.values()}
    event_logs = {bus.name: _create_event_log(events, sqs, bus, naming) for bus in BUSES.values()}
    for rule in RULES.values():
        _create_rule(events, sqs, rule, naming, queue_url=queues[rule.queue][0])
    stream_failures = {
        function.name: sqs.create_queue(QueueName=naming.stream_failures(function))["QueueUrl"]
        for function in FUNCTIONS.values()
        if function.stream_source is not None
    }
    ses = session.client("ses")
    email_templates = {t.name: _create_email_template(ses, t, naming) for t in EMAIL_TEMPLATES.values()}
    resources = resource_locations(
        table_names,
        state_machine_arns,
        secret_names,
        bus_names,
        {name: urls[0] for name, urls in queues.items()},
        email_template_names=email_templates,
        tracking_page_url=tracking_page_url,
    )
    cognito = session.client("cognito-idp")
    user_pools = {
        pool.name: _create_user_pool(cognito, pool, naming, session.region_name)
        for pool in USER_POOLS.values()
    }
    role_arn = _create_role(session.client("iam"), naming)
    lambda_client = session.client("lambda")
    function_arns = {
        function.name: _create_function(lambda_client, function, naming, role_arn, resources)
        for function in FUNCTIONS.values()
    }
    definitions = {name: render_definition(workflow, function_arns) for name, workflow in WORKFLOWS.items()}
    _create_state_machines(session.client("stepfunctions"), naming, role_arn, definitions, state_machine_arns)
    return Deployment(
        table_names=table_names,
        function_names={function.name: naming.function(function) for function in FUNCTIONS.values()},
        function_arns=function_arns,
        state_machine_arns=state_machine_arns,
        definitions=definitions,
        environment=handler_environment(resources),
        queue_urls={name: urls[0] for name, urls in queues.items()},
        dead_letter_queue_urls={name: urls[1] for name, urls in queues.items()},
        secret_names=secret_names,
        stream_arns={
            table.name: dynamodb.describe_table(TableName=table_names[table.name])["Table"]["LatestStreamArn"]
            for table in TABLES.values()
            if table.stream
        },
        bus_names=bus_names,
        stream_failure_queue_urls=stream_failures,
        event_log_queue_urls=event_logs,
        email_template_names=email_templates,
        tracking_page_url=tracking_page_url,
        user_pools=user_pools,
    )


def _create_user_pool(cognito: Any, pool: UserPool, naming: Naming, region: str) -> LocalUserPool:
    """The pool on moto's Cognito, as the stack makes it but without MFA (moto's admin sign-in would ask
    for the second factor), and a console client that may also sign in by password (the AWS CLI's
    `admin-initiate-auth`: moto has no hosted UI)."""
    created = cognito.create_user_pool(
        PoolName=naming.user_pool(pool),
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        UsernameConfiguration={"CaseSensitive": False},
        MfaConfiguration="OFF",
    )["UserPool"]
    client = cognito.create_user_pool_client(
        UserPoolId=created["Id"],
        ClientName="Console",
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
        SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{created['Id']}"
    return LocalUserPool(pool_id=created["Id"], client_id=client["ClientId"], issuer=issuer)


def _create_email_template(ses: Any, template: EmailTemplate, naming: Naming) -> str:
    """The SES template, from the same files as the stack's `AWS::SES::Template`."""
    name = naming.email_template(template)
    ses.create_template(
        Template={
            "TemplateName": name,
            "SubjectPart": template.subject(),
            "HtmlPart": template.html(),
            "TextPart": template.text(),
        }
    )
    return name


def _create_bus(events: Any, bus: EventBus, naming: Naming) -> str:
    """The bus and its archive of every OMS event, as the stack makes them."""
    name = naming.bus(bus)
    arn = events.create_event_bus(Name=name, Description=bus.description[:512])["EventBusArn"]
    events.create_archive(
        ArchiveName=f"{name}-archive",
        EventSourceArn=arn,
        EventPattern=json.dumps({"source": [EVENT_SOURCE]}),
        RetentionDays=bus.archive_retention_days,
    )
    return name


def _create_event_log(events: Any, sqs: Any, bus: EventBus, naming: Naming) -> str:
    """A queue a rule copies every event of the bus to: the local runtime prints it as its event log
    (anyone may read such a queue with the AWS CLI; this one the runtime empties as it prints)."""
    url: str = sqs.create_queue(QueueName=naming.event_log(bus))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"{naming.bus(bus)}-local-log"
    events.put_rule(
        Name=rule, EventBusName=naming.bus(bus), EventPattern=json.dumps({"source": [EVENT_SOURCE]})
    )
    events.put_targets(Rule=rule, EventBusName=naming.bus(bus), Targets=[{"Id": "local-log", "Arn": arn}])
    return url


def _create_rule(events: Any, sqs: Any, rule: BusRule, naming: Naming, queue_url: str) -> None:
    """The rule copying the bus's OMS events of the rule's types to its queue, as the stack makes it."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern: dict[str, list[str]] = {"source": [EVENT_SOURCE]}
    if rule.event_types:
        pattern["detail-type"] = list(rule.event_types)
    bus_name, rule_name = naming.bus(BUSES[rule.bus]), f"{naming.prefix}-{rule.name}"
    events.put_rule(Name=rule_name, EventBusName=bus_name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule_name, EventBusName=bus_name, Targets=[{"Id": rule.queue, "Arn": arn}])


def _create_secret(secretsmanager: Any, secret: Secret, naming: Naming) -> str:
    """The secret with a random value, as the stack generates one (64 letters and digits)."""
    name = naming.secret(secret)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    value = "".join(secrets.choice(alphabet) for _ in range(64))
    secretsmanager.create_secret(Name=name, Description=secret.description, SecretString=value)
    return name


def _create_queue(sqs: Any, queue: Queue, naming: Naming) -> tuple[str, str]:
    """The queue and its dead-letter queue, as the stack makes them; returns both URLs."""
    retention = str(queue.retention_days * 24 * 3600)
    dead_letters = sqs.create_queue(
        QueueName=naming.dead_letter_queue(queue), Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
    )["QueueUrl"]
    dead_letters_arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    redrive = {"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": str(queue.max_receive_count)}
    url: str = sqs.create_queue(
        QueueName=naming.queue(queue),
        Attributes={
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "MessageRetentionPeriod": retention,
            "RedrivePolicy": json.dumps(redrive),
        },
    )["QueueUrl"]
    return url, dead_letters


def _state_machine_arns(session: boto3.Session, naming: Naming) -> dict[str, str]:
    account = session.client("sts").get_caller_identity()["Account"]
    prefix = f"arn:aws:states:{session.region_name}:{account}:stateMachine:"
    return {name: prefix + naming.state_machine(workflow) for name, workflow in WORKFLOWS.items()}


def _create_table(dynamodb: Any, table: Table, naming: Naming) -> str:
    name = naming.table(table)
    key_attributes = [table.partition_key, table.sort_key]
    for index in table.indexes:
        key_attributes += [index.partition_key, index.sort_key]
    arguments: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _key_schema(table.partition_key, table.sort_key),
        # Key attributes are strings throughout the blueprint.
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": "S"}
            for attribute in dict.fromkeys(key_attributes)
            if attribute is not None
        ],
    }
    if table.indexes:
        arguments["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema(index.partition_key, index.sort_key),
                "Projection": index.projection_spec(),
            }
            for index in table.indexes
        ]
    if table.stream:
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    dynamodb.create_table(**arguments)
    if table.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
        )
    return name


def _key_schema(partition_key: str, sort_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition_key, "KeyType": "HASH"}]
    if sort_key:
        schema.append({"AttributeName": sort_key, "KeyType": "RANGE"})
    return schema


def _create_role(iam: Any, naming: Naming) -> str:
    role = iam.create_role(RoleName=naming.role(), AssumeRolePolicyDocument=json.dumps(_ASSUME_ROLE_POLICY))
    arn: str = role["Role"]["Arn"]
    return arn


def _stub_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("local_stub.py", _STUB_SOURCE)
    return buffer.getvalue()


def _create_function(
    lambda_client: Any, function: Function, naming: Naming, role_arn: str, resources: Mapping[str, str]
) -> str:
    created = lambda_client.create_function(
        FunctionName=naming.function(function),
        Runtime=LAMBDA_RUNTIME,
        Role=role_arn,
        Handler=function.handler,
        Code={"ZipFile": _stub_zip()},
        Description=function.description,
        Timeout=function.timeout_seconds,
        MemorySize=function.memory_mb,
        Environment={"Variables": function_environment(function, resources)},
    )
    arn: str = created["FunctionArn"]
    return arn


def _create_state_machines(
    sfn: Any, naming: Naming, role_arn: str, definitions: Mapping[str, str], expected_arns: Mapping[str, str]
) -> None:
    for name, workflow in WORKFLOWS.items():
        created = sfn.create_state_machine(
            name=naming.state_machine(workflow),
            definition=definitions[name],
            roleArn=role_arn,
            type="STANDARD",
        )["stateMachineArn"]
        if created != expected_arns[name]:
            raise RuntimeError(f"{name}: expected ARN {expected_arns[name]}, moto created {created}")
