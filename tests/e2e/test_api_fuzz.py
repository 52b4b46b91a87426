"""The whole API fuzzed over HTTP from its own OpenAPI document: bad input gets a clear 4xx, never a 5xx.

schemathesis generates valid and invalid requests (positive and negative data) for every operation in
docs/openapi.json; path parameters sometimes name objects that exist, so handlers get past their 404s.
Webhook deliveries are signed raw bodies the document cannot describe, so they are drawn here.

Every response must be below 500, and every 4xx must be JSON with exactly the error envelope
`{"error": {"code", "message", "details"}}`; schemathesis's own checks run on top. A 5xx fails with the
request as sent and the traceback the OMS logged.

The OMS is its own `python -m local` process for this module: fuzzing moves the seeded warehouses and
stock that the other e2e tests' sourcing relies on, and a fresh OMS keeps the run reproducible.
"""

from __future__ import annotations

import itertools
import json
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st
import pytest
import requests
import schemathesis
from pydantic import ValidationError
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from shared.logic.inventory import MAX_SKUS_PER_READ
from shared.models.catalog import SourcingRules
from shared.models.order import CanonicalOrder
from shared.signatures import standard_webhook_signature
from tests.e2e.conftest import API_KEY, ROOT, local_oms
from tests.support.orders import CHANNEL_ID, CHANNEL_SECRET, Client, canonical_order
from tests.support.process_output import OutputTail
from tests.support.returns import authorized, deliver_all, receive, wait_for_return

SEED = 20260501
# Fuzzing-phase cases per operation (schemathesis adds its coverage-phase cases on top): about
# 45 s for the module on 2 cores when nothing fails, well within the 90 s budget.
MAX_EXAMPLES = 120
ERROR_KEYS = {"code", "message", "details"}
WEBHOOK_PATH = "/webhooks/{channelId}"
FINDER_PLACE_PARAMETERS = {"near", "postalCode", "city", "region", "country"}
# Bodies with rules between their fields: orderId or order, not both; a window whose end follows its
# start by at most 92 days; an order's discounts within its lines and amounts within its currency; a
# return's lines naming each SKU once (a receipt's, each SKU once per condition), and its exchangeLines
# with an EXCHANGE only; a tracking lookup's order number with one of e-mail and postal code, or a
# token alone; customer e-mails enabled with a sender.
CROSS_FIELD_BODIES = {
    "PUT /channels/{channelId}/notifications",
    "POST /track/lookup",
    "POST /sourcing/plan",
    "POST /sourcing/simulations",
    "POST /orders/{orderId}/returns",
    "POST /returns/{returnId}/events",
}
# A subscription's url must be https to a public host (locally also http to this machine): more than
# the document's string can say, so a well-formed body with another url is rightly 400.
URL_RULED_BODIES = {"PUT /subscriptions/{subscriptionId}"}
# Analytics queries with rules the document cannot state: a date that exists, from not after to and at
# most 366 days apart, a metric's name (GET /analytics/metrics), a country or a point with a radius.
QUERY_RULED = {
    "GET /analytics/summary",
    "GET /analytics/timeseries",
    "GET /analytics/export",
    "GET /analytics/warehouses",
}
OTHER_SECRET = "whsec_b3RoZXItc2VjcmV0LW9mLTMyLWJ5dGVzLi4uLi4="
_serial = itertools.count(1)

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")
schema.config.seed = SEED
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,  # Hypothesis's derandomize: the same cases on every run
    no_shrink=True,  # a failure reports the request as generated; shrinking would re-send hundreds
    database="none",
    with_security_parameters=False,  # the test sends the right x-api-key itself
)


@dataclass
class FuzzedOMS:
    api_url: str
    output: OutputTail
    known_ids: dict[str, list[str]]
    cases: dict[str, Counter[str]] = field(default_factory=dict)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"FuzzedOMS({self.api_url})"

    def record(self, case: schemathesis.Case, status: int, series: str) -> None:
        label = f"{case.operation.label}{series}"
        kind = f"{case.meta.phase.name.value}/{case.meta.generation.mode.value}" if case.meta else "explicit"
        self.cases.setdefault(label, Counter())[kind] += 1
        self.statuses.setdefault(label, Counter())[status] += 1

    def summary(self) -> list[str]:
        lines = []
        for label, kinds in self.cases.items():
            statuses = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses[label].items()))
            lines.append(f"{sum(kinds.values()):4d}  {label:45}  {dict(sorted(kinds.items()))}  [{statuses}]")
        return lines


