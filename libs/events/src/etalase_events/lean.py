"""The fast path of decoding: msgspec types derived from the pydantic declarations of the events.

The pydantic models stay the one declaration of each event (the JSON Schemas, AsyncAPI and the
producers use them). From each model this module derives a msgspec Struct with the same fields and
constraints, and decodes a record of a current event type in one msgspec pass, then runs the
model's own `after` validators on the result. Consumers get the same pydantic instances as from
pydantic (built without validating twice).

The fast path is never more lenient than pydantic, only sometimes stricter (it does not coerce
`"40"` to an int, nor accept a datetime with a space for its `T`...): whatever it does not accept
goes to the pydantic path, which decides and names the reason. A model with a rule this module does
not know gets no fast path at all (`UNSUPPORTED` says which and why), so a new kind of rule can
never be skipped silently.
"""

import inspect
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    PlainSerializer,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from etalase_events.base import Event
from etalase_events.envelope import CloudEventAttributes, DecodedEvent
from etalase_events.models import EVENT_TYPES

Convert = Callable[[Any], Any]


class Unsupported(Exception):
    """A declaration with a rule the fast path cannot reproduce."""


_SLOTS = {
    f"set_{name}": BaseModel.__dict__[f"__pydantic_{name}__"].__set__
    for name in ("fields_set", "extra", "private")
}
"""The setters of the slots every pydantic instance has besides its `__dict__`."""

_BOUNDS = {
    annotated_types.Ge: "ge",
    annotated_types.Gt: "gt",
    annotated_types.Le: "le",
    annotated_types.Lt: "lt",
    annotated_types.MinLen: "min_length",
    annotated_types.MaxLen: "max_length",
}
_STRING_RULES = ("min_length", "max_length", "pattern")


def _constraints(metadata: list[Any]) -> tuple[dict[str, Any], list[Convert]]:
    """msgspec.Meta keyword arguments and the after-validators of a field's metadata."""
    rules: dict[str, Any] = {}
    after: list[Convert] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            more, later = _constraints(item.metadata)
            rules |= more
            after += later
        elif type(item) in _BOUNDS:
            name = _BOUNDS[type(item)]
            rules[name] = getattr(item, name)
        elif isinstance(item, StringConstraints):
            for name, value in vars(item).items():
                if value is None or (name == "strict" and value):
                    continue
                if name not in _STRING_RULES:
                    raise Unsupported(f"string rule {name}={value!r}")
                rules[name] = value
        elif isinstance(item, Strict):
            pass  # msgspec never coerces
        elif isinstance(item, AfterValidator):
            after.append(item.func)  # type: ignore[arg-type]
        elif isinstance(item, PlainSerializer | WithJsonSchema):
            pass  # how it is written and described, not what is accepted
        elif type(item).__name__ == "_PydanticGeneralMetadata":
            for name, value in vars(item).items():
                if name != "decimal_places":
                    raise Unsupported(f"rule {name}={value!r}")
                rules[name] = value
        else:
            raise Unsupported(f"rule {item!r}")
    if "pattern" in rules:
        # pydantic's `$` is the end of the text; Python's also matches before a final newline
        rules["pattern"] = re.sub(r"(?<!\\)\$$", r"\\Z", rules["pattern"])
    return rules, after


class _Code:
    """Python source that turns a field's msgspec value into pydantic's, with the helpers it
    calls: a build function reads as a few expressions, not a chain of lambdas."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.locals = 0

    def name(self, value: Any) -> str:
        """A name for `value` in the build function's scope."""
        name = f"h{len(self.scope)}"
        self.scope[name] = value
        return name

    def local(self) -> str:
        """A fresh name for a local variable of the build function."""
        self.locals += 1
        return f"t{self.locals}"


Emit = Callable[[str, _Code], str]
"""Given the source of a msgspec value, the source of its pydantic value."""


def _call(function: Convert) -> Emit:
    return lambda source, code: f"{code.name(function)}({source})"


def _then(first: Emit | None, second: Emit) -> Emit:
    if first is None:
        return second
    return lambda source, code: second(first(source, code), code)


