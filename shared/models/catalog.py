"""Channels, warehouses and stock levels: what the retailer configures."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from shared.models.base import Model
from shared.models.limits import DEFAULT_MAX_SHIPMENTS, MAX_SHIPMENTS_LIMIT
from shared.models.refunds import EndpointUrl, ShopifyRefundApi, WooCommerceRefundApi
from shared.signatures import standard_webhook_key


def _to_centimetres(degrees: float) -> float:
    # 7 decimal places is about 1 cm; it also keeps values like 1e-200 inside DynamoDB's number range.
    return round(degrees, 7)


def _not_a_boolean(value: Any) -> Any:
    # pydantic reads true/false as 1/0 in lax mode; JSON numbers must be numbers.
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


NotBoolean = BeforeValidator(_not_a_boolean)
Latitude = Annotated[float, Field(ge=-90, le=90), NotBoolean, AfterValidator(_to_centimetres)]
Longitude = Annotated[float, Field(ge=-180, le=180), NotBoolean, AfterValidator(_to_centimetres)]

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
# As order lines spell SKUs (shared/models/order.py).
ReturnableSku = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^#\s]+$")
]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class FulfillmentLine(Model):
    sku: str
    quantity: int


class SourcingRules(Model):
    """How a channel's orders are routed to warehouses."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    maxShipments: Annotated[
        int,
        Field(ge=1, le=MAX_SHIPMENTS_LIMIT, description="The most shipments one order may be split into"),
        NotBoolean,
    ] = DEFAULT_MAX_SHIPMENTS
    allowedWarehouses: (
        Annotated[
            list[Identifier], Field(min_length=1, max_length=100, json_schema_extra={"uniqueItems": True})
        ]
        | None
    ) = Field(default=None, description="Warehouses this channel's orders may ship from; null: all of them")

    @field_validator("allowedWarehouses")
    @classmethod
    def _no_repeats(cls, ids: list[str] | None) -> list[str] | None:
        if ids is not None and len(set(ids)) != len(ids):
            raise ValueError("lists a warehouse twice")
        return ids


class BackorderMode(StrEnum):
    WAIT = "WAIT"  # keep the order until stock arrives (or maxWaitDays pass)
    REJECT = "REJECT"  # refuse what cannot be shipped now


MAX_BACKORDER_WAIT_DAYS = 365  # a Step Functions Standard execution lasts at most a year


class BackorderPolicy(Model):
    """What happens to this channel's orders that no warehouse can ship now."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: BackorderMode = BackorderMode.WAIT
    maxWaitDays: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_BACKORDER_WAIT_DAYS - 1,
            description="A waiting order still short after this many days is CANCELLED (BACKORDER_EXPIRED)",
        ),
        NotBoolean,
    ] = 14


MAX_WINDOW_DAYS = 365
MAX_NON_RETURNABLE_SKUS = 500


class RefundShipping(StrEnum):
    NEVER = "NEVER"
    IF_DAMAGED = "IF_DAMAGED"  # when any unit came back damaged (the retailer's fault, not the buyer's)
    ALWAYS = "ALWAYS"


class ExchangeShips(StrEnum):
    ON_RECEIPT = "ON_RECEIPT"  # the replacement is placed once the returned goods arrive
    IMMEDIATELY = "IMMEDIATELY"  # placed when the return is authorized


FEE_PERCENT_PATTERN = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"


def _fee_percent(value: object) -> object:
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str) or not re.fullmatch(FEE_PERCENT_PATTERN, value):
        raise ValueError("must be a decimal string from '0' to '100', at most 2 decimals, such as '12.5'")
    return value


FeePercent = Annotated[
    Decimal,
    Field(ge=0, le=100, max_digits=5, decimal_places=2),
    # Sent as a string, as money is: the schema says so (a number would be refused).
    WithJsonSchema(
        {
            "type": "string",
            "pattern": FEE_PERCENT_PATTERN,
            "description": "Percent of the refund kept, e.g. '10'",
        }
    ),
]


class ReturnPolicy(Model):
    """How a channel takes goods back. A channel registered without one gets these defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    windowDays: Annotated[
        int,
        Field(
            ge=0,
            le=MAX_WINDOW_DAYS,
            description="Days after a line's delivery (UTC calendar days) it may be returned; 0: the day "
            "of delivery only",
        ),
        NotBoolean,
    ] = 30
    nonReturnableSkus: Annotated[
        list[ReturnableSku],
        Field(max_length=MAX_NON_RETURNABLE_SKUS, json_schema_extra={"uniqueItems": True}),
    ] = []
    restockingFeePercent: FeePercent = Decimal("0")
    refundShipping: RefundShipping = RefundShipping.NEVER
    exchangeShips: ExchangeShips = ExchangeShips.ON_RECEIPT

    @field_validator("restockingFeePercent", mode="before")
    @classmethod
    def _decimal_string(cls, value: object) -> object:
        return _fee_percent(value)

    @field_validator("nonReturnableSkus")
    @classmethod
    def _no_repeats(cls, skus: list[str]) -> list[str]:
        if len(set(skus)) != len(skus):
            raise ValueError("lists a SKU twice")
        return skus


