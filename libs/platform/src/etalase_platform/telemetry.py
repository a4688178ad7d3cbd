"""OpenTelemetry: tracer setup and trace context across Kafka.

The outbox stores the W3C ``traceparent`` of the request that wrote the event; the relay sends it
as a Kafka header, and consumers start their spans as its children, so that one request and all the
work it causes downstream form one trace.
"""

import json
import time
import traceback
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import (
    Event,
    ReadableSpan,
    SynchronousMultiSpanProcessor,
    TracerProvider,
)
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import DEFAULT_ON, Decision
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.trace.span import _TRACECONTEXT_MAXIMUM_TRACESTATE_LENGTH
from opentelemetry.util.types import Attributes, AttributeValue
from sqlalchemy import URL, Engine, event
from sqlalchemy.engine.interfaces import ExceptionContext, ExecutionContext
from sqlalchemy.ext.asyncio import AsyncEngine

_configured = False
_provider: TracerProvider | None = None
_processors: SynchronousMultiSpanProcessor | None = None
"""The provider's span processors (every exporter's), kept for `LeanSpan`."""


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
    global _configured, _provider, _processors
    if _configured:
        return
    _configured = True
    processors = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}), active_span_processor=processors
    )
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
    _provider, _processors = provider, processors


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


_TRACEPARENT = TraceContextTextMapPropagator._TRACEPARENT_HEADER_FORMAT_RE
"""The W3C propagator's own pattern (tests/platform/test_trace_headers.py holds the two
parsers to the same answers)."""


def span_context_from_traceparent(
    traceparent: str, tracestate: str | None = None
) -> trace.SpanContext | None:
    """The remote span a W3C ``traceparent`` (and its ``tracestate``) names, or None if it is
    not one: what the W3C propagator's `extract` finds, without its carrier and `Context` (the
    relay and the consumers read one per record)."""
    match = _TRACEPARENT.search(traceparent)
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    if tracestate is not None and len(tracestate) > _TRACECONTEXT_MAXIMUM_TRACESTATE_LENGTH:
        tracestate = None
    return trace.SpanContext(
        int(trace_id, 16),
        int(span_id, 16),
        is_remote=True,
        trace_flags=trace.TraceFlags(int(flags, 16)),
        trace_state=trace.TraceState.from_header([tracestate]) if tracestate is not None else None,
    )


def as_parent(span_context: trace.SpanContext) -> Context:
    """A context whose current span is `span_context`, for a span started as its child."""
    return trace.set_span_in_context(trace.NonRecordingSpan(span_context), Context())


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


class LeanSpan(trace.Span):
    """A span child of `parent`, handed to the provider's exporters when it ends: the relay's
    publish span of one record, a consumer's span of one record's processing, a request's
    statement span. The SDK's `start_span` and `end` cost about 15 µs per span (its `Span` with a
    lock, bounded attributes, `on_start`, the parsed context made a `Context`), as much as
    relaying or projecting the record; this is about 2.5 µs. It is an API `Span`, so it can be made
    the current span (`trace.use_span`) for the spans of the work it covers. The sampling decision
    is still the provider's sampler's (by default the parent's sampled flag); without a tracer
    provider set up it records nothing and its context is the parent's, as the API's no-op
    tracer's would be."""

    def __init__(
        self,
        parent: trace.SpanContext,
        name: str,
        *,
        kind: trace.SpanKind,
        attributes: dict[str, str | int],
        scope: InstrumentationScope,
    ) -> None:
        self._parent, self._name, self._kind, self._scope = parent, name, kind, scope
        self._attributes: Attributes = None
        self._status = _UNSET
        self._events: list[Event] = []
        self._links: list[trace.Link] = []
        self._ended = False
        self._start = time.time_ns()
        if _provider is None:
            self.context = parent
            return
        if _provider.sampler is DEFAULT_ON and parent.is_valid:
            # the SDK's default sampler follows the parent's flag and keeps its trace state:
            # decided here, without the Context it takes (a third of the span's cost)
            sampled = parent.trace_flags.sampled
            trace_state: trace.TraceState | None = parent.trace_state
            if sampled:
                self._attributes = attributes
        else:
            sampling = _provider.sampler.should_sample(
                as_parent(parent), parent.trace_id, name, kind, attributes
            )
            sampled = sampling.decision is Decision.RECORD_AND_SAMPLE
            trace_state = sampling.trace_state
            if sampling.decision is not Decision.DROP:
                self._attributes = sampling.attributes
        self.context = trace.SpanContext(
            parent.trace_id,
            _provider.id_generator.generate_span_id(),
            is_remote=False,
            trace_flags=trace.TraceFlags(
                trace.TraceFlags.SAMPLED if sampled else trace.TraceFlags.DEFAULT
            ),
            trace_state=trace_state,
        )

    def fail(self, error: BaseException) -> None:
        """Ends the span with an ERROR status naming `error`."""
        self.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
        self.end()

    def end(self, end_time: int | None = None) -> None:
        if self._ended or _provider is None or _processors is None or self._attributes is None:
            return
        self._ended = True
        span = ReadableSpan(
            name=self._name,
            context=self.context,
            parent=self._parent,
            resource=_provider.resource,
            attributes=self._attributes,
            events=self._events,
            links=self._links,
            kind=self._kind,
            instrumentation_scope=self._scope,
            start_time=self._start,
            end_time=time.time_ns() if end_time is None else end_time,
            status=self._status,
        )
        _processors.on_end(span)

    # the rest of the API's Span, for work done with it as the current span

    def get_span_context(self) -> trace.SpanContext:
        return self.context

    def is_recording(self) -> bool:
        return self._attributes is not None and not self._ended

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        if self.is_recording():
            self._attributes = {**(self._attributes or {}), **attributes}

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.set_attributes({key: value})

    def add_event(
        self, name: str, attributes: Attributes = None, timestamp: int | None = None
    ) -> None:
        if self.is_recording():
            self._events.append(Event(name, attributes, timestamp))

    def add_link(self, context: trace.SpanContext, attributes: Attributes = None) -> None:
        if self.is_recording() and context.is_valid:
            self._links.append(trace.Link(context, attributes))

    def update_name(self, name: str) -> None:
        if not self._ended:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """As the SDK's span: an OK status is final, and UNSET changes nothing."""
        status = status if isinstance(status, Status) else Status(status, description)
        if self._ended or self._status.status_code is StatusCode.OK:
            return
        if status.status_code is not StatusCode.UNSET:
            self._status = status

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        if not self.is_recording():
            return
        kind = type(exception)
        recorded = {
            # named as the SDK's span names it
            "exception.type": kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}",
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
            **(attributes or {}),
        }
        self.add_event("exception", recorded, timestamp)


