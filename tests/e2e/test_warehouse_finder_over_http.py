"""The warehouse finder as a client reaches it over HTTP: by a point and by a US ZIP code."""

from __future__ import annotations

from typing import Any

import requests

from shared.logic.sourcing import distance_km
from tests.e2e.conftest import API_KEY, RunningOMS
from tests.support.orders import WAREHOUSES, Client


def find(running_oms: RunningOMS, **query: str) -> requests.Response:
    headers = {"x-api-key": API_KEY}
    return requests.get(running_oms.api_url + "/warehouses", params=query, headers=headers, timeout=30)


def km_from(latitude: float, longitude: float, warehouse_id: str) -> float:
    warehouse = WAREHOUSES[warehouse_id]
    return round(distance_km(latitude, longitude, warehouse["latitude"], warehouse["longitude"]), 1)


def seeded(body: dict[str, Any]) -> list[tuple[str, float]]:
    """The seeded warehouses in the ranking (other tests of the session may add their own)."""
    return [(w["warehouseId"], w["distanceKm"]) for w in body["warehouses"] if w["warehouseId"] in WAREHOUSES]


def test_the_nearest_warehouses_to_a_point_come_first(running_oms: RunningOMS, client: Client) -> None:
    response = find(running_oms, near="42.3601,-71.0589")  # Boston

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["origin"]["source"] == "near"
    assert body["warehouses"][0]["warehouseId"] == "wh-east"
    assert seeded(body) == [
        ("wh-east", km_from(42.3601, -71.0589, "wh-east")),
        ("wh-west", km_from(42.3601, -71.0589, "wh-west")),
    ]


def test_the_nearest_warehouses_to_a_zip_code_come_first(running_oms: RunningOMS, client: Client) -> None:
    response = find(running_oms, postalCode="89501", country="US")  # Reno NV

    assert response.status_code == 200, response.text
    body = response.json()
    origin = body["origin"]
    assert (origin["source"], origin["name"], origin["region"]) == ("postalCode", "Reno", "NV")
    assert body["warehouses"][0]["warehouseId"] == "wh-west"
    assert seeded(body) == [
        ("wh-west", km_from(origin["latitude"], origin["longitude"], "wh-west")),
        ("wh-east", km_from(origin["latitude"], origin["longitude"], "wh-east")),
    ]
    assert body["warehouses"][0]["distanceKm"] < 10


def test_an_unknown_zip_code_is_400_naming_it_over_http(running_oms: RunningOMS, client: Client) -> None:
    response = find(running_oms, postalCode="00000", country="US")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == [
        {"field": "postalCode", "message": "no place found for postalCode 00000 in US"}
    ]
