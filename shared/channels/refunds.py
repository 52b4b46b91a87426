"""Refund ports: the OMS asks a channel to give money back, in the channel's own published refund API.

`send_refund(target, request)` picks the port by the settings it is given:

Shopify (`ShopifyRefundApi`), REST Admin API, two calls as Shopify advises (calculate, then create):
1. POST {adminUrl}/admin/api/{apiVersion}/orders/{channelOrderId}/refunds/calculate.json
   {"refund": {"currency", "shipping": {"amount"}, "refund_line_items": [{"line_item_id", "quantity",
   "restock_type": "no_restock"}]}}; the answer's `refund.transactions[]` (kind `suggested_refund`)
   name the payment the money goes back to (`parent_id`) and its `gateway`.
2. POST .../orders/{channelOrderId}/refunds.json {"refund": {"currency", "notify": true, "note",
   "shipping": {"amount"}, "refund_line_items": [...], "transactions": [{"parent_id", "amount",
   "kind": "refund", "gateway"}]}} -> {"refund": {"id", "transactions": [{"amount", "status"}, ...]}}.
   The whole `request.total` goes to the suggested transaction; when Shopify suggests several (a
   split payment) each is filled up to its `maximum_refundable` in Shopify's order, the last taking
   the rest (more than it allows is for Shopify to refuse). The receipt's amount is the sum of the
   refund transactions Shopify reports.
   The token travels in `X-Shopify-Access-Token`. Every line must name its Shopify line item
   (`channelLineId`), so a line without one is refused before any call. `no_restock`: stock is the
   OMS's to count, the channel must not put the units back on its shelf.

WooCommerce (`WooCommerceRefundApi`), REST API v3, HTTP Basic auth with the consumer key and secret:
   POST {storeUrl}/wp-json/wc/v3/orders/{channelOrderId}/refunds {"amount": total, "reason",
   "api_refund": true, "api_restock": false, "line_items": [{"id", "quantity", "refund_total": amount
   - tax, "refund_tax": [{"id": channelTaxRateId, "refund_total": tax}]}]} -> 201 {"id", "amount",
   ...}. `api_refund` makes WooCommerce refund through the payment gateway; `api_restock` false for
   the reason above (WooCommerce restocks when it is missing). `amount` is what is refunded: WooCommerce
   lets it take precedence over the lines. `refund_tax` is left out when a line has no tax or no tax
   rate id. A line without `channelLineId`, and the shipping (the request names no shipping line),
   are refunded in `amount` without being itemised. Lines with the same `channelLineId` (an item the
   OMS split in two for its price) are one line item, their units, totals and taxes summed: WooCommerce
   keys line_items by id, so a second entry would replace the first.

Signed URL (`SignedRefundUrl`, the `api` channels): POST url with the Standard Webhooks headers
   `webhook-id` (the refundId, so the receiver can tell a redelivery), `webhook-timestamp` and
   `webhook-signature` (signed again at each attempt, the id staying the same) over the body
   {"type": "refund.requested", "timestamp": <ISO 8601>, "data": <the RefundRequest, amounts as
   strings>}. Any 2xx is accepted; the receipt's id is the answer's `refundId` when it has one.

Amounts are Decimal and sent as strings ("12.50"); ids the channels number (line items, tax rates) are
sent as JSON integers when they are digits, as the channels declare them.

Every request carries `Idempotency-Key: <refundId>`, JSON content, and a 10 s timeout. Caution: neither
Shopify's REST Admin API nor WooCommerce documents honouring Idempotency-Key, so a create call that
timed out after the channel made the refund and is sent again may refund twice there; the note/reason
("OMS refund <refundId>: <reason>", see `oms_refund_id_in`) lets the channel's refund webhooks be matched
to the OMS refund, and an operator find a duplicate.

Failures: 429, 5xx, timeouts and connection errors are retried, REFUND_ATTEMPTS attempts in all
(default 4), waiting REFUND_RETRY_BASE_SECONDS (default 1.0) doubling at each attempt, with jitter, or
what the channel's Retry-After says; never more than 10 s. Then RefundUnavailable (a TransientError:
try again later). Any other 4xx is RefundRefused, as is a redirect (not followed: urllib would
follow it as a GET carrying the credentials) and a Shopify or WooCommerce 2xx whose body is not what
the channel publishes: permanent, sending it again will not help. Messages name the channel, the
refund, the HTTP status and the channel's own error text, and never a token or secret.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import math
import os
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NoReturn

from pydantic import ValidationError

from shared.errors import TransientError, validation_message
from shared.http_client import OPENER  # redirects answered, never followed

# The port settings live with the refund models (channel settings embed them); re-exported here.
from shared.models.refunds import (
    RefundReceipt,
    RefundRequest,
    RefundRequestLine,
    RefundTarget,
    ShopifyRefundApi,
    SignedRefundUrl,
    WooCommerceRefundApi,
)
from shared.observability import logger
from shared.signatures import standard_webhook_signature

__all__ = [
    "RefundRefused",
    "RefundTarget",
    "RefundUnavailable",
    "ShopifyRefundApi",
    "SignedRefundUrl",
    "WooCommerceRefundApi",
    "send_refund",
]

TIMEOUT_SECONDS: Final = 10.0
MAX_RETRY_DELAY_SECONDS: Final = 10.0
DEFAULT_ATTEMPTS: Final = 4
DEFAULT_RETRY_BASE_SECONDS: Final = 1.0
SIGNED_EVENT_TYPE: Final = "refund.requested"
USER_AGENT: Final = "oms/0.1 (refund port)"
MIN_SCRUBBED_LENGTH: Final = 8
_NOTE_PREFIX = re.compile(r"^OMS refund (\S+):")
_FAILED_TRANSACTION_STATUSES = frozenset({"failure", "error"})


class RefundRefused(Exception):
    """The channel refused the refund (or answered in a shape it does not publish); sending the same
    request again will not help."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class RefundUnavailable(TransientError):
    """The channel could not be reached or kept failing (429, 5xx, timeouts): try again later."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- the ports ----------------------------------------------------------------------------------------


def send_refund(target: RefundTarget, request: RefundRequest) -> RefundReceipt:
    """Ask the channel `target` points at to make the refund; its receipt, or RefundRefused /
    RefundUnavailable."""
    if isinstance(target, ShopifyRefundApi):
        return _refund_on_shopify(target, request)
    if isinstance(target, WooCommerceRefundApi):
        return _refund_on_woocommerce(target, request)
    return _send_signed(target, request)


def oms_refund_note(request: RefundRequest) -> str:
    """The note (Shopify) or reason (WooCommerce) the OMS gives its refunds: it names the refund id."""
    return f"OMS refund {request.refundId}: {request.reason}"


def oms_refund_id_in(note: str | None) -> str | None:
    """The OMS refund id a channel refund's note or reason names, if the OMS made it."""
    found = _NOTE_PREFIX.match(note or "")
    return found.group(1) if found else None


