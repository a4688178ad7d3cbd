"""The Etalase event contract (shared/spec/events.md), as code.

- `topics`: topic names, `dlq(topic)`.
- `models`: one pydantic model per event type, `EVENT_TYPES` ("Name.vN" -> model).
- `envelope`: the CloudEvents envelope, `new_envelope`.
- `codec`: Kafka records, `encode` / `decode` and the decode errors.
- `upcasting`: older event versions to current ones, applied by `decode`.
- `schemas`, `asyncapi`: generated JSON Schemas and AsyncAPI documents.
- `samples`: one valid instance of every event type.
- `compliance`: the P3DN rules (PDN-wajib, UMK-K, reserved package, classes of spend, shares) as
  Python predicates and SQL fragments, shared by catalog, purchasing and reporting.
"""
