"""The HTTP edge every API function shares: a Powertools resolver with validation and one error format.

Errors are always `{"error": {"code", "message", "details"}}`; client mistakes are 4xx, never 5xx.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import Router
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from shared.errors import InvalidRequest, OmsError, PayloadTooLarge, TransientError, validation_message
from shared.models.base import Model
from shared.observability import lambda_entry, logger

API_TITLE = "Order Management System API"
API_VERSION = "1.0.0"
# Routes that need the `x-api-key` header say so in the OpenAPI document; API Gateway enforces it
# (the blueprint's `api_key_required`, checked against this by a test).
JSON_CONTENT_TYPE = "application/json"
API_KEY_SCHEME = "apiKey"
# The same routes take a staff member's Cognito access token instead (in the stack; the API's authorizer).
STAFF_TOKEN_SCHEME = "staffToken"
API_KEY_REQUIRED: list[dict[str, list[str]]] = [{API_KEY_SCHEME: []}, {STAFF_TOKEN_SCHEME: []}]

# Every list takes the same page parameters and answers with the next page's `nextCursor`.
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
PageLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_PAGE_SIZE,
        description=f"Page size: {DEFAULT_PAGE_SIZE} unless given, at most {MAX_PAGE_SIZE}",
    ),
]
PageCursor = Annotated[
    str | None,
    Query(max_length=2048, description="The previous page's `nextCursor`; omitted: the first page"),
]


class ErrorBody(Model):
    code: str
    message: str
    details: Any = None


class ErrorEnvelope(Model):
    """Every error this API answers with."""

    error: ErrorBody


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": {"code": code, "message": message, "details": details}},
    )


def _field(location: tuple[Any, ...]) -> str:
    # Powertools prefixes locations with where the value came from ("body", "query", "path").
    parts = [str(p) for p in location]
    return ".".join(parts[1:] if len(parts) > 1 and parts[0] in {"body", "query", "path"} else parts)


def _register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        details = [
            {"field": _field(tuple(e["loc"])), "message": validation_message(e)} for e in error.errors()
        ]
        return error_response(400, "VALIDATION_ERROR", "request is invalid", details)

    @app.exception_handler(OmsError)
    def oms_error(error: OmsError) -> Response:
        return error_response(error.status_code, error.code, error.message, error.details)

    _register_retry_handlers(app)

    @app.exception_handler(UnicodeDecodeError)
    def not_utf8(_: Exception) -> Response:
        return error_response(400, "VALIDATION_ERROR", "the body is not UTF-8 encoded JSON")

    @app.not_found
    def not_found(_: Exception) -> Response:
        return error_response(404, "NOT_FOUND", "no such route")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(500, "INTERNAL_ERROR", "the OMS failed to handle the request; it was logged")


def _register_retry_handlers(app: APIGatewayRestResolver) -> None:
    """Answers that tell the client to retry (the same request, shortly) or not to."""

    @app.exception_handler(IdempotencyAlreadyInProgressError)
    def in_progress(_: Exception) -> Response:
        return error_response(409, "IN_PROGRESS", "the same delivery is being processed; retry shortly")

    @app.exception_handler(IdempotencyValidationError)
    def reused_id(_: Exception) -> Response:
        return error_response(
            409, "DELIVERY_ID_REUSED", "this delivery id was already used for a different body"
        )

    @app.exception_handler(TransientError)
    def busy(error: TransientError) -> Response:
        logger.warning("busy", extra={"reason": str(error)})
        response = error_response(503, "BUSY", f"{error}; retry shortly")
        response.headers["Retry-After"] = "1"
        return response


def normalized(event: dict[str, Any]) -> dict[str, Any]:
    """What API Gateway hands over, made uniform before routing.

    - The path arrives percent-encoded (REST APIs keep the encoding) and Powertools takes path
      parameters from it as they are: decode it, so `/orders/%41BC` means order `ABC`.
    - This API speaks JSON only: a body is read as JSON whatever its Content-Type says (`curl -d`
      labels it a form), so a wrong label gets the JSON error it deserves, not a parser crash.
    """
    event["path"] = unquote(event.get("path") or "/")
    if event.get("body"):
        for header_map in (event.get("headers") or {}, event.get("multiValueHeaders") or {}):
            for name, value in header_map.items():
                if name.lower() == "content-type":
                    header_map[name] = [JSON_CONTENT_TYPE] if isinstance(value, list) else JSON_CONTENT_TYPE
    return event


# No route takes more than a webhook may carry: a large marketplace order is tens of KB, and
# anything near this is not an order. Checked before anything else, the webhook's HMAC included.
MAX_BODY_BYTES = 256 * 1024
# Far deeper than any order a channel sends (Shopify's is about 6 levels), far below what would
# exhaust the parser's recursion.
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def raw_body(router: Router) -> bytes:
    """The request body exactly as it arrived (what a webhook's signature is computed over)."""
    event = router.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def json_depth(body: bytes) -> int:
    """How deeply the JSON text nests objects and arrays (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", body)):
        depth += 1 if bracket in (b"{", b"[") else -1
        deepest = max(deepest, depth)
    return deepest


def _beyond_limits(event: dict[str, Any]) -> OmsError | None:
    """Why the body cannot be parsed within sane limits (size, then depth), if it cannot."""
    body = event.get("body") or ""
    try:
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8", "replace")
    except binascii.Error:
        return None  # not what API Gateway sends; the route refuses it as it would any bad body
    if len(raw) > MAX_BODY_BYTES:
        return PayloadTooLarge(
            f"the body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}", {"limitBytes": MAX_BODY_BYTES}
        )
    if json_depth(raw) > MAX_JSON_DEPTH:
        message = f"the body nests deeper than {MAX_JSON_DEPTH} levels"
        return InvalidRequest(message, [{"field": "body", "message": message}])
    return None


def _refusal(error: OmsError) -> dict[str, Any]:
    """The API Gateway proxy response for an error found before routing."""
    envelope = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return {
        "statusCode": error.status_code,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(envelope),
        "isBase64Encoded": False,
    }


def create_resolver(*routers: Router) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    _register_error_handlers(app)
    for router in routers:
        app.include_router(router)
    return app


def api_handler(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point of an API function, with logging, tracing and metrics."""

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = normalized(event)
        refused = _beyond_limits(event)
        return _refusal(refused) if refused else app.resolve(event, context)

    return lambda_entry(lambda_handler, correlation_id_path=correlation_paths.API_GATEWAY_REST)
