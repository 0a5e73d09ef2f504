"""A database error never carries the statement's values: not in the exception, not in a log line."""

from __future__ import annotations

import io
import logging
import os
import traceback
from collections.abc import Iterator

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.db.schema import tenants
from wanotify.common.logging import JsonFormatter

PHONE = "+14155550123"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("api"))
    logger = logging.getLogger("wanotify.tests.db.engine_errors")
    logger.handlers[:] = [handler]
    logger.propagate = False
    yield logger, stream
    logger.handlers.clear()


def _distinctive(label: str) -> str:
    return f"{label}-{os.urandom(6).hex()}"


def _everything_said(exc: BaseException, logger: logging.Logger, stream: io.StringIO) -> str:
    logger.error("database error", exc_info=exc)
    return "\n".join([str(exc), "".join(traceback.format_exception(exc)), stream.getvalue()])


async def test_a_too_long_value_does_not_show_the_parameters(
    engine: AsyncEngine, logged: tuple[logging.Logger, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    too_long = _distinctive("x" * 40)
    message = _distinctive("Your one-time code is 834112")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DBAPIError) as raised:
        async with engine.begin() as conn:
            await conn.execute(insert(tenants).values(id=too_long, name=f"{message} {PHONE}"))
    said = _everything_said(raised.value, *logged) + caplog.text
    assert "value too long" in said  # the error itself is still told
    for value in (too_long, message, PHONE):
        assert value not in said


async def test_a_unique_violation_does_not_echo_the_key(
    engine: AsyncEngine, logged: tuple[logging.Logger, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    tenant_id = _distinctive("t")
    caplog.set_level(logging.DEBUG)
    row = insert(tenants).values(id=tenant_id, name=PHONE)
    async with engine.begin() as conn:  # rolled back: nothing stays behind
        await conn.execute(row)
        with pytest.raises(IntegrityError) as raised:
            await conn.execute(row)
        await conn.rollback()
    said = _everything_said(raised.value, *logged) + caplog.text
    assert "pk_tenants" in said
    assert tenant_id not in said
    assert PHONE not in said


async def test_a_not_null_violation_does_not_echo_the_row(
    engine: AsyncEngine, logged: tuple[logging.Logger, io.StringIO], caplog: pytest.LogCaptureFixture
) -> None:
    tenant_id = _distinctive(PHONE)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IntegrityError) as raised:
        async with engine.begin() as conn:
            await conn.execute(insert(tenants).values(id=tenant_id, name=None))
    said = _everything_said(raised.value, *logged) + caplog.text
    assert "not-null" in said
    assert tenant_id not in said
    assert "Failing row" not in said
