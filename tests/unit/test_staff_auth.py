"""Staff tokens and API keys (shared/logic/staff_auth.py): tokens signed here with a generated RSA key,
its JWKS as Cognito publishes one, and every way a token must be refused."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from shared.logic.staff_auth import (
    Decision,
    RsaKey,
    Unauthorized,
    UserPool,
    authorizer_response,
    decide,
    keys_from_jwks,
    rs256_verify,
    verify_access_token,
)

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Staff"
CLIENT = "console-client-id"
POOL = UserPool(issuer=ISSUER, client_id=CLIENT)
NOW = 1_800_000_000.0
CONSOLE_KEY = "console-usage-plan-key"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/orders"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(private: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = private.public_key().public_numbers()
    return {
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
        "kid": kid,
        "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64(numbers.e.to_bytes(3, "big")),
    }


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys(private_key: rsa.RSAPrivateKey) -> Callable[[str], RsaKey | None]:
    published = keys_from_jwks({"keys": [jwk(private_key, "kid-1"), {"kty": "EC", "kid": "ec"}]})
    return published.get


def sign(private: rsa.RSAPrivateKey, claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    head = b64(json.dumps(header or {"alg": "RS256", "kid": "kid-1"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = private.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64(signature)}"


def access_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "sub": "0f1e2d3c-staff",
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "scope": "openid email profile",
        "username": "alice",
        "iat": NOW - 60,
        "exp": NOW + 3600,
    }
    return {**claims, **changes}


def test_a_valid_access_token_gives_its_claims(private_key: rsa.RSAPrivateKey, keys: Any) -> None:
    claims = verify_access_token(sign(private_key, access_claims()), POOL, keys, NOW)
    assert (claims["sub"], claims["username"]) == ("0f1e2d3c-staff", "alice")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": NOW - 31}, "expired"),
        ({"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"}, "another user pool"),
        ({"client_id": "another-client"}, "another app client"),
        ({"token_use": "id", "aud": CLIENT}, "not an access token"),
        ({"iat": NOW + 600}, "future"),
        ({"sub": ""}, "no subject"),
    ],
    ids=["expired", "wrong-issuer", "wrong-client", "id-token", "future", "no-subject"],
)
def test_tokens_are_refused(
    private_key: rsa.RSAPrivateKey, keys: Any, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unauthorized, match=reason):
        verify_access_token(sign(private_key, access_claims(**changes)), POOL, keys, NOW)


def test_the_clock_may_differ_by_the_leeway(private_key: rsa.RSAPrivateKey, keys: Any) -> None:
    assert verify_access_token(sign(private_key, access_claims(exp=NOW - 10)), POOL, keys, NOW)


def test_a_token_signed_by_another_key_is_refused(other_key: rsa.RSAPrivateKey, keys: Any) -> None:
    with pytest.raises(Unauthorized, match="bad signature"):
        verify_access_token(sign(other_key, access_claims()), POOL, keys, NOW)


def test_a_token_whose_claims_were_changed_after_signing_is_refused(
    private_key: rsa.RSAPrivateKey, keys: Any
) -> None:
    head, _, signature = sign(private_key, access_claims()).split(".")
    forged = b64(json.dumps(access_claims(username="mallory", sub="admin")).encode())
    with pytest.raises(Unauthorized, match="bad signature"):
        verify_access_token(f"{head}.{forged}.{signature}", POOL, keys, NOW)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "none", "kid": "kid-1"}, "RS256"),
        ({"alg": "HS256", "kid": "kid-1"}, "RS256"),
        ({"alg": "RS256", "kid": "unknown"}, "key the pool does not have"),
    ],
)
def test_other_algorithms_and_unknown_keys_are_refused(
    private_key: rsa.RSAPrivateKey, keys: Any, header: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unauthorized, match=reason):
        verify_access_token(sign(private_key, access_claims(), header), POOL, keys, NOW)


@pytest.mark.parametrize("token", ["", "a.b", "not.a.jwt", "e30.e30.", "W10.W10.AA"])
def test_malformed_tokens_are_refused(keys: Any, token: str) -> None:
    with pytest.raises(Unauthorized):
        verify_access_token(token, POOL, keys, NOW)


def test_the_verifier_agrees_with_a_library_on_raw_signatures(private_key: rsa.RSAPrivateKey) -> None:
    key = RsaKey.from_jwk(jwk(private_key, "k"))
    signature = private_key.sign(b"message", padding.PKCS1v15(), hashes.SHA256())
    assert rs256_verify(key, b"message", signature)
    assert not rs256_verify(key, b"messagf", signature)
    assert not rs256_verify(key, b"message", signature[:-1])
    # PSS (another padding) over the same message is not PKCS#1 v1.5.
    pss = private_key.sign(
        b"message", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256()
    )
    assert not rs256_verify(key, b"message", pss)


# The decision: token, API key, neither.


def decide_with(headers: Any, keys: Any, pool: UserPool | None = POOL) -> Decision:
    return decide(headers, pool=pool, keys=keys, console_key=lambda: CONSOLE_KEY, now=NOW)


def test_a_bearer_of_a_valid_token_is_counted_against_the_console_key(
    private_key: rsa.RSAPrivateKey, keys: Any
) -> None:
    token = sign(private_key, access_claims())
    decision = decide_with({"Authorization": f"Bearer {token}"}, keys)
    assert decision == Decision(
        principal="cognito:0f1e2d3c-staff", usage_key=CONSOLE_KEY, method="cognito", username="alice"
    )
    response = authorizer_response(decision, METHOD_ARN)
    assert response["usageIdentifierKey"] == CONSOLE_KEY
    assert response["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD_ARN}
    ]
    assert response["context"] == {"authMethod": "cognito", "username": "alice"}


def test_an_api_key_is_handed_to_the_usage_plan_to_check(keys: Any) -> None:
    decision = decide_with([("X-Api-Key", "the-callers-key")], keys)
    assert (decision.usage_key, decision.method, decision.principal) == (
        "the-callers-key",
        "apiKey",
        "api-key",
    )
    response = authorizer_response(decision, METHOD_ARN)
    assert response["usageIdentifierKey"] == "the-callers-key"
    assert response["context"] == {"authMethod": "apiKey"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        None,
        {"x-api-key": ""},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-token"},
        # A bad token is refused even beside an API key: the caller meant the token.
        {"Authorization": "Bearer a.b.c", "x-api-key": "k"},
    ],
)
def test_no_credential_or_a_bad_one_is_unauthorized(keys: Any, headers: Any) -> None:
    with pytest.raises(Unauthorized):
        decide_with(headers, keys)


def test_where_no_pool_is_configured_tokens_are_refused(private_key: rsa.RSAPrivateKey, keys: Any) -> None:
    token = sign(private_key, access_claims())
    with pytest.raises(Unauthorized, match="not configured"):
        decide_with({"authorization": f"bearer {token}"}, keys, pool=None)


def test_the_time_is_the_callers(private_key: rsa.RSAPrivateKey, keys: Any) -> None:
    token = sign(private_key, access_claims(iat=time.time() - 10, exp=time.time() + 100))
    assert (
        decide(
            {"Authorization": f"Bearer {token}"},
            pool=POOL,
            keys=keys,
            console_key=lambda: CONSOLE_KEY,
            now=time.time(),
        ).username
        == "alice"
    )
