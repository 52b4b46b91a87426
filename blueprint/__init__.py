"""The OMS described once: tables, functions, routes, the workflows (one per order, one per return) and
the customer e-mail templates.

Both renderings read this module and nothing else to learn what exists:
- `infra/` turns it into the CDK stack (API Gateway, Lambda, Step Functions, DynamoDB);
- `local/` turns it into the local runtime (moto tables, in-process Lambda, the same ASL).

Handlers never import it: at run time they learn table names and ARNs from their
environment, which both renderings fill from `Function.environment_keys()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS_DIR = Path(__file__).resolve().parent / "workflows"
EMAILS_DIR = Path(__file__).resolve().parent / "emails"

Access = Literal["read", "write"]
# What a function may do to a workflow, declared per workflow like its table access:
# "start": may start executions (gets the state machine's ARN in its environment);
# "callback": may resume or fail a waiting task (SendTaskSuccess/Failure/Heartbeat by task token);
# "observe": may read the definition and its executions' status and history (gets the ARN too).
WorkflowAction = Literal["start", "callback", "observe"]


@dataclass(frozen=True)
class Index:
    """A global secondary index. KEYS_ONLY: an update that changes no key attribute of the index
    does not write to it, which keeps single-partition indexes far from their write limit."""

    name: str
    partition_key: str
    sort_key: str
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "KEYS_ONLY"
    included: tuple[str, ...] = ()

    def projection_spec(self) -> dict[str, object]:
        """The index's Projection as DynamoDB's API and CloudFormation spell it."""
        spec: dict[str, object] = {"ProjectionType": self.projection}
        if self.included:
            spec["NonKeyAttributes"] = list(self.included)
        return spec


@dataclass(frozen=True)
class Table:
    """A DynamoDB table; `env` is the variable that carries its name to handlers."""

    name: str
    env: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    description: str = ""
    # Kept when the stack is deleted: false only for data that is safe to lose.
    retain_on_delete: bool = True
    # A DynamoDB stream of every change (old and new images): the outbox the domain events come from.
    stream: bool = False


@dataclass(frozen=True)
class Queue:
    """An SQS queue with a dead-letter queue that keeps what failed `max_receive_count` times."""

    name: str
    description: str
    visibility_timeout_seconds: int
    max_receive_count: int = 5
    retention_days: int = 14
    # AWS accounts allowed to send to it (a service that delivers from its own account).
    sender_accounts: tuple[str, ...] = ()
    # Carries the queue's URL to the functions that send to it (`Function.sends_to`).
    env: str | None = None


@dataclass(frozen=True)
class BusRule:
    """Copies the OMS events of `bus` whose type is one of `event_types` (every event when empty)
    to `queue`, where a function consumes them: each consumer gets its own queue, so a slow one
    holds up nothing else."""

    name: str
    bus: str
    queue: str
    event_types: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class QueueSource:
    """The function is invoked with batches from the queue; it reports failed records itself
    (ReportBatchItemFailures), so one bad message is retried alone."""

    queue: str
    batch_size: int = 10


@dataclass(frozen=True)
class Secret:
    """A Secrets Manager secret with a generated value (never written in code or config); `env`
    carries its ARN (locally its name) to the functions that list it, which alone may read it."""

    name: str
    env: str
    description: str
    # Why Secrets Manager does not rotate it on a schedule (cdk-nag asks).
    not_rotated_because: str = ""


@dataclass(frozen=True)
class StreamSource:
    """The function is invoked with batches of the tables' stream records, per shard in commit order
    (one mapping per table, starting at the stream's oldest record). It reports the first record that
    failed (ReportBatchItemFailures): the shard resumes there. After `retry_attempts` the batch is
    given up and described on the function's stream-failure queue."""

    tables: tuple[str, ...]
    batch_size: int = 100
    retry_attempts: int = 10


@dataclass(frozen=True)
class EventBus:
    """An EventBridge bus with an archive of every event it carries (replayable)."""

    name: str
    env: str
    description: str
    archive_retention_days: int = 90


@dataclass(frozen=True)
class EmailTemplate:
    """An Amazon SES e-mail template: a subject and an HTML and a text body with SES `{{var}}`
    placeholders, kept in `blueprint/emails/<file_stem>.{subject,html,txt}`. The stack deploys it as an
    `AWS::SES::Template`, the local runtime creates it on moto's SES; `env` carries its name (which
    the rendering prefixes, so two stacks never share one) to the functions that send it.

    SES escapes nothing: the HTML body uses only the `...Html` variant of each value (HTML-escaped by
    the sender), the subject and text body only the plain one."""

    name: str
    env: str
    file_stem: str
    description: str

    def _part(self, suffix: str) -> str:
        return (EMAILS_DIR / f"{self.file_stem}.{suffix}").read_text(encoding="utf-8")

    def subject(self) -> str:
        return self._part("subject").strip()

    def html(self) -> str:
        return self._part("html")

    def text(self) -> str:
        return self._part("txt")


@dataclass(frozen=True)
class Function:
    """A Lambda function: where its handler is and exactly what it may touch."""

    name: str
    handler: str
    description: str
    tables: dict[str, Access] = field(default_factory=dict)
    workflows: dict[str, tuple[WorkflowAction, ...]] = field(default_factory=dict)
    memory_mb: int = 256
    timeout_seconds: int = 10
    settings: dict[str, str] = field(default_factory=dict)
    queue_source: QueueSource | None = None
    # Secrets it may read (GetSecretValue), by name.
    secrets: tuple[str, ...] = ()
    stream_source: StreamSource | None = None
    # The buses it publishes events on (gets each bus's name in its environment).
    publishes_to: tuple[str, ...] = ()
    # The queues it sends messages to (gets each queue's URL in its environment).
    sends_to: tuple[str, ...] = ()
    # The SES templates it may send e-mail with (gets each template's name in its environment), from
    # any verified identity of the account (senders are set per channel, at run time).
    sends_email: tuple[str, ...] = ()
    # It may ask SES whether e-mail addresses and domains are verified.
    checks_email_identities: bool = False
    # It links to the customer tracking page (gets the page's URL in its environment).
    links_to_tracking_page: bool = False
    # The user pools whose tokens it verifies (gets each pool's issuer, JWKS URL and app client id).
    verifies_tokens_of: tuple[str, ...] = ()

    def environment_keys(self) -> list[str]:
        """Names of the environment variables whose values depend on where we run."""
        keys = [TABLES[name].env for name in self.tables]
        # A streamed table's name tells its records apart; reading the stream gives no table access.
        streamed = self.stream_source.tables if self.stream_source else ()
        keys += [TABLES[name].env for name in streamed if name not in self.tables]
        keys += [WORKFLOWS[name].env for name in self.workflows_known()]
        keys += [SECRETS[name].env for name in self.secrets]
        keys += [BUSES[name].env for name in self.publishes_to]
        keys += [env for name in self.sends_to if (env := QUEUES[name].env)]
        keys += [EMAIL_TEMPLATES[name].env for name in self.sends_email]
        keys += [TRACKING_PAGE_URL_ENV] if self.links_to_tracking_page else []
        keys += [key for name in self.verifies_tokens_of for key in USER_POOLS[name].environment_keys()]
        return keys

    def workflows_allowed_to(self, action: WorkflowAction) -> list[str]:
        """The workflows this function may `start`, `callback` or `observe`."""
        return [name for name, actions in self.workflows.items() if action in actions]

    def workflows_known(self) -> list[str]:
        """The workflows whose ARN the function gets: those it may start or observe."""
        return [name for name, actions in self.workflows.items() if {"start", "observe"} & set(actions)]


@dataclass(frozen=True)
class UserPool:
    """An Amazon Cognito user pool whose users sign in to `site` through the hosted UI (authorization
    code + PKCE, its app client has no secret). Functions that `verify_tokens_of` it get where its
    tokens come from (`issuer_env`), its signing keys (`jwks_url_env`) and the app client (`client_id_env`).
    Locally there is no pool: those variables are empty and the API key signs in."""

    name: str
    description: str
    issuer_env: str
    jwks_url_env: str
    client_id_env: str
    # Below the site's path: where the hosted UI sends the browser back with ?code=, and after sign-out.
    callback_path: str = "/callback"
    signed_out_path: str = "/"
    scopes: tuple[str, ...] = ("openid", "email", "profile")

    def environment_keys(self) -> list[str]:
        return [self.issuer_env, self.jwks_url_env, self.client_id_env]


@dataclass(frozen=True)
class Throttle:
    """A token bucket: `burst` requests at once, refilled at `rate_per_second`."""

    rate_per_second: float
    burst: int


@dataclass(frozen=True)
class Route:
    method: Literal["GET", "PUT", "POST", "DELETE"]
    path: str
    function: str
    api_key_required: bool = True
    # A limit of the route's own, below the stage's: the stack sets it as the method's throttling
    # (API Gateway counts all callers of a public route together), the local gateway per client address.
    throttle: Throttle | None = None

    @property
    def authorizer(self) -> str | None:
        """The function that authorizes a call: every route needing an API key takes a staff token too."""
        return API_AUTHORIZER if self.api_key_required else None


@dataclass(frozen=True)
class Workflow:
    """A state machine whose ASL file is deployed by CDK and executed by moto alike.

    `function_arns` maps each `${Placeholder}` in the ASL to the function whose ARN replaces it.
    """

    name: str
    env: str
    definition_file: Path
    function_arns: dict[str, str]

    def definition_text(self) -> str:
        return self.definition_file.read_text(encoding="utf-8")


@dataclass(frozen=True)
class StaticSite:
    """A single-page app of static files, served beside the API on its origin under `path`: every path
    below it that is not a file answers `index` (the app routes itself). Not a Lambda route: locally
    the gateway serves `folder`, in the stack S3 + CloudFront will."""

    name: str
    path: str
    folder: Path
    index: str = "index.html"
    # Below it a missing file is an error (404), not a page of the app: built, content-hashed files.
    assets_path: str = "/assets"
    description: str = ""
    # Beside the index: what the app learns at run time (where the API is, how staff sign in). Written
    # by whoever serves the site: the local gateway, or the stack's deployment.
    config: str = "config.json"


# The back-office console (console/, built by `make console` into console/dist).
CONSOLE = StaticSite(
    name="Console",
    path="/console",
    folder=ROOT / "console" / "dist",
    description="The back-office web console for the retailer's staff, over the public API.",
)


ORDERS = Table(
    name="Orders",
    env="ORDERS_TABLE",
    partition_key="pk",
    sort_key="sk",
    indexes=(
        # The lists, newest first; each list's partition key is "<value>#<shard>" (shared/dal/sharded.py).
        Index("byStatusShard", partition_key="statusShard", sort_key="createdKey"),
        Index("byChannelShard", partition_key="channelShard", sort_key="createdKey"),
        Index("byCreation", partition_key="listPartition", sort_key="createdKey"),
        # The customer's tracking lookup: the normalized order number, and the channel order id when
        # it normalizes differently (on an item of its own, `ORDER#<id>`/`TRACKING#NUMBER`).
        Index("byNumber", partition_key="lookupNumber", sort_key="createdKey"),
        # The console's search by customer e-mail: a SHA-256 of the case-folded address, not the address.
        Index("byEmail", partition_key="lookupEmail", sort_key="createdKey"),
    ),
    description="Orders, their fulfillments and timelines, and the (channel, channel order id) claims.",
    stream=True,
)
INVENTORY = Table(
    name="Inventory",
    env="INVENTORY_TABLE",
    partition_key="pk",
    sort_key="sk",
    description="Stock per SKU and warehouse with its ledger, warehouses, and what each fulfillment holds.",
    stream=True,
)
CHANNELS = Table(
    name="Channels",
    env="CHANNELS_TABLE",
    partition_key="channelId",
    description="Registered sales channels and their webhook secrets.",
)
DELIVERIES = Table(
    name="Deliveries",
    env="DELIVERIES_TABLE",
    partition_key="deliveryId",
    indexes=(
        # A channel's deliveries, newest first: "<channelId>#<shard>" (shared/dal/sharded.py).
        Index(
            "byChannelShard",
            partition_key="channelShard",
            sort_key="deliveryId",
            projection="INCLUDE",
            included=("receivedAt", "source", "eventId", "result", "replays"),
        ),
    ),
    description="Every authenticated channel delivery, headers and raw body, with what became of it.",
)
RETURNS = Table(
    name="Returns",
    env="RETURNS_TABLE",
    partition_key="pk",
    sort_key="sk",
    indexes=(
        # The lists, newest first; each list's partition key is "<value>#<shard>" (shared/dal/sharded.py).
        Index("byStatusShard", partition_key="statusShard", sort_key="createdKey"),
        Index("byChannelShard", partition_key="channelShard", sort_key="createdKey"),
        Index("byCreation", partition_key="listPartition", sort_key="createdKey"),
    ),
    description="Returns (authorization, receipt, restock, refund or exchange, timeline), by order.",
    stream=True,
)
TRACKING_PROVIDERS = Table(
    name="TrackingProviders",
    env="TRACKING_PROVIDERS_TABLE",
    partition_key="providerId",
    description="Registered carrier tracking providers (EasyPost, AfterShip) and their webhook secrets.",
)
SUBSCRIPTIONS = Table(
    name="Subscriptions",
    env="SUBSCRIPTIONS_TABLE",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expiresAt",
    description="The retailer's webhook subscriptions and every event delivery to each, with its attempts.",
)
ANALYTICS = Table(
    name="Analytics",
    env="ANALYTICS_TABLE",
    partition_key="pk",
    sort_key="sk",
    description="Order analytics: counters per scope (all, channel, warehouse, region) and day, and what "
    "each order last contributed to them.",
)
IDEMPOTENCY = Table(
    name="Idempotency",
    env="IDEMPOTENCY_TABLE",
    partition_key="id",
    ttl_attribute="expiration",
    description="Powertools idempotency records for webhook deliveries and stock adjustments.",
    retain_on_delete=False,
)

TRACKING_LINK_KEY = Secret(
    name="TrackingLinkKey",
    env="TRACKING_LINK_KEY_SECRET",
    description="The HMAC-SHA256 key of the signed, expiring links to the customer tracking page.",
)
# The console's own API key: a staff member signed in with a token is counted against it (usage plan).
CONSOLE_API_KEY = Secret(
    name="ConsoleApiKey",
    env="CONSOLE_API_KEY_SECRET",
    description="The value of the console's API key: requests authorized by a staff token use it.",
    not_rotated_because="It is the value of an API Gateway API key (the stack makes the key from it): a new "
    "value takes a stack update to reach the key, so it is changed on purpose, not on a schedule.",
)
SECRETS: dict[str, Secret] = {s.name: s for s in (TRACKING_LINK_KEY, CONSOLE_API_KEY)}

# Staff sign-in to the console (the stack's Cognito user pool; the hosted UI).
STAFF_POOL = UserPool(
    name="Staff",
    description="The retailer's staff: users created by an administrator, who sign in to the console.",
    issuer_env="STAFF_POOL_ISSUER",
    jwks_url_env="STAFF_POOL_JWKS_URL",
    client_id_env="STAFF_POOL_CLIENT_ID",
)
USER_POOLS: dict[str, UserPool] = {p.name: p for p in (STAFF_POOL,)}
# Authorizes every route that needs an API key: an `x-api-key` (checked by the usage plan) or a staff
# member's access token from the pool.
API_AUTHORIZER = "ApiAuthorizer"

# POST /track/lookup is public: a customer proving an order with its number and e-mail or postal code.
TRACKING_LOOKUP_THROTTLE = Throttle(rate_per_second=5, burst=10)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        ORDERS,
        INVENTORY,
        CHANNELS,
        DELIVERIES,
        RETURNS,
        TRACKING_PROVIDERS,
        SUBSCRIPTIONS,
        ANALYTICS,
        IDEMPOTENCY,
    )
}