@pytest.fixture(scope="module")
def fuzzed_oms(request: pytest.FixtureRequest) -> Iterator[FuzzedOMS]:
    with local_oms() as running:
        api_url, output = running.api_url, running.output
        client = http_client(api_url)
        client.seed()
        orders = [client.place(canonical_order([("MUG-BLUE", 1)])) for _ in range(2)]
        fulfillment_id = client.wait_for_status(orders[0], "FULFILLING")["fulfillments"][0]["fulfillmentId"]
        delivered, returns = returned_order(client)
        known_ids = {
            "warehouseId": ["wh-east", "wh-west"],
            "sku": ["MUG-BLUE", "TEE-M"],
            "channelId": [CHANNEL_ID],
            "orderId": [*orders, delivered],
            "fulfillmentId": [fulfillment_id],
            "returnId": returns,
        }
        oms = FuzzedOMS(api_url, output, known_ids)
        yield oms
        report(request.config, oms)


def returned_order(client: Client) -> tuple[str, list[str]]:
    """A delivered order with two returns, one still waiting for the goods and one CLOSED."""
    order_id = client.place(canonical_order([("MUG-BLUE", 2)]))
    deliver_all(client, order_id)
    waiting, closed = (authorized(client, order_id, [("MUG-BLUE", 1)])["returnId"] for _ in range(2))
    assert receive(client, closed, [("MUG-BLUE", 1, "RESELLABLE")])[0] == 200
    wait_for_return(client, closed, "CLOSED")
    return order_id, [waiting, closed]


def report(config: pytest.Config, oms: FuzzedOMS) -> None:
    """Cases per operation, on the terminal even though pytest captures output during teardown."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_sep("-", "API fuzz: cases per operation {phase/mode: n} [status: n]")
        for line in oms.summary():
            reporter.write_line(line)


def http_client(api_url: str) -> Client:
    session = requests.Session()

    def send(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        response = session.request(
            method, api_url + path, headers={"x-api-key": API_KEY, **headers}, data=body, timeout=30
        )
        return response.status_code, response.json() if response.content else None

    return Client(send)


def name_known_objects(case: schemathesis.Case, oms: FuzzedOMS) -> bool:
    """Replace about half of the generated path parameters with ids of objects that exist.

    The choice is a hash of the generated value, not a Hypothesis draw: drawing would need
    `@schema.given`, which turns off schemathesis's coverage phase. It is as reproducible.
    Returns whether a path that schemathesis generated invalid on purpose was made valid."""
    repaired = False
    for name, value in list((case.path_parameters or {}).items()):
        known = oms.known_ids.get(name, [])
        if case.operation.label == "PUT /channels/{channelId}":
            known = ["demo-store"]  # re-registering the webhook channel would change its secret
        choice = zlib.crc32(f"{case.operation.label} {name} {value!r}".encode())
        if known and choice % 2:
            case.path_parameters[name] = known[choice // 2 % len(known)]
            repaired = repaired or bool(case._meta and case._meta.is_negative_at(ParameterLocation.PATH))
    return repaired


# -- webhook deliveries ------------------------------------------------------------------------

header_text = st.just("") | st.from_regex(r"\A[!-~][ -~]{0,40}\Z")
# Integers of up to 400 digits, beyond what a float holds.
numerals = st.integers(-(10**400), 10**400).map(str)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@dataclass(frozen=True)
class Delivery:
    channel_id: str
    headers: dict[str, str]
    body: bytes
    authentic: bool  # to the webhook channel, with an id, a fresh timestamp, signed with its secret
    unique_id: bool  # a webhook-id never sent before (else maybe a repeat, or a reused id: 409)
    valid_order: bool


@st.composite
def order_bodies(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A body and whether it is a valid canonical order."""
    sku = draw(st.sampled_from(["MUG-BLUE", "TEE-M", "NO-SUCH-SKU"]))
    order = canonical_order([(sku, draw(st.integers(1, 3)))], channelOrderId=f"fuzz-{next(_serial)}")
    kind = draw(st.sampled_from(["valid", "field", "field", "line", "line", "json", "bytes"]))
    if kind == "field":
        order[draw(st.sampled_from(sorted(order)))] = draw(json_values)
    elif kind == "line":
        line_field = draw(st.sampled_from(["sku", "quantity", "unitPrice", "extra"]))
        order["lines"][0][line_field] = draw(json_values)
    elif kind == "json":
        return json.dumps(draw(json_values)).encode(), False
    elif kind == "bytes":
        return draw(st.binary(max_size=64)), False
    # A drawn value may happen to be valid (any printable text is a SKU): ask the model.
    return json.dumps(order).encode(), is_canonical_order(order)


