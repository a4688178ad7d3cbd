"""JSON Schemas (draft 2020-12) of every event type's record value, and the AsyncAPI document.

`python -m etalase_events.schemas` writes them under `libs/events/`; with `--check` it writes
nothing and exits 1 listing the files that are stale (differ, are missing, or are left over).
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from etalase_events.asyncapi import asyncapi_document
from etalase_events.base import Event
from etalase_events.envelope import envelope_json_schema
from etalase_events.models import EVENT_TYPES
from etalase_events.topics import ALL_TOPICS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ROOT = Path(__file__).resolve().parents[2]
"""`libs/events`, where the generated files are kept."""
SCHEMA_DIR = "schemas"
ASYNCAPI_FILE = "asyncapi/etalase.json"


def event_json_schema(model: type[Event]) -> dict[str, Any]:
    """The schema of a record value (the envelope) carrying an event of `model`."""
    data = model.model_json_schema(ref_template="#/$defs/{model}")
    definitions = data.pop("$defs", None)
    schema = {"$schema": DIALECT, **envelope_json_schema(model.event_type, data)}
    if definitions:
        schema["$defs"] = definitions
    return schema


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated() -> dict[str, str]:
    """Every generated file: its path relative to `ROOT`, and its text."""
    files = {
        f"{SCHEMA_DIR}/{event_type}.json": render(event_json_schema(model))
        for event_type, model in EVENT_TYPES.items()
    }
    files[ASYNCAPI_FILE] = render(
        asyncapi_document(
            service="etalase", title="Etalase events", publishes=ALL_TOPICS, subscribes=()
        )
    )
    return files


def stale(root: Path) -> list[str]:
    """Files under `root` that differ from what would be generated, are missing or left over."""
    expected = generated()
    present = {f"{SCHEMA_DIR}/{path.name}" for path in (root / SCHEMA_DIR).glob("*.json")}
    differing = {
        name
        for name, text in expected.items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    }
    return sorted(differing | (present - expected.keys()))


def write(root: Path) -> list[str]:
    """Bring the files under `root` up to date; the ones changed or removed."""
    expected = generated()
    changed = stale(root)
    for name in changed:
        path = root / name
        if name in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[name], encoding="utf-8")
        else:
            path.unlink()
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etalase_events.schemas", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.root)
        for name in outdated:
            print(f"stale: {args.root / name}", file=sys.stderr)
        if outdated:
            print("run `make schemas` to regenerate them", file=sys.stderr)
        return 1 if outdated else 0
    for name in write(args.root):
        print(f"wrote {args.root / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
