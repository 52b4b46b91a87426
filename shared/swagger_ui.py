"""The Swagger UI page for the published OpenAPI document.

Swagger UI's script and styles are written into the page from the copies Powertools ships (the ones
its `enable_swagger` uses when given no `swagger_base_url`), so the page loads nothing from a CDN. Its
only request is the published document, fetched from beside the page: the same document everyone
gets, under whatever base path the API is served (API Gateway's stage, a custom domain, or none).
Powertools' own `enable_swagger` is not used: it shows the document of the resolver it is enabled
on, which for ApiInfo is its own two routes, not the whole API.
"""

from __future__ import annotations

import html
import importlib.util
import json
from functools import cache
from pathlib import Path

PAGE_PATH = "/swagger"
DOCUMENT_PATH = "/openapi.json"
# Found, not imported: importing Powertools' swagger_ui package loads its OpenAPI models (its OAuth2
# settings), most of ApiInfo's cold start, and only the folder holding its assets is needed.
_SWAGGER_UI = importlib.util.find_spec("aws_lambda_powertools.event_handler.openapi.swagger_ui")
assert _SWAGGER_UI is not None and _SWAGGER_UI.origin is not None
SWAGGER_UI_ASSETS = Path(_SWAGGER_UI.origin).parent

# Runs once Swagger UI's script is loaded. The base path is the page's path less PAGE_PATH.
PATHS = f"var pagePath = {json.dumps(PAGE_PATH)};\nvar documentPath = {json.dumps(DOCUMENT_PATH)};"
LOADER = """
(function () {
  var path = window.location.pathname.replace(/\\/$/, "");
  var base = path.slice(0, path.length - pagePath.length);
  fetch(base + documentPath)
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (published) {
      // "Try it out" sends its requests to this API, under the same base path as the page.
      published.servers = [{ url: base || "/" }];
      SwaggerUIBundle({
        dom_id: "#swagger-ui",
        spec: published,
        presets: [SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
        deepLinking: true,
        filter: true,
      });
    })
    .catch(function (error) {
      document.getElementById("swagger-ui").textContent =
        "The OpenAPI document " + base + documentPath + " could not be loaded: " + error.message;
    });
})();
"""


@cache
def swagger_page(title: str) -> str:
    script = (SWAGGER_UI_ASSETS / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    styles = (SWAGGER_UI_ASSETS / "swagger-ui.min.css").read_text(encoding="utf-8")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{styles}</style></head>",
            '<body><div id="swagger-ui">Loading the OpenAPI document...</div>',
            f"<script>{script}</script>",
            f"<script>{PATHS}\n{LOADER}</script>",
            "</body></html>",
        ]
    )