def is_canonical_order(order: dict[str, Any]) -> bool:
    try:
        CanonicalOrder.model_validate(order)
    except ValidationError:
        return False
    return True


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    """An authentic delivery, or one with exactly one thing wrong about it; the body may be broken too."""
    body, valid_order = draw(order_bodies())
    fault = draw(st.sampled_from([None, None, None, "channel", "webhook-id", "timestamp", "signature"]))
    channel_id = "no-such-channel" if fault == "channel" else CHANNEL_ID
    webhook_id = draw(header_text) if fault == "webhook-id" else f"msg_fuzz_{next(_serial)}"
    now = int(time.time())
    timestamp = str(now)
    if fault == "timestamp":
        stale = st.sampled_from([str(now - 3600), str(now + 3600)])
        timestamp = draw(stale | st.integers().map(str) | numerals | header_text)
    headers = {"content-type": "application/json", "webhook-id": webhook_id, "webhook-timestamp": timestamp}
    how = draw(st.sampled_from(["other secret", "garbage", "unsigned"])) if fault == "signature" else ""
    if how == "garbage":
        headers["webhook-signature"] = draw(header_text)
    elif how != "unsigned":
        secret = OTHER_SECRET if how == "other secret" else CHANNEL_SECRET
        headers["webhook-signature"] = standard_webhook_signature(secret, webhook_id, timestamp, body)
    authentic = fault is None or (fault == "webhook-id" and webhook_id != "")
    return Delivery(channel_id, headers, body, authentic, fault != "webhook-id", valid_order)


def expected_webhook_statuses(delivery: Delivery) -> set[int]:
    if not delivery.authentic:
        return {401, 404}  # an unknown channel, else a refused signature
    if not delivery.valid_order:
        return {400}
    return {200, 202} if delivery.unique_id else {200, 202, 409}


# -- the rule ----------------------------------------------------------------------------------


def too_many_skus(skus: object) -> bool:
    return isinstance(skus, str) and len({part.strip() for part in skus.split(",")}) > MAX_SKUS_PER_READ


@schema.parametrize()
def test_bad_input_gets_a_clear_error_never_a_5xx(case: schemathesis.Case, fuzzed_oms: FuzzedOMS) -> None:
    excluded = []
    if name_known_objects(case, fuzzed_oms):
        # Its other invalid parts (e.g. unknown query parameters, ignored as API Gateway does) are
        # not what schemathesis meant the case to be refused for.
        excluded.append(negative_data_rejection)
    if case.query and "cursor" in case.query:
        # A cursor is opaque (it must come from a previous page); the document cannot say so, and
        # a made-up one is rightly refused with 400, which schemathesis would call a valid request rejected.
        excluded.append(positive_data_acceptance)
    if case.operation.label == "GET /warehouses" and set(case.query or {}) & FINDER_PLACE_PARAMETERS:
        # Whether a place exists (a city, a ZIP code, a point within range) and which parameters go
        # together are beyond what the document can say: such a well-formed query is rightly 400.
        excluded.append(positive_data_acceptance)
    if case.operation.label == "GET /orders" and {"createdFrom", "createdBefore"} <= set(case.query or {}):
        # A window must end after it starts: a rule between two parameters, rightly 400 when broken.
        excluded.append(positive_data_acceptance)
    if case.operation.label == "GET /inventory" and too_many_skus((case.query or {}).get("skus")):
        # The pattern states each SKU; how many distinct ones a read takes is a rule beyond it.
        excluded.append(positive_data_acceptance)
    if case.operation.label in CROSS_FIELD_BODIES | URL_RULED_BODIES | QUERY_RULED:
        # The document states each field, not the rules between them: such a body is rightly 400.
        excluded.append(positive_data_acceptance)
    check(case, fuzzed_oms, {"x-api-key": API_KEY}, excluded=excluded)


