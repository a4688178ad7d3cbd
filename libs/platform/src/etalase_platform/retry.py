"""Retrying what fails for a while: a transient failure retries the same work with backoff and
never skips it; any other failure is the caller's to handle."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Failures that go away by themselves: retry them, never skip the record."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.DBAPIError):
        error = error.orig or error
        cause = getattr(error, "__cause__", None)
        if cause is not None:
            error = cause
    return isinstance(
        error,
        OSError
        | ConnectionError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.SerializationError
        | asyncpg.DeadlockDetectedError
        | asyncpg.TooManyConnectionsError
        | asyncpg.InterfaceError,
    )


async def retrying(action: Callable[[], Awaitable[T]], name: str) -> T:
    delay = 0.1
    while True:
        try:
            return await action()
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning("%s: transient failure %r; retrying in %.1fs", name, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