# Selling Partner API notifications are sent to SQS by this Amazon account
# (SP-API Notifications API guide, "Grant Selling Partner API permission to write to your SQS queue").
SPAPI_NOTIFICATIONS_ACCOUNT = "437568002678"
AMAZON_INTAKE_TIMEOUT_SECONDS = 60

AMAZON_NOTIFICATIONS = Queue(
    name="AmazonNotifications",
    description="SP-API ORDER_CHANGE notifications for every registered Amazon seller.",
    # AWS's advice for a Lambda event source: at least six times the function's timeout.
    visibility_timeout_seconds=6 * AMAZON_INTAKE_TIMEOUT_SECONDS,
    sender_accounts=(SPAPI_NOTIFICATIONS_ACCOUNT,),
)

WEBHOOK_FANOUT_TIMEOUT_SECONDS = 30
WEBHOOK_SENDER_TIMEOUT_SECONDS = 60
WEBHOOK_EVENTS = Queue(
    name="WebhookEvents",
    description="Every OMS event, to be matched against the webhook subscriptions.",
    visibility_timeout_seconds=6 * WEBHOOK_FANOUT_TIMEOUT_SECONDS,
)
WEBHOOK_DELIVERIES = Queue(
    name="WebhookDeliveries",
    description="One message per delivery attempt, delayed until it is due (SQS delays 15 minutes at "
    "most: a message for a later attempt is sent on again until its time).",
    visibility_timeout_seconds=6 * WEBHOOK_SENDER_TIMEOUT_SECONDS,
    env="WEBHOOK_DELIVERIES_QUEUE_URL",
)