webhooks = schema.include(method="POST", path=WEBHOOK_PATH)


@webhooks.parametrize()
@webhooks.given(delivery=deliveries())
def test_webhook_deliveries_get_a_clear_answer_never_a_5xx(
    case: schemathesis.Case, delivery: Delivery, fuzzed_oms: FuzzedOMS
) -> None:
    """Signed, unsigned and forged deliveries of valid and broken orders: 401 for a bad signature,
    404 for an unknown channel, 400 for an authentic delivery of an invalid order, else 202 (200)."""
    case.path_parameters["channelId"] = delivery.channel_id
    # The delivery's own signature headers replace those schemathesis generated for the case
    # (which it may also leave out, as negative data).
    case.headers = dict(delivery.headers)
    response = check(
        case,
        fuzzed_oms,
        delivery.headers,
        body=delivery.body,
        # The delivery sent replaces the body schemathesis generated for the case, so its checks
        # on accepting valid and refusing invalid data would judge a body that was never sent.
        excluded=[positive_data_acceptance, negative_data_rejection],
        series=" (signed deliveries)",
    )
    expected = expected_webhook_statuses(delivery)
    assert response.status_code in expected, f"expected one of {sorted(expected)}\n{describe(response)}"


URI_TOO_LONG = 414


def check(
    case: schemathesis.Case,
    oms: FuzzedOMS,
    headers: dict[str, str],
    *,
    body: bytes | None = None,
    excluded: list[Any] | None = None,
    series: str = "",
) -> schemathesis.Response:
    """Send the case; assert the rule, then schemathesis's checks; return the response."""
    extra = {} if body is None else {"data": body}
    mark = oms.output.mark()
    response = case.call(base_url=oms.api_url, headers=headers, **extra)
    oms.record(case, response.status_code, series)
    assert_clear_error(response, oms.output, mark)
    if response.status_code == URI_TOO_LONG:
        # Refused for its length before any route sees it (API Gateway does too), whatever the
        # document says of its parts: still the JSON error, checked above.
        excluded = [*(excluded or []), positive_data_acceptance, negative_data_rejection]
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=excluded,
        transport_kwargs={"base_url": oms.api_url, **extra},
    )
    return response


def assert_clear_error(response: schemathesis.Response, output: OutputTail, mark: int) -> None:
    if response.status_code >= 500:
        printed = output.wait_for(f'" {response.status_code} ', mark)
        raise AssertionError(
            f"{response.status_code} for a client's request\n{describe(response)}\n"
            f"--- what the OMS logged ---\n{readable(printed)}"
        )
    if response.status_code < 400:
        return
    content_type = (response.headers.get("content-type") or [""])[0]
    assert content_type.startswith("application/json"), f"error as {content_type!r}\n{describe(response)}"
    try:
        envelope = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"error body is not JSON\n{describe(response)}") from None
    assert isinstance(envelope, dict) and set(envelope) == {"error"}, describe(response)
    error = envelope["error"]
    assert isinstance(error, dict) and set(error) == ERROR_KEYS, describe(response)
    assert isinstance(error["code"], str) and error["code"], describe(response)
    assert isinstance(error["message"], str) and error["message"], describe(response)


