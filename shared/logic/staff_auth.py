"""Who may call the API's staff routes: an API key (`x-api-key`), or a staff member signed in through the
Cognito user pool (`Authorization: Bearer <access token>`). Pure logic, no I/O: the API authorizer
(functions/api_authorizer) and the local gateway both decide with it.

Tokens are verified here, not by a library: Cognito signs with RS256 (RSASSA-PKCS1-v1_5, SHA-256) and
verifying that needs only modular exponentiation. The signature is checked by rebuilding the whole
expected encoded message and comparing it (never by parsing the decrypted block), which is what RFC
8017 prescribes and what rules out the forgeries that lenient parsers allowed. No dependency with
compiled code has to be built for the functions' arm64 runtime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
# Tolerated clock difference between Cognito and us when checking exp and iat.
LEEWAY_SECONDS = 30
BEARER = "bearer "


class Unauthorized(Exception):
    """No credential, or a token that is not a valid one of the pool's (API Gateway: 401)."""


@dataclass(frozen=True)
class RsaKey:
    """An RSA public key of the pool's JWKS."""

    kid: str
    n: int
    e: int

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> RsaKey:
        return cls(kid=str(jwk["kid"]), n=_b64_int(jwk["n"]), e=_b64_int(jwk["e"]))


def keys_from_jwks(document: Mapping[str, Any]) -> dict[str, RsaKey]:
    """The RS256 signing keys of a JWKS document, by key id."""
    return {
        str(jwk["kid"]): RsaKey.from_jwk(jwk)
        for jwk in document.get("keys", [])
        if jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig" and "kid" in jwk
    }


@dataclass(frozen=True)
class UserPool:
    """What a token must say to be one of ours: the pool (issuer) and the console's app client."""

    issuer: str
    client_id: str


@dataclass(frozen=True)
class Decision:
    """Allow the request: `usage_key` is the API key API Gateway counts it against (its usage plan)."""

    principal: str
    usage_key: str
    method: str  # "apiKey" or "cognito"
    username: str | None = None


def rs256_verify(key: RsaKey, signed: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 verification with SHA-256 (RFC 8017, 8.2.2)."""
    size = (key.n.bit_length() + 7) // 8
    if len(signature) != size or size < 256:  # a 2048-bit key at least
        return False
    s = int.from_bytes(signature, "big")
    if s >= key.n:
        return False
    encoded = pow(s, key.e, key.n).to_bytes(size, "big")
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(signed).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


def verify_access_token(
    token: str, pool: UserPool, keys: Callable[[str], RsaKey | None], now: float
) -> dict[str, Any]:
    """The claims of `token` if it is an unexpired access token the pool issued to the console's client.
    `keys(kid)` gives the pool's key with that id (None if it has none)."""
    header, claims, signed, signature = _decode(token)
    if header.get("alg") != "RS256":
        raise Unauthorized("not signed with RS256")
    key = keys(str(header.get("kid", "")))
    if key is None:
        raise Unauthorized("signed with a key the pool does not have")
    if not rs256_verify(key, signed, signature):
        raise Unauthorized("bad signature")
    _check_claims(claims, pool, now)
    return claims


def _decode(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signed bytes, signature) of a compact JWS."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("not a JWT")
    try:
        header, claims, signature = json.loads(_b64(parts[0])), json.loads(_b64(parts[1])), _b64(parts[2])
    except (ValueError, binascii.Error) as error:
        raise Unauthorized("malformed JWT") from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized("malformed JWT")
    return header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature


def _check_claims(claims: dict[str, Any], pool: UserPool, now: float) -> None:
    if claims.get("iss") != pool.issuer:
        raise Unauthorized("issued by another user pool")
    if claims.get("token_use") != "access":
        raise Unauthorized("not an access token")
    if claims.get("client_id") != pool.client_id:
        raise Unauthorized("issued to another app client")
    expires, issued = claims.get("exp"), claims.get("iat", 0)
    if not isinstance(expires, int | float) or expires + LEEWAY_SECONDS <= now:
        raise Unauthorized("expired")
    if not isinstance(issued, int | float) or issued - LEEWAY_SECONDS > now:
        raise Unauthorized("issued in the future")
    if not claims.get("sub"):
        raise Unauthorized("no subject")


def header(headers: Mapping[str, str] | Iterable[tuple[str, str]] | None, name: str) -> str | None:
    """The (last) value of the header `name`, whatever its case."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or [])
    values = [value for key, value in pairs if key.lower() == name.lower()]
    return values[-1] if values else None


def decide(
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None,
    *,
    pool: UserPool | None,
    keys: Callable[[str], RsaKey | None],
    console_key: Callable[[], str],
    now: float,
) -> Decision:
    """Allow a bearer of a valid access token (counted against the console's API key) or a caller with
    an `x-api-key` (API Gateway then checks that key against the usage plan); else `Unauthorized`.
    A token is looked at first: a caller sending a bad one is refused, not let through on a key."""
    authorization = header(headers, "authorization")
    if authorization:
        if not authorization.lower().startswith(BEARER):
            raise Unauthorized("the Authorization header is not a bearer token")
        if pool is None:
            raise Unauthorized("sign-in with tokens is not configured here")
        claims = verify_access_token(authorization[len(BEARER) :].strip(), pool, keys, now)
        username = str(claims.get("username") or claims.get("cognito:username") or claims["sub"])
        return Decision(
            principal=f"cognito:{claims['sub']}", usage_key=console_key(), method="cognito", username=username
        )
    api_key = header(headers, "x-api-key")
    if api_key:
        return Decision(principal="api-key", usage_key=api_key, method="apiKey")
    raise Unauthorized("no x-api-key header and no bearer token")


def authorizer_response(decision: Decision, method_arn: str) -> dict[str, Any]:
    """A REST API Lambda authorizer's answer allowing this method, with the usage plan's key
    (`apiKeySource: AUTHORIZER`) and what the functions may read in `requestContext.authorizer`."""
    context = {"authMethod": decision.method}
    if decision.username:
        context["username"] = decision.username
    return {
        "principalId": decision.principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}],
        },
        "usageIdentifierKey": decision.usage_key,
        "context": context,
    }


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64_int(value: str) -> int:
    return int.from_bytes(_b64(value), "big")