_UNSET = Status(StatusCode.UNSET)


_DB_SCOPE = InstrumentationScope("etalase.db")


_DATABASES: weakref.WeakKeyDictionary[Engine, Mapping[str, str | int]] = weakref.WeakKeyDictionary()


def database_attributes(engine: AsyncEngine) -> Mapping[str, str | int]:
    """The attributes every statement span on `engine`'s database carries, found once per engine
    (a cache by URL would hash the URL, rendering it as a string, on every transaction)."""
    found = _DATABASES.get(engine.sync_engine)
    if found is None:
        found = _DATABASES[engine.sync_engine] = _attributes_of(engine.url)
    return found


def _attributes_of(url: URL) -> Mapping[str, str | int]:
    found = {
        "db.name": url.database,
        "db.user": url.username,
        "net.peer.name": url.host,
        "net.peer.port": url.port,  # an int, as the semantic conventions have it
    }
    return {"db.system": "postgresql", **{k: v for k, v in found.items() if v is not None}}


def statement_span(statement: str, database: Mapping[str, str | int]) -> LeanSpan | None:
    """A CLIENT span for `statement`, child of the current span, if that one is sampled and
    instrumentation is not suppressed (the relay's own SQL); the caller ends it."""
    parent = trace.get_current_span().get_span_context()
    if not parent.trace_flags.sampled or not is_instrumentation_enabled():
        return None
    operation = statement.split(None, 1)[0].upper() if statement else "SQL"
    attributes = {**database, "db.statement": statement, "db.operation": operation}
    return LeanSpan(
        parent, operation, kind=trace.SpanKind.CLIENT, attributes=attributes, scope=_DB_SCOPE
    )


def trace_statements(engine: AsyncEngine) -> None:
    """Each statement `engine` runs inside a sampled span becomes a CLIENT span, its child (ops.md:
    a request's database work is part of its trace), named and attributed as OpenTelemetry's
    SQLAlchemy instrumentation names them. That instrumentation instruments nothing on SQLAlchemy
    2.1 (its declared range ends below it), and forced onto it cost 65 µs per statement, about
    0.4 ms of an order's CPU; a LeanSpan costs a tenth of that. Work outside a sampled span,
    or under `suppress_instrumentation` (the relay's own SQL), gets none. Statements run on the
    driver (`etalase_platform.driver`) get the same span from `statement_span`."""
    database = database_attributes(engine)

    def started(
        _connection: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if context is not None:
            span = statement_span(statement, database)
            if span is not None:
                context._etalase_span = span  # type: ignore[attr-defined]  # one per execution

    def ended(
        _connection: Any,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        span = getattr(context, "_etalase_span", None)
        if isinstance(span, LeanSpan):
            span.end()

    def failed(exception_context: ExceptionContext) -> None:
        span = getattr(exception_context.execution_context, "_etalase_span", None)
        if isinstance(span, LeanSpan):
            span.fail(exception_context.original_exception)

    event.listen(engine.sync_engine, "before_cursor_execute", started)
    event.listen(engine.sync_engine, "after_cursor_execute", ended)
    event.listen(engine.sync_engine, "handle_error", failed)
