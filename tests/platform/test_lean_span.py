"""`telemetry.LeanSpan`, the consumer's span of each traced record (and the relay's and the
statements'), is an API span: work done with it as the current span is its child, a failure
inside records the exception on it, and it is exported once, as the SDK's span would be."""

import pytest
from etalase_platform.telemetry import LeanSpan, span_context_from_traceparent, tracer
from opentelemetry import trace
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanKind, StatusCode

from tests.platform.support import recorded_spans

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
SCOPE = InstrumentationScope("tests")


def _parent() -> trace.SpanContext:
    parent = span_context_from_traceparent(TRACEPARENT)
    assert parent is not None
    return parent


def test_work_under_a_lean_span_is_its_child_and_its_failure_is_recorded_on_it() -> None:
    exporter = recorded_spans()
    span = LeanSpan(
        _parent(), "lean process", kind=SpanKind.CONSUMER, attributes={"a": 1}, scope=SCOPE
    )
    with pytest.raises(ValueError), trace.use_span(span, end_on_exit=False):
        with tracer("tests").start_as_current_span("lean child"):
            pass
        raise ValueError("a record no handler can take")
    span.end()
    span.end()  # a second end exports nothing more

    finished = [s for s in exporter.get_finished_spans() if s.name.startswith("lean ")]
    assert [s.name for s in finished] == ["lean child", "lean process"]
    child, process = finished
    assert process.parent is not None and process.parent.span_id == _parent().span_id
    assert child.parent is not None and child.parent.span_id == process.context.span_id
    assert process.kind is SpanKind.CONSUMER and dict(process.attributes or {}) == {"a": 1}
    assert process.status.status_code is StatusCode.ERROR
    (event,) = process.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "a record no handler can take"


def test_a_lean_span_of_an_unsampled_parent_records_nothing() -> None:
    exporter = recorded_spans()
    unsampled = span_context_from_traceparent(TRACEPARENT[:-2] + "00")
    assert unsampled is not None
    span = LeanSpan(unsampled, "lean unsampled", kind=SpanKind.CONSUMER, attributes={}, scope=SCOPE)
    assert not span.is_recording()
    assert not span.get_span_context().trace_flags.sampled
    span.end()
    assert not [s for s in exporter.get_finished_spans() if s.name == "lean unsampled"]