# Customer e-mails ---------------------------------------------------------------------------------
CUSTOMER_NOTIFIER_TIMEOUT_SECONDS = 30

CUSTOMER_NOTIFICATIONS = Queue(
    name="CustomerNotifications",
    description="The domain events that may mean an e-mail to the order's customer.",
    visibility_timeout_seconds=6 * CUSTOMER_NOTIFIER_TIMEOUT_SECONDS,
)

# Order analytics ----------------------------------------------------------------------------------
ANALYTICS_AGGREGATOR_TIMEOUT_SECONDS = 60

ANALYTICS_EVENTS = Queue(
    name="AnalyticsEvents",
    description="The order, shipment, backorder and return events the analytics are aggregated from.",
    visibility_timeout_seconds=6 * ANALYTICS_AGGREGATOR_TIMEOUT_SECONDS,
)

QUEUES: dict[str, Queue] = {
    q.name: q
    for q in (
        AMAZON_NOTIFICATIONS,
        WEBHOOK_EVENTS,
        WEBHOOK_DELIVERIES,
        CUSTOMER_NOTIFICATIONS,
        ANALYTICS_EVENTS,
    )
}

OMS_EVENTS = EventBus(
    name="OmsEvents",
    env="EVENT_BUS_NAME",
    description="Domain events (docs/events.md) for the retailer's systems: orders, shipments, tracking, "
    "backorders, stock levels, returns.",
)
BUSES: dict[str, EventBus] = {b.name: b for b in (OMS_EVENTS,)}

