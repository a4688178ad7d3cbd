import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from etalase_events.codec import (
    InvalidEventData,
    MalformedRecord,
    UnknownEventType,
    decode,
    encode,
    encode_event,
    without_binary_mode_headers,
)
from etalase_events.envelope import CloudEvent, new_envelope
from etalase_events.models import EVENT_TYPES, VendorVerified
from etalase_events.samples import SAMPLES, SUBJECTS
from etalase_events.topics import ALL_TOPICS

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def record_value(event_type: str = "VendorVerified.v1", **changes: Any) -> dict[str, Any]:
    """A valid record value of `event_type`, as JSON data, with `changes` applied."""
    sample = SAMPLES[event_type]
    value: dict[str, Any] = json.loads(
        encode_event(sample, source="etalase/test", subject=SUBJECTS[event_type], sequence=3).value
    )
    value.update(changes)
    return value


def as_bytes(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_every_event_type_round_trips(event_type: str) -> None:
    event = SAMPLES[event_type]
    envelope = new_envelope(event, source="etalase/test", subject=SUBJECTS[event_type], sequence=7)

    record = encode(envelope, traceparent=TRACEPARENT, tracestate="etalase=1")
    decoded = decode(record.value, record.headers)

    assert decoded.event == event
    # the attributes consumers use come from the one-pass validation, the envelope from a re-parse
    assert decoded.attributes.model_dump(exclude={"data"}) == envelope.model_dump(exclude={"data"})
    assert decoded.envelope == envelope
    assert type(decoded.event) is type(event)
    assert record.topic == type(event).topic
    assert record.key == SUBJECTS[event_type].encode()
    assert record.headers == [
        ("content-type", b"application/cloudevents+json"),
        ("event-type", event_type.encode()),
        ("traceparent", TRACEPARENT.encode()),
        ("tracestate", b"etalase=1"),
    ]


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_a_record_written_the_old_way_with_a_ce_type_header_still_decodes(event_type: str) -> None:
    """Records published before the no-`ce_*` rule are still in the logs: the value decides."""
    record = encode_event(
        SAMPLES[event_type], source="etalase/test", subject=SUBJECTS[event_type], sequence=2
    )
    old_headers = [("content-type", b"application/cloudevents+json"), ("ce_type", b"x")]

    decoded = decode(record.value, old_headers)

    assert decoded.event == SAMPLES[event_type]
    assert decoded.attributes.type == event_type


def test_no_header_is_binary_mode_and_a_copy_drops_the_old_ones() -> None:
    record = encode_event(
        SAMPLES["VendorVerified.v1"], source="s", subject="v", sequence=1, traceparent=TRACEPARENT
    )
    assert [name for name, _ in record.headers if name.lower().startswith("ce_")] == []
    old = [("content-type", b"a"), ("ce_type", b"t"), ("CE_id", b"i"), ("traceparent", b"p")]
    assert without_binary_mode_headers(old) == [("content-type", b"a"), ("traceparent", b"p")]


def test_the_registry_covers_every_topic_with_the_contract_names() -> None:
    assert {model.topic for model in EVENT_TYPES.values()} == set(ALL_TOPICS)
    assert VendorVerified.event_type == "VendorVerified.v1"
    assert VendorVerified.event_name == "VendorVerified"
    assert SAMPLES["VendorVerified.v1"].event_type == "VendorVerified.v1"


def test_the_value_is_a_compact_cloudevent_with_times_in_utc_z() -> None:
    at = datetime(2024, 6, 27, 13, 43, tzinfo=timezone(timedelta(hours=7)))
    record = encode_event(
        VendorVerified(vendor_id="v1", verified_at=at),
        source="etalase/registration",
        subject="v1",
        sequence=1,
        time=at,
        id="e1",
    )
    assert record.value == (
        b'{"specversion":"1.0","id":"e1","source":"etalase/registration","type":"VendorVerified.v1"'
        b',"subject":"v1","time":"2024-06-27T06:43:00Z","sequence":1,'
        b'"datacontenttype":"application/json",'
        b'"data":{"vendor_id":"v1","verified_at":"2024-06-27T06:43:00Z"}}'
    )
    assert ("traceparent", TRACEPARENT.encode()) not in record.headers


def test_new_envelope_defaults_id_and_time() -> None:
    before = datetime.now(UTC)
    first = new_envelope(SAMPLES["VendorVerified.v1"], source="s", subject="v", sequence=1)
    second = new_envelope(SAMPLES["VendorVerified.v1"], source="s", subject="v", sequence=1)
    assert first.id != second.id
    assert before <= first.time <= datetime.now(UTC)


@pytest.mark.parametrize(
    "value",
    [
        None,
        b"",
        b"this is not json",
        b"\xff\xfe",
        b"[1, 2]",
        as_bytes({"type": "VendorVerified.v1", "data": {}}),
        as_bytes(record_value(sequence=0)),
        as_bytes(record_value(specversion="0.3")),
        as_bytes(record_value(data=None)),
        as_bytes(record_value(time="2024-06-27T06:43:00")),
    ],
)
def test_what_is_not_a_cloudevent_is_malformed(value: bytes | None) -> None:
    with pytest.raises(MalformedRecord) as raised:
        decode(value)
    assert raised.value.reason == "malformed_record"


def test_an_unknown_event_type_is_reported_as_such() -> None:
    value = as_bytes(record_value(type="VendorTeleported.v1"))
    with pytest.raises(UnknownEventType, match=r"VendorTeleported\.v1"):
        decode(value, [("event-type", b"VendorTeleported.v1")])


def test_a_newer_version_than_known_is_unknown() -> None:
    with pytest.raises(UnknownEventType):
        decode(as_bytes(record_value(type="VendorVerified.v2")))


def test_missing_data_field_is_invalid_data_naming_the_field() -> None:
    value = record_value()
    del value["data"]["verified_at"]
    with pytest.raises(InvalidEventData, match="verified_at") as raised:
        decode(as_bytes(value))
    assert raised.value.reason == "invalid_event_data"
    assert str(raised.value).startswith("VendorVerified.v1: verified_at")


def test_invalid_nested_field_is_named_with_its_path() -> None:
    value = record_value("OrderPlaced.v1")
    value["data"]["lines"][1]["quantity"] = 0
    with pytest.raises(InvalidEventData, match=r"lines\.1\.quantity"):
        decode(as_bytes(value))


def test_unknown_fields_are_ignored_in_data_and_envelope() -> None:
    value = record_value("ProductListed.v1", traceid="x", partitionkey="y")
    value["data"]["colour"] = "batik merah"
    decoded = decode(as_bytes(value))
    assert decoded.event == SAMPLES["ProductListed.v1"]
    assert "colour" not in decoded.event.model_dump()


def test_naive_datetimes_are_rejected_in_data() -> None:
    value = record_value()
    value["data"]["verified_at"] = "2024-06-27T06:43:00"
    with pytest.raises(InvalidEventData, match="verified_at"):
        decode(as_bytes(value))


def test_naive_datetimes_are_rejected_when_building_events_and_envelopes() -> None:
    naive = datetime(2024, 6, 27, 6, 43)
    with pytest.raises(ValueError, match="timezone"):
        VendorVerified(vendor_id="v", verified_at=naive)
    with pytest.raises(ValueError, match="timezone"):
        new_envelope(SAMPLES["VendorVerified.v1"], source="s", subject="v", sequence=1, time=naive)


def test_other_offsets_are_normalised_to_utc() -> None:
    value = record_value()
    value["data"]["verified_at"] = "2024-06-27T13:43:00+07:00"
    event = decode(as_bytes(value)).event
    assert isinstance(event, VendorVerified)
    assert event.verified_at.tzinfo is UTC
    assert event.verified_at == datetime(2024, 6, 27, 6, 43, tzinfo=UTC)


def test_money_must_be_a_json_integer() -> None:
    for price in (375000.0, "375000", True):
        value = record_value("ProductPriceChanged.v1")
        value["data"]["price_idr"] = price
        with pytest.raises(InvalidEventData, match="price_idr"):
            decode(as_bytes(value))


def test_encoding_an_envelope_of_unknown_type_fails() -> None:
    envelope = CloudEvent(
        id="e", source="s", type="Nope.v1", subject="x", time=datetime.now(UTC), sequence=1, data={}
    )
    with pytest.raises(UnknownEventType):
        encode(envelope)
