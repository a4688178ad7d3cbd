"""The relay writes each record's trace headers by hand (`telemetry.trace_headers`) instead of
through the W3C propagator, for speed: they must be the propagator's, byte for byte, and read
back to the same span context."""

import pytest
from etalase_platform.telemetry import span_context_from_traceparent, trace_headers
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

CONTEXTS = [
    trace.SpanContext(
        0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, False, trace.TraceFlags(1)
    ),
    trace.SpanContext(1, 2, False, trace.TraceFlags(0)),
    trace.SpanContext(
        2**128 - 1,
        2**64 - 1,
        False,
        trace.TraceFlags(1),
        trace.TraceState([("rojo", "00f067aa0ba902b7"), ("congo", "t61rcWkgMzE")]),
    ),
]


@pytest.mark.parametrize("span_context", CONTEXTS)
def test_trace_headers_are_the_propagators(span_context: trace.SpanContext) -> None:
    carrier: dict[str, str] = {}
    parent = trace.set_span_in_context(trace.NonRecordingSpan(span_context))
    TraceContextTextMapPropagator().inject(carrier, context=parent)
    traceparent, tracestate = trace_headers(span_context)
    assert (traceparent, tracestate) == (carrier["traceparent"], carrier.get("tracestate"))
    assert traceparent is not None
    read = span_context_from_traceparent(traceparent, tracestate)
    assert read is not None
    assert (read.trace_id, read.span_id, read.trace_flags, read.trace_state) == (
        span_context.trace_id,
        span_context.span_id,
        span_context.trace_flags,
        span_context.trace_state,
    )


def test_no_headers_outside_a_span() -> None:
    assert trace_headers(trace.INVALID_SPAN_CONTEXT) == (None, None)
