"""FastAPI dependencies every service's routes use."""

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Header, Query, Request
from pydantic import BaseModel

from etalase_platform.db import SessionFactory

T = TypeVar("T")


def get_sessions(request: Request) -> SessionFactory:
    sessions: SessionFactory = request.app.state.runtime.sessions
    return sessions


Sessions = Annotated[SessionFactory, Depends(get_sessions)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", description="A retry with the same key gets the first response"
    ),
]


class PageParams(BaseModel):
    limit: int = 50
    offset: int = 0


def page_params(
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
