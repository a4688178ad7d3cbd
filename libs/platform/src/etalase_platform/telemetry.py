"""OpenTelemetry: tracer setup and trace context across Kafka.

The outbox stores the W3C ``traceparent`` of the request that wrote the event; the relay sends it
as a Kafka header, and consumers start their spans as its children, so that one request and all the
work it causes downstream form one trace.
"""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_propagator = TraceContextTextMapPropagator()
_configured = False


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans to a file, one JSON object per line (for tests and local runs)."""

    def __init__(self, path: str) -> None:
        self._path = Path(path)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._path.open("a", encoding="utf-8") as file:
            for span in spans:
                file.write(json.dumps(_span_as_dict(span)) + "\n")
        return SpanExportResult.SUCCESS


def _span_as_dict(span: ReadableSpan) -> dict[str, Any]:
    span_context = span.get_span_context()
    assert span_context is not None
    return {
        "name": span.name,
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "attributes": dict(span.attributes or {}),
    }


def setup_tracing(
    service_name: str,
    *,
    otlp_endpoint: str | None,
    trace_file: str | None,
    zipkin_endpoint: str | None = None,
) -> None:
    """Install the tracer provider once per process (tests run several services in one)."""
    global _configured
    if _configured:
        return
    _configured = True
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    if zipkin_endpoint:
        # Zipkin's server is the trace UI `make demo` runs where there is no Docker for Jaeger.
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        provider.add_span_processor(BatchSpanProcessor(ZipkinExporter(endpoint=zipkin_endpoint)))
    if trace_file:
        provider.add_span_processor(
            BatchSpanProcessor(JsonLinesSpanExporter(trace_file), schedule_delay_millis=200)
        )
    trace.set_tracer_provider(provider)


def current_trace_headers() -> tuple[str | None, str | None]:
    """The active span's ``traceparent`` and ``tracestate``, if a span is recording."""
    return trace_headers(trace.get_current_span().get_span_context())


def trace_headers(span_context: trace.SpanContext) -> tuple[str | None, str | None]:
    """A span's ``traceparent`` and ``tracestate``, written as the W3C propagator's `inject`
    writes them (without its carrier and context round trip: the relay makes one per record)."""
    if not span_context.is_valid:
        return None, None
    traceparent = (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
        f"-{span_context.trace_flags:02x}"
    )
    return traceparent, span_context.trace_state.to_header() or None


def context_from_headers(headers: Sequence[tuple[str, bytes]] | Mapping[str, str]) -> Context:
    if isinstance(headers, Mapping):
        carrier = dict(headers)
    else:
        carrier = {name: value.decode("latin-1") for name, value in headers}
    return _propagator.extract(carrier, context=otel_context.Context())


def span_context_from_traceparent(
    traceparent: str, tracestate: str | None = None
) -> trace.SpanContext | None:
    """The remote span a W3C ``traceparent`` (and its ``tracestate``) names, or None if it is
    not one."""
    parts = traceparent.split("-")
    if len(parts) < 4 or len(parts[0]) != 2 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    try:
        trace_id, span_id, flags = int(parts[1], 16), int(parts[2], 16), int(parts[3][:2], 16)
    except ValueError:
        return None
    if parts[0] == "ff" or not trace_id or not span_id:
        return None
    return trace.SpanContext(
        trace_id,
        span_id,
        is_remote=True,
        trace_flags=trace.TraceFlags(flags),
        trace_state=trace.TraceState.from_header([tracestate]) if tracestate else None,
    )


def as_parent(span_context: trace.SpanContext) -> Context:
    """A context whose current span is `span_context`, for a span started as its child."""
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)
