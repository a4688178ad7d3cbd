import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from etalase_events import schemas
from etalase_events.asyncapi import asyncapi_document
from etalase_events.codec import encode_event
from etalase_events.samples import SAMPLES, SUBJECTS
from etalase_events.topics import BUDGETS, ORDERS, PRODUCTS, VENDORS
from jsonschema import Draft7Validator, Draft202012Validator


def test_generated_files_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert schemas.main(["--check"]) == 0, capsys.readouterr().err


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    for folder in ("schemas", "asyncapi"):
        shutil.copytree(schemas.ROOT / folder, tmp_path / folder)
    return tmp_path


def test_check_fails_on_changed_missing_and_left_over_files(
    copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert schemas.main(["--check", "--root", str(copy)]) == 0
    changed = copy / "schemas" / "OrderPlaced.v1.json"
    changed.write_text(changed.read_text().replace('"lines"', '"items"'))
    (copy / "asyncapi" / "etalase.json").unlink()
    (copy / "schemas" / "OrderShipped.v1.json").write_text("{}\n")

    assert schemas.main(["--check", "--root", str(copy)]) == 1
    reported = capsys.readouterr().err
    for name in ("OrderPlaced.v1.json", "etalase.json", "OrderShipped.v1.json"):
        assert name in reported
    assert "VendorVerified" not in reported

    assert schemas.main(["--root", str(copy)]) == 0
    assert schemas.main(["--check", "--root", str(copy)]) == 0
    assert not (copy / "schemas" / "OrderShipped.v1.json").exists()


def _value(event_type: str) -> Any:
    record = encode_event(
        SAMPLES[event_type], source="etalase/test", subject=SUBJECTS[event_type], sequence=1
    )
    return json.loads(record.value)


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_records_match_their_published_json_schema(event_type: str) -> None:
    schema = json.loads((schemas.ROOT / "schemas" / f"{event_type}.json").read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert list(validator.iter_errors(_value(event_type))) == []
    other = next(name for name in SAMPLES if name != event_type)
    assert not validator.is_valid(_value(other))


@pytest.fixture(scope="module")
def everything() -> Any:
    return json.loads((schemas.ROOT / "asyncapi" / "etalase.json").read_text())


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_records_match_their_asyncapi_message(event_type: str, everything: dict[str, Any]) -> None:
    # AsyncAPI schemas are JSON Schema draft 7; refs point into the whole document.
    message = {**everything, "$ref": f"#/components/messages/{event_type}/payload"}
    assert list(Draft7Validator(message).iter_errors(_value(event_type))) == []


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/")
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_a_service_document_lists_its_topics_and_dead_letters() -> None:
    document = asyncapi_document(
        service="purchasing",
        title="Etalase purchasing",
        publishes=[BUDGETS, ORDERS],
        subscribes=[VENDORS, PRODUCTS],
    )
    assert document["asyncapi"] == "3.0.0"
    assert {c["address"] for c in document["channels"].values()} == {
        BUDGETS,
        ORDERS,
        VENDORS,
        PRODUCTS,
        VENDORS + ".dlq",
        PRODUCTS + ".dlq",
    }
    actions = {name: op["action"] for name, op in document["operations"].items()}
    assert actions == {
        "receive_vendors": "receive",
        "send_vendors_dlq": "send",
        "receive_products": "receive",
        "send_products_dlq": "send",
        "send_budgets": "send",
        "send_orders": "send",
    }
    assert "OrderPlaced.v1" in document["channels"]["orders"]["messages"]
    headers = document["components"]["messages"]["OrderPlaced.v1"]["headers"]["properties"]
    assert {"content-type", "event-type", "traceparent", "tracestate"} == set(headers)
    for ref in _refs(document):
        assert _resolve(document, ref) is not None, ref


def test_unknown_topics_are_refused() -> None:
    with pytest.raises(ValueError, match="nowhere"):
        asyncapi_document(service="x", title="x", publishes=["nowhere"], subscribes=())


def test_every_reference_in_the_published_document_resolves(everything: dict[str, Any]) -> None:
    refs = _refs(everything)
    assert "#/components/schemas/OrderLine" in refs
    for ref in refs:
        assert _resolve(everything, ref) is not None, ref
