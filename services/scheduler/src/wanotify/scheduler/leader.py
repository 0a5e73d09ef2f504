"""Leader election on a Kubernetes Lease (the asyncio client): only the holder runs the jobs that
need it (see `job_table.Job.needs_leader`).

Correctness never depends on it; it keeps replicas from doing the same scans. When the lease is
lost the leader task is cancelled, and this loop campaigns again until stopped. `Leadership` is the
flag the job runner reads: set while `Leadership.hold` runs as the leader task.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from wanotify.common.config import SchedulerSettings
from wanotify.common.lifecycle import sleep_or_stop

log = logging.getLogger(__name__)


class Leadership:
    """Whether this replica holds the lease now. ``hold`` is the leader task given to
    `run_as_leader`: it keeps the flag set until the lease is lost (it is cancelled) or ``stop``."""

    def __init__(self) -> None:
        self._leading = False

    def is_leading(self) -> bool:
        return self._leading

    async def hold(self, stop: asyncio.Event) -> None:
        self._leading = True
        try:
            await stop.wait()
        finally:
            self._leading = False


async def run_as_leader(
    settings: SchedulerSettings, work: Callable[[], Awaitable[None]], stop: asyncio.Event
) -> None:
    from kubernetes.aio import config as k8s_config
    from kubernetes.aio.client.api_client import ApiClient
    from kubernetes.aio.leaderelection import electionconfig, leaderelection
    from kubernetes.aio.leaderelection.resourcelock.leaselock import LeaseLock

    k8s_config.load_incluster_config()  # type: ignore[no-untyped-call]
    identity = settings.pod_name or socket.gethostname()
    async with ApiClient() as api:
        lock = LeaseLock(settings.lease_name, settings.namespace, identity, api)

        async def lead() -> None:
            log.info("became scheduler leader", extra={"identity": identity})
            await work()

        async def stopped() -> None:
            log.warning("lost the scheduler lease", extra={"identity": identity})

        while not stop.is_set():
            cfg = electionconfig.Config(lock, 15, 10, 2, lead, stopped)
            election = asyncio.create_task(leaderelection.LeaderElection(cfg).run())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({election, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not election.done():
                election.cancel()
                await asyncio.gather(election, return_exceptions=True)
            await sleep_or_stop(stop, 2)
