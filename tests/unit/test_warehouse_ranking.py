"""The finder's logic without the API: ranking, reading `near`, and which parameters go together."""

from __future__ import annotations

import pytest

from shared.errors import InvalidRequest
from shared.logic.warehouses import find, origin_of, parse_near, rank
from shared.models.catalog import Origin, Warehouse


def warehouse(warehouse_id: str, latitude: float, longitude: float) -> Warehouse:
    return Warehouse(
        warehouseId=warehouse_id,
        name=warehouse_id,
        latitude=latitude,
        longitude=longitude,
        country="US",
        updatedAt="2026-01-01T00:00:00Z",
    )


def test_the_nearest_comes_first_ties_by_id_distances_to_a_tenth_of_a_km() -> None:
    stored = [warehouse("c", 0, 2), warehouse("b", 0, 1), warehouse("a", 0, -1), warehouse("z", 0, 0)]

    ranking = rank(stored, 0, 0, limit=10)

    assert [(w.warehouseId, w.distanceKm) for w in ranking] == [
        ("z", 0.0),
        ("a", 111.2),  # one degree of the equator
        ("b", 111.2),
        ("c", 222.4),
    ]
    assert [w.warehouseId for w in rank(stored, 0, 0, limit=2)] == ["z", "a"]


def test_the_plain_list_is_by_id_without_distances_or_origin() -> None:
    listed = find([warehouse("b", 0, 0), warehouse("a", 1, 1)], None, None)

    assert listed.model_dump() == {"warehouses": [w.model_dump() for w in listed.warehouses]}
    assert [w.warehouseId for w in listed.warehouses] == ["a", "b"]
    assert "distanceKm" not in listed.model_dump()["warehouses"][0]


def test_a_ranking_says_where_from() -> None:
    origin = Origin(latitude=0, longitude=0, source="near")

    ranking = find([warehouse("a", 0, 1)], origin, None).model_dump(mode="json")

    assert ranking["origin"]["source"] == "near"
    assert ranking["warehouses"][0]["distanceKm"] == 111.2


@pytest.mark.parametrize(
    ("near", "point"),
    [
        ("1,2", (1.0, 2.0)),
        (" -33.9 , 151.2 ", (-33.9, 151.2)),
        ("+90,-180", (90.0, -180.0)),
        (".5,5.", (0.5, 5.0)),
    ],
)
def test_near_is_two_decimal_numbers(near: str, point: tuple[float, float]) -> None:
    assert parse_near(near) == point


@pytest.mark.parametrize(
    "near",
    ["", "1", "1,", ",1", "1,2,3", "a,b", "nan,0", "inf,0", "1e2,0", "0x1,0", "1_0,0", "91,0", "0,-180.5"],
)
def test_anything_else_is_refused_naming_near(near: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_near(near)

    assert [problem["field"] for problem in refused.value.details] == ["near"]


def test_no_place_is_the_plain_list() -> None:
    assert origin_of() is None


def test_a_geocoded_origin_names_the_place() -> None:
    origin = origin_of(city="Springfield", region="Illinois", country="US")

    assert origin is not None
    assert (origin.source, origin.name, origin.region, origin.country) == ("city", "Springfield", "IL", "US")
