"""FastAPI dependencies every service's routes use."""

from datetime import date
from typing import Annotated, Generic, TypeVar

from etalase_events.primitives import RegionCode
from fastapi import Depends, Header, Query, Request
from pydantic import AfterValidator, BaseModel, WithJsonSchema
from sqlalchemy.ext.asyncio import AsyncEngine

from etalase_platform.db import SessionFactory

T = TypeVar("T")


# Dependencies are `async def` even when they await nothing: FastAPI runs a plain `def` one in
# its thread pool, a thread handoff per request for a lookup (a few % of an order's CPU).


async def get_sessions(request: Request) -> SessionFactory:
    sessions: SessionFactory = request.app.state.runtime.sessions
    return sessions


Sessions = Annotated[SessionFactory, Depends(get_sessions)]


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.runtime.engine
    return engine


Engine = Annotated[AsyncEngine, Depends(get_engine)]
"""For a use case that runs its transaction on the driver (`driver.transaction`)."""
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", description="A retry with the same key gets the first response"
    ),
]

RegionFilter = Annotated[
    RegionCode | None,
    Query(description="A kab/kota (`33.75`) or a province (`33`), which covers its kab/kota"),
]
"""The `region_code` filter of every list (api.md: a kode wilayah, kab/kota or province); what
it covers is `scope.covered_by`."""

MAX_OFFSET = 2**31 - 1
"""Far past any list's end; keeps the offset inside the database's integers."""
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def _sane_day(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return day


Day = Annotated[
    date,
    AfterValidator(_sane_day),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": r"^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$",
            "description": f"A date from {FIRST_DAY} to {LAST_DAY}",
        }
    ),
]
"""A calendar date within the years the system serves (fiscal years 2000-2100): a date past
9999 would overflow the moment arithmetic behind it."""


class PageParams(BaseModel):
    limit: int = 50
    offset: int = 0


async def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
