"""The queue on Amazon SQS (boto3 in a small thread pool; boto3 clients are thread-safe)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from wanotify.common.queue.base import (
    MAX_BATCH,
    MAX_DELAY_SECONDS,
    OutgoingMessage,
    QueueDepth,
    QueueError,
    ReceivedMessage,
)

T = TypeVar("T")


class SqsQueue:
    def __init__(
        self,
        queue_url: str,
        *,
        region: str,
        endpoint_url: str = "",
        visibility_timeout: int = 60,
        threads: int = 8,
    ) -> None:
        self.name = queue_url.rstrip("/").rsplit("/", 1)[-1]
        self.backend = "sqs"
        self._url = queue_url
        self._visibility = visibility_timeout
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqs")
        self._client: Any = boto3.session.Session().client(
            "sqs",
            region_name=region,
            endpoint_url=endpoint_url or None,
            config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=threads),
        )

    async def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, functools.partial(fn, **kwargs))
        except (BotoCoreError, ClientError) as exc:
            raise QueueError(str(exc)) from exc

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        failed: list[int] = []
        for start in range(0, len(messages), MAX_BATCH):
            chunk = messages[start : start + MAX_BATCH]
            entries = [
                {
                    "Id": str(start + i),
                    "MessageBody": m.body,
                    "DelaySeconds": min(max(m.delay_seconds, 0), MAX_DELAY_SECONDS),
                    "MessageAttributes": {
                        k: {"DataType": "String", "StringValue": v} for k, v in m.attributes.items()
                    },
                }
                for i, m in enumerate(chunk)
            ]
            try:
                result = await self._call(
                    self._client.send_message_batch, QueueUrl=self._url, Entries=entries
                )
            except QueueError:
                failed.extend(range(start, start + len(chunk)))
                continue
            failed.extend(int(f["Id"]) for f in result.get("Failed", []))
        if failed and len(failed) == len(messages):
            raise QueueError(f"SQS refused all {len(messages)} messages")
        return failed

    async def receive(self, max_messages: int, wait_seconds: float) -> list[ReceivedMessage]:
        result = await self._call(
            self._client.receive_message,
            QueueUrl=self._url,
            MaxNumberOfMessages=min(max_messages, MAX_BATCH),
            WaitTimeSeconds=int(min(max(wait_seconds, 0), 20)),
            VisibilityTimeout=self._visibility,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [
            ReceivedMessage(
                message_id=m["MessageId"],
                body=m["Body"],
                attributes={
                    k: v["StringValue"]
                    for k, v in m.get("MessageAttributes", {}).items()
                    if "StringValue" in v
                },
                receipt=m["ReceiptHandle"],
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")),
            )
            for m in result.get("Messages", [])
        ]

    async def delete(self, receipts: Sequence[str]) -> None:
        for start in range(0, len(receipts), MAX_BATCH):
            chunk = receipts[start : start + MAX_BATCH]
            entries = [{"Id": str(i), "ReceiptHandle": r} for i, r in enumerate(chunk)]
            await self._call(self._client.delete_message_batch, QueueUrl=self._url, Entries=entries)

    async def change_visibility(self, receipt: str, seconds: int) -> None:
        await self._call(
            self._client.change_message_visibility,
            QueueUrl=self._url,
            ReceiptHandle=receipt,
            VisibilityTimeout=seconds,
        )

    async def depth(self) -> QueueDepth:
        result = await self._call(
            self._client.get_queue_attributes,
            QueueUrl=self._url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )
        attrs = result.get("Attributes", {})
        return QueueDepth(
            visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
        )

    async def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