class ChannelType(StrEnum):
    API = "api"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    AMAZON = "amazon"


Secret = Annotated[str, StringConstraints(min_length=16, max_length=512)]
HttpUrl = Annotated[str, StringConstraints(max_length=512, pattern=r"^https?://[^\s/?#]+[^\s]*$")]
AmazonId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Z0-9]+$")]

# Deliveries signed with the secret a channel had before its last change keep being accepted this long,
# so retries of deliveries made before a rotation are not lost.
SECRET_ROTATION_GRACE_SECONDS = 24 * 3600

SPAPI_TOKEN_ENDPOINT = "https://api.amazon.com/auth/o2/token"


class AmazonSettings(Model):
    """Where and how the OMS fetches orders of one Amazon seller in one marketplace (SP-API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    sellerId: AmazonId
    marketplaceId: AmazonId
    endpoint: HttpUrl = Field(
        description="SP-API regional endpoint, e.g. https://sellingpartnerapi-na.amazon.com"
    )
    tokenEndpoint: HttpUrl = SPAPI_TOKEN_ENDPOINT
    clientId: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    clientSecret: Annotated[str, StringConstraints(min_length=1, max_length=512)]
    refreshToken: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class AmazonSettingsView(Model):
    sellerId: str
    marketplaceId: str
    endpoint: str
    tokenEndpoint: str


class _ChannelIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(max_length=256)] | None = None
    sourcing: SourcingRules = Field(
        default_factory=SourcingRules, description="How this channel's orders are routed to warehouses"
    )
    backorders: BackorderPolicy = Field(
        default_factory=BackorderPolicy,
        description="Whether orders no warehouse can ship now wait for stock, and how long",
    )
    returns: ReturnPolicy = Field(
        default_factory=ReturnPolicy, description="How this channel's customers may return what they got"
    )


class ApiChannelIn(_ChannelIn):
    """The OMS's own format, signed per Standard Webhooks with `webhookSecret` (`whsec_` + base64,
    or any string used as raw bytes). Changing the secret keeps the previous one valid for 24 hours."""

    type: Literal["api"]
    webhookSecret: Secret
    refundUrl: EndpointUrl | None = Field(
        default=None,
        description="Where the OMS sends refunds, signed per Standard Webhooks with `webhookSecret` "
        "(webhook-id = the refund id); omitted: refunds are recorded as MANUAL",
    )

    @field_validator("webhookSecret")
    @classmethod
    def _usable_as_key(cls, secret: str) -> str:
        try:
            standard_webhook_key(secret)
        except ValueError as exc:
            raise ValueError("a whsec_ secret must be followed by valid base64") from exc
        return secret


class ShopifyChannelIn(_ChannelIn):
    """`webhookSecret` is the app's client secret. An app's secret is the same for every shop that
    installs it: set `shopDomain` and deliveries for any other shop are refused."""

    type: Literal["shopify"]
    webhookSecret: Secret
    shopDomain: Annotated[str, StringConstraints(max_length=255, pattern=r"^[a-z0-9][a-z0-9.-]*$")] | None = (
        None
    )
    refundApi: ShopifyRefundApi | None = Field(
        default=None,
        description="The shop's Admin API, to refund returns through; omitted: refunds are MANUAL",
    )


class WooCommerceChannelIn(_ChannelIn):
    """`webhookSecret` is the secret set on the store's webhooks."""

    type: Literal["woocommerce"]
    webhookSecret: Secret
    refundApi: WooCommerceRefundApi | None = Field(
        default=None,
        description="The store's REST API, to refund returns through; omitted: refunds are MANUAL",
    )


class AmazonChannelIn(_ChannelIn):
    """Amazon sends ORDER_CHANGE notifications to the stack's SQS queue; the OMS fetches the orders."""

    type: Literal["amazon"]
    amazon: AmazonSettings


# Discriminated by `type` (validate with `Field(discriminator="type")` or `Body(discriminator="type")`).
ChannelSettings = ApiChannelIn | ShopifyChannelIn | WooCommerceChannelIn | AmazonChannelIn
ChannelIn = Annotated[ChannelSettings, Field(discriminator="type")]


# Lists read by a Scan: a page holds at most `limit` items, perhaps fewer (even none) while more follow.
NEXT_SCAN_PAGE = "Pass as `cursor` for the next page; null when the list is complete"


class ChannelView(Model):
    """A channel as the API shows it: everything but its secrets."""

    channelId: str
    type: ChannelType
    name: str | None = None
    shopDomain: str | None = None
    amazon: AmazonSettingsView | None = None
    sourcing: SourcingRules = Field(default_factory=SourcingRules)
    backorders: BackorderPolicy = Field(default_factory=BackorderPolicy)
    returns: ReturnPolicy = Field(default_factory=ReturnPolicy)
    refundUrl: str | None = None
    refundApiUrl: str | None = Field(
        default=None, description="Where refunds are sent (the shop's admin or the store's URL)"
    )
    previousSecretValidUntil: str | None = Field(
        default=None, description="Until then, deliveries signed with the previous secret are accepted"
    )
    createdAt: str
    updatedAt: str