WEBHOOK_EVENTS_RULE = BusRule(
    name="WebhookEvents",
    bus="OmsEvents",
    queue=WEBHOOK_EVENTS.name,
    description="Every OMS event, for the outbound webhooks.",
)

# Outbound webhooks. Seconds to wait after each failed attempt: 8 attempts over 27.6 hours (the
# schedule Svix, the Standard Webhooks authors, use), then the delivery is dead-lettered.
WEBHOOK_DELIVERY = {
    "WEBHOOK_RETRY_SCHEDULE": "5,300,1800,7200,18000,36000,36000",
    "WEBHOOK_TIMEOUT_SECONDS": "10",
}

CUSTOMER_EMAIL_EVENTS = BusRule(
    name="CustomerEmailEvents",
    bus=OMS_EVENTS.name,
    queue=CUSTOMER_NOTIFICATIONS.name,
    # Each may mean an e-mail (shared/logic/notifications.py decides which): the order confirmed
    # (its first status after RECEIVED), a shipment shipped, a shipment delivered, a refund issued.
    event_types=("order.status_changed", "fulfillment.shipped", "fulfillment.delivered", "return.refunded"),
    description="Copies the events customers are e-mailed about to the CustomerNotifications queue.",
)
ANALYTICS_EVENTS_RULE = BusRule(
    name="AnalyticsEvents",
    bus=OMS_EVENTS.name,
    queue=ANALYTICS_EVENTS.name,
    # Every event that changes what an order contributes (shared/logic/analytics.py): not tracking
    # updates (a carrier exception comes as fulfillment.exception) nor stock levels.
    event_types=(
        "order.created",
        "order.status_changed",
        "order.cancelled",
        "fulfillment.planned",
        "fulfillment.shipped",
        "fulfillment.delivered",
        "fulfillment.exception",
        "backorder.created",
        "backorder.filled",
        "backorder.expired",
        "return.authorized",
        "return.received",
        "return.refunded",
    ),
    description="Copies the events the order analytics are aggregated from to the AnalyticsEvents queue.",
)
RULES: dict[str, BusRule] = {
    r.name: r for r in (WEBHOOK_EVENTS_RULE, CUSTOMER_EMAIL_EVENTS, ANALYTICS_EVENTS_RULE)
}

