"""What every service's tables and responses share: an enum kept as text, a decimal shown as a
JSON number, and the one way each of a row, a domain entity and a response is made of another:
by field name."""

import dataclasses
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, PlainSerializer
from sqlalchemy import Dialect, String, Text
from sqlalchemy.types import TypeDecorator, TypeEngine

E = TypeVar("E", bound=StrEnum)
M = TypeVar("M", bound=BaseModel)
D = TypeVar("D")

DecimalNumber = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""A percentage or a share: exact in Python and PostgreSQL, a number in JSON."""


class TextEnum(TypeDecorator[E]):
    """A `StrEnum` in a TEXT (or, with `varchar`, a VARCHAR) column: the value is written, the
    member read back. No database enum type, so a new member needs no migration (the schemas
    of api.md and events.md decide what is valid)."""

    impl: TypeEngine[Any] | type[TypeEngine[Any]] = Text
    cache_ok = True

    def __init__(self, enum: type[E], *, varchar: bool = False) -> None:
        super().__init__()
        self.enum = enum
        self.varchar = varchar
        if varchar:
            self.impl = String()

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class _Attributes:
    """`source`'s attributes, with `computed` taking precedence."""

    def __init__(self, source: object, computed: dict[str, Any]) -> None:
        self._source = source
        self._computed = computed

    def __getattr__(self, name: str) -> Any:
        if name in self._computed:
            return self._computed[name]
        return getattr(self._source, name)


def respond(model: type[M], source: object, /, **computed: Any) -> M:
    """The response `model` from the attributes of the same names on `source` (a row, a domain
    entity, a dataclass) and the fields it cannot supply, `computed`; validated as a request
    body is, so a stored value the contract refuses fails here rather than reaching a client."""
    return model.model_validate(_Attributes(source, computed), from_attributes=True)


def entity(cls: type[D], source: object) -> D:
    """The domain dataclass `cls` from the attributes of the same names on `source` (a row)."""
    return cls(**{name: getattr(source, name) for name in _init_fields(cls)})


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def _init_fields(cls: type) -> tuple[str, ...]:
    # read per row of a batch: `dataclasses.fields` builds its tuple again on every call
    if (names := _INIT_FIELDS.get(cls)) is None:
        assert dataclasses.is_dataclass(cls)
        names = _INIT_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return names


def store(row: object, state: object) -> None:
    """Write the domain dataclass `state` onto `row`, field by field."""
    assert dataclasses.is_dataclass(state)
    for f in dataclasses.fields(state):
        setattr(row, f.name, getattr(state, f.name))
