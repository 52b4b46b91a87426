"""The warehouse finder: warehouses ranked by distance from a point, a postal code or a city."""

from __future__ import annotations

import math
import re
from typing import Literal

from shared.errors import InvalidRequest
from shared.logic import geocoding
from shared.logic.sourcing import distance_km
from shared.models.catalog import ListedWarehouse, Origin, Warehouse, WarehouseList
from shared.models.geo import Place

DEFAULT_RANKING_SIZE = 10
PLACE_PARAMETERS = ("near", "postalCode", "city")
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"  # ASCII digits only: float() takes others too
_NEAR = re.compile(rf"^\s*({_NUMBER})\s*,\s*({_NUMBER})\s*$")
NEAR_FORMAT = "latitude,longitude in decimal degrees, e.g. 40.71,-74.01"


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, [{"field": field, "message": message}])


def parse_near(near: str) -> tuple[float, float]:
    """`latitude,longitude` as two finite numbers within their ranges; 400 naming `near` otherwise."""
    match = _NEAR.match(near)
    if match is None:
        raise _invalid("near", f"near must be {NEAR_FORMAT}")
    latitude, longitude = float(match.group(1)), float(match.group(2))
    if not math.isfinite(latitude) or not -90 <= latitude <= 90:
        raise _invalid("near", "near: latitude must be between -90 and 90")
    if not math.isfinite(longitude) or not -180 <= longitude <= 180:
        raise _invalid("near", "near: longitude must be between -180 and 180")
    return latitude, longitude


def origin_of(
    *,
    near: str | None = None,
    postal_code: str | None = None,
    city: str | None = None,
    region: str | None = None,
    country: str | None = None,
) -> Origin | None:
    """The point to rank from, from the query's place parameters; None for the plain list.

    Exactly one kind of place, or none; `country` with a postal code or a city only, `region` with a
    city only. Anything else is 400 naming the parameters at fault.
    """
    given = {"near": near, "postalCode": postal_code, "city": city}
    kinds = [name for name, value in given.items() if value is not None]
    if len(kinds) > 1:
        message = f"give one place to rank from, not {' and '.join(kinds)}"
        raise InvalidRequest(message, [{"field": kind, "message": message} for kind in kinds])
    if region is not None and city is None:
        raise _invalid("region", "region goes with city (it picks among cities of the same name)")
    if near is not None or not kinds:
        if country is not None:
            raise _invalid("country", "country goes with postalCode or city")
        return _point(near) if near is not None else None
    kind = kinds[0]
    if country is None:
        raise _invalid("country", f"country is required with {kind}")
    if postal_code is not None:
        place = geocoding.geocode_postal_code(postal_code, country)
        return _geocoded("postalCode", place, postal_code, country)
    assert city is not None
    return _geocoded("city", geocoding.geocode_city(city, country, region), city, country)


def _point(near: str) -> Origin:
    latitude, longitude = parse_near(near)
    return Origin(latitude=latitude, longitude=longitude, source="near")


def _geocoded(kind: Literal["postalCode", "city"], place: Place | None, value: str, country: str) -> Origin:
    if place is None:
        hint = ""
        if kind == "postalCode" and not geocoding.postal_codes_known(country):
            hint = "; postal codes are known for the US only, give city instead"
        raise _invalid(kind, f"no place found for {kind} {value} in {country}{hint}")
    return Origin(
        latitude=place.latitude,
        longitude=place.longitude,
        source=kind,
        name=place.name,
        region=place.region,
        country=place.country,
    )


def rank(
    warehouses: list[Warehouse], latitude: float, longitude: float, limit: int = DEFAULT_RANKING_SIZE
) -> list[ListedWarehouse]:
    """The `limit` nearest warehouses, nearest first (ties by id), each with its distance (0.1 km)."""
    measured = sorted(
        ((distance_km(latitude, longitude, w.latitude, w.longitude), w) for w in warehouses),
        key=lambda pair: (pair[0], pair[1].warehouseId),
    )
    return [
        ListedWarehouse(**warehouse.model_dump(), distanceKm=round(distance, 1))
        for distance, warehouse in measured[:limit]
    ]


def find(warehouses: list[Warehouse], origin: Origin | None, limit: int | None) -> WarehouseList:
    """The ranking from `origin` (10 warehouses unless `limit` says), or without one every warehouse
    (or the first `limit`) by id."""
    if origin is None:
        by_id = sorted(warehouses, key=lambda w: w.warehouseId)[:limit]
        return WarehouseList(warehouses=[ListedWarehouse(**w.model_dump()) for w in by_id])
    ranked = rank(warehouses, origin.latitude, origin.longitude, limit or DEFAULT_RANKING_SIZE)
    return WarehouseList(warehouses=ranked, origin=origin)
