"""The console's static hosting in the local gateway: files with their types, the index for the app's
own paths, a JSON 404 for a missing asset, no API key, and nothing outside the folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blueprint import CONSOLE, ROUTES, StaticSite
from local import console, gateway


@pytest.fixture
def site(tmp_path: Path) -> StaticSite:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text("<!doctype html><title>console</title>")
    (folder / "assets" / "index-abc.js").write_text("console.log(1)")
    (folder / "assets" / "index-abc.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("outside")
    return StaticSite(name="Console", path="/console", folder=folder)


def test_files_are_served_with_their_content_types(site: StaticSite) -> None:
    status, headers, body = console.handle("GET", "/console/assets/index-abc.js", site)
    assert (status, body) == (200, b"console.log(1)")
    assert ("Content-Type", "text/javascript; charset=utf-8") in headers
    assert ("Cache-Control", console.IMMUTABLE) in headers
    status, headers, _ = console.handle("GET", "/console/assets/index-abc.css", site)
    assert ("Content-Type", "text/css; charset=utf-8") in headers


@pytest.mark.parametrize("path", ["/console", "/console/", "/console/orders", "/console/orders/ord_1?x=1"])
def test_the_app_s_own_paths_answer_the_index(site: StaticSite, path: str) -> None:
    status, headers, body = console.handle("GET", path.partition("?")[0], site)
    assert status == 200
    assert body.startswith(b"<!doctype html>")
    assert ("Content-Type", "text/html; charset=utf-8") in headers
    assert ("Cache-Control", console.NO_CACHE) in headers


def test_a_missing_asset_is_a_json_404(site: StaticSite) -> None:
    status, headers, body = console.handle("GET", "/console/assets/gone-123.js", site)
    assert status == 404
    assert ("Content-Type", "application/json") in headers
    assert json.loads(body)["error"] == {
        "code": "NOT_FOUND",
        "message": "no console asset /console/assets/gone-123.js",
        "details": None,
    }


def test_nothing_outside_the_folder_is_served(site: StaticSite) -> None:
    status, _, body = console.handle("GET", "/console/../secret.txt", site)
    assert status == 404
    assert b"outside" not in body


def test_only_reads_are_allowed_and_an_unbuilt_console_says_so(site: StaticSite, tmp_path: Path) -> None:
    status, headers, body = console.handle("POST", "/console/", site)
    assert status == 405
    assert ("Allow", "GET, HEAD") in headers
    unbuilt = StaticSite(name="Console", path="/console", folder=tmp_path / "nothing")
    status, _, body = console.handle("GET", "/console/", unbuilt)
    assert status == 503
    assert "make console" in json.loads(body)["error"]["message"]


def test_the_gateway_serves_the_console_without_an_api_key_and_outside_the_route_table() -> None:
    assert not [r for r in ROUTES if console.serves(r.path)]
    response = gateway.handle("GET", "/console/assets/surely-missing.js", {}, None)
    assert response.status in {404, 503}  # 503 before `make console` has built it
    assert response.header("Content-Type") == "application/json"
    assert response.json()["error"]["code"] in {"NOT_FOUND", "CONSOLE_NOT_BUILT"}
    assert not console.serves("/consoles") and console.serves(CONSOLE.path)
    assert gateway.handle("GET", "/consoles", {}, None).status == 404  # not the console, and no route


def test_the_config_says_the_api_is_on_this_origin_and_the_api_key_signs_in(site: StaticSite) -> None:
    status, headers, body = console.handle("GET", "/console/config.json", site)
    assert status == 200
    assert ("Content-Type", "application/json") in headers
    assert ("Cache-Control", console.NO_CACHE) in headers
    assert json.loads(body) == {"apiBase": "", "signIn": {"apiKey": True, "cognito": None}}