def describe(response: schemathesis.Response) -> str:
    request = response.request
    return (
        f"request:  {request.method} {request.url}\n"
        f"headers:  {dict(request.headers)}\n"
        f"body:     {request.body!r}\n"
        f"response: {response.status_code} {response.text[:1000]}"
    )


def readable(printed: str) -> str:
    """The OMS's output with each Powertools JSON log line shown as its message and traceback."""
    lines = []
    for line in printed.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            lines.append(line)
            continue
        if isinstance(entry, dict) and "exception" in entry:
            lines.append(f"{entry.get('function_name')}: {entry.get('message')}\n{entry['exception']}")
        else:
            lines.append(line)
    return "\n".join(lines)


# -- what the document says about errors -------------------------------------------------------


def test_the_document_declares_the_error_responses() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            declared = operation["responses"]
            errors = [status for status in declared if status.startswith("4") and status != "422"]
            assert errors, f"{method.upper()} {path} declares no error response"
            for status in errors:
                reference = declared[status]["content"]["application/json"]["schema"]["$ref"]
                envelope = document["components"]["schemas"][reference.rsplit("/", 1)[1]]
                assert envelope["required"] == ["error"], f"{method.upper()} {path} {status}: {envelope}"


# -- routing requests: bodies that are mostly right, so plans and simulations are really computed --


rules_values = st.fixed_dictionaries(
    {},
    optional={
        "maxShipments": st.integers(-1, 30) | json_values,
        "allowedWarehouses": st.none()
        | st.lists(st.sampled_from(["wh-east", "wh-west", "nope", ""]), max_size=3),
    },
)


@st.composite
def plan_bodies(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A plan request and whether it is valid (then 200, or 404 for an unknown channel)."""
    body_bytes, valid_order = draw(order_bodies())
    try:
        order = json.loads(body_bytes)
    except ValueError:
        order, valid_order = None, False
    body: dict[str, Any] = {"order": order}
    if draw(st.booleans()):
        body["channelId"] = draw(st.sampled_from([CHANNEL_ID, "no-such-channel"]))
    if draw(st.booleans()):
        body["sourcing"] = draw(rules_values)
    valid = valid_order and _valid_rules(body.get("sourcing", {}))
    return body, valid


@st.composite
def simulation_bodies(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    now = int(time.time())
    start = now - draw(st.integers(-3600, 100 * 24 * 3600))
    length = draw(st.integers(-3600, 100 * 24 * 3600))
    body = {
        "channelId": CHANNEL_ID,
        "createdFrom": _instant(start),
        "createdBefore": _instant(start + length),
        "proposed": draw(rules_values),
    }
    valid = length > 0 and length < 92 * 24 * 3600 and _valid_rules(body["proposed"])
    return body, valid


def _instant(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _valid_rules(rules: Any) -> bool:
    try:
        SourcingRules.model_validate(rules)
    except ValidationError:
        return False
    return True


routing_requests = schema.include(method="POST", path_regex="^/sourcing/")


@routing_requests.parametrize()
@routing_requests.given(plan=plan_bodies(), simulation=simulation_bodies())
def test_routing_requests_get_a_plan_or_a_clear_error(
    case: schemathesis.Case,
    plan: tuple[dict[str, Any], bool],
    simulation: tuple[dict[str, Any], bool],
    fuzzed_oms: FuzzedOMS,
) -> None:
    """Well-formed plan and simulation requests, valid or one thing wrong: 200 (404 for an unknown
    channel) when valid, else 400."""
    body, valid = plan if case.path == "/sourcing/plan" else simulation
    case.headers = {"content-type": "application/json"}
    response = check(
        case,
        fuzzed_oms,
        {"x-api-key": API_KEY, "content-type": "application/json"},
        body=json.dumps(body).encode(),
        excluded=[positive_data_acceptance, negative_data_rejection],
        series=" (drawn routing requests)",
    )
    unknown_channel = body.get("channelId") == "no-such-channel"
    expected = (
        ({404} if unknown_channel else {200}) if valid else {400, *({404} if unknown_channel else set())}
    )
    assert response.status_code in expected, f"expected one of {sorted(expected)}\n{describe(response)}"