def _decimal_check(rules: dict[str, Any]) -> Convert:
    ge, le, places = rules.pop("ge", None), rules.pop("le", None), rules.pop("decimal_places", None)
    gt, lt = rules.pop("gt", None), rules.pop("lt", None)
    if rules:
        raise Unsupported(f"decimal rules {rules}")

    def check(value: Decimal) -> Decimal:
        if (
            not value.is_finite()
            or (places is not None and round(value, places) != value)
            or (ge is not None and value < ge)
            or (gt is not None and value <= gt)
            or (le is not None and value > le)
            or (lt is not None and value >= lt)
        ):
            raise ValueError("decimal out of its rules")
        return value

    return check


def _translate(annotation: Any, metadata: list[Any]) -> tuple[Any, Emit | None]:
    """The msgspec type for a pydantic annotation, and how to turn its value into pydantic's."""
    if get_origin(annotation) is Annotated:
        return _translate(annotation.__origin__, [*metadata, *annotation.__metadata__])
    rules, after = _constraints(metadata)
    convert: Emit | None = None
    origin = get_origin(annotation)
    target: Any
    if origin in (Union, UnionType):
        options = [arg for arg in get_args(annotation) if arg is not NoneType]
        if len(options) != 1 or rules or after:
            raise Unsupported(f"union {annotation!r}")
        inner, inner_convert = _translate(options[0], [])
        return inner | None, None if inner_convert is None else _unless_none(inner_convert)
    if origin is tuple:
        args = get_args(annotation)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise Unsupported(f"tuple {annotation!r}")
        item, item_convert = _translate(args[0], [])
        target = tuple[item, ...]  # type: ignore[valid-type]
        if item_convert is not None:
            convert = _each(item_convert)
    elif origin is Literal:
        target = annotation
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        plan = _plan(annotation)
        target, convert = plan.struct, _call(plan.build)
    elif annotation is AwareDatetime:
        target, rules = datetime, {**rules, "tz": True}
    elif annotation is Decimal:
        target, convert = Decimal, _call(_decimal_check(rules))
    elif _plain(annotation):
        target = annotation
    else:
        raise Unsupported(f"type {annotation!r}")
    if rules:
        target = Annotated[target, msgspec.Meta(**rules)]
    for validator in after:
        convert = _then(convert, _call(validator))
    return target, convert


def _plain(annotation: Any) -> bool:
    """A type msgspec decodes exactly as pydantic does, or more strictly."""
    is_enum = isinstance(annotation, type) and issubclass(annotation, Enum)
    return is_enum or annotation in (str, int, bool, date)


def _unless_none(convert: Emit) -> Emit:
    def emit(source: str, code: _Code) -> str:
        value = code.local()
        return f"(None if ({value} := {source}) is None else {convert(value, code)})"

    return emit


def _each(convert: Emit) -> Emit:
    def emit(source: str, code: _Code) -> str:
        item = code.local()
        each = convert(item, code)
        function = each.removesuffix(f"({item})")
        if function.isidentifier():  # one call per item: map is cheaper than a comprehension
            return f"tuple(map({function}, {source}))"
        return f"tuple([{each} for {item} in {source}])"

    return emit


