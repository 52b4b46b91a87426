"""`LocalOMS`: moto as AWS, the blueprint provisioned on it, handlers in-process, the gateway.

Two modes, one wiring:
- "server": moto's ThreadedMotoServer on 127.0.0.1:OMS_AWS_PORT (default 4566), so the AWS CLI
  and any SDK can look inside; this is what `python -m local` runs.
- "inprocess": `moto.mock_aws`, no ports; every boto3 client in every thread is intercepted.
  Integration tests use it.

    with LocalOMS(handlers={"AcceptOrder": fake}) as oms:
        response = oms.request("POST", "/webhooks/demo-store", json=order, headers=signed)
        oms.wait_for_execution(order_id)
"""

from __future__ import annotations

import copy
import json as jsonlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, ClassVar, Literal, Protocol

import boto3
import requests
from botocore.config import Config
from moto import mock_aws
from moto.core.config import DefaultConfig, default_user_config
from moto.server import ThreadedMotoServer

from blueprint import FUNCTIONS, ORDER_WORKFLOW, RETURN_WORKFLOW, STAFF_POOL, api_functions
from local import gateway, moto_patches
from local.demo import verify_demo_sender
from local.event_log import EventLog
from local.gateway import GatewayResponse, GatewayServer
from local.invoker import REGISTRY, Handler, RegisteredFunction
from local.mail_log import MailLog, SentEmail
from local.provision import DEFAULT_NAMING, DEFAULT_TRACKING_PAGE_URL, Deployment, Naming, provision
from local.queue_poller import QueuePoller, start_pollers
from local.settings import AWS_PORT
from local.stream_poller import StreamPoller, start_stream_pollers
from shared.ids import order_id_of_return
from shared.logic.staff_auth import UserPool
from shared.logic.webhooks import LOCAL_URLS_ENV

logger = logging.getLogger(__name__)

Mode = Literal["server", "inprocess"]

MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
DEFAULT_REGION = "us-east-1"
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
# Loggers that report expected failures (Catch, retries) or every request at INFO/WARNING.
_NOISY_LOGGERS = ("moto.stepfunctions.parser", "werkzeug")


def verbose() -> bool:
    return bool(os.environ.get("OMS_VERBOSE"))


def local_environment() -> dict[str, str]:
    """Process-wide settings for handlers run locally (their per-function values come on top)."""
    values = {
        # Dummy credentials, always: a misrouted call must never be signed with real keys.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        # Webhook subscribers on this machine may be plain http (the stack takes https only).
        LOCAL_URLS_ENV: "allowed",
    }
    if not verbose():
        values |= {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}
    return values


class _Background(Protocol):
    """A thread of the runtime's own: a poller or a log."""

    def request_stop(self) -> None: ...

    def stop(self) -> None: ...


