"""Secrets Manager, read through Powertools' parameters utility (cached per process for a few minutes,
so a warm function reads the secret about once per `MAX_AGE_SECONDS`, not once per request)."""

from __future__ import annotations

from aws_lambda_powertools.utilities import parameters

from shared import aws, config

MAX_AGE_SECONDS = 300


def tracking_link_key() -> bytes:
    """The key that signs and verifies links to the customer tracking page."""
    value = parameters.get_secret(config.tracking_link_key_secret(), max_age=MAX_AGE_SECONDS)
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def console_api_key() -> str:
    """The value of the console's API key (what a request with a staff token is counted against)."""
    return str(parameters.get_secret(config.console_api_key_secret(), max_age=MAX_AGE_SECONDS))


# The local runtime and tests point boto3 at a new endpoint (or moto) with a new secret: forget the
# cached value and the provider's client with the others.
aws.on_reset(parameters.clear_caches)
