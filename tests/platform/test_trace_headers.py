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


def _named(span_context: trace.SpanContext) -> tuple[object, ...]:
    """What a traceparent and tracestate say of a span."""
    return (
        span_context.trace_id,
        span_context.span_id,
        span_context.trace_flags,
        span_context.trace_state,
    )


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
    assert _named(read) == _named(span_context)


def test_no_headers_outside_a_span() -> None:
    assert trace_headers(trace.INVALID_SPAN_CONTEXT) == (None, None)


TRACEPARENTS = [
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
    " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t",  # the propagator trims
    "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future",  # a later version
    "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",  # uppercase
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # version 00 has 4 fields
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01xyz",
    "0x-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
    "00-0af7651916cd43dd_448eb211c80319c-b7ad6b7169203331-01",
    "",
]
TRACESTATES = [None, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "", "a=" + "x" * 600]


@pytest.mark.parametrize("tracestate", TRACESTATES)
@pytest.mark.parametrize("traceparent", TRACEPARENTS)
def test_a_traceparent_is_read_as_the_propagator_reads_it(
    traceparent: str, tracestate: str | None
) -> None:
    carrier = {"traceparent": traceparent}
    if tracestate is not None:
        carrier["tracestate"] = tracestate
    extracted = trace.get_current_span(TraceContextTextMapPropagator().extract(carrier))
    expected = extracted.get_span_context()
    read = span_context_from_traceparent(traceparent, tracestate)
    if not expected.is_valid:
        assert read is None
        return
    assert read is not None
    assert _named(read) == _named(expected) and read.is_remote == expected.is_remote