class EnvironmentOverlay:
    """Sets variables in os.environ and puts back exactly what was there before."""

    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}

    def set(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self._saved.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def unset(self, *keys: str) -> None:
        for key in keys:
            self._saved.setdefault(key, os.environ.get(key))
            os.environ.pop(key, None)

    def restore(self) -> None:
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved.clear()


class InProcessAws:
    """moto intercepting boto3 inside this process."""

    endpoint_url: str | None = None

    def __init__(self) -> None:
        self._mock = mock_aws(config=copy.deepcopy(MOTO_CONFIG))
        self._started = False

    def start(self, environment: EnvironmentOverlay) -> None:
        self._mock.start()
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._mock.stop()  # also resets every backend
            self._started = False


class ServerAws:
    """moto's HTTP server on a port of this process (the patches apply: same process, same backends)."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._saved_config = {key: copy.deepcopy(default_user_config.get(key)) for key in MOTO_CONFIG}
        self._started = False
        self.endpoint_url: str | None = None

    def start(self, environment: EnvironmentOverlay) -> None:
        _ensure_port_free(self._port)
        self._server.start()
        self._started = True
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        config = jsonlib.dumps(MOTO_CONFIG)
        requests.post(f"{self.endpoint_url}/moto-api/config", data=config, timeout=10).raise_for_status()
        # MOTO_PORT: where moto's Step Functions interpreter sends its Lambda/DynamoDB calls.
        # AWS_ENDPOINT_URL: where every other boto3 client (handlers, tests) goes.
        environment.set({"MOTO_PORT": str(port), "AWS_ENDPOINT_URL": self.endpoint_url})

    def stop(self) -> None:
        if not self._started:
            return
        try:
            requests.post(f"{self.endpoint_url}/moto-api/reset", timeout=10)
        finally:
            self._server.stop()
            self._started = False
            # The config endpoint changed this process's moto config: leave it as we found it.
            default_user_config.update(self._saved_config)  # type: ignore[typeddict-item]


def _forget_handler_clients() -> None:
    """Handlers cache boto3 clients per process (`shared.aws`); drop those made for another endpoint."""
    handler_clients = sys.modules.get("shared.aws")
    if handler_clients is not None:
        handler_clients.reset()


def port_in_use(port: int) -> bool:
    """Whether a server could not listen on 127.0.0.1:`port` (as ours bind: with SO_REUSEADDR)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _ensure_port_free(port: int) -> None:
    """ThreadedMotoServer waits forever if its thread cannot bind: fail clearly instead."""
    if port != 0 and port_in_use(port):
        raise OSError(f"127.0.0.1:{port} is already in use")


class LocalOMS:
    """The OMS on this machine. Use as a context manager, or call `start()` and `close()`."""

    _active: ClassVar[LocalOMS | None] = None
    _active_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        mode: Mode = "inprocess",
        *,
        handlers: Mapping[str, Handler] | None = None,
        aws_port: int | None = None,
        gateway_port: int | None = None,
        naming: Naming = DEFAULT_NAMING,
    ) -> None:
        """`handlers` replaces functions' handlers by blueprint name (tests pass fakes).
        `aws_port` (server mode) defaults to OMS_AWS_PORT or 4566; 0 picks a free port.
        `gateway_port`: serve the API over HTTP on that port (0 = free port); None = no socket."""
        if mode not in ("server", "inprocess"):
            raise ValueError(f"mode must be 'server' or 'inprocess', not {mode!r}")
        self.mode = mode
        self.naming = naming
        self._handlers = dict(handlers or {})
        self._gateway_port = gateway_port
        self._environment = EnvironmentOverlay()
        self._aws: InProcessAws | ServerAws = (
            ServerAws(aws_port if aws_port is not None else int(AWS_PORT.value()))
            if mode == "server"
            else InProcessAws()
        )
        self._gateway_server: GatewayServer | None = None
        self._pollers: list[QueuePoller] = []
        self._stream_pollers: list[StreamPoller] = []
        self._event_logs: list[EventLog] = []
        self._mail_log: MailLog | None = None
        self._log_levels: dict[str, int] = {}
        self._deployment: Deployment | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.session: boto3.Session | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalOMS:
        self._claim()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        moto_patches.apply()
        self._quiet_loggers()
        self._environment.unset("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE")
        self._environment.set(local_environment())
        self._aws.start(self._environment)
        self.session = boto3.Session(region_name=os.environ["AWS_DEFAULT_REGION"])
        if self._gateway_port is not None:
            # Bound now (serving once the handlers are registered): functions learn the page's URL.
            self._gateway_server = GatewayServer("127.0.0.1", self._gateway_port)
        page_url = f"{self._gateway_server.url}/track" if self._gateway_server else DEFAULT_TRACKING_PAGE_URL
        self._deployment = provision(self.session, self.naming, tracking_page_url=page_url)
        self._environment.set(self._deployment.environment)
        verify_demo_sender(self.client("ses"))  # the demo channels' customer e-mails may be sent
        _forget_handler_clients()
        gateway.THROTTLE.reset()  # a new OMS: no client has used up its lookups yet
        self._register_handlers(self._deployment)
        staff = self._deployment.user_pools[STAFF_POOL.name]
        pool = UserPool(issuer=staff.issuer, client_id=staff.client_id)
        gateway.use_staff_pool((pool, moto_patches.moto_signing_keys().get))
        self._pollers = start_pollers(
            self.client("sqs"), self._deployment.queue_urls, self.session.region_name
        )
        self._event_logs = [
            EventLog(self.client("sqs"), url).start()
            for url in self._deployment.event_log_queue_urls.values()
        ]
        self._stream_pollers = start_stream_pollers(
            self._streams_client(),
            self.client("sqs"),
            self._deployment.stream_arns,
            self._deployment.stream_failure_queue_urls,
            self.session.region_name,
        )
        account = self.client("sts").get_caller_identity()["Account"]
        self._mail_log = MailLog(self.client("ses"), account, self.session.region_name).start()
        if self._gateway_server is not None:
            self._gateway_server.start()

    def close(self) -> None:
        """Stop everything and forget all state, so the next LocalOMS starts from nothing."""
        if LocalOMS._active is not self:
            return
        try:
            if self._gateway_server is not None:
                self._gateway_server.stop()
            background: list[_Background] = [*self._pollers, *self._stream_pollers, *self._event_logs]
            background += [self._mail_log] if self._mail_log is not None else []
            for worker in background:
                worker.request_stop()  # all at once: each ends its current wait in parallel
            for worker in background:
                worker.stop()
            self._pollers, self._stream_pollers, self._event_logs = [], [], []
            self._mail_log = None
            if self._deployment is not None:
                self._stop_running_executions()
        finally:
            REGISTRY.clear()
            gateway.use_staff_pool(None)
            self._aws.stop()
            self._environment.restore()
            _forget_handler_clients()
            self._restore_loggers()
            self._gateway_server = None
            self._deployment = None
            self._clients.clear()
            self.session = None
            self._release()

    def __enter__(self) -> LocalOMS:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _claim(self) -> None:
        with LocalOMS._active_lock:
            if LocalOMS._active is not None:
                raise RuntimeError("another LocalOMS is running: moto's backends are process-wide")
            LocalOMS._active = self

    def _release(self) -> None:
        with LocalOMS._active_lock:
            if LocalOMS._active is self:
                LocalOMS._active = None

    def _quiet_loggers(self) -> None:
        if verbose():
            return
        for name in _NOISY_LOGGERS:
            self._log_levels[name] = logging.getLogger(name).level
            logging.getLogger(name).setLevel(logging.CRITICAL)

    def _restore_loggers(self) -> None:
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)
        self._log_levels.clear()

    def _register_handlers(self, deployment: Deployment) -> None:
        routed = {function.name for function in api_functions()}
        for function in FUNCTIONS.values():
            REGISTRY.register(
                RegisteredFunction(
                    name=deployment.function_names[function.name],
                    arn=deployment.function_arns[function.name],
                    handler_path=function.handler,
                    handler=self._handlers.get(function.name),
                    memory_mb=function.memory_mb,
                    timeout_seconds=function.timeout_seconds,
                    aliases=(function.name,),
                    # Powertools' event handler keeps the invocation in globals shared by every
                    # resolver, and its idempotency config (the Idempotency table's users) the Lambda
                    # context. A queue-fed function's batch processor is its own, and one poller per
                    # queue never runs two of its batches at once.
                    process_state=function.name in routed
                    or (function.queue_source is not None and "Idempotency" in function.tables),
                )
            )

    def _stop_running_executions(self) -> None:
        # Otherwise their threads outlive moto's state and call a Lambda that no longer exists.
        sfn = self.client("stepfunctions")
        for arn in self.deployment.state_machine_arns.values():
            for page in sfn.get_paginator("list_executions").paginate(
                stateMachineArn=arn, statusFilter="RUNNING"
            ):
                for execution in page["executions"]:
                    self._stop_execution(sfn, execution["executionArn"])

    @staticmethod
    def _stop_execution(sfn: Any, execution_arn: str) -> None:
        try:
            sfn.stop_execution(executionArn=execution_arn, error="LocalOMS.Closed")
        except Exception as exc:  # e.g. moto fails to stop an execution whose thread has not begun
            logger.debug("could not stop %s: %s", execution_arn, exc)

    # -- what tests and the CLI use --------------------------------------------------------

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            raise RuntimeError("LocalOMS is not started")
        return self._deployment

    @property
    def api_key(self) -> str:
        return gateway.api_key()

    @property
    def api_url(self) -> str | None:
        return self._gateway_server.url if self._gateway_server else None

    @property
    def aws_endpoint_url(self) -> str | None:
        return self._aws.endpoint_url

    def client(self, service: str) -> Any:
        """A boto3 client for the local AWS (made once per service: clients are thread-safe)."""
        if self.session is None:
            raise RuntimeError("LocalOMS is not started")
        with self._clients_lock:  # a boto3 Session must not make clients on two threads at once
            if service not in self._clients:
                self._clients[service] = self.session.client(service)
            return self._clients[service]

    def _streams_client(self) -> Any:
        # botocore 1.44 resolves an account-based endpoint for DynamoDB Streams that moto does not serve.
        assert self.session is not None
        return self.session.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))

    def events(self) -> list[dict[str, Any]]:
        """Every domain event published so far (as EventBridge's `detail`), oldest first."""
        return [event for log in self._event_logs for event in log.events()]

    def sent_emails(self) -> list[SentEmail]:
        """Every e-mail sent through SES so far (moto keeps them), oldest first, rendered from its
        template as the recipient gets it: sender, recipients, subject, text and HTML bodies."""
        if self._mail_log is None:
            raise RuntimeError("LocalOMS is not started")
        return self._mail_log.sent()

    def override_handler(self, function_name: str, handler: Handler) -> None:
        """Run `handler` for the blueprint function `function_name` from now on."""
        REGISTRY.override(function_name, handler)

    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        body: bytes | str | None = None,
        *,
        authenticated: bool = True,
    ) -> GatewayResponse:
        """One request through the local API Gateway (routing, API key, proxy event), no socket.

        `json` is serialised as the body; `authenticated` adds the API key unless `headers` has one."""
        sent = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json)
            sent.setdefault("Content-Type", "application/json")
        if authenticated and not any(name.lower() == "x-api-key" for name in sent):
            sent["x-api-key"] = self.api_key
        payload = body.encode() if isinstance(body, str) else body
        return gateway.handle(method, path, sent, payload)

    # -- workflow executions (named by order id, or by return id) ----------------------------

    def execution_arn(self, order_id: str) -> str:
        """The execution of an order, or of a return when given a return id (`<order>-R<n>`)."""
        workflow = RETURN_WORKFLOW if order_id_of_return(order_id) else ORDER_WORKFLOW
        arn = self.deployment.state_machine_arns[workflow.name]
        return arn.replace(":stateMachine:", ":execution:") + f":{order_id}"

    def describe_execution(self, order_id: str) -> dict[str, Any] | None:
        sfn = self.client("stepfunctions")
        try:
            described: dict[str, Any] = sfn.describe_execution(executionArn=self.execution_arn(order_id))
        except sfn.exceptions.ExecutionDoesNotExist:
            return None
        return described

    def execution_status(self, order_id: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or None if it was never started."""
        described = self.describe_execution(order_id)
        return described["status"] if described else None

    def wait_for_execution(self, order_id: str, timeout: float = 10.0, poll: float = 0.02) -> dict[str, Any]:
        """Wait until the order's execution has ended; return its DescribeExecution output."""
        deadline = time.monotonic() + timeout
        while True:
            described = self.describe_execution(order_id)
            if described and described["status"] in TERMINAL_STATUSES:
                return described
            if time.monotonic() > deadline:
                status = described["status"] if described else "not started"
                raise TimeoutError(f"execution {order_id} is still {status} after {timeout}s")
            time.sleep(poll)

    def execution_history(self, order_id: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=self.execution_arn(order_id))
        return [event for page in pages for event in page["events"]]

    def last_state(self, order_id: str) -> str | None:
        """The name of the last state the order's execution entered (e.g. "ConcludeOrder": delivered)."""
        entered = [
            event["stateEnteredEventDetails"]["name"]
            for event in self.execution_history(order_id)
            if "stateEnteredEventDetails" in event
        ]
        return entered[-1] if entered else None