EMAIL_TEMPLATES: dict[str, EmailTemplate] = {
    t.name: t
    for t in (
        EmailTemplate(
            name="OrderConfirmed",
            env="ORDER_CONFIRMED_TEMPLATE",
            file_stem="order_confirmed",
            description="The order was accepted: its stock is reserved, or it waits for a restock.",
        ),
        EmailTemplate(
            name="OrderShipped",
            env="ORDER_SHIPPED_TEMPLATE",
            file_stem="order_shipped",
            description="A shipment left the warehouse: carrier, tracking number, a signed tracking link.",
        ),
        EmailTemplate(
            name="OrderDelivered",
            env="ORDER_DELIVERED_TEMPLATE",
            file_stem="order_delivered",
            description="A shipment was delivered.",
        ),
        EmailTemplate(
            name="RefundIssued",
            env="REFUND_ISSUED_TEMPLATE",
            file_stem="refund_issued",
            description="A return's refund was made through the channel: amount and currency.",
        ),
    )
}
# The customer tracking page's URL (`<API base URL>/track`), for the functions that link to it.
TRACKING_PAGE_URL_ENV = "TRACKING_PAGE_URL"

WORKFLOW_TIMINGS = {
    # Seconds. The warehouse must report within the timeout; PICKED/PACKED events are heartbeats.
    "FULFILLMENT_TIMEOUT_SECONDS": str(7 * 24 * 3600),
    "FULFILLMENT_HEARTBEAT_SECONDS": str(3 * 24 * 3600),
    "DELIVERY_TIMEOUT_SECONDS": str(30 * 24 * 3600),
}

