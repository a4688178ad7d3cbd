"""`telemetry.LeanSpan`, the consumer's span of each traced record (and the relay's and the
statements'), is an API span: work done with it as the current span is its child, a failure
inside records the exception on it, it is exported once and sampled as the SDK's span would be;
and the consumer gives one to exactly the records whose trace context the W3C propagator reads."""

import pytest
from aiokafka import ConsumerRecord
from etalase_events.codec import encode
from etalase_events.envelope import new_envelope
from etalase_platform.decoding import Batch, Decoder
from etalase_platform.telemetry import LeanSpan, span_context_from_traceparent, tracer
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import DEFAULT_ON, Decision
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import INVALID_SPAN, SpanKind, StatusCode

from tests.platform.support import recorded_spans, verified

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


@pytest.mark.parametrize("flags", ["01", "00"])
def test_a_lean_span_samples_as_the_sdks_default_sampler_does(flags: str) -> None:
    recorded_spans()
    parent = span_context_from_traceparent(TRACEPARENT[:-2] + flags, "rojo=00f067aa0ba902b7")
    assert parent is not None
    span = LeanSpan(parent, "lean sampled", kind=SpanKind.PRODUCER, attributes={}, scope=SCOPE)
    decision = DEFAULT_ON.should_sample(
        trace.set_span_in_context(trace.NonRecordingSpan(parent)), parent.trace_id, "lean sampled"
    )
    assert span.is_recording() == (decision.decision is not Decision.DROP)
    assert span.get_span_context().trace_flags.sampled == (
        decision.decision is Decision.RECORD_AND_SAMPLE
    )
    assert span.get_span_context().trace_state == decision.trace_state


def _record(headers: list[tuple[str, bytes | None]]) -> ConsumerRecord[bytes, bytes]:
    record = encode(new_envelope(verified("v-1"), source="t", subject="v-1", sequence=1))
    return ConsumerRecord(
        "vendors", 0, 7, 0, 0, record.key, record.value, None, 1, 1, [*record.headers, *headers]
    )


@pytest.mark.parametrize(
    "headers",
    [
        [("traceparent", TRACEPARENT.upper().encode())],  # the W3C propagator refuses it
        [("traceparent", None), ("tracestate", None)],  # headers without a value
    ],
)
def test_a_record_without_a_valid_trace_context_is_delivered_without_a_span(
    headers: list[tuple[str, bytes | None]],
) -> None:
    batch = Batch([], [], [], [], {})
    Decoder("group").decode_into(batch, [_record(headers)])
    assert len(batch.deliveries) == 1 and not batch.poison
    assert batch.traced == [] and batch.deliveries[0].span is INVALID_SPAN


def test_a_traced_records_span_continues_its_trace_with_its_trace_state() -> None:
    recorded_spans()
    headers: list[tuple[str, bytes | None]] = [
        ("traceparent", TRACEPARENT.encode()),
        ("tracestate", b"rojo=00f067aa0ba902b7"),
    ]
    batch = Batch([], [], [], [], {})
    Decoder("group").decode_into(batch, [_record(headers)])
    (delivery,) = batch.traced
    context = delivery.span.get_span_context()
    assert context.trace_id == _parent().trace_id and context.trace_flags.sampled
    assert context.trace_state.to_header() == "rojo=00f067aa0ba902b7"
    batch.end_spans()