class ChannelList(Model):
    channels: list[ChannelView]
    nextCursor: str | None = Field(description=NEXT_SCAN_PAGE)


class Channel(Model):
    model_config = ConfigDict(extra="ignore")
    channelId: str
    type: ChannelType
    name: str | None = None
    webhookSecret: str | None = None
    previousWebhookSecret: str | None = None
    previousSecretValidUntil: str | None = None
    shopDomain: str | None = None
    amazon: AmazonSettings | None = None
    sourcing: SourcingRules = Field(default_factory=SourcingRules)
    backorders: BackorderPolicy = Field(default_factory=BackorderPolicy)
    returns: ReturnPolicy = Field(default_factory=ReturnPolicy)
    refundUrl: str | None = None
    refundApi: ShopifyRefundApi | WooCommerceRefundApi | None = None
    createdAt: str
    updatedAt: str

    def secrets(self, now: str) -> list[str]:
        """The secrets a delivery may be signed with now: the current one, then the previous one
        while its grace period lasts."""
        current = [self.webhookSecret] if self.webhookSecret is not None else []
        previous_valid = (
            self.previousWebhookSecret is not None
            and self.previousSecretValidUntil is not None
            and now < self.previousSecretValidUntil
        )
        return current + (
            [self.previousWebhookSecret] if previous_valid and self.previousWebhookSecret else []
        )

    def public_view(self) -> ChannelView:
        view = self.model_dump(exclude={"webhookSecret", "previousWebhookSecret", "refundApi"})
        if isinstance(self.refundApi, ShopifyRefundApi):
            view["refundApiUrl"] = self.refundApi.adminUrl
        elif isinstance(self.refundApi, WooCommerceRefundApi):
            view["refundApiUrl"] = self.refundApi.storeUrl
        return ChannelView.model_validate(view)


MAX_DAILY_ORDER_CAPACITY = 1_000_000
DailyOrderCapacity = Annotated[int, Field(ge=1, le=MAX_DAILY_ORDER_CAPACITY), NotBoolean]


class WarehouseIn(Model):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=r"\S")
    ]
    latitude: Latitude
    longitude: Longitude
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    dailyOrderCapacity: DailyOrderCapacity | None = Field(
        default=None,
        description="Orders this warehouse can take per day; a warehouse at capacity is used only when "
        "no other can ship. Omitted: no limit",
    )


class Warehouse(WarehouseIn):
    model_config = ConfigDict(extra="ignore")
    warehouseId: str
    updatedAt: str


def _omitted_when_none(value: Any) -> bool:
    return value is None


class ListedWarehouse(Warehouse):
    """A warehouse as `GET /warehouses` lists it: with its distance when the list is a ranking."""

    distanceKm: Annotated[float, Field(ge=0)] | None = Field(
        default=None,
        exclude_if=_omitted_when_none,
        description="Only in a ranking: great-circle distance from `origin`, in km to 0.1 km",
    )


OriginSource = Literal["near", "postalCode", "city"]


class Origin(Model):
    """The point warehouses are ranked from, and what it came from."""

    latitude: Latitude
    longitude: Longitude
    source: OriginSource = Field(
        description="near: the point given; postalCode or city: their centre, geocoded offline"
    )
    name: str | None = Field(default=None, description="The place geocoded (a city); null for near")
    region: str | None = Field(
        default=None, description="Its state (US) or GeoNames admin1 code, when known; null for near"
    )
    country: str | None = Field(default=None, description="Its country; null for near")


class WarehouseList(Model):
    warehouses: list[ListedWarehouse]
    origin: Origin | None = Field(
        default=None,
        exclude_if=_omitted_when_none,
        description="Only in a ranking (near, postalCode or city given): the point ranked from",
    )


MAX_UNITS = 10_000_000
Units = Annotated[int, Field(ge=0, le=MAX_UNITS), NotBoolean]


class StockIn(Model):
    model_config = ConfigDict(extra="forbid")
    onHand: Units
    safetyStock: Units | None = Field(
        default=None,
        description="Units never promised to orders (kept for walk-ins, damage, miscounts); "
        "unchanged if not given, 0 for a new location",
    )


class StockLevel(Model):
    """Stock of one SKU in one warehouse."""

    sku: str
    warehouseId: str
    onHand: int = Field(description="Units counted in the warehouse (shipped units have left)")
    reserved: int = Field(description="Units held for orders not shipped yet")
    safetyStock: int = Field(default=0, description="Units never promised")
    available: int = Field(
        description="What can be promised: onHand - reserved - safetyStock, and never below 0"
    )
    buckets: int = Field(
        default=1, description="Items the location's stock is spread over (more for a hot SKU)"
    )


class InventoryView(Model):
    sku: str
    onHand: int
    reserved: int
    safetyStock: int = 0
    available: int = Field(description="Available to promise: the sum over its locations")
    locations: list[StockLevel]


class InventoryList(Model):
    inventory: list[StockLevel]
    nextCursor: str | None = Field(description=NEXT_SCAN_PAGE)
