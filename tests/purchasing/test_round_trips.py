"""What placing an order costs PostgreSQL in round trips: each is CPU on both sides and time the
budget row stays locked, so the write path's count is held here."""

import httpx
import pytest

from tests.helpers import unique
from tests.platform.support import recorded_spans
from tests.purchasing.support import CatalogDouble, buyer, fund, order_body

pytestmark = pytest.mark.infra


async def test_placing_an_order_with_an_idempotency_key_is_three_statements(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    product = await catalog.list_product()
    await catalog.known(product.product_id)
    opd = await fund(client, 10_000_000)
    # every statement of a request is a span of its trace, whether SQLAlchemy or the driver ran it
    exporter = recorded_spans()
    response = await client.post(
        "/orders",
        json=order_body(opd, [(product.product_id, 1)]),
        headers={**buyer(opd), "Idempotency-Key": unique()},
    )
    assert response.status_code == 201, response.text

    statements = [
        span for span in exporter.get_finished_spans() if "db.statement" in (span.attributes or {})
    ]
    [trace_id] = {
        span.context.trace_id
        for span in statements
        if "INTO idempotency_keys" in str((span.attributes or {})["db.statement"])
    }
    placing = [
        str((span.attributes or {})["db.statement"])
        for span in sorted(statements, key=lambda span: span.start_time or 0)
        if span.context.trace_id == trace_id
    ]
    claim = next(i for i, s in enumerate(placing) if "INSERT INTO idempotency_keys" in s)
    answer = next(i for i, s in enumerate(placing) if "UPDATE idempotency_keys" in s)
    # the key's claim, the order's facts with its budget locked, and the order with its committed
    # spend, its outbox row and the key's answer (BEGIN and COMMIT are not cursor statements)
    assert answer - claim + 1 == 3, placing[claim : answer + 1]
    assert "FOR UPDATE" in placing[claim + 1]
    assert "INSERT INTO orders" in placing[answer]
