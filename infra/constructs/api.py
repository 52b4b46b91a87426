"""The REST API from `blueprint.ROUTES`: one method per route, Lambda proxy integration."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import cast

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from blueprint import API_AUTHORIZER, CONSOLE_API_KEY, ROUTES, Route

from . import acknowledge

STAGE_NAME = "v1"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
# Requests per second (steady, burst): the stage limit protects the unauthenticated webhook and
# health routes, the usage plan limits each API key.
STAGE_THROTTLE = (100, 200)
API_KEY_THROTTLE = (50, 100)

# API Gateway's own errors, rendered in the OMS error format: (response type, status, OMS code).
# A status of None keeps API Gateway's default status for that type.
GATEWAY_ERRORS: list[tuple[apigw.ResponseType, str | None, str]] = [
    # The authorizer found neither an x-api-key nor a valid staff token.
    (apigw.ResponseType.UNAUTHORIZED, "401", "UNAUTHORIZED"),
    (apigw.ResponseType.INVALID_API_KEY, "403", "FORBIDDEN"),
    (apigw.ResponseType.ACCESS_DENIED, "403", "FORBIDDEN"),
    # API Gateway answers an unknown path or method with 403 "Missing Authentication Token".
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "NOT_FOUND"),
    (apigw.ResponseType.THROTTLED, "429", "THROTTLED"),
    (apigw.ResponseType.QUOTA_EXCEEDED, "429", "QUOTA_EXCEEDED"),
    (apigw.ResponseType.REQUEST_TOO_LARGE, "413", "PAYLOAD_TOO_LARGE"),
    (apigw.ResponseType.BAD_REQUEST_PARAMETERS, "400", "VALIDATION_ERROR"),
    (apigw.ResponseType.BAD_REQUEST_BODY, "400", "VALIDATION_ERROR"),
    (apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, "415", "UNSUPPORTED_MEDIA_TYPE"),
    (apigw.ResponseType.INTEGRATION_TIMEOUT, None, "UPSTREAM_TIMEOUT"),
    (apigw.ResponseType.DEFAULT_4_XX, None, "BAD_REQUEST"),
    (apigw.ResponseType.DEFAULT_5_XX, None, "INTERNAL_ERROR"),
]
PATH_PARAMETER = re.compile(r"\{(\w+)\}")

CLOUDWATCH_ROLE_FINDING = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]"
)
CLOUDWATCH_ROLE_REASON = (
    "This is the account-level role API Gateway uses to create and write its execution log groups "
    "(API-Gateway-Execution-Logs_<api>/<stage>), whose names it chooses itself; "
    "AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy documented for that role."
)
WAF_REASON = (
    "No WAFv2 web ACL yet: management and fulfillment routes need an API key with per-key usage "
    "plan throttling, webhooks are HMAC-verified by Intake, and the stage throttles all routes. "
    "A web ACL (rate-based and AWS managed rules) is a per-environment, paid decision left to deployers."
)
AUTH_REASON = (
    "Management and fulfillment routes have a Lambda REQUEST authorizer (an API key, checked by the usage "
    "plan, or a staff access token of the Cognito user pool); channel webhooks are authorized by an HMAC "
    "signature over the raw body verified by the Intake function; /health, /openapi.json and the Swagger UI "
    "page that shows it (/swagger, opened by a browser, which sends no API key) are public, as are the "
    "customer tracking page (/track) and its lookup (POST /track/lookup, which proves the order with its "
    "number and e-mail or postal code, or a signed link, and has a throttle of its own)."
)
COGNITO_AUTHORIZER_REASON = (
    "Cognito tokens are verified by the Lambda authorizer, not a COGNITO_USER_POOLS authorizer: on a REST "
    "API a method's API key and its Cognito authorizer are both required, and staff routes must take "
    "either an API key (integrations) or a staff token (the console)."
)
# No identity sources and no cache: a cached REQUEST authorizer needs every identity source present,
# and a request carries an x-api-key or an Authorization header, not both.
AUTHORIZER_CACHE = Duration.seconds(0)


def error_template(code: str) -> str:
    # $context.error.messageString is already a quoted JSON string.
    return (
        '{"error": {"code": '
        + json.dumps(code)
        + ', "message": $context.error.messageString, "details": null}}'
    )


def path_parameters(path: str) -> list[str]:
    return PATH_PARAMETER.findall(path)


def route_throttles() -> dict[str, apigw.MethodDeploymentOptions]:
    """The stage's method settings for routes with a throttle of their own, keyed `<path>/<METHOD>` as
    CDK expects. API Gateway applies one to all callers of the method together: a public route has
    no API key to count per client by (the local gateway counts per client address)."""
    return {
        f"{route.path}/{route.method}": apigw.MethodDeploymentOptions(
            throttling_rate_limit=route.throttle.rate_per_second,
            throttling_burst_limit=route.throttle.burst,
        )
        for route in ROUTES
        if route.throttle is not None
    }


class Api(Construct):
    """API Gateway REST API with access logs, tracing, request validation and an API key."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        secrets: Mapping[str, secretsmanager.ISecret],
    ) -> None:
        super().__init__(scope, construct_id)
        self.rest_api = self._rest_api()
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "StaffAuthorizer",
            handler=functions[API_AUTHORIZER],
            identity_sources=[],
            results_cache_ttl=AUTHORIZER_CACHE,
        )
        # Bodies are validated only where a method declares a model; none does yet (handlers
        # validate bodies with pydantic), so today this rejects requests missing path parameters.
        self._validator = self.rest_api.add_request_validator(
            "Basic", validate_request_parameters=True, validate_request_body=True
        )
        integrations = {
            name: apigw.LambdaIntegration(functions[name], allow_test_invoke=False)
            for name in dict.fromkeys(route.function for route in ROUTES)
        }
        for route in ROUTES:
            self._add_route(route, integrations[route.function])
        self._add_gateway_responses()
        # No identity source at all (CDK would write an empty one): API Gateway then invokes the
        # authorizer for every request, whatever headers it has.
        cast(apigw.CfnAuthorizer, self.authorizer.node.default_child).add_property_deletion_override(
            "IdentitySource"
        )
        self.api_key = self._api_key(secrets[CONSOLE_API_KEY.name])
        self._acknowledge_findings()

    def _rest_api(self) -> apigw.RestApi:
        access_logs = logs.LogGroup(self, "AccessLogs", retention=LOG_RETENTION)
        rate, burst = STAGE_THROTTLE
        return apigw.RestApi(
            self,
            "RestApi",
            description="Order Management System API.",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            # The authorizer names the usage plan's key: the caller's x-api-key, or the console's own.
            api_key_source_type=apigw.ApiKeySourceType.AUTHORIZER,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                throttling_rate_limit=rate,
                throttling_burst_limit=burst,
                method_options=route_throttles(),
            ),
        )

    def _add_route(self, route: Route, integration: apigw.LambdaIntegration) -> None:
        resource = self.rest_api.root.resource_for_path(route.path)
        resource.add_method(
            route.method,
            integration,
            api_key_required=route.api_key_required,
            authorizer=self.authorizer if route.authorizer == API_AUTHORIZER else None,
            authorization_type=apigw.AuthorizationType.CUSTOM
            if route.authorizer
            else apigw.AuthorizationType.NONE,
            request_validator=self._validator,
            request_parameters={f"method.request.path.{name}": True for name in path_parameters(route.path)},
        )

    def _add_gateway_responses(self) -> None:
        for response_type, status, code in GATEWAY_ERRORS:
            self.rest_api.add_gateway_response(
                f"{code}-{response_type.response_type}",
                type=response_type,
                status_code=status,
                response_headers={"Content-Type": "'application/json'"},
                templates={"application/json": error_template(code)},
            )

    def _api_key(self, console_key: secretsmanager.ISecret) -> apigw.IApiKey:
        rate, burst = API_KEY_THROTTLE
        plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            description="Clients of the OMS management and fulfillment routes.",
            throttle=apigw.ThrottleSettings(rate_limit=rate, burst_limit=burst),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.rest_api, stage=self.rest_api.deployment_stage)],
        )
        key = self.rest_api.add_api_key("ApiKey", description="OMS client key; its value is generated.")
        plan.add_api_key(key)
        # Requests with a staff token count against this key (its value is the secret's, resolved by
        # CloudFormation at deploy time; the authorizer reads the same secret).
        console = self.rest_api.add_api_key(
            "ConsoleApiKey",
            description="The console's key: requests authorized by a staff token use it.",
            value=console_key.secret_value.unsafe_unwrap(),
        )
        plan.add_api_key(console)
        return key

    def _acknowledge_findings(self) -> None:
        acknowledge(self.rest_api, "AwsSolutions-APIG4", AUTH_REASON)
        acknowledge(self.rest_api, "AwsSolutions-COG4", COGNITO_AUTHORIZER_REASON)
        acknowledge(self.rest_api.deployment_stage, "AwsSolutions-APIG3", WAF_REASON)
        acknowledge(
            self.rest_api.node.find_child("CloudWatchRole"), CLOUDWATCH_ROLE_FINDING, CLOUDWATCH_ROLE_REASON
        )
