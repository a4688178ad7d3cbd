"""Structured logs: one JSON object per line, carrying the current trace and span ids, so that a
trace in Zipkin or Jaeger leads to its log lines (`jq 'select(.trace_id == "…")'`) and back.

Every service's `main` calls `serve`, which installs this format on the root logger and runs
uvicorn with its own logging configuration off, so uvicorn's lines take the same shape.
"""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

import uvicorn
from opentelemetry import trace

from etalase_platform.settings import ServiceSettings

# Probes and scrapes come every few seconds; they are neither traced nor worth a log line.
_QUIET_PATHS = ("/metrics", "/health/")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        # Formatting happens in the thread and context that logged, so the current span is the
        # one the line belongs to.
        span = trace.get_current_span().get_span_context()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": format(span.trace_id, "032x") if span.is_valid else None,
            "span_id": format(span.span_id, "016x") if span.is_valid else None,
        }
        access = _access_fields(record)
        if access:
            entry.update(access)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _access_fields(record: logging.LogRecord) -> dict[str, Any] | None:
    """uvicorn's access line as fields (OpenTelemetry attribute names)."""
    if record.name != "uvicorn.access" or not isinstance(record.args, tuple):
        return None
    if len(record.args) != 5:
        return None
    _, method, path, _, status = record.args
    return {"http.request.method": method, "url.path": path, "http.response.status_code": status}


class _DropProbes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = _access_fields(record)
        return fields is None or not str(fields["url.path"]).startswith(_QUIET_PATHS)


def configure_logging(service: str, level: int = logging.INFO) -> None:
    """JSON lines on stdout for every logger of the process."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(_DropProbes())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


# uvloop and httptools (C): 0-20 % less CPU per order on the write path, within the spread of
# rounds (bench.write_path_ab, 2026-12-03). Named rather than uvicorn's "auto", so that a missing
# wheel fails at start instead of quietly falling back; the bench's baseline runs on the same two.
EVENT_LOOP = "uvloop"
HTTP_PARSER = "httptools"


def serve(app: Any, settings: ServiceSettings) -> None:
    """Run a service's app with uvicorn, logging in the JSON format."""
    configure_logging(settings.service_name)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        server_header=False,
        loop=EVENT_LOOP,
        http=HTTP_PARSER,
    )
