"""Channels, warehouses and stock levels: what the retailer configures."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared.signatures import standard_webhook_key

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


class Channel(BaseModel):
    channelId: str
    type: ChannelType
    name: str | None = None
    webhookSecret: str
    createdAt: str
    updatedAt: str

    def public_view(self) -> dict[str, object]:
        """Everything but the secret."""
        return self.model_dump(mode="json", exclude={"webhookSecret"})


class WarehouseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Warehouse(WarehouseIn):
    model_config = ConfigDict(extra="ignore")
    warehouseId: str
    updatedAt: str


class StockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    onHand: Annotated[int, Field(ge=0, le=10_000_000)]


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
