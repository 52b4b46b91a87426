"""Locally, staff sign in against moto's Cognito: the local runtime makes the staff pool and its console
client there, and the local gateway takes that pool's access tokens beside the API key, as the stack's
authorizer does (same `shared.logic.staff_auth`); moto signs them with its own RSA key."""

from __future__ import annotations

from typing import Any

import pytest

from blueprint import STAFF_POOL
from local.runtime import LocalOMS

PASSWORD = "Corr3ct-Horse-Battery"


def sign_in(
    oms: LocalOMS, client_id: str, pool_id: str | None = None, username: str = "alice"
) -> dict[str, Any]:
    """What `aws cognito-idp admin-initiate-auth` gives a staff member (moto has no hosted UI)."""
    cognito = oms.client("cognito-idp")
    pool_id = pool_id or oms.deployment.user_pools[STAFF_POOL.name].pool_id
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": "email", "Value": f"{username}@shop.example"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
    answer = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    result: dict[str, Any] = answer["AuthenticationResult"]
    return result


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_runtime_makes_the_staff_pool_on_moto(oms: LocalOMS) -> None:
    pool = oms.deployment.user_pools[STAFF_POOL.name]
    described = oms.client("cognito-idp").describe_user_pool(UserPoolId=pool.pool_id)["UserPool"]
    assert described["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    assert pool.issuer.endswith(f"/{pool.pool_id}")


def test_an_access_token_of_the_staff_pool_opens_the_api(oms: LocalOMS) -> None:
    tokens = sign_in(oms, oms.deployment.user_pools[STAFF_POOL.name].client_id)

    response = oms.request(
        "GET", "/orders?limit=1", headers=bearer(tokens["AccessToken"]), authenticated=False
    )
    assert response.status == 200, response.json()
    # Public routes stay public; the API key still works.
    assert oms.request("GET", "/health", authenticated=False).status == 200
    assert oms.request("GET", "/orders?limit=1").status == 200


def test_other_tokens_are_refused(oms: LocalOMS) -> None:
    cognito = oms.client("cognito-idp")
    pool = oms.deployment.user_pools[STAFF_POOL.name]
    tokens = sign_in(oms, pool.client_id)
    other_client = cognito.create_user_pool_client(
        UserPoolId=pool.pool_id, ClientName="Other", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    other_pool = cognito.create_user_pool(PoolName="elsewhere")["UserPool"]["Id"]
    elsewhere_client = cognito.create_user_pool_client(
        UserPoolId=other_pool, ClientName="Console", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]

    refused = {
        "id token": tokens["IdToken"],
        "another client": sign_in(oms, other_client, username="bob")["AccessToken"],
        "another pool": sign_in(oms, elsewhere_client, other_pool, username="carol")["AccessToken"],
        "altered": tokens["AccessToken"][:-4]
        + ("AAAA" if not tokens["AccessToken"].endswith("AAAA") else "BBBB"),
    }
    for what, token in refused.items():
        response = oms.request("GET", "/orders?limit=1", headers=bearer(token), authenticated=False)
        assert (response.status, response.json()["error"]["code"]) == (401, "UNAUTHORIZED"), what


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic YTpi"}])
def test_no_credential_is_unauthorized(oms: LocalOMS, headers: dict[str, str]) -> None:
    assert oms.request("GET", "/orders", headers=headers, authenticated=False).status == 401
