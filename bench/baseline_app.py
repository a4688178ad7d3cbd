"""The write-path baseline: a bare FastAPI endpoint that inserts one row with asyncpg.

It takes the same request body as `POST /orders` and answers 201 with the row, with nothing of
a service around it (no auth, no idempotency, no outbox, no middleware), so the order write path
can be read as a fraction of what FastAPI, uvicorn and PostgreSQL do on this machine.

    BASELINE_DATABASE_URL=postgresql://… uvicorn bench.baseline_app:app --port 8099
"""

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

POOL_SIZE = 10  # the services' SQLAlchemy pool size (etalase_platform.db.create_engine)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(
        os.environ["BASELINE_DATABASE_URL"], min_size=POOL_SIZE, max_size=POOL_SIZE
    )
    async with pool.acquire() as connection:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS orders (order_id uuid PRIMARY KEY, opd_code text NOT NULL,"
            " body jsonb NOT NULL, placed_at timestamptz NOT NULL DEFAULT now())"
        )
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(title="bench baseline", lifespan=lifespan)


@app.post("/orders", status_code=201)
async def place_order(request: Request) -> JSONResponse:
    body: dict[str, Any] = await request.json()
    pool: asyncpg.Pool = request.app.state.pool
    row = await pool.fetchrow(
        "INSERT INTO orders (order_id, opd_code, body) VALUES ($1, $2, $3)"
        " RETURNING order_id, opd_code, placed_at",
        uuid.uuid4(),
        body.get("opd_code", ""),
        json.dumps(body),
    )
    assert row is not None  # INSERT … RETURNING always returns the row
    return JSONResponse(
        {
            "order_id": str(row["order_id"]),
            "opd_code": row["opd_code"],
            "placed_at": row["placed_at"].isoformat(),
            "status": "placed",
        },
        status_code=201,
    )


@app.get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ready"}
