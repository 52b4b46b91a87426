"""Provisioning creates on moto exactly what the blueprint describes."""

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from blueprint import (
    COMMON_ENVIRONMENT,
    EMAIL_TEMPLATES,
    FUNCTIONS,
    ORDER_WORKFLOW,
    SECRETS,
    TABLES,
    TRACKING_PAGE_URL_ENV,
    Function,
    Workflow,
)
from local.provision import (
    DEFAULT_TRACKING_PAGE_URL,
    LAMBDA_RUNTIME,
    Deployment,
    EnvironmentConflictError,
    Naming,
    function_environment,
    merge_environment,
    provision,
    render_definition,
    resource_locations,
)
from local.runtime import MOTO_CONFIG

REGION = "us-east-1"


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[boto3.Session, Deployment]]:
    with mock_aws(config=MOTO_CONFIG):
        session = boto3.Session(region_name=REGION)
        yield session, provision(session, Naming("test"))


def test_creates_every_table_on_demand_with_its_keys_indexes_and_ttl(
    deployed: tuple[boto3.Session, Deployment],
) -> None:
    session, deployment = deployed
    dynamodb = session.client("dynamodb")
    assert deployment.table_names == {name: f"test-{name}" for name in TABLES}
    for table in TABLES.values():
        described = dynamodb.describe_table(TableName=f"test-{table.name}")["Table"]
        expected_keys = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
        if table.sort_key:
            expected_keys.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
        assert described["KeySchema"] == expected_keys
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        indexes = {index["IndexName"]: index for index in described.get("GlobalSecondaryIndexes", [])}
        assert set(indexes) == {index.name for index in table.indexes}
        for index in table.indexes:
            assert indexes[index.name]["Projection"] == index.projection_spec()
            assert [key["AttributeName"] for key in indexes[index.name]["KeySchema"]] == [
                index.partition_key,
                index.sort_key,
            ]
        ttl = dynamodb.describe_time_to_live(TableName=f"test-{table.name}")["TimeToLiveDescription"]
        if table.ttl_attribute:
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def test_creates_one_function_per_blueprint_function(deployed: tuple[boto3.Session, Deployment]) -> None:
    session, deployment = deployed
    lambda_client = session.client("lambda")
    for function in FUNCTIONS.values():
        configuration = lambda_client.get_function_configuration(FunctionName=f"test-{function.name}")
        assert configuration["FunctionArn"] == deployment.function_arns[function.name]
        assert deployment.function_names[function.name] == f"test-{function.name}"
        assert configuration["Runtime"] == LAMBDA_RUNTIME
        assert configuration["Handler"] == function.handler
        assert configuration["MemorySize"] == function.memory_mb
        assert configuration["Timeout"] == function.timeout_seconds
        variables = configuration["Environment"]["Variables"]
        assert variables == function_environment(function, locations(deployment))


def locations(deployment: Deployment) -> dict[str, str]:
    return resource_locations(
        deployment.table_names,
        deployment.state_machine_arns,
        deployment.secret_names,
        deployment.bus_names,
        deployment.queue_urls,
        email_template_names=deployment.email_template_names,
        tracking_page_url=deployment.tracking_page_url,
    )


def test_creates_the_order_workflow_from_the_asl_with_function_arns(
    deployed: tuple[boto3.Session, Deployment],
) -> None:
    session, deployment = deployed
    described = session.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.order_workflow_arn
    )

    assert described["name"] == "test-OrderWorkflow"
    assert described["type"] == "STANDARD"
    assert described["definition"] == deployment.order_workflow_definition
    assert "${" not in deployment.order_workflow_definition
    states = json.loads(deployment.order_workflow_definition)["States"]
    for placeholder, function_name in ORDER_WORKFLOW.function_arns.items():
        assert placeholder not in deployment.order_workflow_definition
        assert deployment.function_arns[function_name] in deployment.order_workflow_definition
    assert states["AcceptOrder"]["Parameters"]["FunctionName"] == deployment.function_arns["AcceptOrder"]


