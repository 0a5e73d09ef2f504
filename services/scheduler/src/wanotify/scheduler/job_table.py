"""The scheduler's work as a table of jobs, each run on its own cadence by `run_jobs`.

A job declares its name, how long to wait after a run before the next (``every``), and whether it
needs the leader lease. Every run has its own ``try``, its own span (``scheduler <name>``) and its
metrics (``wanotify_scheduler_job_runs_total{job,outcome}``,
``wanotify_scheduler_job_duration_seconds{job}``), so a failing job never delays or skips another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from wanotify.common.lifecycle import sleep_or_stop
from wanotify.common.metrics import Metrics

log = logging.getLogger(__name__)
TRACER = trace.get_tracer("wanotify.scheduler")

FOLLOWER_POLL_SECONDS = 1.0
"""How often a leader-only job looks again at the lease while this replica does not hold it."""


@dataclass(frozen=True, slots=True)
class Job:
    """``run`` returns the number of items it handled (recorded on the span when it is an ``int``);
    any other result (``None``, a dict of gauge readings) is ignored."""

    name: str
    every: float
    needs_leader: bool
    run: Callable[[], Awaitable[object]]

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a scheduler job needs a name")
        if self.every <= 0:
            raise ValueError(f"scheduler job {self.name!r}: every must be positive, not {self.every}")


def always_leading() -> bool:
    """The predicate without leader election: this replica is the only one, so it always leads."""
    return True


async def run_once(job: Job, metrics: Metrics, *, tracer: trace.Tracer = TRACER) -> bool:
    """One run of ``job`` in its own span; ``True`` if it succeeded. Never raises (but cancellation)."""
    start = time.perf_counter()
    outcome = "ok"
    with tracer.start_as_current_span(
        f"scheduler {job.name}",
        attributes={"scheduler.job": job.name},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            result = await job.run()
        except Exception as exc:
            outcome = "error"
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            log.error(
                "scheduler job failed; it runs again in %ss",
                job.every,
                exc_info=True,
                extra={"job": job.name},
            )
        else:
            if isinstance(result, int) and not isinstance(result, bool):
                span.set_attribute("scheduler.items", result)
    metrics.scheduler_job_runs.labels(job.name, outcome).inc()
    metrics.scheduler_job_duration.labels(job.name).observe(time.perf_counter() - start)
    return outcome == "ok"


async def _run_job(
    job: Job,
    stop: asyncio.Event,
    metrics: Metrics,
    leading: Callable[[], bool],
    poll: float,
    tracer: trace.Tracer,
) -> None:
    """Run ``job`` at once, then ``every`` seconds after each run ends, until ``stop`` is set.

    A leader-only job is skipped while ``leading()`` is false and looked at again every
    ``poll`` seconds (or ``every``, if shorter), so a replica that gains the lease starts
    it within that time. A run already under way when the lease is lost finishes: the jobs are safe
    on several replicas at once, the lease only saves duplicate work.
    """
    while not stop.is_set():
        if job.needs_leader and not leading():
            await sleep_or_stop(stop, min(job.every, poll))
            continue
        await run_once(job, metrics, tracer=tracer)
        await sleep_or_stop(stop, job.every)


async def run_jobs(
    table: Sequence[Job],
    stop: asyncio.Event,
    metrics: Metrics,
    *,
    leading: Callable[[], bool] = always_leading,
    follower_poll: float = FOLLOWER_POLL_SECONDS,
    tracer: trace.Tracer = TRACER,
) -> None:
    """Every job of ``table`` on its own cadence, each in its own task; returns once ``stop`` is set
    and every run under way has finished. ``tracer`` defaults to the process's provider."""
    names = [job.name for job in table]
    if len(names) != len(set(names)):
        raise ValueError(f"scheduler job names must be unique: {names}")
    log.info(
        "scheduler jobs",
        extra={"jobs": {job.name: {"every": job.every, "needs_leader": job.needs_leader} for job in table}},
    )
    await asyncio.gather(*(_run_job(job, stop, metrics, leading, follower_poll, tracer) for job in table))