# Shopify


def _refund_on_shopify(api: ShopifyRefundApi, request: RefundRequest) -> RefundReceipt:
    unnamed = [line.sku for line in request.lines if not line.channelLineId]
    if unnamed:
        raise RefundRefused(
            f"Shopify refund {request.refundId}: lines {', '.join(unnamed)} have no channelLineId; "
            "Shopify refunds lines by their line_item_id only"
        )
    channel = _Channel("Shopify", {"x-shopify-access-token": api.accessToken}, (api.accessToken,))
    orders = f"{api.adminUrl}/admin/api/{api.apiVersion}/orders/{_quote(request.channelOrderId)}"
    lines = [_shopify_line(line) for line in request.lines]
    shipping = {"amount": str(request.shipping)}
    calculation = {"refund": {"currency": request.currency, "shipping": shipping, "refund_line_items": lines}}
    calculated = _accepted(
        channel, request, _post(channel, f"{orders}/refunds/calculate.json", calculation, request)
    )
    refund = {
        "currency": request.currency,
        "notify": True,
        "note": oms_refund_note(request),
        "shipping": shipping,
        "refund_line_items": lines,
        "transactions": _shopify_transactions(request, _suggested_transactions(request, calculated)),
    }
    created = _accepted(
        channel, request, _post(channel, f"{orders}/refunds.json", {"refund": refund}, request)
    )
    return _shopify_receipt(request, created)


def _shopify_line(line: RefundRequestLine) -> dict[str, Any]:
    return {
        "line_item_id": _wire_id(line.channelLineId or ""),
        "quantity": line.quantity,
        "restock_type": "no_restock",
    }


