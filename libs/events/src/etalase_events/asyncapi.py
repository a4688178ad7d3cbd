"""AsyncAPI 3.0 documents of the event contract, generated from the models.

Each service serves its own at `/asyncapi`; `libs/events/asyncapi/etalase.json` has every topic.
"""

from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from pydantic.json_schema import models_json_schema

from etalase_events.base import Event
from etalase_events.codec import CONTENT_TYPE, EVENT_TYPE_HEADER
from etalase_events.envelope import envelope_json_schema
from etalase_events.models import EVENT_TYPES
from etalase_events.topics import ALL_TOPICS, BUDGETS, ORDERS, PARTITIONS, PRODUCTS, VENDORS, dlq

_KAFKA_BINDING = "0.5.0"
_KEYS = {
    VENDORS: "vendor_id",
    PRODUCTS: "product_id",
    BUDGETS: "`<fiscal_year>:<opd_code>`",
    ORDERS: "order_id",
}
_DLQ_HEADERS = {
    "dlq_reason": "Why the consumer could not process the record.",
    "dlq_consumer": "The consumer that gave up on it.",
    "dlq_original_topic": "Where the record was read.",
    "dlq_original_partition": "Partition it was read from (decimal).",
    "dlq_original_offset": "Offset it was read at (decimal).",
}
_NOT_BINARY_MODE = {
    "not": {"pattern": "^[cC][eE]_"},
    "description": "No `ce_*` header: the CloudEvents Kafka binding would read it as binary mode.",
}
_TRACE_HEADERS = {
    "traceparent": {
        "type": "string",
        "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        "description": "W3C trace context of the request that caused the event.",
    },
    "tracestate": {"type": "string", "description": "W3C trace state."},
}


def asyncapi_document(
    *, service: str, title: str, publishes: Sequence[str], subscribes: Sequence[str]
) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of a service publishing and consuming the given topics.

    Every event of a topic is listed; a consumer also publishes to the topic's dead-letter topic.
    """
    unknown = sorted(set(publishes) - set(ALL_TOPICS) | set(subscribes) - set(ALL_TOPICS))
    if unknown:
        raise ValueError(f"not topics of the contract: {unknown}")
    topics = [topic for topic in ALL_TOPICS if topic in publishes or topic in subscribes]
    models = [model for model in EVENT_TYPES.values() if model.topic in topics]
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/components/schemas/{model}"
    )
    messages = {model.event_type: _message(model) for model in models}
    channels = {_channel_id(topic): _channel(topic, models) for topic in topics}
    operations = {}
    for topic in ALL_TOPICS:
        if topic in publishes:
            operations[f"send_{_channel_id(topic)}"] = _operation(
                "send", _channel_id(topic), channels, f"{service} publishes events to {topic}."
            )
        if topic in subscribes:
            operations[f"receive_{_channel_id(topic)}"] = _operation(
                "receive", _channel_id(topic), channels, f"{service} consumes {topic}."
            )
            dlq_channel = _channel_id(topic) + "_dlq"
            channels[dlq_channel] = _dlq_channel(topic)
            operations[f"send_{dlq_channel}"] = _operation(
                "send", dlq_channel, channels, f"{service} dead-letters what it cannot process."
            )
    if subscribes:
        messages["DeadLetter"] = _dead_letter()
    return {
        "asyncapi": "3.0.0",
        "id": f"urn:etalase:{service}",
        "info": {
            "title": title,
            "version": version("etalase-events"),
            "description": (
                "Events of Etalase on Kafka: CloudEvents 1.0 in structured JSON mode, keyed by"
                " the aggregate id (`subject`). Delivery is at least once; deduplicate by `id`"
                " and `sequence`. Ignore fields you do not know."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "variables": {"bootstrap": {"default": "localhost:9092"}},
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": definitions.get("$defs", {}), "messages": messages},
    }


def _channel_id(topic: str) -> str:
    return topic.rsplit(".", 1)[-1]


def _channel(topic: str, models: Sequence[type[Event]]) -> dict[str, Any]:
    return {
        "address": topic,
        "description": f"Keyed by {_KEYS[topic]}.",
        "messages": {
            model.event_type: {"$ref": f"#/components/messages/{model.event_type}"}
            for model in models
            if model.topic == topic
        },
        "bindings": {
            "kafka": {"topic": topic, "partitions": PARTITIONS, "bindingVersion": _KAFKA_BINDING}
        },
    }


def _dlq_channel(topic: str) -> dict[str, Any]:
    return {
        "address": dlq(topic),
        "description": f"Records of {topic} a consumer could not process, key and value as read.",
        "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        "bindings": {"kafka": {"topic": dlq(topic), "bindingVersion": _KAFKA_BINDING}},
    }


def _operation(
    action: str, channel_id: str, channels: dict[str, Any], summary: str
) -> dict[str, Any]:
    return {
        "action": action,
        "summary": summary,
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "messages": [
            {"$ref": f"#/channels/{channel_id}/messages/{name}"}
            for name in channels[channel_id]["messages"]
        ],
    }


def _message(model: type[Event]) -> dict[str, Any]:
    return {
        "name": model.event_type,
        "title": model.event_type,
        "summary": " ".join((model.__doc__ or "").split()),
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {
                "content-type": {"type": "string", "const": CONTENT_TYPE},
                EVENT_TYPE_HEADER: {
                    "type": "string",
                    "const": model.event_type,
                    "description": "The CloudEvents `type`, to route or filter before parsing.",
                },
                **_TRACE_HEADERS,
            },
            "required": ["content-type", EVENT_TYPE_HEADER],
            "propertyNames": _NOT_BINARY_MODE,
        },
        "payload": envelope_json_schema(
            model.event_type, {"$ref": f"#/components/schemas/{model.__name__}"}
        ),
        "correlationId": {"location": "$message.header#/traceparent"},
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": _KEYS[model.topic]},
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


def _dead_letter() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "Dead letter",
        "summary": (
            "A record a consumer could not process, with why and where it was read; its own"
            " headers are kept, less any `ce_*` one."
        ),
        "headers": {
            "type": "object",
            "properties": {
                name: {"type": "string", "description": text} for name, text in _DLQ_HEADERS.items()
            },
            "required": list(_DLQ_HEADERS),
            "propertyNames": _NOT_BINARY_MODE,
        },
        "payload": {"description": "The original record's value, unchanged (possibly not JSON)."},
    }