def test_the_deployed_definition_is_the_asl_file_with_textual_substitution(
    deployed: tuple[boto3.Session, Deployment],
) -> None:
    _, deployment = deployed
    expected = ORDER_WORKFLOW.definition_text()
    for placeholder, function_name in ORDER_WORKFLOW.function_arns.items():
        expected = expected.replace("${" + placeholder + "}", deployment.function_arns[function_name])

    assert deployment.order_workflow_definition == expected


def test_the_handler_environment_is_the_union_of_every_function_environment(
    deployed: tuple[boto3.Session, Deployment],
) -> None:
    _, deployment = deployed
    environment = deployment.environment

    assert COMMON_ENVIRONMENT.items() <= environment.items()
    for function in FUNCTIONS.values():
        assert function_environment(function, locations(deployment)).items() <= environment.items()
    assert environment["ORDERS_TABLE"] == "test-Orders"
    assert environment[ORDER_WORKFLOW.env] == deployment.order_workflow_arn


def test_conflicting_environment_values_are_refused() -> None:
    environment = {"A": "1"}
    merge_environment(environment, {"A": "1", "B": "2"}, "F")

    with pytest.raises(EnvironmentConflictError, match="A"):
        merge_environment(environment, {"A": "other"}, "G")
    assert function_environment(Function("X", "m.h", "d", settings={"K": "v"}), {})["K"] == "v"


def test_a_placeholder_without_a_function_is_refused(tmp_path: Path) -> None:
    asl = tmp_path / "bad.asl.json"
    asl.write_text(
        '{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${Unknown}", "End": true}}}'
    )
    workflow = Workflow("Bad", "BAD_ARN", asl, {"KnownArn": "AcceptOrder"})

    with pytest.raises(ValueError, match="Unknown"):
        render_definition(workflow, {"AcceptOrder": "arn:aws:lambda:x"})


def test_creates_each_secret_with_a_random_value_for_exactly_its_readers(
    deployed: tuple[boto3.Session, Deployment],
) -> None:
    session, deployment = deployed
    secrets = session.client("secretsmanager")
    for secret in SECRETS.values():
        name = deployment.secret_names[secret.name]
        assert name == f"test-{secret.name}"
        value = secrets.get_secret_value(SecretId=name)["SecretString"]
        assert len(value) == 64 and value.isalnum()
        readers = {f.name for f in FUNCTIONS.values() if secret.name in f.secrets}
        assert (
            readers
            == {
                "TrackingLinkKey": {"OrdersApi", "TrackingPage", "CustomerNotifier"},
                "ConsoleApiKey": {"ApiAuthorizer"},
            }[secret.name]
        )
        for function in FUNCTIONS.values():
            environment = function_environment(function, locations(deployment))
            assert (environment.get(secret.env) == name) == (function.name in readers), function.name


def test_creates_each_email_template_from_the_blueprint_files(
    deployed: tuple[boto3.Session, Deployment],
) -> None:
    session, deployment = deployed
    ses = session.client("ses")
    assert sorted(deployment.email_template_names) == sorted(EMAIL_TEMPLATES)
    for template in EMAIL_TEMPLATES.values():
        name = deployment.email_template_names[template.name]
        assert name == f"test-{template.name}"
        stored = ses.get_template(TemplateName=name)["Template"]
        assert stored["SubjectPart"] == template.subject()
        assert stored["HtmlPart"] == template.html()
        assert stored["TextPart"] == template.text()
        senders = [f for f in FUNCTIONS.values() if template.name in f.sends_email]
        assert [f.name for f in senders] == ["CustomerNotifier"]
        assert function_environment(senders[0], locations(deployment))[template.env] == name


def test_functions_that_link_to_the_tracking_page_learn_where_it_is(
    deployed: tuple[boto3.Session, Deployment],
) -> None:
    _, deployment = deployed
    for function in FUNCTIONS.values():
        environment = function_environment(function, locations(deployment))
        expected = DEFAULT_TRACKING_PAGE_URL if function.links_to_tracking_page else None
        assert environment.get(TRACKING_PAGE_URL_ENV) == expected, function.name
    assert deployment.tracking_page_url == "http://localhost/track"