@dataclass(frozen=True)
class _Suggestion:
    parent_id: Any  # as Shopify sent it (an integer), sent back unchanged
    gateway: str
    maximum: Decimal


def _suggested_transactions(request: RefundRequest, calculated: Mapping[str, Any]) -> list[_Suggestion]:
    refund = calculated.get("refund")
    transactions = refund.get("transactions") if isinstance(refund, dict) else None
    suggestions = [
        _Suggestion(t["parent_id"], str(t["gateway"]), _decimal(t.get("maximum_refundable")) or Decimal(0))
        for t in (transactions if isinstance(transactions, list) else [])
        if isinstance(t, dict)
        and t.get("kind") == "suggested_refund"
        and t.get("parent_id") is not None
        and isinstance(t.get("gateway"), str)
    ]
    if not suggestions:
        raise RefundRefused(
            f"Shopify refund {request.refundId}: refunds/calculate.json suggests no transaction to refund "
            "(no refund.transactions[] of kind suggested_refund with a parent_id and a gateway)",
        )
    return suggestions


def _shopify_transactions(request: RefundRequest, suggestions: Sequence[_Suggestion]) -> list[dict[str, Any]]:
    transactions = []
    remaining = request.total
    for index, suggestion in enumerate(suggestions):
        last = index == len(suggestions) - 1
        amount = remaining if last else min(remaining, suggestion.maximum)
        if amount > 0:
            transactions.append(
                {
                    "parent_id": suggestion.parent_id,
                    "amount": str(amount),
                    "kind": "refund",
                    "gateway": suggestion.gateway,
                }
            )
            remaining -= amount
    return transactions


def _shopify_receipt(request: RefundRequest, created: Mapping[str, Any]) -> RefundReceipt:
    refund = created.get("refund")
    refund_id = refund.get("id") if isinstance(refund, dict) else None
    transactions = refund.get("transactions") if isinstance(refund, dict) else None
    if refund_id in (None, "") or not isinstance(transactions, list):
        raise RefundRefused(
            f"Shopify refund {request.refundId}: refunds.json answered without refund.id "
            "or refund.transactions"
        )
    refunds = [t for t in transactions if isinstance(t, dict) and t.get("kind") == "refund"]
    failed = [t for t in refunds if t.get("status") in _FAILED_TRANSACTION_STATUSES]
    if failed:
        messages = "; ".join(str(t.get("message") or t.get("error_code") or t.get("status")) for t in failed)
        raise RefundRefused(
            f"Shopify refund {refund_id} for {request.refundId}: transaction failed: {messages}"
        )
    amounts = [_decimal(t.get("amount")) for t in refunds]
    if any(amount is None for amount in amounts):
        raise RefundRefused(
            f"Shopify refund {refund_id} for {request.refundId}: a transaction amount is not a number"
        )
    return _receipt("Shopify", request, refund_id, sum((a for a in amounts if a is not None), Decimal(0)))


# WooCommerce


def _refund_on_woocommerce(api: WooCommerceRefundApi, request: RefundRequest) -> RefundReceipt:
    credentials = base64.b64encode(f"{api.consumerKey}:{api.consumerSecret}".encode()).decode("ascii")
    secrets = (api.consumerKey, api.consumerSecret, credentials)
    channel = _Channel("WooCommerce", {"authorization": f"Basic {credentials}"}, secrets)
    url = f"{api.storeUrl}/wp-json/wc/v3/orders/{_quote(request.channelOrderId)}/refunds"
    body = {
        "amount": str(request.total),
        "reason": oms_refund_note(request),
        "api_refund": True,
        "api_restock": False,
        "line_items": _woocommerce_lines(request.lines),
    }
    created = _accepted(channel, request, _post(channel, url, body, request))
    refund_id, amount = created.get("id"), _decimal(created.get("amount"))
    if refund_id in (None, "") or amount is None:
        raise RefundRefused(
            f"WooCommerce refund {request.refundId}: the answer has no id or no numeric amount"
        )
    return _receipt("WooCommerce", request, refund_id, amount)


