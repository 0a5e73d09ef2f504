"""The scheduler's job table: each job on its own cadence, a failing job never skips another, the
writing jobs only while this replica holds the lease, and the table the scheduler really runs.

Nothing here waits for a duration: each test stops once the jobs it watches ran a number of times
(the timeouts only keep a broken runner from hanging the session).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from sqlalchemy.ext.asyncio import AsyncEngine

from wanotify.common.config import Settings
from wanotify.common.db.uow import UnitOfWork
from wanotify.common.metrics import Metrics
from wanotify.common.publisher import Publisher
from wanotify.common.queue.factory import create_queue
from wanotify.common.queue.lanes import LanedQueue
from wanotify.scheduler.job_table import Job, run_jobs
from wanotify.scheduler.jobs import SchedulerJobs
from wanotify.scheduler.leader import Leadership
from wanotify.scheduler.main import SLOW_EVERY, scheduler_job_table
from wanotify.scheduler.template_sync import template_sync_job

FAST = 0.01
LOGGER = "wanotify.scheduler.job_table"
TIMEOUT = 20  # a safety net, never asserted


class Counting:
    """A job body that counts its runs (and can fail every run); ``reached(n)`` waits for n runs."""

    def __init__(self, *, fail: bool = False) -> None:
        self.runs = 0
        self._fail = fail
        self._waiting: list[tuple[int, asyncio.Event]] = []

    async def __call__(self) -> int:
        self.runs += 1
        for n, event in self._waiting:
            if self.runs >= n:
                event.set()
        if self._fail:
            raise RuntimeError("injected failure")
        return 1

    async def reached(self, n: int) -> None:
        event = asyncio.Event()
        self._waiting.append((n, event))
        if self.runs >= n:
            event.set()
        await asyncio.wait_for(event.wait(), TIMEOUT)


def runs(metrics: Metrics, job: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "wanotify_scheduler_job_runs_total", {"job": job, "outcome": outcome}
    )
    return value or 0.0


def durations(metrics: Metrics, job: str) -> float:
    value = metrics.registry.get_sample_value("wanotify_scheduler_job_duration_seconds_count", {"job": job})
    return value or 0.0


async def test_a_job_that_fails_every_run_never_skips_the_others(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger=LOGGER)
    metrics = Metrics("scheduler")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    broken, first, second = Counting(fail=True), Counting(), Counting()
    table = [
        Job("broken", FAST, needs_leader=False, run=broken),
        Job("first", FAST, needs_leader=False, run=first),
        Job("second", FAST, needs_leader=False, run=second),
    ]
    stop = asyncio.Event()
    runner = asyncio.create_task(run_jobs(table, stop, metrics, tracer=provider.get_tracer("test")))

    await asyncio.gather(broken.reached(5), first.reached(5), second.reached(5))
    stop.set()
    await asyncio.wait_for(runner, TIMEOUT)

    assert broken.runs >= 5 and first.runs >= 5 and second.runs >= 5
    # Every run counted once, under its own outcome; nothing else.
    assert runs(metrics, "broken", "error") == broken.runs
    assert runs(metrics, "broken", "ok") == 0
    for name, job in (("first", first), ("second", second)):
        assert runs(metrics, name, "ok") == job.runs
        assert runs(metrics, name, "error") == 0
        assert durations(metrics, name) == job.runs
    assert durations(metrics, "broken") == broken.runs

    # One log line per failed run, naming the job, with the traceback.
    failures = [r for r in caplog.records if r.name == LOGGER and getattr(r, "job", None) == "broken"]
    assert len(failures) == broken.runs
    assert all(r.levelno == logging.ERROR and r.exc_info for r in failures)
    assert not [r for r in caplog.records if r.name == LOGGER and getattr(r, "job", None) != "broken"]

    # A span per run; the failed ones carry the error.
    spans = exporter.get_finished_spans()
    by_name: dict[str, list[StatusCode]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span.status.status_code)
    assert by_name["scheduler broken"] == [StatusCode.ERROR] * broken.runs
    assert len(by_name["scheduler first"]) == first.runs
    assert StatusCode.ERROR not in by_name["scheduler first"] + by_name["scheduler second"]


async def test_a_leader_only_job_runs_only_while_the_lease_is_held() -> None:
    metrics = Metrics("scheduler")
    leadership = Leadership()
    on_leader, everywhere = Counting(), Counting()
    table = [
        Job("on_leader", FAST, needs_leader=True, run=on_leader),
        Job("everywhere", FAST, needs_leader=False, run=everywhere),
    ]
    stop = asyncio.Event()
    runner = asyncio.create_task(
        run_jobs(table, stop, metrics, leading=leadership.is_leading, follower_poll=FAST)
    )
    try:
        # A follower: the job that needs the lease waits; the other runs.
        await everywhere.reached(5)
        assert on_leader.runs == 0
        assert not leadership.is_leading()

        # The lease is won (``hold`` is the task `run_as_leader` runs while leading): it starts.
        held = asyncio.create_task(leadership.hold(stop))
        await on_leader.reached(3)
        assert leadership.is_leading()

        # The lease is lost (the election cancels the leader task): it stops again.
        held.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await held
        assert not leadership.is_leading()
        after_loss = on_leader.runs
        await everywhere.reached(everywhere.runs + 5)
        assert on_leader.runs == after_loss
    finally:
        stop.set()
        await asyncio.wait_for(runner, TIMEOUT)
    assert runs(metrics, "on_leader", "ok") == on_leader.runs
    assert runs(metrics, "everywhere", "ok") == everywhere.runs


async def test_the_lease_flag_is_released_on_stop() -> None:
    leadership, stop = Leadership(), asyncio.Event()
    held = asyncio.create_task(leadership.hold(stop))
    await asyncio.sleep(0)
    assert leadership.is_leading()
    stop.set()
    await asyncio.wait_for(held, TIMEOUT)
    assert not leadership.is_leading()


async def test_a_job_table_rejects_duplicate_names_and_bad_intervals() -> None:
    body = Counting()
    with pytest.raises(ValueError, match="every must be positive"):
        Job("x", 0, needs_leader=True, run=body)
    with pytest.raises(ValueError, match="unique"):
        await run_jobs(
            [Job("x", 1, needs_leader=True, run=body), Job("x", 2, needs_leader=False, run=body)],
            asyncio.Event(),
            Metrics("scheduler"),
        )
    assert body.runs == 0


def _scheduler_jobs(engine: AsyncEngine, queue: LanedQueue) -> SchedulerJobs:
    """As `serve_scheduler` builds them (the send queue's lanes for the lane depths)."""
    return SchedulerJobs(
        lambda: UnitOfWork(engine),
        Publisher(queue, engine),
        Metrics("scheduler"),
        batch_size=10,
        outbox_grace_seconds=0.0,
        stale_claim_seconds=60.0,
        lanes=queue,
    )


async def test_the_scheduler_table_has_every_job_of_the_old_pass_at_its_old_cadence(
    settings: Settings, engine: AsyncEngine
) -> None:
    fast = msgspec.structs.replace(
        settings,
        scheduler=msgspec.structs.replace(
            settings.scheduler, interval_seconds=0.25, template_sync_interval_seconds=42.0
        ),
    )
    queue = create_queue(fast.queue, engine)
    jobs = _scheduler_jobs(engine, queue)
    async with template_sync_job(fast, engine) as sync:
        assert sync is not None
        table = scheduler_job_table(fast.scheduler, jobs, sync)
    slow = 0.25 * SLOW_EVERY
    assert SLOW_EVERY == 30
    expected = {
        # name: (every, needs_leader)
        "release_due": (0.25, True),
        "relay_outbox": (0.25, True),
        "expire_due": (0.25, True),
        "fold_dead_letter_queue": (0.25, True),
        "recover_stale_claims": (slow, True),
        "purge_webhook_log": (slow, True),
        "count_paused_senders": (slow, False),  # read-only gauges: every replica exports them
        "count_webhook_backlog": (0.25, False),
        "record_lane_depths": (slow, False),
        "template_sync": (42.0, True),
    }
    assert {job.name: (job.every, job.needs_leader) for job in table} == expected
    # Each scheduler job runs the `SchedulerJobs` method of its name.
    for job in table:
        if job.name != "template_sync":
            assert job.run == getattr(jobs, job.name), job.name
    # The read-only ones really run (against the real database and queue) and report.
    by_name = {job.name: job for job in table}
    try:
        assert isinstance(await by_name["count_paused_senders"].run(), int)
        assert isinstance(await by_name["count_webhook_backlog"].run(), int)
        assert isinstance(await by_name["purge_webhook_log"].run(), int)
        depths = await by_name["record_lane_depths"].run()
    finally:
        await queue.close()
    assert isinstance(depths, dict) and depths, depths


async def test_a_disabled_template_sync_is_left_out_of_the_table(
    settings: Settings, engine: AsyncEngine
) -> None:
    off = msgspec.structs.replace(
        settings, scheduler=msgspec.structs.replace(settings.scheduler, template_sync_interval_seconds=0)
    )
    queue = create_queue(off.queue, engine)
    async with template_sync_job(off, engine) as sync:
        assert sync is None
        table = scheduler_job_table(off.scheduler, _scheduler_jobs(engine, queue), sync)
    await queue.close()
    assert "template_sync" not in {job.name for job in table}
    assert len(table) == 9  # the built-in jobs, and no template sync
