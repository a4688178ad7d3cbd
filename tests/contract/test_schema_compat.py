"""The compatibility gate (`python -m etalase_events.compat`, run by `make lint`): a published
`.vN` schema may grow optional fields, nothing else; a new version is always allowed."""

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from etalase_events.compat import breaking_changes, compare_directories, main
from etalase_events.schemas import ROOT, SCHEMA_DIR

Schema = dict[str, Any]
PUBLISHED = {path.name: json.loads(path.read_text()) for path in (ROOT / SCHEMA_DIR).glob("*.json")}
ORDER = PUBLISHED["OrderPlaced.v1.json"]


def changed(schema: Schema, change: Callable[[Schema], None]) -> Schema:
    new = copy.deepcopy(schema)
    change(new)
    return new


def data(schema: Schema) -> Schema:
    fields: Schema = schema["properties"]["data"]
    return fields


def line(schema: Schema) -> Schema:
    fields: Schema = schema["$defs"]["OrderLine"]
    return fields


def test_every_published_schema_is_compatible_with_itself() -> None:
    assert compare_directories(PUBLISHED, copy.deepcopy(PUBLISHED)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: data(s)["properties"].pop("rup_code"), "data.rup_code: removed"),
        (lambda s: line(s)["properties"].pop("quantity"), "data.lines[].quantity: removed"),
        (
            lambda s: line(s)["properties"]["quantity"].update(type="number"),
            "data.lines[].quantity: retyped from integer to number",
        ),
        (
            lambda s: data(s)["properties"]["placed_at"].update(format="date"),
            "data.placed_at: retyped from string:date-time to string:date",
        ),
        (
            lambda s: data(s)["properties"]["rup_code"].update(anyOf=[{"type": "string"}]),
            "data.rup_code: retyped from null|string to string",
        ),
        (
            lambda s: line(s)["required"].append("tkdn_pct"),
            "data.lines[].tkdn_pct: required now, optional before",
        ),
        (
            lambda s: (
                data(s)["properties"].update(po_number={"type": "string"}),
                data(s)["required"].append("po_number"),
            ),
            "data.po_number: required now, new before",
        ),
        (
            lambda s: s["$defs"]["Catalog"]["enum"].remove("lokal"),
            "data.lines[].catalog: no longer allows ['lokal']",
        ),
        (lambda s: s["properties"].pop("sequence"), "sequence: removed"),
    ],
)
def test_an_incompatible_change_to_a_published_version_is_reported(
    change: Callable[[Schema], None], expected: str
) -> None:
    assert breaking_changes(ORDER, changed(ORDER, change)) == [expected]
    problems = compare_directories(
        PUBLISHED, {**PUBLISHED, "OrderPlaced.v1.json": changed(ORDER, change)}
    )
    assert problems == [f"OrderPlaced.v1.json: {expected}"]


@pytest.mark.parametrize(
    "change",
    [
        lambda s: data(s)["properties"].update(
            po_number={"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        lambda s: line(s)["properties"].update(note={"type": "string"}),
        lambda s: s["$defs"]["Catalog"]["enum"].append("internasional"),
        lambda s: data(s)["properties"]["order_id"].update(description="Changed words only."),
    ],
)
def test_an_additive_change_passes(change: Callable[[Schema], None]) -> None:
    assert breaking_changes(ORDER, changed(ORDER, change)) == []


def test_a_new_version_may_change_anything_and_replace_the_old_file() -> None:
    v2 = changed(ORDER, lambda s: data(s)["properties"].pop("rup_code"))
    with_v2 = {**PUBLISHED, "OrderPlaced.v2.json": v2}
    assert compare_directories(PUBLISHED, with_v2) == []
    del with_v2["OrderPlaced.v1.json"]  # the generator keeps only current versions
    assert compare_directories(PUBLISHED, with_v2) == []


def test_an_event_removed_without_a_newer_version_is_reported() -> None:
    without = {name: s for name, s in PUBLISHED.items() if name != "VendorVerified.v1.json"}
    assert compare_directories(PUBLISHED, without) == [
        "VendorVerified.v1.json: removed without a newer version of the event"
    ]


class Repository:
    """A git repository with the published schemas at `libs/events/schemas`, like the project."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events = root / "libs" / "events"
        shutil.copytree(ROOT / SCHEMA_DIR, self.events / SCHEMA_DIR)
        self.git("init", "-q", "-b", "main")
        self.commit("schemas")

    def git(self, *args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=self.root,
            check=True,
            capture_output=True,
        )

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)

    def change(self, name: str, change: Callable[[Schema], None]) -> None:
        path = self.events / SCHEMA_DIR / name
        path.write_text(json.dumps(changed(json.loads(path.read_text()), change)))

    def gate(self) -> int:
        return main(["--root", str(self.events)])


def test_the_gate_judges_a_branch_against_where_it_left_main(tmp_path: Path) -> None:
    repo = Repository(tmp_path)
    assert repo.gate() == 0  # a fresh clone of main compares with itself

    repo.git("checkout", "-q", "-b", "feature")
    repo.change("OrderPlaced.v1.json", lambda s: data(s)["properties"].pop("rup_code"))
    assert repo.gate() == 1  # uncommitted
    repo.commit("drop rup_code")
    assert repo.gate() == 1  # committed on the branch

    repo.git("checkout", "-q", "main")
    repo.git("checkout", "-q", "-b", "other")
    repo.git("checkout", "-q", "main")
    repo.change(
        "OrderPlaced.v1.json", lambda s: data(s)["properties"].update(po={"type": "string"})
    )
    repo.commit("main grows an optional field")
    repo.git("checkout", "-q", "other")
    # main moved on since `other` started: its new field is not `other`'s to keep
    assert repo.gate() == 0


def test_without_a_main_branch_the_gate_compares_with_head(tmp_path: Path) -> None:
    repo = Repository(tmp_path)
    repo.git("branch", "-m", "main", "trunk")
    assert repo.gate() == 0
    repo.change("VendorVerified.v1.json", lambda s: data(s)["required"].append("nothing"))
    assert repo.gate() == 1