def _woocommerce_lines(lines: Sequence[RefundRequestLine]) -> list[dict[str, Any]]:
    """One line item per WooCommerce item, in the order of the request. An item whose price does not
    divide into its quantity is two OMS lines with its id, and WooCommerce keys a refund's line_items by
    id (an entry with an id seen before replaces the earlier one): their units, totals and taxes are
    summed into one."""
    items: dict[str, list[RefundRequestLine]] = {}
    for line in lines:
        if line.channelLineId:
            items.setdefault(line.channelLineId, []).append(line)
    return [_woocommerce_line(item_id, parts) for item_id, parts in items.items()]


def _woocommerce_line(item_id: str, parts: Sequence[RefundRequestLine]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": _wire_id(item_id),
        "quantity": sum(part.quantity for part in parts),
        "refund_total": str(sum((part.amount - part.tax for part in parts), Decimal(0))),
    }
    taxes: dict[str, Decimal] = {}
    for part in parts:
        if part.tax > 0 and part.channelTaxRateId:
            taxes[part.channelTaxRateId] = taxes.get(part.channelTaxRateId, Decimal(0)) + part.tax
    if taxes:
        item["refund_tax"] = [{"id": _wire_id(rate), "refund_total": str(tax)} for rate, tax in taxes.items()]
    return item


# Signed URL


def _send_signed(target: SignedRefundUrl, request: RefundRequest) -> RefundReceipt:
    channel = _Channel("signed refund URL", {}, (target.secret,))
    event = {
        "type": SIGNED_EVENT_TYPE,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": request.model_dump(mode="json"),
    }

    def sign(body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            "webhook-id": request.refundId,
            "webhook-timestamp": timestamp,
            "webhook-signature": standard_webhook_signature(target.secret, request.refundId, timestamp, body),
        }

    response = _post(channel, target.url, event, request, sign=sign)
    if not 200 <= response.status < 300:
        _refuse(channel, request, response)
    refund_id = response.body.get("refundId") if isinstance(response.body, dict) else None
    return RefundReceipt(channelRefundId=str(refund_id) if isinstance(refund_id, str | int) else None)


# --- HTTP ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Channel:
    name: str
    auth_headers: Mapping[str, str]
    secrets: tuple[str, ...]  # scrubbed from every message

    def scrub(self, text: str) -> str:
        # Real tokens and keys are long; replacing a few characters would garble the message instead.
        usable = (secret for secret in self.secrets if len(secret) >= MIN_SCRUBBED_LENGTH)
        for secret in sorted(usable, key=len, reverse=True):
            text = text.replace(secret, "[redacted]")
        return text


