"""Lambda functions from `blueprint.FUNCTIONS`: one role each, granted exactly what the blueprint lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

from aws_cdk import ArnFormat, Duration, IgnoreMode, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprint import (
    BUSES,
    COMMON_ENVIRONMENT,
    EMAIL_TEMPLATES,
    FUNCTIONS,
    QUEUES,
    ROOT,
    SECRETS,
    TABLES,
    TRACKING_PAGE_URL_ENV,
    USER_POOLS,
    WORKFLOWS,
    Access,
    api_functions,
)
from blueprint import Function as FunctionSpec

from . import acknowledge, tag_with_blueprint_name

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_VERSION = "3.37.0"
# Public parameter published by Powertools for AWS Lambda in every commercial region; resolved by
# CloudFormation at deploy time, so synth needs neither credentials nor a context lookup.
POWERTOOLS_LAYER_PARAMETER = (
    f"/aws/service/powertools/python/{ARCHITECTURE.name}/{RUNTIME.name}/{POWERTOOLS_VERSION}"
)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# The code asset is the repository root minus everything but these folders (git ignore syntax).
ASSET_FOLDERS = ("functions", "shared")
ASSET_EXCLUDE = ["/*", *(f"!/{folder}/" for folder in ASSET_FOLDERS), "__pycache__/", "*.py[cod]"]

TABLE_GRANTS: dict[Access, Callable[[dynamodb.Table, iam.IGrantable], iam.Grant]] = {
    "read": dynamodb.Table.grant_read_data,
    "write": dynamodb.Table.grant_read_write_data,
}
TASK_TOKEN_ACTIONS = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]
# "observe": the definition (on the state machine), an execution's status and history (on its executions).
OBSERVE_STATE_MACHINE_ACTIONS = ["states:DescribeStateMachine"]
OBSERVE_EXECUTION_ACTIONS = ["states:DescribeExecution", "states:GetExecutionHistory"]
EXECUTIONS_REASON = (
    "Observing a workflow reads any of its executions (one per order, named by the order id): the "
    "resource is the state machine's own executions, '<name>:*', and nothing else."
)

XRAY_REASON = (
    "xray:PutTraceSegments and xray:PutTelemetryRecords (added by Tracing.ACTIVE) support no "
    "resource-level permissions, so IAM requires Resource '*'."
)
TASK_TOKEN_REASON = (
    "states:SendTaskSuccess/SendTaskFailure/SendTaskHeartbeat act on a task token, not on an ARN: "
    "IAM offers no resource-level permissions for them, so Resource '*' is required. " + XRAY_REASON
)
STREAM_FAILURES_REASON = (
    "This queue is the on-failure destination of a stream event-source mapping: it receives the "
    "description of a batch given up after its retries (to redrive by hand), and is itself the last stop."
)
# Customer e-mails (ses:*): senders are set per channel at run time, so the identity is any of the
# account's in the region; the templates are the stack's own.
SEND_EMAIL_ACTIONS = ["ses:SendTemplatedEmail"]
CHECK_IDENTITY_ACTIONS = ["ses:GetIdentityVerificationAttributes"]
EMAIL_IDENTITY_REASON = (
    "ses:SendTemplatedEmail is granted on the stack's own templates and on the account's SES identities "
    "in this region (identity/*): each channel sets its own sender at run time (checked verified when "
    "set), so no identity ARN is known at deploy time; SES itself refuses any unverified sender."
)
CHECK_IDENTITY_REASON = (
    "ses:GetIdentityVerificationAttributes supports no resource-level permissions, so IAM requires "
    "Resource '*'; it only reads whether an address or domain is verified. "
)
INDEX_REASON = (
    "grant_read_data/grant_read_write_data add '<table ARN>/index/*' so the function can query "
    "the table's own global secondary indexes; the wildcard never reaches beyond this one table."
)


class Functions(Construct):
    """Every blueprint function, its log group and its least-privilege role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: Mapping[str, dynamodb.Table],
        secrets: Mapping[str, secretsmanager.ISecret] | None = None,
        email_templates: Mapping[str, str] | None = None,
    ) -> None:
        """`email_templates`: blueprint template name -> its SES template's name."""
        super().__init__(scope, construct_id)
        self._tables = tables
        self._secrets = dict(secrets or {})
        self._email_templates = dict(email_templates or {})
        self._resource_env = {TABLES[name].env: table.table_name for name, table in tables.items()}
        self._resource_env |= {SECRETS[name].env: secret.secret_arn for name, secret in self._secrets.items()}
        self._resource_env |= {
            EMAIL_TEMPLATES[name].env: ses_name for name, ses_name in self._email_templates.items()
        }
        code = lambda_.Code.from_asset(str(ROOT), exclude=ASSET_EXCLUDE, ignore_mode=IgnoreMode.GIT)
        layer = lambda_.LayerVersion.from_layer_version_arn(
            self,
            "PowertoolsLayer",
            ssm.StringParameter.value_for_string_parameter(self, POWERTOOLS_LAYER_PARAMETER),
        )
        self.by_name: dict[str, lambda_.Function] = {
            spec.name: self._function(spec, code, layer) for spec in FUNCTIONS.values()
        }

    def _function(
        self, spec: FunctionSpec, code: lambda_.Code, layer: lambda_.ILayerVersion
    ) -> lambda_.Function:
        role = iam.Role(
            self,
            f"{spec.name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Runs the {spec.name} function: {spec.description}",
        )
        log_group = logs.LogGroup(self, f"{spec.name}Logs", retention=LOG_RETENTION)
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            spec.name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=code,
            handler=spec.handler,
            layers=[layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            role=role,
            environment={**COMMON_ENVIRONMENT, **spec.settings, **self._known_environment(spec)},
        )
        self._grant(spec, function, role)
        self._acknowledge_wildcard_resources(spec, role)
        tag_with_blueprint_name(function, "Function", spec.name)
        return function

    def _known_environment(self, spec: FunctionSpec) -> dict[str, str]:
        """Values of `spec.environment_keys()` known now; workflow ARNs come later."""
        keys = spec.environment_keys()
        later = {w.env for w in WORKFLOWS.values()} | {b.env for b in BUSES.values()}
        later |= {q.env for q in QUEUES.values() if q.env}
        later.add(TRACKING_PAGE_URL_ENV)
        later |= {key for pool in USER_POOLS.values() for key in pool.environment_keys()}
        unknown = set(keys) - self._resource_env.keys() - later
        if unknown:
            raise ValueError(f"{spec.name}: no value for environment keys {sorted(unknown)}")
        return {key: self._resource_env[key] for key in keys if key in self._resource_env}

    def _grant(self, spec: FunctionSpec, function: lambda_.Function, role: iam.Role) -> None:
        for table_name, access in spec.tables.items():
            TABLE_GRANTS[access](self._tables[table_name], function)
        for secret_name in spec.secrets:
            self._secrets[secret_name].grant_read(function)
        if spec.workflows_allowed_to("callback"):
            # Task-token calls name no resource: IAM allows them only on "*".
            role.add_to_policy(iam.PolicyStatement(actions=TASK_TOKEN_ACTIONS, resources=["*"]))
        if spec.sends_email:
            role.add_to_policy(
                iam.PolicyStatement(actions=SEND_EMAIL_ACTIONS, resources=self._email_resources(spec))
            )
        if spec.checks_email_identities:
            role.add_to_policy(iam.PolicyStatement(actions=CHECK_IDENTITY_ACTIONS, resources=["*"]))

    def _email_resources(self, spec: FunctionSpec) -> list[str]:
        """The account's SES identities in the region, and exactly the templates the function sends."""
        stack = Stack.of(self)
        identities = stack.format_arn(service="ses", resource="identity", resource_name="*")
        templates = [
            stack.format_arn(service="ses", resource="template", resource_name=self._email_templates[name])
            for name in spec.sends_email
        ]
        return [identities, *templates]

    def _acknowledge_wildcard_resources(self, spec: FunctionSpec, role: iam.Role) -> None:
        reason = TASK_TOKEN_REASON if spec.workflows_allowed_to("callback") else XRAY_REASON
        if spec.checks_email_identities:
            reason = CHECK_IDENTITY_REASON + reason
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]", reason)
        if spec.sends_email:
            acknowledge(role, EMAIL_IDENTITY_FINDING, EMAIL_IDENTITY_REASON)
        for table_name in spec.tables:
            if TABLES[table_name].indexes:
                acknowledge(role, _index_finding(self._tables[table_name]), INDEX_REASON)

    def connect_queues(self, queues: Mapping[str, sqs.Queue]) -> None:
        """Invoke each queue-fed function with batches from its queue (the mapping grants receive);
        give each sender the URLs of its queues and the right to send to them only."""
        for spec in FUNCTIONS.values():
            for name in spec.sends_to:
                function, queue = self.by_name[spec.name], queues[name]
                function.add_environment(cast(str, QUEUES[name].env), queue.queue_url)
                queue.grant_send_messages(function)
            if spec.queue_source is not None:
                self.by_name[spec.name].add_event_source(
                    event_sources.SqsEventSource(
                        queues[spec.queue_source.queue],
                        batch_size=spec.queue_source.batch_size,
                        report_batch_item_failures=True,
                    )
                )

    def connect_streams(self) -> dict[str, sqs.Queue]:
        """Invoke each stream-fed function with each of its tables' stream records, per shard in order
        (parallelization 1), resuming from the first failure; a batch still failing after the retries is
        described on the function's stream-failure queue (returned by function name)."""
        failure_queues: dict[str, sqs.Queue] = {}
        for spec in FUNCTIONS.values():
            source = spec.stream_source
            if source is None:
                continue
            failures = sqs.Queue(
                self,
                f"{spec.name}StreamFailures",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(14),
            )
            acknowledge(failures, "AwsSolutions-SQS3", STREAM_FAILURES_REASON)
            for table_name in source.tables:
                self.by_name[spec.name].add_event_source(
                    event_sources.DynamoEventSource(
                        self._tables[table_name],
                        starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                        batch_size=source.batch_size,
                        retry_attempts=source.retry_attempts,
                        report_batch_item_failures=True,
                        bisect_batch_on_error=False,
                        parallelization_factor=1,
                        on_failure=event_sources.SqsDlq(failures),
                    )
                )
            failure_queues[spec.name] = failures
        return failure_queues

    def connect_buses(self, buses: Mapping[str, events.EventBus]) -> None:
        """Give each publishing function its buses' names and the right to put events on them only."""
        for spec in FUNCTIONS.values():
            for name in spec.publishes_to:
                function, bus = self.by_name[spec.name], buses[name]
                function.add_environment(BUSES[name].env, bus.event_bus_name)
                bus.grant_put_events_to(function)

    def connect_tracking_page(self, rest_api: apigw.RestApi) -> None:
        """Give each function that links to the customer tracking page the page's URL. Only functions
        outside the API may (the API depends on its functions: an API function would make a cycle)."""
        routed = {function.name for function in api_functions()}
        for spec in FUNCTIONS.values():
            if spec.links_to_tracking_page:
                if spec.name in routed:
                    raise ValueError(
                        f"{spec.name} serves routes: the page's URL in its environment is a cycle"
                    )
                self.by_name[spec.name].add_environment(
                    TRACKING_PAGE_URL_ENV, rest_api.url_for_path("/track")
                )

    def connect_user_pools(self, environments: Mapping[str, Mapping[str, str]]) -> None:
        """Give each function that verifies a pool's tokens the pool's issuer, JWKS URL and client id."""
        for spec in FUNCTIONS.values():
            for name in spec.verifies_tokens_of:
                for key, value in environments[name].items():
                    self.by_name[spec.name].add_environment(key, value)

    def connect_workflows(self, state_machines: Mapping[str, sfn.StateMachine]) -> None:
        """Give each function the ARN of every workflow it may start or observe, and the right to
        start it, or to read its definition and its executions' status and history."""
        for spec in FUNCTIONS.values():
            function = self.by_name[spec.name]
            for name in spec.workflows_known():
                function.add_environment(WORKFLOWS[name].env, state_machines[name].state_machine_arn)
            for name in spec.workflows_allowed_to("start"):
                state_machines[name].grant_start_execution(function)
            for name in spec.workflows_allowed_to("observe"):
                self._grant_observe(function, state_machines[name])

    def _grant_observe(self, function: lambda_.Function, state_machine: sfn.StateMachine) -> None:
        role = cast(iam.Role, function.role)
        executions = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine.state_machine_name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=OBSERVE_STATE_MACHINE_ACTIONS, resources=[state_machine.state_machine_arn]
            )
        )
        role.add_to_policy(iam.PolicyStatement(actions=OBSERVE_EXECUTION_ACTIONS, resources=[executions]))
        acknowledge(role, _executions_finding(state_machine), EXECUTIONS_REASON)


EMAIL_IDENTITY_FINDING = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]"
)


def _executions_finding(state_machine: sfn.StateMachine) -> str:
    """The cdk-nag finding for `arn:...:execution:<state machine name>:*`."""
    stack = Stack.of(state_machine)
    logical_id = stack.resolve(
        stack.get_logical_id(cast(sfn.CfnStateMachine, state_machine.node.default_child))
    )
    return (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
        f"execution:<{logical_id}.Name>:*]"
    )


def _index_finding(table: dynamodb.Table) -> str:
    """The cdk-nag finding for `<table ARN>/index/*`, named after the table's logical id."""
    stack = Stack.of(table)
    logical_id = stack.resolve(stack.get_logical_id(cast(dynamodb.CfnTable, table.node.default_child)))
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/index/*]"
