"""The published OpenAPI document is current and says what the gateway enforces."""

from __future__ import annotations

import json
from pathlib import Path

from blueprint import ROUTES
from functions.api_info.handler import openapi_document

PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_the_published_document_is_current() -> None:
    assert json.loads(PUBLISHED.read_text()) == openapi_document(), "run `make openapi`"


def test_every_route_is_documented_and_nothing_else() -> None:
    documented = {
        (method.upper(), path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    }
    assert documented == {(route.method, route.path) for route in ROUTES}


def test_the_api_key_is_documented_exactly_where_the_gateway_requires_it() -> None:
    paths = openapi_document()["paths"]
    for route in ROUTES:
        operation = paths[route.path][route.method.lower()]
        assert bool(operation.get("security")) == route.api_key_required, route
        if route.api_key_required:
            assert operation["security"] == [{"apiKey": []}, {"staffToken": []}], route  # either one
    scheme = openapi_document()["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "x-api-key")
    bearer = openapi_document()["components"]["securitySchemes"]["staffToken"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == ("http", "bearer", "JWT")
