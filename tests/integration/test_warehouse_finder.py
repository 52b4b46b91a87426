"""GET /warehouses ranks warehouses by distance from a point, a US ZIP code or a city, geocoded offline;
warehouses may declare a daily order capacity."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from shared.logic.sourcing import distance_km
from tests.support.orders import WAREHOUSES, Client

AUSTIN = {"name": "Austin TX", "latitude": 30.2672, "longitude": -97.7431, "country": "US"}
BOSTON = (42.3601, -71.0589)


@pytest.fixture
def three(client: Client) -> Client:
    """wh-east (Newark NJ) and wh-west (Reno NV) as seeded, and wh-south in Austin TX."""
    assert client.call("PUT", "/warehouses/wh-south", AUSTIN)[0] == 201
    return client


def find(client: Client, **query: Any) -> tuple[int, Any]:
    return client.call("GET", "/warehouses?" + urlencode(query) if query else "/warehouses")


def ranked(body: dict[str, Any]) -> list[tuple[str, float]]:
    return [(w["warehouseId"], w["distanceKm"]) for w in body["warehouses"]]


def expected_km(latitude: float, longitude: float, warehouse: dict[str, Any]) -> float:
    return round(distance_km(latitude, longitude, warehouse["latitude"], warehouse["longitude"]), 1)


def test_warehouses_are_ranked_from_a_point_nearest_first(three: Client) -> None:
    status, body = find(three, near=f"{BOSTON[0]},{BOSTON[1]}")

    assert status == 200, body
    assert ranked(body) == [
        ("wh-east", expected_km(*BOSTON, WAREHOUSES["wh-east"])),
        ("wh-south", expected_km(*BOSTON, AUSTIN)),
        ("wh-west", expected_km(*BOSTON, WAREHOUSES["wh-west"])),
    ]
    distances = [km for _, km in ranked(body)]
    assert 290 < distances[0] < 320 and 2700 < distances[1] < 2800 and 3900 < distances[2] < 4100
    assert body["origin"] == {
        "latitude": BOSTON[0],
        "longitude": BOSTON[1],
        "source": "near",
        "name": None,
        "region": None,
        "country": None,
    }
    east = body["warehouses"][0]
    assert {k: east[k] for k in WAREHOUSES["wh-east"]} == WAREHOUSES["wh-east"]  # the whole warehouse


def test_a_point_may_have_spaces_and_signs(three: Client) -> None:
    status, body = find(three, near=" +39.5 , -119.8 ")

    assert status == 200, body
    assert [w for w, _ in ranked(body)] == ["wh-west", "wh-south", "wh-east"]


def test_without_a_place_the_list_is_plain_as_before(three: Client) -> None:
    status, body = find(three)

    assert status == 200
    assert set(body) == {"warehouses"}
    assert [w["warehouseId"] for w in body["warehouses"]] == ["wh-east", "wh-south", "wh-west"]
    assert all("distanceKm" not in w for w in body["warehouses"])


def test_warehouses_are_ranked_from_a_us_zip_code(three: Client) -> None:
    status, body = find(three, postalCode="90012", country="US")  # Los Angeles

    assert status == 200, body
    la = (body["origin"]["latitude"], body["origin"]["longitude"])
    assert abs(la[0] - 34.06) < 0.05 and abs(la[1] + 118.24) < 0.05
    assert {k: body["origin"][k] for k in ("source", "name", "region", "country")} == {
        "source": "postalCode",
        "name": "Los Angeles",
        "region": "CA",
        "country": "US",
    }
    assert ranked(body) == [
        ("wh-west", expected_km(*la, WAREHOUSES["wh-west"])),
        ("wh-south", expected_km(*la, AUSTIN)),
        ("wh-east", expected_km(*la, WAREHOUSES["wh-east"])),
    ]
    assert find(three, postalCode="90012-1234", country="US")[1] == body


def test_warehouses_are_ranked_from_a_city(three: Client) -> None:
    status, body = find(three, city="boston", country="US", region="Massachusetts")

    assert status == 200, body
    assert [w for w, _ in ranked(body)] == ["wh-east", "wh-south", "wh-west"]
    assert {k: body["origin"][k] for k in ("source", "name", "region", "country")} == {
        "source": "city",
        "name": "Boston",
        "region": "MA",
        "country": "US",
    }


def test_a_city_is_found_whatever_its_accents(client: Client) -> None:
    frankfurt = {"name": "Frankfurt", "latitude": 50.1109, "longitude": 8.6821, "country": "DE"}
    assert client.call("PUT", "/warehouses/wh-eu", frankfurt)[0] == 201

    by_accent = find(client, city="München", country="DE")
    by_plain = find(client, city="MUNCHEN", country="DE")

    assert by_accent[0] == 200, by_accent
    assert by_accent == by_plain
    [(nearest, km), *_] = ranked(by_accent[1])
    assert nearest == "wh-eu" and 290 < km < 320
    assert by_accent[1]["origin"]["name"] == "Munich"


def test_a_ranking_holds_ten_warehouses_unless_a_limit_says(client: Client) -> None:
    for n in range(12):
        warehouse = {"name": f"W{n}", "latitude": 10.0 + n, "longitude": 20.0, "country": "US"}
        assert client.call("PUT", f"/warehouses/w{n:02}", warehouse)[0] == 201

    default, limited = find(client, near="10,20")[1], find(client, near="10,20", limit=3)[1]
    plain, plain_limited = find(client)[1], find(client, limit=2)[1]

    assert [w for w, _ in ranked(default)] == [f"w{n:02}" for n in range(10)]
    assert [w for w, _ in ranked(limited)] == ["w00", "w01", "w02"]
    assert len(plain["warehouses"]) == 12 + len(WAREHOUSES)  # the plain list: all unless limited
    assert [w["warehouseId"] for w in plain_limited["warehouses"]] == ["w00", "w01"]


def test_a_ranking_of_no_warehouses_is_empty(oms: Any) -> None:
    response = oms.request("GET", "/warehouses?near=1,2")

    assert response.status == 200
    assert response.json()["warehouses"] == []


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"near": "abc"}, {"near"}),
        ({"near": "42.36"}, {"near"}),
        ({"near": "1,2,3"}, {"near"}),
        ({"near": "1;2"}, {"near"}),
        ({"near": ""}, {"near"}),
        ({"near": "90.5,0"}, {"near"}),
        ({"near": "-91,0"}, {"near"}),
        ({"near": "0,180.01"}, {"near"}),
        ({"near": "0,-181"}, {"near"}),
        ({"near": "nan,0"}, {"near"}),
        ({"near": "0,NaN"}, {"near"}),
        ({"near": "inf,0"}, {"near"}),
        ({"near": "0,-Infinity"}, {"near"}),
        ({"near": "1e1,0"}, {"near"}),
        ({"near": "1" * 400 + ",0"}, {"near"}),
        ({"near": "\u0661,\u0662"}, {"near"}),  # Arabic-Indic digits, which float() would take
        ({"postalCode": "90012"}, {"country"}),
        ({"city": "Boston"}, {"country"}),
        ({"city": "Boston", "region": "MA"}, {"country"}),
        ({"postalCode": "90012", "country": "us"}, {"country"}),
        ({"city": "Boston", "country": "USA"}, {"country"}),
        ({"city": "Boston", "country": ""}, {"country"}),
        ({"country": "US"}, {"country"}),
        ({"near": "1,2", "country": "US"}, {"country"}),
        ({"region": "MA"}, {"region"}),
        ({"postalCode": "90012", "country": "US", "region": "CA"}, {"region"}),
        ({"near": "1,2", "postalCode": "90012", "country": "US"}, {"near", "postalCode"}),
        ({"postalCode": "90012", "city": "Los Angeles", "country": "US"}, {"postalCode", "city"}),
        ({"near": "1,2", "city": "Paris", "country": "FR"}, {"near", "city"}),
        ({"postalCode": "", "country": "US"}, {"postalCode"}),
        ({"city": "", "country": "US"}, {"city"}),
        ({"city": "x" * 257, "country": "US"}, {"city"}),
        ({"near": "1,2", "limit": "0"}, {"limit"}),
        ({"near": "1,2", "limit": "101"}, {"limit"}),
        ({"limit": "ten"}, {"limit"}),
    ],
)
def test_a_malformed_finder_query_is_400_naming_the_parameter(
    client: Client, query: dict[str, str], fields: set[str]
) -> None:
    status, body = find(client, **query)

    assert status == 400, body
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert {problem["field"] for problem in body["error"]["details"]} == fields


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"postalCode": "00000", "country": "US"}, "postalCode", "no place found for postalCode 00000 in US"),
        ({"postalCode": "1234", "country": "US"}, "postalCode", "no place found for postalCode 1234 in US"),
        (
            {"postalCode": "75001", "country": "FR"},
            "postalCode",
            "no place found for postalCode 75001 in FR; postal codes are known for the US only, "
            "give city instead",
        ),
        ({"city": "Atlantis", "country": "US"}, "city", "no place found for city Atlantis in US"),
        ({"city": "Paris", "country": "ZZ"}, "city", "no place found for city Paris in ZZ"),
    ],
)
def test_a_place_that_cannot_be_geocoded_is_400_naming_it(
    client: Client, query: dict[str, str], field: str, message: str
) -> None:
    status, body = find(client, **query)

    assert status == 400, body
    assert body["error"] == {
        "code": "VALIDATION_ERROR",
        "message": message,
        "details": [{"field": field, "message": message}],
    }


# -- daily order capacity


def listed(client: Client) -> dict[str, Any]:
    status, body = client.call("GET", "/warehouses")
    assert status == 200, body
    return {w["warehouseId"]: w for w in body["warehouses"]}


def test_a_daily_order_capacity_is_stored_and_shown(client: Client) -> None:
    warehouse = {**AUSTIN, "dailyOrderCapacity": 500}

    status, created = client.call("PUT", "/warehouses/wh-south", warehouse)
    warehouses = listed(client)
    ranking = {w["warehouseId"]: w for w in find(client, near="30,-97")[1]["warehouses"]}

    assert (status, created["dailyOrderCapacity"]) == (201, 500)
    assert warehouses["wh-south"]["dailyOrderCapacity"] == ranking["wh-south"]["dailyOrderCapacity"] == 500
    assert warehouses["wh-east"]["dailyOrderCapacity"] is None  # warehouses without one stay valid

    status, replaced = client.call("PUT", "/warehouses/wh-south", AUSTIN)  # a PUT replaces the warehouse
    assert (status, replaced["dailyOrderCapacity"]) == (200, None)
    assert listed(client)["wh-south"]["dailyOrderCapacity"] is None


@pytest.mark.parametrize("capacity", [1, 1_000_000])
def test_a_daily_order_capacity_may_be_anything_from_one_to_a_million(client: Client, capacity: int) -> None:
    status, body = client.call("PUT", "/warehouses/wh-south", {**AUSTIN, "dailyOrderCapacity": capacity})

    assert (status, body["dailyOrderCapacity"]) == (201, capacity)


@pytest.mark.parametrize("capacity", [0, -1, 1_000_001, True, False, 2.5, "many", [], {}])
def test_a_daily_order_capacity_must_be_a_whole_number_from_one_to_a_million(
    client: Client, capacity: Any
) -> None:
    status, body = client.call("PUT", "/warehouses/wh-south", {**AUSTIN, "dailyOrderCapacity": capacity})

    assert status == 400, body
    assert [problem["field"] for problem in body["error"]["details"]] == ["dailyOrderCapacity"]
    assert "wh-south" not in listed(client)
