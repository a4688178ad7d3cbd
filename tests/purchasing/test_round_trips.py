"""What placing an order costs PostgreSQL in round trips: each is CPU on both sides and time the
budget row stays locked, so the write path's count is held here."""

from collections import defaultdict
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.helpers import unique
from tests.purchasing.support import CatalogDouble, buyer, fund, order_body

pytestmark = pytest.mark.infra


async def test_placing_an_order_with_an_idempotency_key_is_five_statements(
    client: httpx.AsyncClient, catalog: CatalogDouble
) -> None:
    product = await catalog.list_product()
    await catalog.known(product.product_id)
    opd = await fund(client, 10_000_000)
    # per connection: the order's transaction holds its connection from the claim to the answer
    statements: dict[int, list[str]] = defaultdict(list)

    def record(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[id(connection.connection.dbapi_connection)].append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        response = await client.post(
            "/orders",
            json=order_body(opd, [(product.product_id, 1)]),
            headers={**buyer(opd), "Idempotency-Key": unique()},
        )
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert response.status_code == 201, response.text

    [placing] = [
        run for run in statements.values() if any("INTO idempotency_keys" in s for s in run)
    ]
    claim = next(i for i, s in enumerate(placing) if "INSERT INTO idempotency_keys" in s)
    answer = next(i for i, s in enumerate(placing) if "UPDATE idempotency_keys" in s)
    # the key's claim, the order's facts, the budget locked, the order with its committed spend
    # and its outbox row, the key's answer (BEGIN and COMMIT are not cursor statements)
    assert answer - claim + 1 == 5, placing[claim : answer + 1]
