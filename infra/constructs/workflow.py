"""The Step Functions state machine of a blueprint workflow, from its ASL file."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from blueprint import Workflow as WorkflowSpec

from . import acknowledge, tag_with_blueprint_name

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DELIVERY_AND_XRAY_REASON = (
    "Execution logging needs the CloudWatch Logs vended-delivery actions (logs:CreateLogDelivery, "
    "logs:PutResourcePolicy, ...) and tracing needs xray:PutTraceSegments and related actions; "
    "none of them supports resource-level permissions, so IAM requires Resource '*'."
)


class Workflow(Construct):
    """A STANDARD state machine whose definition is the blueprint's ASL file, kept inline.

    Each `${Placeholder}` of the file is substituted by CloudFormation with the ARN of the blueprint
    function it names, and the role may invoke exactly those functions.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: WorkflowSpec,
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        targets = {placeholder: functions[name] for placeholder, name in spec.function_arns.items()}
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"Runs the {spec.name} state machine.",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=list(dict.fromkeys(fn.function_arn for fn in targets.values())),
            )
        )
        self.state_machine = sfn.StateMachine(
            self,
            spec.name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(spec.definition_text()),
            definition_substitutions={p: fn.function_arn for p, fn in targets.items()},
            role=role,
            logs=sfn.LogOptions(
                destination=self._log_group(spec),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
            tracing_enabled=True,
        )
        tag_with_blueprint_name(self.state_machine, "Workflow", spec.name)
        acknowledge(role, "AwsSolutions-IAM5[Resource::*]", DELIVERY_AND_XRAY_REASON)

    def _log_group(self, spec: WorkflowSpec) -> logs.LogGroup:
        # The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy for Step Functions
        # from growing with each log group (AWS recommendation for vended logs).
        return logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{Stack.of(self).stack_name}-{spec.name}",
            retention=LOG_RETENTION,
        )