RETURN_TIMINGS = {
    # Seconds. Goods not received within the timeout: the return EXPIRED. The poll: how often the
    # return workflow looks whether its exchange order's own workflow has reserved it.
    "RETURN_RECEIPT_TIMEOUT_SECONDS": str(30 * 24 * 3600),
    "EXCHANGE_POLL_SECONDS": "2",
}
REFUND_RETRIES = {"REFUND_ATTEMPTS": "4", "REFUND_RETRY_BASE_SECONDS": "1"}

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            name="ApiInfo",
            handler="functions.api_info.handler.lambda_handler",
            description="GET /health, the OpenAPI document and its Swagger UI page.",
        ),
        Function(
            name=API_AUTHORIZER,
            handler="functions.api_authorizer.handler.lambda_handler",
            description="Authorizes staff API calls: an x-api-key, or a Cognito access token of the staff "
            "pool (counted against the console's API key).",
            secrets=(CONSOLE_API_KEY.name,),
            verifies_tokens_of=(STAFF_POOL.name,),
        ),
        Function(
            name="ChannelsApi",
            handler="functions.channels_api.handler.lambda_handler",
            description="Registers sales channels and tracking providers; shows their archived deliveries.",
            tables={"Channels": "write", "TrackingProviders": "write", "Deliveries": "read"},
            # The customer e-mail settings: a channel's sender must be verified in SES.
            checks_email_identities=True,
        ),
        Function(
            name="InventoryApi",
            handler="functions.inventory_api.handler.lambda_handler",
            description="Warehouses, stock levels, adjustments and the stock ledger; wakes backorders.",
            tables={"Inventory": "write", "Orders": "write", "Idempotency": "write"},
            workflows={"OrderWorkflow": ("callback",)},
        ),
        Function(
            name="Intake",
            handler="functions.intake.handler.lambda_handler",
            description="Channel order webhooks and replays: verify, archive, de-duplicate, store, start.",
            tables={"Channels": "read", "Deliveries": "write", "Orders": "write", "Idempotency": "write"},
            workflows={"OrderWorkflow": ("start", "callback")},
            settings=WORKFLOW_TIMINGS,
        ),
        Function(
            name="AmazonIntake",
            handler="functions.amazon_intake.handler.lambda_handler",
            description="Amazon ORDER_CHANGE notifications: fetch the order from SP-API, then as Intake.",
            tables={"Channels": "read", "Deliveries": "write", "Orders": "write", "Idempotency": "write"},
            workflows={"OrderWorkflow": ("start", "callback")},
            timeout_seconds=AMAZON_INTAKE_TIMEOUT_SECONDS,
            settings=WORKFLOW_TIMINGS,
            queue_source=QueueSource(AMAZON_NOTIFICATIONS.name, batch_size=5),
        ),
        Function(
            name="OrdersApi",
            handler="functions.orders_api.handler.lambda_handler",
            description="Order queries and cancellation; signed links to the customer tracking page; "
            "an order's workflow execution.",
            tables={"Orders": "write", "Returns": "read"},
            workflows={"OrderWorkflow": ("callback", "observe")},
            secrets=(TRACKING_LINK_KEY.name,),
        ),
        Function(
            name="TrackingPage",
            handler="functions.tracking_page.handler.lambda_handler",
            description="The customer tracking page and its lookup: by order number, or by a signed link.",
            tables={"Orders": "read", "Returns": "read"},
            secrets=(TRACKING_LINK_KEY.name,),
        ),
        Function(
            name="ReturnsApi",
            handler="functions.returns_api.handler.lambda_handler",
            description="Return authorization under the channel's policy, receipts, return queries.",
            tables={
                "Orders": "read",
                "Returns": "write",
                "Channels": "read",
                "Inventory": "read",
                "Idempotency": "write",
            },
            workflows={"ReturnWorkflow": ("start", "callback")},
            settings=RETURN_TIMINGS,
        ),
        Function(
            name="SourcingApi",
            handler="functions.sourcing_api.handler.lambda_handler",
            description="Routing without reserving: an order's plan now, and simulations of other rules.",
            tables={"Orders": "read", "Inventory": "read", "Channels": "read"},
            memory_mb=512,
            timeout_seconds=29,
        ),
        Function(
            name="FulfillmentEvents",
            handler="functions.fulfillment_events.handler.lambda_handler",
            description="Warehouse and carrier callbacks that move an order's workflow on.",
            tables={"Orders": "write", "Inventory": "write"},
            workflows={"OrderWorkflow": ("callback",)},
        ),
        Function(
            name="TrackingWebhooks",
            handler="functions.tracking_webhooks.handler.lambda_handler",
            description="Carrier tracking webhooks: verify, archive, keep each shipment's tracking, "
            "deliver and flag by it.",
            tables={
                "TrackingProviders": "read",
                "Deliveries": "write",
                "Orders": "write",
                "Idempotency": "write",
            },
            workflows={"OrderWorkflow": ("callback",)},
        ),
        Function(
            name="EventPublisher",
            handler="functions.event_publisher.handler.lambda_handler",
            description="The outbox: committed changes of orders, returns and stock, published as domain "
            "events on the bus.",
            # Inventory: the SKU's locations, threshold and last announced level, read for stock levels.
            tables={"Inventory": "write"},
            stream_source=StreamSource(tables=("Orders", "Returns", "Inventory")),
            publishes_to=(OMS_EVENTS.name,),
            timeout_seconds=60,
        ),
        Function(
            name="SubscriptionsApi",
            handler="functions.subscriptions_api.handler.lambda_handler",
            description="The retailer's webhook subscriptions: register, list, delete; deliveries and "
            "redelivery of dead letters.",
            tables={"Subscriptions": "write"},
            sends_to=(WEBHOOK_DELIVERIES.name,),
        ),
        Function(
            name="WebhookFanout",
            handler="functions.webhook_fanout.handler.lambda_handler",
            description="Outbound webhooks: each OMS event becomes one delivery per matching subscription.",
            tables={"Subscriptions": "write"},
            queue_source=QueueSource(WEBHOOK_EVENTS.name, batch_size=10),
            sends_to=(WEBHOOK_DELIVERIES.name,),
            timeout_seconds=WEBHOOK_FANOUT_TIMEOUT_SECONDS,
        ),
        Function(
            name="WebhookSender",
            handler="functions.webhook_sender.handler.lambda_handler",
            description="Outbound webhooks: POSTs each due delivery signed per Standard Webhooks; "
            "schedules the retry or dead-letters it.",
            tables={"Subscriptions": "write"},
            queue_source=QueueSource(WEBHOOK_DELIVERIES.name, batch_size=10),
            sends_to=(WEBHOOK_DELIVERIES.name,),
            settings=WEBHOOK_DELIVERY,
            timeout_seconds=WEBHOOK_SENDER_TIMEOUT_SECONDS,
        ),
        Function(
            name="CustomerNotifier",
            handler="functions.customer_notifier.handler.lambda_handler",
            description="E-mails the order's customer through the channel's SES sender: confirmed, "
            "shipped, delivered, refunded; once per event.",
            tables={"Orders": "read", "Channels": "read", "Idempotency": "write"},
            secrets=(TRACKING_LINK_KEY.name,),
            queue_source=QueueSource(CUSTOMER_NOTIFICATIONS.name, batch_size=10),
            sends_email=tuple(EMAIL_TEMPLATES),
            links_to_tracking_page=True,
            timeout_seconds=CUSTOMER_NOTIFIER_TIMEOUT_SECONDS,
        ),
        Function(
            name="AnalyticsAggregator",
            handler="functions.analytics_aggregator.handler.lambda_handler",
            description="Order analytics: each order event brings the order's counters up to date "
            "(its contribution now, in place of the one applied before).",
            tables={"Orders": "read", "Returns": "read", "Analytics": "write"},
            queue_source=QueueSource(ANALYTICS_EVENTS.name, batch_size=10),
            timeout_seconds=ANALYTICS_AGGREGATOR_TIMEOUT_SECONDS,
        ),
        Function(
            name="AnalyticsApi",
            handler="functions.analytics_api.handler.lambda_handler",
            description="Order analytics read from the daily aggregates: summary, timeseries, CSV export, "
            "top warehouses by region.",
            tables={"Analytics": "read"},
        ),
        Function(
            name="AcceptOrder",
            handler="functions.accept_order.handler.lambda_handler",
            description="Workflow step: validates a new order and reserves its shipments' stock atomically.",
            tables={"Orders": "write", "Inventory": "write", "Channels": "read"},
            settings={"BACKORDER_DAY_SECONDS": "86400"},
            timeout_seconds=30,
        ),
        Function(
            name="ReserveInventory",
            handler="functions.reserve_inventory.handler.lambda_handler",
            description="Workflow step: a restocked backorder sourced again, its stock reserved atomically.",
            tables={"Orders": "write", "Inventory": "write", "Channels": "read"},
            settings={"BACKORDER_DAY_SECONDS": "86400"},
            timeout_seconds=30,
        ),
        Function(
            name="AwaitEvent",
            handler="functions.await_event.handler.lambda_handler",
            description="Workflow step: parks the task token until the warehouse or carrier reports.",
            tables={"Orders": "write"},
            workflows={"OrderWorkflow": ("callback",)},
        ),
        Function(
            name="AwaitRestock",
            handler="functions.await_restock.handler.lambda_handler",
            description="Workflow step: a backordered order waits, its token listed under each short SKU.",
            tables={"Orders": "write", "Inventory": "write"},
            workflows={"OrderWorkflow": ("callback",)},
        ),
        Function(
            name="ConcludeOrder",
            handler="functions.conclude_order.handler.lambda_handler",
            description="Workflow step: every fulfillment ended; reports the order's outcome.",
            tables={"Orders": "read"},
        ),
        Function(
            name="Compensate",
            handler="functions.compensate.handler.lambda_handler",
            description="Workflow step: releases what an order or one fulfillment holds, records why.",
            tables={"Orders": "write", "Inventory": "write", "Channels": "read"},
            workflows={"OrderWorkflow": ("callback",)},
            timeout_seconds=30,
        ),
        Function(
            name="AwaitReturn",
            handler="functions.await_return.handler.lambda_handler",
            description="Return workflow step: parks the task token on the return until its goods arrive.",
            tables={"Returns": "write"},
            workflows={"ReturnWorkflow": ("callback",)},
        ),
        Function(
            name="RestockReturn",
            handler="functions.restock_return.handler.lambda_handler",
            description="Return workflow step: resellable units back on hand, damaged ones recorded.",
            tables={"Returns": "write", "Inventory": "write", "Orders": "write"},
            workflows={"OrderWorkflow": ("callback",)},
            timeout_seconds=30,
        ),
        Function(
            name="PlaceExchange",
            handler="functions.place_exchange.handler.lambda_handler",
            description="Return workflow step: creates the exchange order and starts its order workflow.",
            tables={"Returns": "write", "Orders": "write"},
            workflows={"OrderWorkflow": ("start",)},
            settings=WORKFLOW_TIMINGS,
        ),
        Function(
            name="CheckExchange",
            handler="functions.check_exchange.handler.lambda_handler",
            description="Return workflow step: whether the exchange order was reserved, or cannot be.",
            tables={"Returns": "write", "Orders": "read"},
        ),
        Function(
            name="RefundReturn",
            handler="functions.refund_return.handler.lambda_handler",
            description="Return workflow step: records the refund and sends it through the channel's port.",
            tables={"Returns": "write", "Orders": "write", "Channels": "read"},
            settings=REFUND_RETRIES,
            timeout_seconds=120,
        ),
        Function(
            name="ConcludeReturn",
            handler="functions.conclude_return.handler.lambda_handler",
            description="Return workflow step: closes, expires or fails the return, undoing what it held.",
            tables={"Returns": "write", "Orders": "write"},
        ),
    )
}

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "ApiInfo", api_key_required=False),
    # Public: a browser opening the Swagger UI page sends no API key, and the page fetches the document.
    Route("GET", "/openapi.json", "ApiInfo", api_key_required=False),
    Route("GET", "/swagger", "ApiInfo", api_key_required=False),
    Route("GET", "/channels", "ChannelsApi"),
    Route("PUT", "/channels/{channelId}", "ChannelsApi"),
    Route("GET", "/channels/{channelId}", "ChannelsApi"),
    Route("GET", "/channels/{channelId}/deliveries", "ChannelsApi"),
    Route("GET", "/channels/{channelId}/deliveries/{deliveryId}", "ChannelsApi"),
    Route("POST", "/channels/{channelId}/replay", "Intake"),
    Route("PUT", "/channels/{channelId}/notifications", "ChannelsApi"),
    Route("GET", "/channels/{channelId}/notifications", "ChannelsApi"),
    Route("POST", "/webhooks/{channelId}", "Intake", api_key_required=False),
    Route("PUT", "/tracking-providers/{providerId}", "ChannelsApi"),
    Route("GET", "/tracking-providers", "ChannelsApi"),
    Route("GET", "/tracking-providers/{providerId}", "ChannelsApi"),
    Route("GET", "/tracking-providers/{providerId}/deliveries", "ChannelsApi"),
    Route("GET", "/tracking-providers/{providerId}/deliveries/{deliveryId}", "ChannelsApi"),
    Route("POST", "/tracking/{providerId}/webhooks", "TrackingWebhooks", api_key_required=False),
    Route("GET", "/orders", "OrdersApi"),
    Route("GET", "/orders/{orderId}", "OrdersApi"),
    Route("POST", "/orders/{orderId}/cancel", "OrdersApi"),
    Route("GET", "/orders/{orderId}/workflow", "OrdersApi"),
    Route("POST", "/orders/{orderId}/tracking-link", "OrdersApi"),
    # Public: the customer's page (a browser sends no API key) and its lookup, which proves the order.
    Route("GET", "/track", "TrackingPage", api_key_required=False),
    Route("POST", "/track/lookup", "TrackingPage", api_key_required=False, throttle=TRACKING_LOOKUP_THROTTLE),
    Route("POST", "/fulfillments/{fulfillmentId}/events", "FulfillmentEvents"),
    Route("POST", "/sourcing/plan", "SourcingApi"),
    Route("POST", "/sourcing/simulations", "SourcingApi"),
    Route("PUT", "/warehouses/{warehouseId}", "InventoryApi"),
    Route("GET", "/warehouses", "InventoryApi"),
    Route("PUT", "/inventory/{sku}/locations/{warehouseId}", "InventoryApi"),
    Route("GET", "/inventory", "InventoryApi"),
    Route("GET", "/inventory/{sku}", "InventoryApi"),
    Route("POST", "/inventory/{sku}/locations/{warehouseId}/adjustments", "InventoryApi"),
    Route("POST", "/stock-counts", "InventoryApi"),
    Route("PUT", "/inventory/{sku}/settings", "InventoryApi"),
    Route("GET", "/inventory/{sku}/ledger", "InventoryApi"),
    Route("POST", "/orders/{orderId}/returns", "ReturnsApi"),
    Route("GET", "/returns", "ReturnsApi"),
    Route("GET", "/returns/{returnId}", "ReturnsApi"),
    Route("POST", "/returns/{returnId}/events", "ReturnsApi"),
    Route("PUT", "/subscriptions/{subscriptionId}", "SubscriptionsApi"),
    Route("GET", "/subscriptions", "SubscriptionsApi"),
    Route("GET", "/subscriptions/{subscriptionId}", "SubscriptionsApi"),
    Route("DELETE", "/subscriptions/{subscriptionId}", "SubscriptionsApi"),
    Route("GET", "/subscriptions/{subscriptionId}/deliveries", "SubscriptionsApi"),
    Route("POST", "/subscriptions/{subscriptionId}/redeliver", "SubscriptionsApi"),
    Route("GET", "/analytics/summary", "AnalyticsApi"),
    Route("GET", "/analytics/timeseries", "AnalyticsApi"),
    Route("GET", "/analytics/metrics", "AnalyticsApi"),
    Route("GET", "/analytics/export", "AnalyticsApi"),
    Route("GET", "/analytics/warehouses", "AnalyticsApi"),
)