@dataclass(frozen=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: Any  # the parsed JSON, or None


Signer = Callable[[bytes], Mapping[str, str]]


def _post(
    channel: _Channel, url: str, payload: Any, request: RefundRequest, *, sign: Signer | None = None
) -> _Response:
    """POST `payload` as JSON, retried on 429, 5xx, timeouts and connection errors; any other answer
    is returned. RefundUnavailable once the attempts are spent."""
    attempts, base_delay = _retry_policy()
    body = json.dumps(payload, separators=(",", ":")).encode()
    problem, status = "", None
    for attempt in range(1, attempts + 1):
        headers = {
            "user-agent": USER_AGENT,
            "accept": "application/json",
            "content-type": "application/json",
            "idempotency-key": request.refundId,
            **channel.auth_headers,
            **(sign(body) if sign else {}),
        }
        retry_after = None
        try:
            response = _exchange(url, headers, body)
        except (urllib.error.URLError, http.client.HTTPException, OSError) as failed:
            problem, status = f"connection failed ({_reason(failed)})", None
        else:
            if response.status != 429 and response.status < 500:
                return response
            problem, status = f"HTTP {response.status}: {_error_text(response.body)}", response.status
            retry_after = response.headers.get("retry-after")
        if attempt < attempts:
            delay = retry_delay(attempt, retry_after, base_delay)
            logger.info(
                "refund request retried",
                extra={
                    "channel": channel.name,
                    "refund_id": request.refundId,
                    "attempt": attempt,
                    "delay": delay,
                    "problem": channel.scrub(problem),
                },
            )
            time.sleep(delay)
    raise RefundUnavailable(
        channel.scrub(
            f"{channel.name} refund {request.refundId} unavailable: {problem} (after {attempts} attempts)"
        ),
        status,
    )


def _exchange(url: str, headers: Mapping[str, str], body: bytes) -> _Response:
    http_request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with OPENER.open(http_request, timeout=TIMEOUT_SECONDS) as reply:
            return _Response(reply.status, _lower(reply.headers), _json(reply.read()))
    except urllib.error.HTTPError as refused:
        try:
            raw = refused.read() if refused.fp is not None else b""
        finally:
            refused.close()
        return _Response(refused.code, _lower(refused.headers), _json(raw))


def _accepted(channel: _Channel, request: RefundRequest, response: _Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer; RefundRefused for anything else."""
    if 200 <= response.status < 300 and isinstance(response.body, dict):
        return response.body
    if 200 <= response.status < 300:
        raise RefundRefused(
            f"{channel.name} refund {request.refundId}: the answer (HTTP {response.status}) "
            "is not a JSON object",
            response.status,
        )
    _refuse(channel, request, response)


def _receipt(channel: str, request: RefundRequest, refund_id: Any, amount: Decimal) -> RefundReceipt:
    try:
        return RefundReceipt(channelRefundId=str(refund_id), amount=amount)
    except ValidationError as invalid:
        problem = validation_message(invalid.errors()[0])
        raise RefundRefused(
            f"{channel} refund {refund_id} for {request.refundId}: the amount {problem}"
        ) from None


def _refuse(channel: _Channel, request: RefundRequest, response: _Response) -> NoReturn:
    raise RefundRefused(
        channel.scrub(
            f"{channel.name} refused refund {request.refundId} (HTTP {response.status}): "
            f"{_error_text(response.body)}"
        ),
        response.status,
    )


def retry_delay(attempt: int, retry_after: str | None, base: float) -> float:
    """Seconds to wait after failed attempt `attempt` (1 for the first): what the channel's Retry-After
    asks (seconds or an HTTP date), else base * 2^(attempt - 1) with jitter (half of it fixed, half
    random, so that callers failing together do not retry together); at most 10 s either way."""
    asked = _retry_after_seconds(retry_after)
    if asked is not None:
        return min(MAX_RETRY_DELAY_SECONDS, asked)
    backoff = min(MAX_RETRY_DELAY_SECONDS, base * 2 ** (attempt - 1))
    return backoff / 2 + random.uniform(0, backoff / 2)


def _retry_policy() -> tuple[int, float]:
    attempts = _environment_number("REFUND_ATTEMPTS", DEFAULT_ATTEMPTS, int)
    base = _environment_number("REFUND_RETRY_BASE_SECONDS", DEFAULT_RETRY_BASE_SECONDS, float)
    if attempts < 1 or not 0 <= base <= MAX_RETRY_DELAY_SECONDS:
        raise ValueError("REFUND_ATTEMPTS must be at least 1 and REFUND_RETRY_BASE_SECONDS between 0 and 10")
    return int(attempts), float(base)


def _environment_number(name: str, default: float, kind: Callable[[str], float]) -> float:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return kind(value)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, not {value!r}") from exc


def _retry_after_seconds(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    return None if math.isnan(seconds) else max(0.0, seconds)


# --- messages and values ------------------------------------------------------------------------------


def _error_text(body: Any) -> str:
    """The channel's own words: Shopify {"errors": text | {field: [messages]} | [messages]},
    WooCommerce {"code", "message"}, or a receiver's {"message"} / {"error"}."""
    if not isinstance(body, dict):
        return "no error details"
    parts = []
    if "errors" in body:
        parts.append(_errors_text(body["errors"]))
    parts += [str(body[key]) for key in ("code", "error", "message") if body.get(key)]
    return ": ".join(part for part in parts if part) or "no error details"


def _errors_text(errors: Any) -> str:
    if isinstance(errors, dict):
        return "; ".join(f"{field}: {_errors_text(messages)}" for field, messages in errors.items())
    if isinstance(errors, list):
        return ", ".join(_errors_text(error) for error in errors)
    return str(errors)


def _reason(failed: BaseException) -> str:
    inner = failed.reason if isinstance(failed, urllib.error.URLError) else failed
    return type(inner).__name__ if isinstance(inner, BaseException) else str(inner)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _wire_id(value: str) -> int | str:
    """Shopify and WooCommerce number their ids: digits go as a JSON integer, anything else as it is."""
    return int(value) if value.isascii() and value.isdigit() else value


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()} if headers is not None else {}
