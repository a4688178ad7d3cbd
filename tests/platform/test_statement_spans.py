"""`telemetry.trace_statements`: a request's statements are spans of its trace (ops.md), and only
a sampled, instrumented span's statements are."""

import uuid

import pytest
from etalase_platform.db import create_engine
from etalase_platform.telemetry import trace_statements, tracer
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from tests.helpers import DatabaseFactory
from tests.platform.support import recorded_spans

pytestmark = pytest.mark.infra


async def test_statements_inside_a_sampled_span_are_its_client_spans(
    new_database: DatabaseFactory,
) -> None:
    exporter = recorded_spans()
    engine = create_engine(await new_database("statement-spans"))
    trace_statements(engine)
    marker = uuid.uuid4().hex  # tells this test's statements from any other test's
    try:
        with tracer("tests").start_as_current_span("request") as request:
            async with engine.connect() as connection:
                await connection.execute(text(f"SELECT 1 AS ok_{marker}"))
                with pytest.raises(ProgrammingError):
                    await connection.execute(text(f"SELECT * FROM missing_{marker}"))
        async with engine.connect() as connection:
            await connection.execute(text(f"SELECT 2 AS outside_{marker}"))
        with tracer("tests").start_as_current_span("probe"), suppress_instrumentation():
            async with engine.connect() as connection:
                await connection.execute(text(f"SELECT 3 AS suppressed_{marker}"))
    finally:
        await engine.dispose()

    ours = [
        span for span in exporter.get_finished_spans()
        if marker in str((span.attributes or {}).get("db.statement", ""))
    ]  # fmt: skip
    by_statement = {str((span.attributes or {})["db.statement"]): span for span in ours}
    assert sorted(by_statement) == [f"SELECT * FROM missing_{marker}", f"SELECT 1 AS ok_{marker}"]
    ok, failed = (
        by_statement[f"SELECT 1 AS ok_{marker}"],
        by_statement[f"SELECT * FROM missing_{marker}"],
    )
    for span in (ok, failed):
        assert span.kind is trace.SpanKind.CLIENT and span.name == "SELECT"
        assert span.parent is not None
        assert span.parent.span_id == request.get_span_context().span_id
        assert span.context.trace_id == request.get_span_context().trace_id
        assert span.attributes is not None and span.attributes["db.system"] == "postgresql"
    assert ok.status.status_code is trace.StatusCode.UNSET
    assert failed.status.status_code is trace.StatusCode.ERROR
    assert failed.status.description and "missing_" in failed.status.description
