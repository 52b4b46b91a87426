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
    body: tuple[str, Any] | None,
    apply: Callable[[], dict[str, Any]],
    lambda_context: Any,
    *,
    key_name: str = HEADER["header"],
) -> tuple[dict[str, Any], bool]:
    """Run `apply` unless a request with the same `identity` (the key among it) ran; returns the
    stored answer and whether it ran now. `what` names the request in the 409's message, e.g.
    "adjustment of this location"; `body` is (its name, its JSON) and must match on a repeat (None:
    the key alone decides, as for a provider's event id). `key_name` names the key in a 409."""
    body_field, body_value = body if body is not None else ("", None)
    store, settings = _layer(tuple(identity), body_field)
    if lambda_context is not None:
        settings.register_lambda_context(lambda_context)
    ran_now: list[bool] = []

    def run(data: dict[str, Any]) -> dict[str, Any]:
        ran_now.append(True)
        return apply()

    once = idempotent_function(data_keyword_argument="data", persistence_store=store, config=settings)(run)
    try:
        stored = once(data={**identity, body_field: body_value} if body_field else identity)
    except IdempotencyValidationError as reused:
        raise Conflict(
            f"this {key_name} was already used for a different {what}", _where(key_name)
        ) from reused
    except IdempotencyAlreadyInProgressError as racing:
        raise Conflict(
            f"a request with this {key_name} is being applied; retry shortly", _where(key_name)
        ) from racing
    return stored, bool(ran_now)


def _where(key_name: str) -> dict[str, str]:
    return HEADER if key_name == HEADER["header"] else {"field": key_name}
