"""`Idempotency-Key` for create calls: a retry gets the first response, nothing is created twice.

The service layer calls `run_once`; the route answers with `respond(stored)`, which marks a replay
with `Idempotent-Replayed: true`.

`run_once` takes the transaction to run in: `db.session_transaction(sessions)` for a creation
written through the ORM, `driver.transaction(engine)` for one whose statements all go to the
driver (placing an order).

`create` is handed an `Answer`. It may store the response in its own last statement, by running
`ANSWER_SQL` as a CTE with `answer.parameters(body)`, and must then return that same body (a round
trip fewer, and the rows it locked held no longer); otherwise `run_once` stores the body after
`create` returns.

The key row is inserted in the same transaction as the creation. A concurrent request with the same
key blocks on that row's unique index until the first commits, then reads the stored response; if
the first fails, its key row rolls back with it and the retry runs afresh.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_platform.driver import DriverStatement, DriverTransaction, Transactional
from etalase_platform.problems import Problem

MAX_KEY_LENGTH = 200
REPLAYED_HEADER = "Idempotent-Replayed"
T = TypeVar("T", AsyncSession, DriverTransaction)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


class IdempotencyKeyReused(Problem):
    status = 422
    title = "Idempotency-Key reused"


def respond(stored: StoredResponse) -> JSONResponse:
    """The HTTP answer to an idempotent call: the stored response, a replay saying so."""
    headers = {REPLAYED_HEADER: "true"} if stored.replayed else None
    return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)


def fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


# On the driver: every create call runs two of these, and SQLAlchemy's execution of a statement
# costs twice the driver's (etalase_platform.driver).
_CLAIM = DriverStatement(
    text(
        "INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES (:scope, :key, :fp)"
        " ON CONFLICT DO NOTHING RETURNING key"
    )
)
_STORED = DriverStatement(
    text(
        "SELECT fingerprint, status_code, body FROM idempotency_keys"
        " WHERE scope = :scope AND key = :key"
    )
)
ANSWER_SQL = (
    "UPDATE idempotency_keys SET status_code = :answer_status, body = :answer_body"
    " WHERE scope = :answer_scope AND key = :answer_key"
)
"""Storing a call's response. Its parameters are prefixed so that a creation's statement may run it
as a CTE beside its own (`Answer.parameters`); without a key it matches no row."""
_ANSWER = DriverStatement(text(ANSWER_SQL))


@dataclass
class Answer:
    """Where `run_once` is to store the call's response (its status, the key and its scope),
    handed to `create`; the body comes with `parameters`."""

    status_code: int
    scope: str
    key: str | None
    stored: bool = False

    def parameters(self, body: dict[str, Any]) -> dict[str, object]:
        """`ANSWER_SQL`'s parameters, for a statement of `create` that runs it as a CTE and so
        stores `body` itself (which `create` must then return)."""
        self.stored = True
        return {
            "answer_status": self.status_code,
            # without a key nothing is stored: no need to serialise it
            "answer_body": None if self.key is None else json.dumps(body),
            "answer_scope": self.scope,
            "answer_key": self.key,
        }


async def run_once(
    transaction: AbstractAsyncContextManager[T],
    *,
    key: str | None,
    scope: str,
    request: BaseModel | Mapping[str, Any],
    create: Callable[[T, Answer], Awaitable[dict[str, Any]]],
    status_code: int = 201,
) -> StoredResponse:
    """Run `create` in `transaction` (not yet entered), at most once per (scope, key).
    `request`: what the call asked for; the same key with another request is refused (422)."""
    request_fingerprint = fingerprint(
        request.model_dump(mode="json") if isinstance(request, BaseModel) else request
    )
    answer = Answer(status_code, scope, key)
    async with transaction as begun:
        if key is None:
            return StoredResponse(status_code, await create(begun, answer))
        if not key or len(key) > MAX_KEY_LENGTH:
            raise IdempotencyKeyReused(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters")
        stored = await _claim(begun, scope, key, request_fingerprint)
        if stored is not None:
            return stored
        body = await create(begun, answer)
        if not answer.stored:
            await _ANSWER.execute(begun, answer.parameters(body))
    return StoredResponse(status_code, body)


async def _claim(
    begun: Transactional, scope: str, key: str, request_fingerprint: str
) -> StoredResponse | None:
    values = {"scope": scope, "key": key}
    if await _CLAIM.fetchrow(begun, {**values, "fp": request_fingerprint}) is not None:
        return None
    existing = await _STORED.fetchrow(begun, values)
    if existing["status_code"] is None:
        # only a defect can commit a key without its answer: a create that took
        # `answer.parameters` into a statement not running ANSWER_SQL
        raise RuntimeError(f"the Idempotency-Key of {scope} was committed without its answer")
    if existing["fingerprint"] != request_fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was used for a different request")
    return StoredResponse(existing["status_code"], json.loads(existing["body"]), replayed=True)
