"""Where a place is: what the offline geocoder finds, and how an address was located."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from shared.models.base import Model
from shared.models.catalog import Latitude, Longitude

LocationSource = Literal["address", "postalCode", "city"]


class Place(Model):
    """A place the geocoder knows: a US ZIP code's centre or a city's."""

    model_config = ConfigDict(frozen=True)
    latitude: Latitude
    longitude: Longitude
    name: str = Field(description="The city, as the data names it")
    region: str | None = Field(
        default=None, description="The state (US) or the GeoNames admin1 code elsewhere, when known"
    )
    country: str


class Location(Model):
    """Where an address is, and what told it; `problem` says what was tried when it could not be located."""

    model_config = ConfigDict(frozen=True)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    source: LocationSource | None = Field(
        default=None,
        description="address: its own coordinates; postalCode or city: geocoded offline from them",
    )
    problem: str | None = None

    @model_validator(mode="after")
    def _located_or_why_not(self) -> Location:
        located = self.latitude is not None and self.longitude is not None and self.source is not None
        unlocated = self.latitude is None and self.longitude is None and self.source is None
        if not (located or unlocated):
            raise ValueError("latitude, longitude and source go together")
        if unlocated and not self.problem:
            raise ValueError("a location that was not found says why (problem)")
        return self

    @property
    def located(self) -> bool:
        return self.source is not None