ORDER_WORKFLOW = Workflow(
    name="OrderWorkflow",
    env="ORDER_WORKFLOW_ARN",
    definition_file=WORKFLOWS_DIR / "order.asl.json",
    function_arns={
        "AcceptOrderArn": "AcceptOrder",
        "ReserveInventoryArn": "ReserveInventory",
        "AwaitEventArn": "AwaitEvent",
        "CompensateArn": "Compensate",
        "ConcludeOrderArn": "ConcludeOrder",
        "AwaitRestockArn": "AwaitRestock",
    },
)

RETURN_WORKFLOW = Workflow(
    name="ReturnWorkflow",
    env="RETURN_WORKFLOW_ARN",
    definition_file=WORKFLOWS_DIR / "return.asl.json",
    function_arns={
        "AwaitReturnArn": "AwaitReturn",
        "RestockReturnArn": "RestockReturn",
        "PlaceExchangeArn": "PlaceExchange",
        "CheckExchangeArn": "CheckExchange",
        "RefundReturnArn": "RefundReturn",
        "ConcludeReturnArn": "ConcludeReturn",
    },
)

WORKFLOWS: dict[str, Workflow] = {w.name: w for w in (ORDER_WORKFLOW, RETURN_WORKFLOW)}

# Values every function gets, in the cloud and locally alike.
COMMON_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "oms",
    "POWERTOOLS_METRICS_NAMESPACE": "OMS",
    # How old a cached setting may be (shared/settings_cache.py): a channel, its e-mail settings,
    # the subscriptions, the warehouses. A change reaches every container within this.
    "SETTINGS_CACHE_SECONDS": "5",
}


