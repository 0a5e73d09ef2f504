"""The edge every HTTP service shares, around and inside its Litestar application.

Around it (so that unmatched routes, 404 and 405, are seen too): a fresh OpenTelemetry context per
connection and the access log. Inside it, as route middleware: metrics, the ``X-Trace-Id`` echo,
the body deadline and the ``Allow`` fix for ``OPTIONS``.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.types import Middleware

from wanotify.common.config import HttpSettings
from wanotify.common.edge.access_log import access_log_middleware
from wanotify.common.edge.allow import options_allow_middleware
from wanotify.common.edge.body_timeout import body_timeout_middleware
from wanotify.common.edge.trace_id import fresh_trace_context, trace_id_middleware
from wanotify.common.http import metrics_middleware
from wanotify.common.metrics import Metrics


def edge_middleware(metrics: Metrics, http: HttpSettings) -> list[Middleware]:
    """Route middleware, outermost first."""
    return [
        metrics_middleware(metrics),
        trace_id_middleware,
        body_timeout_middleware(http.body_timeout_seconds),
        options_allow_middleware,
    ]


def wrap_edge(app: Litestar, access_logger: str) -> Litestar:
    """Put the fresh trace context and the access log around ``app``'s own handler (its exception
    handling and the OpenTelemetry middleware included), keeping ``app`` a Litestar application."""
    app.asgi_handler = fresh_trace_context(access_log_middleware(access_logger)(app.asgi_handler))
    return app
