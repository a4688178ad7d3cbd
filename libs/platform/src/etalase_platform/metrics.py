"""Prometheus metrics, defined once per process and labelled by service.

Tests run several services in one process, so the metrics are module-level and carry a
`service` label instead of being created per application.

Names follow the Prometheus conventions (base units in the name, `_total` on counters, moments as
`_timestamp_seconds`): the alert rules and the dashboard in deploy/observability/ name them, and
tests/ops checks that every name they use is exported.
"""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "etalase_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "etalase_http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"]
)
HANDLED_EVENTS = Counter(
    "etalase_consumer_events_total", "Events applied or skipped", ["service", "consumer", "outcome"]
)
HANDLER_LATENCY = Histogram(
    "etalase_consumer_batch_duration_seconds", "Time to apply one batch", ["service", "consumer"]
)
CONSUMER_LAG = Gauge(
    "etalase_consumer_lag",
    "Records behind the log end",
    ["service", "consumer", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "etalase_dead_letters_total", "Records sent to a DLQ", ["service", "consumer", "topic"]
)
OUTBOX_BACKLOG = Gauge("etalase_outbox_backlog", "Unpublished outbox rows", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "etalase_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_BACKLOG_KNOWN = Gauge(
    "etalase_outbox_backlog_known",
    "1 when the outbox backlog gauges are current, 0 while the outbox cannot be read (NaN)",
    ["service"],
)
DEPENDENCY_UP = Gauge(
    "etalase_dependency_up",
    "1 when the dependency answered the last health check, else 0",
    ["service", "dependency"],
)
OUTBOX_PUBLISHED = Counter("etalase_outbox_published_total", "Outbox rows published", ["service"])
PROJECTION_FRESHNESS = Gauge(
    "etalase_projection_last_event_age_seconds",
    "Seconds since the event time of the last event applied",
    ["service", "consumer"],
)
CONSUMER_LOG_END = Gauge(
    "etalase_consumer_log_end_offset",
    "High watermark of each assigned partition, as the consumer last saw it",
    ["service", "consumer", "topic", "partition"],
)
CONSUMER_LAST_APPLIED = Gauge(
    "etalase_consumer_last_applied_timestamp_seconds",
    "Unix time the consumer last committed a batch (its start, before the first)",
    ["service", "consumer"],
)
SERVICE_READY = Gauge(
    "etalase_service_ready",
    "1 when the service's readiness check passed when last run (every 5 s), else 0",
    ["service"],
)
PROJECTION_REBUILD_STARTED = Gauge(
    "etalase_projection_rebuild_started_timestamp_seconds",
    "Unix time the running projection rebuild started; 0 when none runs",
    ["service"],
)
