"""The base class of every event model."""

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """The `data` of one event type. Subclasses declare `version` and `topic`; `event_name`
    defaults to the class name, and `event_type` (`<event_name>.v<version>`) is derived."""

    # Consumers ignore fields they do not know: adding an optional field is not a new version.
    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)

    event_name: ClassVar[str]
    version: ClassVar[int]
    topic: ClassVar[str]
    event_type: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "event_name" not in cls.__dict__:
            cls.event_name = cls.__name__
        cls.event_type = f"{cls.event_name}.v{cls.version}"
