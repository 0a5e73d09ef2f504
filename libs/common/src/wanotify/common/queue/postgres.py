"""The queue as a PostgreSQL table: ``FOR UPDATE SKIP LOCKED`` claims, receipts per delivery."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from wanotify.common.queue.base import (
    MAX_DELAY_SECONDS,
    OutgoingMessage,
    QueueDepth,
    QueueError,
    ReceivedMessage,
)

_RECEIVE = text(
    """
    UPDATE queue_messages AS q
       SET visible_at = now() + make_interval(secs => :visibility),
           receive_count = q.receive_count + 1,
           receipt = :receipt_prefix || q.id::text
     WHERE q.id IN (
           SELECT id FROM queue_messages
            WHERE queue = :queue AND visible_at <= now()
            ORDER BY visible_at, id
            LIMIT :limit
              FOR UPDATE SKIP LOCKED)
    RETURNING q.id, q.body, q.attributes, q.receipt, q.receive_count
    """
)

_DEPTH = text(
    """
    SELECT count(*) FILTER (WHERE visible_at <= now()),
           count(*) FILTER (WHERE visible_at > now() AND receive_count > 0),
           count(*) FILTER (WHERE visible_at > now() AND receive_count = 0)
      FROM queue_messages WHERE queue = :queue
    """
)


class PostgresQueue:
    def __init__(
        self, engine: AsyncEngine, name: str, *, visibility_timeout: int, poll_interval: float = 0.1
    ):
        self.name = name
        self.backend = "postgres"
        self._engine = engine
        self._visibility = visibility_timeout
        self._poll = poll_interval

    async def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[int]:
        try:
            async with self._engine.begin() as conn:
                await self.send_batch_in(conn, messages)
        except (OperationalError, DBAPIError, OSError) as exc:
            raise QueueError(str(exc)) from exc
        return []

    async def send_batch_in(self, conn: AsyncConnection, messages: Sequence[OutgoingMessage]) -> None:
        """Enqueue inside the caller's transaction: the message exists exactly when the row does."""
        if not messages:
            return
        rows = [
            {
                "queue": self.name,
                "body": m.body,
                "attributes": json.dumps(m.attributes),
                "delay": float(min(max(m.delay_seconds, 0), MAX_DELAY_SECONDS)),
            }
            for m in messages
        ]
        stmt = text(
            "INSERT INTO queue_messages (queue, body, attributes, visible_at) "
            "VALUES (:queue, :body, CAST(:attributes AS jsonb), now() + make_interval(secs => :delay))"
        )
        await conn.execute(stmt, rows)

    async def receive(self, max_messages: int, wait_seconds: float) -> list[ReceivedMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            batch = await self._receive_once(max_messages)
            if batch or loop.time() >= deadline:
                return batch
            await asyncio.sleep(min(self._poll, max(0.0, deadline - loop.time())))

    async def _receive_once(self, max_messages: int) -> list[ReceivedMessage]:
        params = {
            "queue": self.name,
            "limit": max_messages,
            "visibility": float(self._visibility),
            "receipt_prefix": f"{uuid.uuid4().hex}:",
        }
        try:
            async with self._engine.begin() as conn:
                rows = (await conn.execute(_RECEIVE, params)).all()
        except (OperationalError, DBAPIError, OSError) as exc:
            raise QueueError(str(exc)) from exc
        return [
            ReceivedMessage(
                message_id=str(r.id),
                body=r.body,
                attributes=dict(r.attributes or {}),
                receipt=r.receipt,
                receive_count=r.receive_count,
            )
            for r in sorted(rows, key=lambda r: r.id)
        ]

    async def delete(self, receipts: Sequence[str]) -> None:
        if not receipts:
            return
        ids = [int(r.rsplit(":", 1)[1]) for r in receipts]
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    text("DELETE FROM queue_messages WHERE id = ANY(:ids) AND receipt = ANY(:receipts)"),
                    {"ids": ids, "receipts": list(receipts)},
                )
        except (OperationalError, DBAPIError, OSError) as exc:
            raise QueueError(str(exc)) from exc

    async def change_visibility(self, receipt: str, seconds: int) -> None:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    text(
                        "UPDATE queue_messages SET visible_at = now() + make_interval(secs => :s) "
                        "WHERE id = :id AND receipt = :receipt"
                    ),
                    {"s": float(seconds), "id": int(receipt.rsplit(":", 1)[1]), "receipt": receipt},
                )
        except (OperationalError, DBAPIError, OSError) as exc:
            raise QueueError(str(exc)) from exc

    async def depth(self) -> QueueDepth:
        try:
            async with self._engine.connect() as conn:
                visible, in_flight, delayed = (await conn.execute(_DEPTH, {"queue": self.name})).one()
        except (OperationalError, DBAPIError, OSError) as exc:
            raise QueueError(str(exc)) from exc
        return QueueDepth(visible=visible, in_flight=in_flight, delayed=delayed)

    async def close(self) -> None:
        """The engine belongs to the caller."""
