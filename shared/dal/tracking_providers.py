"""TrackingProviders table: one item per registered carrier tracking provider (EasyPost, AfterShip)."""

from __future__ import annotations

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from shared import config
from shared.clock import now_iso
from shared.dal.channels import rotation
from shared.dal.dynamo import plain, scan_page, table, to_item
from shared.errors import Conflict
from shared.models.tracking import TrackingProvider, TrackingProviderIn


def _name() -> str:
    return config.tracking_providers_table()


def get(provider_id: str) -> TrackingProvider | None:
    item = table(_name()).get_item(Key={"providerId": provider_id}, ConsistentRead=True).get("Item")
    return TrackingProvider.model_validate(plain(item)) if item else None


def list_page(limit: int, cursor: str | None) -> tuple[list[TrackingProvider], str | None]:
    """Registered providers in table order (a Scan: there are a handful)."""
    page = scan_page(_name(), ["providerId"], Attr("type").exists(), limit, cursor)
    return [TrackingProvider.model_validate(item) for item in page.items], page.cursor


def put(provider_id: str, data: TrackingProviderIn) -> tuple[TrackingProvider, bool]:
    """Create or replace a provider; returns it and whether it is new. A provider keeps its type
    (409 otherwise, by a condition on the write); a changed secret leaves the old one valid for the
    grace period, as for channels."""
    existing = get(provider_id)
    now = now_iso()
    provider = TrackingProvider(
        providerId=provider_id,
        type=data.type,
        webhookSecret=data.webhookSecret,
        createdAt=existing.createdAt if existing else now,
        updatedAt=now,
        **rotation(existing, data.webhookSecret),
    )
    try:
        table(_name()).put_item(
            Item=to_item(provider),
            ConditionExpression="attribute_not_exists(providerId) OR #type = :type",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues={":type": provider.type.value},
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        current = get(provider_id)
        current_type = current.type.value if current else "another"
        raise Conflict(
            f"tracking provider {provider_id} is a {current_type} provider; its type cannot change",
            {"providerId": provider_id, "type": current_type, "requested": provider.type.value},
        ) from error
    return provider, existing is None
