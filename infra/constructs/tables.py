"""DynamoDB tables from `blueprint.TABLES`."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from blueprint import TABLES
from blueprint import Table as TableSpec

from . import tag_with_blueprint_name

STRING = dynamodb.AttributeType.STRING


class Tables(Construct):
    """Every blueprint table, on demand, with point-in-time recovery and AWS-managed encryption."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, dynamodb.Table] = {spec.name: self._table(spec) for spec in TABLES.values()}

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            spec.name,
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=STRING),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=STRING) if spec.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            removal_policy=RemovalPolicy.RETAIN if spec.retain_on_delete else RemovalPolicy.DESTROY,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if spec.stream else None,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(name=index.partition_key, type=STRING),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=STRING),
                projection_type=dynamodb.ProjectionType(index.projection),
                non_key_attributes=list(index.included) or None,
            )
        tag_with_blueprint_name(table, "Table", spec.name)
        return table
