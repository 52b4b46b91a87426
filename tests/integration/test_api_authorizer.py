"""The API authorizer's handler on the local runtime (moto's Secrets Manager holds the console's key),
with a staff pool's JWKS served over HTTP by the test, as Cognito serves it."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from blueprint import API_AUTHORIZER, CONSOLE_API_KEY, STAFF_POOL
from functions.api_authorizer.handler import lambda_handler
from local.invoker import REGISTRY
from local.runtime import LocalOMS
from shared.dal import jwks

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Staff"
CLIENT = "console-client"
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:api/v1/GET/orders"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(private_key: rsa.RSAPrivateKey) -> Iterator[str]:
    numbers = private_key.public_key().public_numbers()
    document = json.dumps(
        {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": "k1",
                    "n": b64(numbers.n.to_bytes(256, "big")),
                    "e": b64(numbers.e.to_bytes(3, "big")),
                }
            ]
        }
    ).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/eu-west-1_Staff/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


@pytest.fixture
def staff_pool(monkeypatch: pytest.MonkeyPatch, oms: LocalOMS, jwks_url: str) -> None:
    monkeypatch.setenv(STAFF_POOL.issuer_env, ISSUER)
    monkeypatch.setenv(STAFF_POOL.jwks_url_env, jwks_url)
    monkeypatch.setenv(STAFF_POOL.client_id_env, CLIENT)


def token(private_key: rsa.RSAPrivateKey, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "staff-1",
        "username": "alice",
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "iat": now,
        "exp": now + 3600,
        **changes,
    }
    head = b64(json.dumps({"alg": "RS256", "kid": "k1"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = private_key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64(signature)}"


def event(headers: dict[str, str] | None) -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": headers, "httpMethod": "GET"}


def console_key(oms: LocalOMS) -> str:
    secret = oms.deployment.secret_names[CONSOLE_API_KEY.name]
    value: str = oms.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    return value


def test_a_staff_token_is_counted_against_the_console_key(
    oms: LocalOMS, staff_pool: None, private_key: rsa.RSAPrivateKey
) -> None:
    answer = lambda_handler(event({"Authorization": f"Bearer {token(private_key)}"}), None)

    assert answer["usageIdentifierKey"] == console_key(oms)
    assert answer["principalId"] == "cognito:staff-1"
    assert answer["context"] == {"authMethod": "cognito", "username": "alice"}
    (statement,) = answer["policyDocument"]["Statement"]
    assert (statement["Effect"], statement["Resource"]) == ("Allow", METHOD_ARN)


def test_an_api_key_goes_to_the_usage_plan(oms: LocalOMS, staff_pool: None) -> None:
    answer = lambda_handler(event({"x-api-key": "integration-key"}), None)
    assert answer["usageIdentifierKey"] == "integration-key"
    assert answer["context"] == {"authMethod": "apiKey"}


@pytest.mark.parametrize(
    "changes",
    [{"exp": 1}, {"iss": "https://elsewhere"}, {"client_id": "other"}, {"token_use": "id"}],
    ids=["expired", "issuer", "client", "token-use"],
)
def test_bad_tokens_and_no_credential_are_unauthorized(
    oms: LocalOMS, staff_pool: None, private_key: rsa.RSAPrivateKey, changes: dict[str, Any]
) -> None:
    for headers in ({"Authorization": f"Bearer {token(private_key, **changes)}"}, {}, None):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            lambda_handler(event(headers), None)


def test_the_signing_keys_are_fetched_once_and_kept(
    oms: LocalOMS, staff_pool: None, private_key: rsa.RSAPrivateKey, jwks_url: str
) -> None:
    lambda_handler(event({"Authorization": f"Bearer {token(private_key)}"}), None)
    cache = jwks.cache_for(jwks_url)
    fetched = cache._fetched_at
    lambda_handler(event({"Authorization": f"Bearer {token(private_key)}"}), None)
    assert cache._fetched_at == fetched


def test_locally_there_is_no_pool_and_the_deployed_function_refuses_tokens(
    oms: LocalOMS, private_key: rsa.RSAPrivateKey
) -> None:
    """The authorizer as the local runtime deploys it (empty pool settings): API keys only."""
    refused = REGISTRY.invoke_payload(
        API_AUTHORIZER, json.dumps(event({"Authorization": f"Bearer {token(private_key)}"}))
    )
    assert refused.unhandled_error
    assert json.loads(refused.payload)["errorMessage"] == "Unauthorized"
    allowed = REGISTRY.invoke_payload(API_AUTHORIZER, json.dumps(event({"x-api-key": "k"})))
    assert json.loads(allowed.payload)["usageIdentifierKey"] == "k"
