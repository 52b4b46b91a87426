"""EventBridge buses from `blueprint.BUSES`, each with an archive of what it carries (for replays)."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprint import BUSES, RULES
from blueprint import EventBus as EventBusSpec
from shared.models.events import SOURCE

from . import tag_with_blueprint_name


class Buses(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, events.EventBus] = {spec.name: self._bus(spec) for spec in BUSES.values()}

    def _bus(self, spec: EventBusSpec) -> events.EventBus:
        bus = events.EventBus(self, spec.name, description=spec.description[:512])
        bus.archive(
            f"{spec.name}Archive",
            description=f"Every event of {spec.name}, kept {spec.archive_retention_days} days for replays.",
            event_pattern=events.EventPattern(source=[SOURCE]),
            retention=Duration.days(spec.archive_retention_days),
        )
        tag_with_blueprint_name(bus, "EventBus", spec.name)
        return bus

    def connect_rules(self, queues: Mapping[str, sqs.Queue]) -> None:
        """Each blueprint rule: the bus's OMS events of its types copied to its queue (the target adds
        the queue policy that lets this rule, and only it, send)."""
        for spec in RULES.values():
            rule = events.Rule(
                self,
                f"{spec.name}Rule",
                event_bus=self.by_name[spec.bus],
                description=spec.description[:512] or None,
                event_pattern=events.EventPattern(
                    source=[SOURCE], detail_type=list(spec.event_types) or None
                ),
                targets=[targets.SqsQueue(queues[spec.queue])],
            )
            tag_with_blueprint_name(rule, "Rule", spec.name)