class _Plan:
    """The Struct of one pydantic model and the function that builds the model from it."""

    def __init__(self, model: type[BaseModel], *, constants: dict[str, Any] | None = None) -> None:
        decorators = model.__pydantic_decorators__
        if decorators.field_validators or decorators.validators or decorators.root_validators:
            raise Unsupported(f"{model.__name__}: field validators")
        if any(d.info.mode != "after" for d in decorators.model_validators.values()):
            raise Unsupported(f"{model.__name__}: a model validator not of mode 'after'")
        if model.__private_attributes__ or model.model_config.get("extra") != "ignore":
            raise Unsupported(f"{model.__name__}: private attributes or extra fields")
        validators = [d.func for d in decorators.model_validators.values()]
        if any(len(inspect.signature(v).parameters) != 1 for v in validators):
            raise Unsupported(f"{model.__name__}: a model validator that takes more than self")
        constants = constants or {}
        self.fields: list[tuple[str, Any, Any]] = []
        code = _Code()
        values: list[str] = []
        for name, info in model.model_fields.items():
            if name in constants:
                values.append(f"d[{name!r}] = {code.name(constants[name])}")
                continue
            if info.alias or info.default_factory is not None:
                raise Unsupported(f"{model.__name__}.{name}: alias or default factory")
            target, convert = _translate(info.annotation, list(info.metadata))
            default = msgspec.NODEFAULT if info.default is PydanticUndefined else info.default
            self.fields.append((name, target, default))
            source = f"s.{name}"
            values.append(f"d[{name!r}] = {source if convert is None else convert(source, code)}")
        validated = "i"
        for validator in validators:
            validated = f"{code.name(validator)}({validated})"
        scope = {
            **code.scope,
            "model": model,
            "new": model.__new__,
            "names": set(model.model_fields),
            **_SLOTS,
        }
        # One function per model, as dataclasses does, so that building an instance is a few
        # attribute reads and stores (what BaseModel.model_construct sets, without its loops).
        # Stores into the new instance's dict and the slots' own setters cost a third less than
        # `object.__setattr__` with a dict built first (callgrind: 5,300 against 7,800
        # instructions for a model of two fields).
        # Every field counts as set: which optional ones a record left out is not known here,
        # and nothing reads an event's `model_fields_set`. A frozen model never adds to that set
        # (pydantic refuses the assignment first, and copies copy it), so its instances share one.
        fields_set = "names" if model.model_config.get("frozen") else "names.copy()"
        lines = "".join(f"    {value}\n" for value in values)
        source = (
            "def build(s):\n"
            "    i = new(model)\n"
            "    d = i.__dict__\n"
            f"{lines}"
            f"    set_fields_set(i, {fields_set})\n"
            "    set_extra(i, None)\n"
            "    set_private(i, None)\n"
            f"    return {validated}\n"
        )
        exec(compile(source, f"<lean {model.__name__}>", "exec"), scope)
        self.source = source
        self.build: Callable[[Any], Any] = scope["build"]
        # without cycles (scalars and tuples of Structs), so the collector need not track them
        self.struct = msgspec.defstruct(
            f"{model.__name__}Struct", self.fields, kw_only=True, gc=False
        )


def _plan(model: type[BaseModel]) -> _Plan:
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = _Plan(model)
    return plan


_PLANS: dict[type[BaseModel], _Plan] = {}


class _Envelope:
    """One current event type's envelope: its Struct (tagged by `type`) and its event's plan."""

    def __init__(self, model: type[Event]) -> None:
        self.attributes = _Plan(CloudEventAttributes, constants={"type": model.event_type})
        self.data = _Plan(model)
        self.struct = msgspec.defstruct(
            f"{model.__name__}Envelope",
            [*self.attributes.fields, ("data", self.data.struct, msgspec.NODEFAULT)],
            kw_only=True,
            gc=False,
            tag_field="type",
            tag=model.event_type,
        )

        # what DecodedEvent's __init__ sets, in one step: this is the consumers' hot path
        scope: dict[str, Any] = {
            "attributes": self.attributes.build,
            "data": self.data.build,
            "new": object.__new__,
            "decoded_event": DecodedEvent,
        }
        source = (
            "def decoded(e, value):\n"
            "    i = new(decoded_event)\n"
            "    d = i.__dict__\n"
            "    d['attributes'] = attributes(e)\n"
            "    d['event'] = data(e.data)\n"
            "    d['value'] = value\n"
            "    return i\n"
        )
        exec(compile(source, f"<lean {model.__name__} envelope>", "exec"), scope)
        self.decoded: Callable[[Any, bytes], DecodedEvent] = scope["decoded"]


def _envelopes() -> tuple[dict[str, _Envelope], dict[str, str]]:
    supported: dict[str, _Envelope] = {}
    unsupported: dict[str, str] = {}
    for event_type, model in EVENT_TYPES.items():
        try:
            supported[event_type] = _Envelope(model)
        except Unsupported as why:
            unsupported[event_type] = str(why)
    return supported, unsupported


_BY_TYPE, UNSUPPORTED = _envelopes()
"""`UNSUPPORTED`: the current event types without a fast path, and why (decoded by pydantic)."""
_BY_STRUCT = {envelope.struct: envelope for envelope in _BY_TYPE.values()}
_DECODER = msgspec.json.Decoder(Union[tuple(_BY_STRUCT)])  # noqa: UP007


def decode(value: bytes) -> DecodedEvent | None:
    """The decoded record of a current event type, or None when the fast path does not accept
    it (then pydantic decides, and says why if it is invalid)."""
    try:
        envelope = _DECODER.decode(value)
        return _BY_STRUCT[type(envelope)].decoded(envelope, value)
    except Exception:  # invalid, or valid only to pydantic's laxer rules: it decides
        return None
