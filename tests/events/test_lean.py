"""The msgspec fast path accepts nothing pydantic refuses and decodes what it accepts to the same
events; whatever it leaves, pydantic decides."""

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from etalase_events import codec, lean
from etalase_events.codec import encode_event
from etalase_events.models import EVENT_TYPES
from etalase_events.samples import SAMPLES, SUBJECTS

from bench.projection import _events

# values that break one rule or another of most fields, and some that only pydantic's lax mode
# accepts ("40" for an int, 1.0 for a strict one, a space for the datetime's T...)
_REPLACEMENTS: list[Any] = [
    None,
    "",
    " ",
    "x",
    "40",
    40,
    40.0,
    0,
    -1,
    1.5,
    True,
    "true",
    [],
    {},
    "2024-06-27",
    "2024-06-27 06:43:00Z",
    "2024-06-27T06:43:00",
    "2024-06-27T13:43:00+07:00",
    "1234567890123\n",
    "33.75\n",
    "33.75",
    "100.001",
    100.001,
    "NaN",
    1e400,
    2**70,
    [None],
]


def _pydantic(value: bytes) -> tuple[Any, Any] | None:
    try:
        current = codec._CURRENT_ENVELOPES.validate_json(value)
    except Exception:
        return None
    return current, current.data


def _mutations(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """`document` with one field (envelope, data or a line's) removed or replaced."""

    def places(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        if isinstance(node, dict):
            for key, child in node.items():
                yield (*path, key)
                yield from places(child, (*path, key))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                yield from places(child, (*path, index))

    for path in places(document, ()):
        if path[-1] == "type":
            continue  # another type is another event: covered by the tag
        for replacement in [*_REPLACEMENTS, _DELETE]:
            changed = copy.deepcopy(document)
            parent = changed
            for part in path[:-1]:
                parent = parent[part]
            if replacement is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield changed


_DELETE = object()


def _documents() -> Iterator[dict[str, Any]]:
    for event_type, sample in SAMPLES.items():
        value = encode_event(sample, source="t", subject=SUBJECTS[event_type], sequence=3).value
        yield json.loads(value)


def test_every_current_event_type_has_a_fast_path() -> None:
    assert lean.UNSUPPORTED == {}
    assert set(lean._BY_TYPE) == set(EVENT_TYPES)


def test_the_stream_mix_decodes_to_the_same_events_as_with_pydantic() -> None:
    for subject, event, sequence in _events(3000):
        value = encode_event(event, source="t", subject=subject, sequence=sequence).value
        fast = lean.decode(value)
        assert fast is not None
        attributes, decoded = fast.attributes, fast.event
        expected_attributes, expected = _pydantic(value)  # type: ignore[misc]
        assert decoded == expected == event
        assert type(decoded) is type(event)
        assert fast.value is value
        assert attributes.model_dump() == {
            name: getattr(expected_attributes, name) for name in attributes.model_dump()
        }


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_nothing_pydantic_refuses_is_accepted_and_the_rest_decodes_alike(event_type: str) -> None:
    (document,) = [d for d in _documents() if d["type"] == event_type]
    checked = 0
    for mutated in _mutations(document):
        value = json.dumps(mutated).encode()
        fast, slow = lean.decode(value), _pydantic(value)
        if slow is None:
            assert fast is None, f"accepted what pydantic refuses: {mutated}"
        elif fast is not None:
            assert fast.event == slow[1] and fast.attributes.time == slow[0].time
            assert fast.attributes.sequence == slow[0].sequence
        checked += 1
    assert checked > 50


def test_what_only_pydantic_accepts_still_decodes_through_it() -> None:
    (document,) = [d for d in _documents() if d["type"] == "OrderPlaced.v1"]
    document["data"]["lines"][0]["quantity"] = str(document["data"]["lines"][0]["quantity"])
    value = json.dumps(document).encode()
    assert lean.decode(value) is None
    assert codec.decode(value).event == SAMPLES["OrderPlaced.v1"]


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_every_sample_is_built_as_pydantic_builds_it(event_type: str) -> None:
    """Same values, same dumps, same private state: nothing tells the two instances apart."""
    value = encode_event(
        SAMPLES[event_type], source="t", subject=SUBJECTS[event_type], sequence=3
    ).value
    fast = lean.decode(value)
    assert fast is not None
    slow = codec._CURRENT_ENVELOPES.validate_json(value)
    pairs = [(fast.event, slow.data), (fast.attributes, slow)]
    pairs += [
        (a, b)
        for a, b in zip(
            getattr(fast.event, "lines", ()), getattr(slow.data, "lines", ()), strict=True
        )
    ]
    for built, validated in pairs:
        names = type(built).model_fields
        assert {n: getattr(built, n) for n in names} == {n: getattr(validated, n) for n in names}
        assert built.model_dump_json() == validated.model_dump_json(include=set(names))
        assert built.__pydantic_extra__ == validated.__pydantic_extra__
        assert built.__pydantic_private__ == validated.__pydantic_private__
    assert fast.event == slow.data and hash(fast.event) == hash(slow.data)
    assert codec.decode(value).event == SAMPLES[event_type]
