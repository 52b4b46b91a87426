"""SQS queues from `blueprint.QUEUES`, each with its dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from blueprint import QUEUES
from blueprint import Queue as QueueSpec

from . import tag_with_blueprint_name

DLQ_RETENTION = Duration.days(14)


class Queues(Construct):
    """Every blueprint queue: SSE with SQS-managed keys, TLS only, and a DLQ (kept 14 days)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters: dict[str, sqs.Queue] = {}
        self.by_name: dict[str, sqs.Queue] = {spec.name: self._queue(spec) for spec in QUEUES.values()}

    def _queue(self, spec: QueueSpec) -> sqs.Queue:
        dead_letters = sqs.Queue(
            self,
            f"{spec.name}DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        queue = sqs.Queue(
            self,
            spec.name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.days(spec.retention_days),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=spec.max_receive_count
            ),
        )
        for account in spec.sender_accounts:
            queue.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.AccountPrincipal(account)],
                    actions=["sqs:SendMessage", "sqs:GetQueueAttributes"],
                    resources=[queue.queue_arn],
                )
            )
        self.dead_letters[spec.name] = dead_letters
        tag_with_blueprint_name(queue, "Queue", spec.name)
        return queue
