"""API Gateway REQUEST authorizer of the staff routes (`apiKeySource: AUTHORIZER`): an `x-api-key` is
handed to API Gateway as the usage identifier (the usage plan then checks it), a valid access token of
the staff user pool is counted against the console's API key; anything else is 401."""

from __future__ import annotations

import time
from typing import Any

from shared import config
from shared.dal import jwks, secrets
from shared.logic.staff_auth import RsaKey, Unauthorized, UserPool, authorizer_response, decide
from shared.observability import logger


def _pool() -> tuple[UserPool | None, str]:
    settings = config.staff_pool()
    if settings is None:
        return None, ""
    issuer, jwks_url, client_id = settings
    return UserPool(issuer=issuer, client_id=client_id), jwks_url


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    pool, jwks_url = _pool()

    def key(kid: str) -> RsaKey | None:
        return jwks.cache_for(jwks_url).key(kid) if jwks_url else None

    try:
        decision = decide(
            event.get("headers"), pool=pool, keys=key, console_key=secrets.console_api_key, now=time.time()
        )
    except Unauthorized as refused:
        logger.info("request refused", extra={"reason": str(refused), "methodArn": event.get("methodArn")})
        # API Gateway's contract: exactly this message makes its 401 (the UNAUTHORIZED gateway response).
        raise Exception("Unauthorized") from None
    logger.info("request allowed", extra={"authMethod": decision.method, "principal": decision.principal})
    return authorizer_response(decision, event["methodArn"])
