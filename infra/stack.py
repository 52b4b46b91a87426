"""`OmsStack`: the whole OMS, rendered from the blueprint."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from blueprint import CONSOLE, QUEUES, STAFF_POOL, WORKFLOWS

from .constructs.api import STAGE_NAME, Api
from .constructs.console import API_PATH, ConsoleHosting
from .constructs.emails import EmailTemplates
from .constructs.events import Buses
from .constructs.functions import Functions
from .constructs.queues import Queues
from .constructs.secrets import Secrets
from .constructs.sign_in import StaffSignIn
from .constructs.tables import Tables
from .constructs.workflow import Workflow


class OmsStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        tables = Tables(self, "Tables")
        queues = Queues(self, "Queues")
        secrets = Secrets(self, "Secrets")
        emails = EmailTemplates(self, "EmailTemplates")
        functions = Functions(
            self, "Functions", tables=tables.by_name, secrets=secrets.by_name, email_templates=emails.names
        )
        functions.connect_queues(queues.by_name)
        buses = Buses(self, "Buses")
        buses.connect_rules(queues.by_name)
        functions.connect_buses(buses.by_name)
        stream_failures = functions.connect_streams()
        workflows = {
            name: Workflow(self, name, spec=spec, functions=functions.by_name)
            for name, spec in WORKFLOWS.items()
        }
        functions.connect_workflows({name: workflow.state_machine for name, workflow in workflows.items()})
        api = Api(self, "Api", functions=functions.by_name, secrets=secrets.by_name)
        functions.connect_tracking_page(api.rest_api)
        console = ConsoleHosting(self, "Console", site=CONSOLE, rest_api=api.rest_api, stage_name=STAGE_NAME)
        staff = StaffSignIn(self, "StaffSignIn", spec=STAFF_POOL, site=CONSOLE, site_origin=console.origin)
        functions.connect_user_pools({STAFF_POOL.name: staff.environment()})
        console.deploy(console_config(api_base=API_PATH, cognito=staff.console_settings()))

        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="Base URL of the OMS API.")
        CfnOutput(self, "ConsoleUrl", value=console.url, description="The back-office console.")
        CfnOutput(
            self, "StaffUserPoolId", value=staff.user_pool.user_pool_id, description="Create staff here."
        )
        CfnOutput(self, "StaffSignInUrl", value=staff.domain_url, description="The hosted UI's domain.")
        CfnOutput(self, "ApiKeyId", value=api.api_key.key_id, description="Id of the generated API key.")
        for name, workflow in workflows.items():
            CfnOutput(self, f"{name}Arn", value=workflow.state_machine.state_machine_arn)
        for name, queue in queues.by_name.items():
            if QUEUES[name].sender_accounts:
                CfnOutput(
                    self,
                    f"{name}QueueArn",
                    value=queue.queue_arn,
                    description="Register as the SP-API notifications destination (createDestination).",
                )
            CfnOutput(self, f"{name}DeadLetterQueueUrl", value=queues.dead_letters[name].queue_url)
        for name, bus in buses.by_name.items():
            CfnOutput(self, f"{name}BusName", value=bus.event_bus_name, description="Subscribe rules here.")
            CfnOutput(self, f"{name}BusArn", value=bus.event_bus_arn)
        for name, queue in stream_failures.items():
            CfnOutput(self, f"{name}StreamFailuresQueueUrl", value=queue.queue_url)
        for name, table in tables.by_name.items():
            CfnOutput(self, f"{name}TableName", value=table.table_name)


def console_config(*, api_base: str, cognito: dict[str, Any] | None) -> dict[str, Any]:
    """The console's `config.json` in the stack (the local gateway serves its own: `local/console.py`)."""
    return {"apiBase": api_base, "signIn": {"apiKey": True, "cognito": cognito}}