def routes_of(function_name: str) -> list[Route]:
    return [r for r in ROUTES if r.function == function_name]


def api_functions() -> list[Function]:
    names = {r.function for r in ROUTES}
    return [f for f in FUNCTIONS.values() if f.name in names]


def dangling_references() -> list[str]:
    """Names used in the blueprint that it does not define (a test keeps this empty)."""
    problems = []
    for function in FUNCTIONS.values():
        problems += [f"{function.name}: no table {t}" for t in function.tables if t not in TABLES]
        problems += [f"{function.name}: no workflow {w}" for w in function.workflows if w not in WORKFLOWS]
        problems += [f"{function.name}: no secret {s}" for s in function.secrets if s not in SECRETS]
        if function.queue_source and function.queue_source.queue not in QUEUES:
            problems.append(f"{function.name}: no queue {function.queue_source.queue}")
        if function.stream_source:
            problems += [
                f"{function.name}: table {t} has no stream"
                for t in function.stream_source.tables
                if t not in TABLES or not TABLES[t].stream
            ]
        problems += [f"{function.name}: no bus {b}" for b in function.publishes_to if b not in BUSES]
        problems += [
            f"{function.name}: no queue {q} with an env to send to"
            for q in function.sends_to
            if q not in QUEUES or not QUEUES[q].env
        ]
        problems += [
            f"{function.name}: no e-mail template {t}"
            for t in function.sends_email
            if t not in EMAIL_TEMPLATES
        ]
        problems += [
            f"{function.name}: no user pool {p}" for p in function.verifies_tokens_of if p not in USER_POOLS
        ]
    problems += [
        f"{r.method} {r.path}: no function {r.function}" for r in ROUTES if r.function not in FUNCTIONS
    ]
    problems += [] if API_AUTHORIZER in FUNCTIONS else [f"no authorizer function {API_AUTHORIZER}"]
    for rule in RULES.values():
        problems += [f"rule {rule.name}: no bus {rule.bus}"] if rule.bus not in BUSES else []
        problems += [f"rule {rule.name}: no queue {rule.queue}"] if rule.queue not in QUEUES else []
    for workflow in WORKFLOWS.values():
        problems += [
            f"{workflow.name}: {placeholder} names no function {name}"
            for placeholder, name in workflow.function_arns.items()
            if name not in FUNCTIONS
        ]
    return problems
