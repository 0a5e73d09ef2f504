"""The scheduler folds SQS's own dead-letter queue back into the dead-letter set (moto)."""

from __future__ import annotations

import json
import os

import boto3
import msgspec
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.builders import stored_notification
from tests.support.world import TenantFixture
from wanotify.common.db.schema import notifications
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.domain.status import Status
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher, QueueJob
from wanotify.common.queue.postgres import PostgresQueue
from wanotify.common.queue.sqs import SqsQueue
from wanotify.scheduler.jobs import SchedulerJobs


async def _notification(engine: AsyncEngine, tenant: TenantFixture, status: str) -> str:
    nid = await stored_notification(engine, tenant, status=Status.SCHEDULED)
    async with engine.begin() as conn:  # stamped as published: no relay touches it
        await conn.execute(
            update(notifications)
            .where(notifications.c.id == nid)
            .values(status=status, enqueued_at=notifications.c.created_at)
        )
    return nid


def _jobs(engine: AsyncEngine, dlq: SqsQueue | None) -> SchedulerJobs:
    return SchedulerJobs(
        lambda: UnitOfWork(engine),
        Publisher(PostgresQueue(engine, "dlq-test", visibility_timeout=5), engine),
        Metrics("scheduler"),
        batch_size=100,
        outbox_grace_seconds=5.0,
        stale_claim_seconds=600.0,
        dead_letter_queue=dlq,
    )


async def test_poison_messages_are_folded_back_as_failed(
    engine: AsyncEngine, tenant: TenantFixture, moto_endpoint: str
) -> None:
    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=moto_endpoint)
    suffix = os.urandom(4).hex()
    dlq_url = client.create_queue(QueueName=f"wa-notify-dlq-{suffix}")["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    main_url = client.create_queue(
        QueueName=f"wa-notify-send-{suffix}",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})},
    )["QueueUrl"]

    stuck = await _notification(engine, tenant, "processing")
    done = await _notification(engine, tenant, "delivered")
    for nid in (stuck, done):
        client.send_message(
            QueueUrl=main_url, MessageBody=msgspec.json.encode(QueueJob(nid, tenant.tenant_id)).decode()
        )
    client.send_message(QueueUrl=main_url, MessageBody="not a job")
    # Received and never deleted: past maxReceiveCount SQS moves each message to the DLQ.
    for _ in range(6):
        client.receive_message(QueueUrl=main_url, MaxNumberOfMessages=10, VisibilityTimeout=0)

    dlq = SqsQueue(dlq_url, region="us-east-1", endpoint_url=moto_endpoint)
    try:
        jobs = _jobs(engine, dlq)
        folded = 0
        for _ in range(10):
            folded += await jobs.fold_dead_letter_queue()
            attrs = client.get_queue_attributes(
                QueueUrl=dlq_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if (
                attrs["ApproximateNumberOfMessages"] == "0"
                and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
            ):
                break
        assert folded == 1
        assert attrs["ApproximateNumberOfMessages"] == "0"
        assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    finally:
        await dlq.close()

    async with UnitOfWork(engine) as uow:
        failed = await uow.notifications.get(stuck)
        delivered = await uow.notifications.get(done)
        history = await uow.notifications.history(stuck)
    assert failed is not None and failed.status.value == "failed"
    assert failed.error_code == "POISON_MESSAGE"
    assert failed.error_retryable is False
    assert history[-1]["event"] == "failed" and history[-1]["source"] == "scheduler"
    assert delivered is not None and delivered.status.value == "delivered"


async def test_the_fold_is_skipped_without_a_dead_letter_queue(engine: AsyncEngine) -> None:
    assert await _jobs(engine, None).fold_dead_letter_queue() == 0
