"""Channels, warehouses and stock levels: what the retailer configures."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

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


class ChannelType(StrEnum):
    API = "api"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"
    AMAZON = "amazon"


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: ChannelType
    webhookSecret: Annotated[str, StringConstraints(min_length=16, max_length=512)]
    name: Annotated[str, StringConstraints(max_length=256)] | None = None

    @field_validator("webhookSecret")
    @classmethod
    def _usable_as_key(cls, secret: str) -> str:
        try:
            standard_webhook_key(secret)
        except ValueError as exc:
            raise ValueError("a whsec_ secret must be followed by valid base64") from exc
        return secret


class ChannelView(BaseModel):
    """A channel as the API shows it: everything but the secret."""

    channelId: str
    type: ChannelType
    name: str | None = None
    createdAt: str
    updatedAt: str


class Channel(BaseModel):
    channelId: str
    type: ChannelType
    name: str | None = None
    webhookSecret: str
    createdAt: str
    updatedAt: str

    def public_view(self) -> ChannelView:
        return ChannelView.model_validate(self.model_dump(exclude={"webhookSecret"}))


class WarehouseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256, pattern=r"\S")
    ]
    latitude: Latitude
    longitude: Longitude
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Warehouse(WarehouseIn):
    model_config = ConfigDict(extra="ignore")
    warehouseId: str
    updatedAt: str


class WarehouseList(BaseModel):
    warehouses: list[Warehouse]


class StockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    onHand: Annotated[int, Field(ge=0, le=10_000_000), NotBoolean]


class StockLevel(BaseModel):
    """Stock of one SKU in one warehouse. available = onHand - reserved, kept as its own attribute
    so a reservation can be one conditional decrement."""

    sku: str
    warehouseId: str
    onHand: int
    reserved: int
    available: int


class InventoryView(BaseModel):
    sku: str
    onHand: int
    reserved: int
    available: int
    locations: list[StockLevel]
