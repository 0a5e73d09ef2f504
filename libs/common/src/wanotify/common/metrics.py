"""Prometheus metrics: one registry per process, created by the service factory and passed in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
META_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
QUEUE_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
QUEUE_WAIT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
SCHEDULER_JOB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class Metrics:
    """Every ``wanotify_*`` series. Services only touch the ones they own; the rest stay at zero."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "wanotify_http_requests_total",
            "HTTP requests",
            ["service", "route", "method", "status"],
            registry=r,
        )
        self.http_duration = Histogram(
            "wanotify_http_request_duration_seconds",
            "HTTP request duration",
            ["service", "route"],
            buckets=HTTP_BUCKETS,
            registry=r,
        )
        self.accepted = Counter(
            "wanotify_notifications_accepted_total",
            "Notifications accepted, by priority and recipient country (ISO 3166 alpha-2)",
            ["priority", "recipient_country"],
            registry=r,
        )
        self.sends = Counter(
            "wanotify_sends_total",
            "Send attempts by outcome, error class and recipient country",
            ["result", "error_class", "recipient_country"],
            registry=r,
        )
        self.meta_duration = Histogram(
            "wanotify_meta_request_duration_seconds",
            "Graph API call duration",
            buckets=META_BUCKETS,
            registry=r,
        )
        self.transitions = Counter(
            "wanotify_notification_transitions_total", "Status transitions", ["to"], registry=r
        )
        self.queue_depth = Gauge("wanotify_queue_depth", "Messages waiting in the send queue", registry=r)
        self.queue_lane_depth = Gauge(
            "wanotify_queue_lane_depth",
            "Messages visible in each priority lane of the send queue",
            ["priority"],
            registry=r,
        )
        self.queue_wait = Histogram(
            "wanotify_queue_wait_seconds",
            "From a message becoming visible to a worker receiving it, per priority lane",
            ["priority"],
            buckets=QUEUE_WAIT_BUCKETS,
            registry=r,
        )
        self.webhook_events = Counter(
            "wanotify_webhook_events_total", "Meta webhook items", ["kind", "result"], registry=r
        )
        self.signature_failures = Counter(
            "wanotify_webhook_signature_failures_total", "Meta webhooks with a bad signature", registry=r
        )
        self.outbox_republished = Counter(
            "wanotify_outbox_republished_total", "Notifications republished by the outbox relay", registry=r
        )
        self.scheduled_released = Counter(
            "wanotify_scheduled_released_total", "Scheduled notifications released when due", registry=r
        )
        self.accept_to_sent = Histogram(
            "wanotify_accept_to_sent_seconds",
            "From acceptance to Meta's 200",
            buckets=QUEUE_BUCKETS,
            registry=r,
        )

        self.sender_pauses = Counter(
            "wanotify_sender_pauses_total",
            "Senders paused by a sender-level Meta error",
            ["code"],
            registry=r,
        )
        self.paused_senders = Gauge("wanotify_paused_senders", "Senders currently paused", registry=r)
        self.breaker_transitions = Counter(
            "wanotify_breaker_transitions_total",
            "Sender circuit breaker state changes",
            ["state"],
            registry=r,
        )
        self.deferred = Counter(
            "wanotify_deferred_total", "Claims deferred without burning an attempt", ["reason"], registry=r
        )
        self.pacing_waits = Counter(
            "wanotify_pacing_waits_total",
            "Sends that waited for a pacing slot, by the limit that set it and how (slept or deferred)",
            ["limit", "how"],
            registry=r,
        )
        self.pacing_fallback = Counter(
            "wanotify_pacing_fallback_total",
            "Pacing decisions taken by the in-process fallback because Redis was unavailable",
            registry=r,
        )
        self.dead_letter_folded = Counter(
            "wanotify_dlq_folded_total", "SQS dead-letter messages folded back as failed", registry=r
        )
        self.expired = Counter(
            "wanotify_notifications_expired_total", "Notifications expired before sending", ["by"], registry=r
        )
        # `job` is the scheduler job's name. Prometheus keeps the scrape target's own `job` label, so
        # without honorLabels a query reads this one as `exported_job`.
        self.scheduler_job_runs = Counter(
            "wanotify_scheduler_job_runs_total",
            "Scheduler job runs, by job and outcome (ok or error)",
            ["job", "outcome"],
            registry=r,
        )
        self.scheduler_job_duration = Histogram(
            "wanotify_scheduler_job_duration_seconds",
            "Scheduler job run duration",
            ["job"],
            buckets=SCHEDULER_JOB_BUCKETS,
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "wanotify_webhook_deliveries_total",
            "Client webhook delivery attempts, by event type and outcome (succeeded, retry, failed)",
            ["event_type", "outcome"],
            registry=r,
        )
        self.webhook_delivery_duration = Histogram(
            "wanotify_webhook_delivery_duration_seconds",
            "Client webhook delivery attempt duration",
            buckets=META_BUCKETS,
            registry=r,
        )
        self.webhook_backlog = Gauge(
            "wanotify_webhook_backlog", "Client webhook deliveries waiting or in flight", registry=r
        )
        self.webhook_endpoints_disabled = Gauge(
            "wanotify_webhook_endpoints_disabled", "Client webhook endpoints disabled", registry=r
        )
        self.webhook_breakers_open = Gauge(
            "wanotify_webhook_breakers_open",
            "Client webhook endpoints whose breaker is open or half-open (nothing or one probe is sent)",
            registry=r,
        )

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
