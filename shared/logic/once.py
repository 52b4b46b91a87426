"""Client requests applied once per `Idempotency-Key` (Powertools idempotency), the same way for
every route that takes one: a repeat gets the first answer, the same key with another body is 409,
and a repeat racing the first is 409 to retry shortly."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from shared import aws, config
from shared.errors import Conflict

KEY_MEMORY_SECONDS = 7 * 24 * 3600
HEADER = {"header": "Idempotency-Key"}


@cache
def _layer(
    key_fields: tuple[str, ...], body_field: str
) -> tuple[DynamoDBPersistenceLayer, IdempotencyConfig]:
    store = DynamoDBPersistenceLayer(table_name=config.idempotency_table())
    settings = IdempotencyConfig(
        event_key_jmespath=f"[{', '.join(key_fields)}]",
        payload_validation_jmespath=body_field,
        expires_after_seconds=KEY_MEMORY_SECONDS,
    )
    return store, settings


aws.on_reset(_layer.cache_clear)


def once_per_key(
    what: str,
    identity: dict[str, str],
    body: tuple[str, Any],
    apply: Callable[[], dict[str, Any]],
    lambda_context: Any,
) -> tuple[dict[str, Any], bool]:
    """Run `apply` unless a request with the same `identity` (the key among it) ran; returns the
    stored answer and whether it ran now. `what` names the request in the 409's message, e.g.
    "adjustment of this location"; `body` is (its name, its JSON) and must match on a repeat."""
    store, settings = _layer(tuple(identity), body[0])
    if lambda_context is not None:
        settings.register_lambda_context(lambda_context)
    ran_now: list[bool] = []

    def run(data: dict[str, Any]) -> dict[str, Any]:
        ran_now.append(True)
        return apply()

    once = idempotent_function(data_keyword_argument="data", persistence_store=store, config=settings)(run)
    try:
        stored = once(data={**identity, body[0]: body[1]})
    except IdempotencyValidationError as reused:
        raise Conflict(f"this Idempotency-Key was already used for a different {what}", HEADER) from reused
    except IdempotencyAlreadyInProgressError as racing:
        raise Conflict(
            "a request with this Idempotency-Key is being applied; retry shortly", HEADER
        ) from racing
    return stored, bool(ran_now)
