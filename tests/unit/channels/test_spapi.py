"""The SP-API client against a local HTTP stand-in of the SP-API and LWA (local/spapi_sandbox.py)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal

import pytest

from local.spapi_sandbox import (
    CLIENT_SECRET,
    FULL_ITEMS,
    FULL_ORDER,
    FULL_ORDER_ID,
    REFRESH_TOKEN,
    SANDBOX_ORDER_ID,
    TOKEN_PATH,
    FakeSpApi,
)
from shared.channels.amazon import to_canonical
from shared.channels.spapi import RDT_PATH, SpApiClient, SpApiCredentials, SpApiError
from shared.errors import InvalidRequest, NotFound, TransientError


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeSpApi]:
    with FakeSpApi() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(fake: FakeSpApi, sleeps: Sleeps) -> SpApiClient:
    return SpApiClient(fake.credentials(), timeout=2.0, sleep=sleeps)


def secrets_in(text: str, fake: FakeSpApi) -> list[str]:
    """The secrets and tokens that appear in `text`."""
    issued = [r.headers["x-amz-access-token"] for r in fake.requests if "x-amz-access-token" in r.headers]
    return [secret for secret in [CLIENT_SECRET, REFRESH_TOKEN, *issued] if secret in text]


# --- tokens ----------------------------------------------------------------------------------------


def test_one_access_token_serves_several_calls(fake: FakeSpApi, client: SpApiClient) -> None:
    client.get_order(FULL_ORDER_ID)
    client.get_order_items(FULL_ORDER_ID)
    client.get_order_items(SANDBOX_ORDER_ID)

    token_requests = fake.calls(TOKEN_PATH, "POST")
    assert len(token_requests) == 1
    form = dict(urllib.parse.parse_qsl(token_requests[0].body.decode()))
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "client_id": fake.client_id,
        "client_secret": CLIENT_SECRET,
    }
    access_tokens = {r.headers["x-amz-access-token"] for r in fake.calls("orderItems")}
    assert len(access_tokens) == 1


def test_the_access_token_is_renewed_shortly_before_it_expires(fake: FakeSpApi, sleeps: Sleeps) -> None:
    now = [1000.0]
    client = SpApiClient(fake.credentials(), sleep=sleeps, clock=lambda: now[0])

    client.get_order_items(FULL_ORDER_ID)
    now[0] += 3600 - 61  # still a minute and a second to go
    client.get_order_items(FULL_ORDER_ID)
    assert len(fake.calls(TOKEN_PATH)) == 1

    now[0] += 2  # within the last minute
    client.get_order_items(FULL_ORDER_ID)
    assert len(fake.calls(TOKEN_PATH)) == 2


def test_refused_credentials_are_an_error_without_the_secrets(fake: FakeSpApi, sleeps: Sleeps) -> None:
    wrong_secret = SpApiClient(fake.credentials(client_secret="wrong-secret-0123456789"), sleep=sleeps)
    wrong_refresh = SpApiClient(fake.credentials(refresh_token="Atzr|wrong-refresh-token-42"), sleep=sleeps)

    with pytest.raises(SpApiError) as secret_error:
        wrong_secret.get_order(FULL_ORDER_ID)
    with pytest.raises(SpApiError) as refresh_error:
        wrong_refresh.get_order(FULL_ORDER_ID)

    assert secret_error.value.status == 401
    assert "invalid_client" in str(secret_error.value)
    assert refresh_error.value.status == 400
    assert "invalid_grant" in str(refresh_error.value)
    for text in (str(secret_error.value), str(refresh_error.value)):
        assert "wrong-secret-0123456789" not in text
        assert "Atzr|wrong-refresh-token-42" not in text
    assert sleeps == []  # a refusal is not retried


def test_credentials_do_not_show_their_secrets(fake: FakeSpApi, client: SpApiClient) -> None:
    credentials = fake.credentials()

    assert secrets_in(repr(credentials), fake) == []
    assert secrets_in(repr(client), fake) == []


def test_a_revoked_token_is_refused_and_replaced_on_the_next_call(
    fake: FakeSpApi, client: SpApiClient
) -> None:
    client.get_order_items(FULL_ORDER_ID)
    fake.revoke_tokens()

    with pytest.raises(SpApiError) as error:
        client.get_order_items(FULL_ORDER_ID)
    items = client.get_order_items(FULL_ORDER_ID)

    assert error.value.status == 403
    assert "Access to requested resource is denied" in error.value.message
    assert error.value.errors[0]["code"] == "Unauthorized"
    assert secrets_in(str(error.value), fake) == []
    assert len(items) == 2
    assert len(fake.calls(TOKEN_PATH)) == 2


# --- getOrder and its restricted data token ------------------------------------------------------------


def test_get_order_uses_a_restricted_data_token_for_the_address(fake: FakeSpApi, client: SpApiClient) -> None:
    order = client.get_order(FULL_ORDER_ID)

    assert order == FULL_ORDER
    (rdt_request,) = fake.calls(RDT_PATH, "POST")
    assert json.loads(rdt_request.body) == {
        "restrictedResources": [
            {
                "method": "GET",
                "path": f"/orders/v0/orders/{FULL_ORDER_ID}",
                "dataElements": ["buyerInfo", "shippingAddress"],
            }
        ]
    }
    (order_request,) = fake.calls(f"/orders/v0/orders/{FULL_ORDER_ID}", "GET")
    assert order_request.headers["x-amz-access-token"].startswith("Atz.sprdt|")
    assert rdt_request.headers["x-amz-access-token"].startswith("Atza|")


def test_a_refused_restricted_data_token_falls_back_to_the_access_token(
    fake: FakeSpApi, client: SpApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake.refuse_restricted_data = True

    order = client.get_order(FULL_ORDER_ID)

    assert order["AmazonOrderId"] == FULL_ORDER_ID
    assert order["ShippingAddress"] == {
        "City": "Boston",
        "StateOrRegion": "MA",
        "PostalCode": "02108-1234",
        "CountryCode": "US",
        "AddressType": "Residential",
    }
    assert "BuyerInfo" not in order
    (order_request,) = fake.calls(f"/orders/v0/orders/{FULL_ORDER_ID}", "GET")
    assert order_request.headers["x-amz-access-token"].startswith("Atza|")
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "restricted data token" in warning.getMessage()
    assert secrets_in(str(vars(warning)), fake) == []
    with pytest.raises(InvalidRequest) as error:
        to_canonical(order, client.get_order_items(FULL_ORDER_ID))
    assert {p["field"] for p in error.value.details} == {
        "BuyerInfo",
        "ShippingAddress.Name",
        "ShippingAddress.AddressLine1",
    }


def test_an_unknown_order_is_not_found_and_its_id_is_quoted(fake: FakeSpApi, client: SpApiClient) -> None:
    with pytest.raises(NotFound) as error:
        client.get_order("123/../456 7")

    assert "123/../456 7" in error.value.message
    assert fake.calls("/orders/v0/orders/", "GET")[0].path == "/orders/v0/orders/123%2F..%2F456%207"
    with pytest.raises(NotFound):
        client.get_order_items("999-0000000-0000000")


def test_a_bad_request_is_an_error_with_the_sp_api_message(fake: FakeSpApi, client: SpApiClient) -> None:
    fake.fail_next("/orderItems", 400)

    with pytest.raises(SpApiError) as error:
        client.get_order_items(FULL_ORDER_ID)

    assert error.value.status == 400
    assert error.value.message == "getOrderItems refused (400): InvalidInput: Invalid Input"
    assert len(fake.calls("/orderItems")) == 1


def test_secrets_a_server_echoes_are_redacted(fake: FakeSpApi, client: SpApiClient) -> None:
    client.get_order_items(FULL_ORDER_ID)
    token = fake.calls("/orderItems")[0].headers["x-amz-access-token"]
    echo = {"code": "InvalidInput", "message": f"bad token {token}", "details": f"secret {CLIENT_SECRET}"}
    fake.fail_next("/orderItems", 400, error=echo)

    with pytest.raises(SpApiError) as error:
        client.get_order_items(FULL_ORDER_ID)

    assert error.value.message == (
        "getOrderItems refused (400): InvalidInput: bad token [redacted] (secret [redacted])"
    )
    assert error.value.errors == [
        {"code": "InvalidInput", "message": "bad token [redacted]", "details": "secret [redacted]"}
    ]


# --- getOrderItems pages ---------------------------------------------------------------------------------


def test_every_page_of_items_is_fetched(fake: FakeSpApi, client: SpApiClient) -> None:
    items = [dict(FULL_ITEMS[0], OrderItemId=f"7000{n}", SellerSKU=f"SKU-{n}") for n in range(5)]
    fake.add_order(dict(FULL_ORDER, AmazonOrderId="114-0000000-0000001"), items, pages=3)

    fetched = client.get_order_items("114-0000000-0000001")

    assert [item["SellerSKU"] for item in fetched] == [f"SKU-{n}" for n in range(5)]
    requests = fake.calls("/orderItems", "GET")
    assert len(requests) == 3
    assert "NextToken" not in requests[0].query
    assert requests[1].query["NextToken"] != requests[2].query["NextToken"]


def test_an_order_and_its_paged_items_map_to_the_canonical_order(
    fake: FakeSpApi, client: SpApiClient
) -> None:
    fake.add_order(FULL_ORDER, FULL_ITEMS, pages=2)

    canonical = to_canonical(client.get_order(FULL_ORDER_ID), client.get_order_items(FULL_ORDER_ID))

    assert [line.sku for line in canonical.lines] == ["MUG-BLUE", "TEE-M"]
    assert canonical.shippingAddress.line1 == "1 Main St"
    assert canonical.amount_due() == canonical.declaredTotal == Decimal("39.95")


def test_the_sandbox_order_is_served_but_has_no_address(client: SpApiClient) -> None:
    order = client.get_order(SANDBOX_ORDER_ID)
    items = client.get_order_items(SANDBOX_ORDER_ID)

    assert order["AmazonOrderId"] == "902-1845936-5435065"
    assert [item["SellerSKU"] for item in items] == ["NABetaASINB00551Q3CS"]
    with pytest.raises(InvalidRequest) as error:
        to_canonical(order, items)
    assert {p["field"] for p in error.value.details} == {"ShippingAddress", "BuyerInfo"}


# --- retries ------------------------------------------------------------------------------------------


def test_a_rate_limited_call_is_retried(fake: FakeSpApi, client: SpApiClient, sleeps: Sleeps) -> None:
    fake.fail_next("/orderItems", 429)

    items = client.get_order_items(FULL_ORDER_ID)

    assert len(items) == 2
    assert len(fake.calls("/orderItems")) == 2
    assert sleeps == [0.5]


def test_retry_after_is_honoured(fake: FakeSpApi, client: SpApiClient, sleeps: Sleeps) -> None:
    fake.fail_next("/orderItems", 429, headers={"Retry-After": "3"})

    client.get_order_items(FULL_ORDER_ID)

    assert sleeps == [3.0]


def test_after_a_429_the_operations_rate_limit_sets_the_wait(
    fake: FakeSpApi, client: SpApiClient, sleeps: Sleeps
) -> None:
    client.get_order_items(FULL_ORDER_ID)  # the answer says x-amzn-RateLimit-Limit: 0.5
    fake.fail_next("/orderItems", 429)

    client.get_order_items(FULL_ORDER_ID)

    assert sleeps == [2.0]  # one request's worth at 0.5 requests per second


def test_waits_are_capped(fake: FakeSpApi, client: SpApiClient, sleeps: Sleeps) -> None:
    fake.fail_next("/orderItems", 503, headers={"Retry-After": "3600"})

    client.get_order_items(FULL_ORDER_ID)

    assert sleeps == [10.0]


def test_a_dropped_connection_is_retried(fake: FakeSpApi, client: SpApiClient, sleeps: Sleeps) -> None:
    fake.drop_next(f"/orders/v0/orders/{FULL_ORDER_ID}")

    order = client.get_order(FULL_ORDER_ID)

    assert order["AmazonOrderId"] == FULL_ORDER_ID
    assert len(sleeps) == 1


def test_the_token_endpoint_is_retried_too(fake: FakeSpApi, client: SpApiClient, sleeps: Sleeps) -> None:
    fake.fail_next(TOKEN_PATH, 500)

    client.get_order_items(FULL_ORDER_ID)

    assert len(fake.calls(TOKEN_PATH)) == 2
    assert sleeps == [0.5]


def test_a_lasting_outage_is_a_transient_error_without_secrets(
    fake: FakeSpApi, client: SpApiClient, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail_next("/orders/v0/orders/", 503, times=10)

    with pytest.raises(TransientError) as error:
        client.get_order(FULL_ORDER_ID)

    assert "503" in str(error.value)
    assert "after 3 attempts" in str(error.value)
    assert len(fake.calls(f"/orders/v0/orders/{FULL_ORDER_ID}")) == 3
    assert sleeps == [0.5, 1.0]
    assert secrets_in(str(error.value), fake) == []
    retries = [r for r in caplog.records if r.getMessage() == "SP-API request retried"]
    assert len(retries) == 2
    assert secrets_in(" ".join(str(vars(r)) for r in caplog.records), fake) == []


def test_an_unreachable_endpoint_is_a_transient_error(sleeps: Sleeps) -> None:
    with FakeSpApi() as gone:
        credentials = gone.credentials()
    client = SpApiClient(credentials, timeout=1.0, max_attempts=2, sleep=sleeps)

    with pytest.raises(TransientError) as error:
        client.get_order(FULL_ORDER_ID)

    assert "connection failed" in str(error.value)
    assert sleeps == [0.5]


def test_the_client_needs_at_least_one_attempt() -> None:
    credentials = SpApiCredentials("http://127.0.0.1:9", "http://127.0.0.1:9/t", "id", "secret", "refresh")

    with pytest.raises(ValueError, match="max_attempts"):
        SpApiClient(credentials, max_attempts=0)
