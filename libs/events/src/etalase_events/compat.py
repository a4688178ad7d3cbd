"""Compatibility gate: a published `<Event>.vN` schema may only grow.

`python -m etalase_events.compat` compares every JSON Schema in `libs/events/schemas/` with the
same file at a base commit and exits 1 listing the breaking changes: a field removed, a field
retyped (its JSON types or format differ), a field required that was not (an optional field made
required, or a new required field: records already written lack it), an enum value dropped, or
an event's only version removed. A new `.vN` file is free, and so is a new optional field.

The base is where this branch left main: `git merge-base HEAD main` (or `origin/main`), else
HEAD. So a change is judged against what consumers already have: on a branch, against main as
it was when the branch started (changes made on main since then are not this branch's); in a
fresh clone of main, against itself (nothing to report); the working tree's uncommitted
changes always count.
"""

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from etalase_events.schemas import ROOT, SCHEMA_DIR

Schema = dict[str, Any]
_VERSIONED = re.compile(r"^(?P<event>.+)\.v(?P<version>\d+)\.json$")
_BASES = ("main", "origin/main")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """What `new` breaks for records and consumers made with `old` (empty when compatible)."""
    return list(_compare(old, old, new, new, ""))


def _compare(
    old_root: Schema, old: Schema, new_root: Schema, new: Schema, path: str
) -> Iterator[str]:
    old_types, new_types = _types(old_root, old), _types(new_root, new)
    if old_types != new_types:
        yield f"{path or 'value'}: retyped from {_show(old_types)} to {_show(new_types)}"
        return
    old_values, new_values = _enum(old_root, old), _enum(new_root, new)
    if old_values is not None and new_values is not None and old_values - new_values:
        yield f"{path}: no longer allows {sorted(old_values - new_values, key=str)}"
    old_fields, old_required = _fields(old_root, old)
    new_fields, new_required = _fields(new_root, new)
    for name, schema in old_fields.items():
        if name not in new_fields:
            yield f"{_at(path, name)}: removed"
        else:
            yield from _compare(old_root, schema, new_root, new_fields[name], _at(path, name))
    for name in sorted(new_required - old_required):
        before = "optional" if name in old_fields else "new"
        yield f"{_at(path, name)}: required now, {before} before"
    old_items, new_items = _items(old_root, old), _items(new_root, new)
    if old_items is not None and new_items is not None:
        yield from _compare(old_root, old_items, new_root, new_items, f"{path}[]")


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _branches(root: Schema, schema: Schema) -> list[Schema]:
    """The alternatives a value may take, references followed and `anyOf`/`oneOf` flattened."""
    while "$ref" in schema:
        schema = _resolve(root, schema["$ref"])
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return [branch for part in alternatives for branch in _branches(root, part)]
    return [schema]


def _resolve(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are supported: {ref}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    resolved: Schema = target
    return resolved


def _types(root: Schema, schema: Schema) -> frozenset[str]:
    found: set[str] = set()
    for branch in _branches(root, schema):
        declared = branch.get("type")
        if declared is None and ("const" in branch or "enum" in branch):
            declared = sorted({_json_type(v) for v in branch.get("enum", [branch.get("const")])})
        names = declared if isinstance(declared, list) else [declared or "any"]
        fmt = branch.get("format")
        found.update(f"{name}:{fmt}" if fmt else str(name) for name in names)
    return frozenset(found)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}[type(value)]


def _enum(root: Schema, schema: Schema) -> set[Any] | None:
    values: set[Any] = set()
    for branch in _branches(root, schema):
        if "enum" in branch:
            values.update(branch["enum"])
        elif "const" in branch:
            values.add(branch["const"])
        elif branch.get("type") != "null":
            return None  # some alternative takes any value of its type
    return values


def _fields(root: Schema, schema: Schema) -> tuple[dict[str, Schema], set[str]]:
    fields: dict[str, Schema] = {}
    required: set[str] = set()
    for branch in _branches(root, schema):
        fields.update(branch.get("properties", {}))
        required.update(branch.get("required", []))
    return fields, required


def _items(root: Schema, schema: Schema) -> Schema | None:
    for branch in _branches(root, schema):
        if isinstance(branch.get("items"), dict):
            items: Schema = branch["items"]
            return items
    return None


def _show(types: frozenset[str]) -> str:
    return "|".join(sorted(types))


def compare_directories(old: dict[str, Schema], new: dict[str, Schema]) -> list[str]:
    """Breaking changes between two sets of schema files (file name to schema)."""
    problems = []
    latest: dict[str, int] = {}
    for name in new:
        if match := _VERSIONED.match(name):
            event = match["event"]
            latest[event] = max(latest.get(event, 0), int(match["version"]))
    for name, schema in sorted(old.items()):
        if name in new:
            problems += [f"{name}: {change}" for change in breaking_changes(schema, new[name])]
            continue
        match = _VERSIONED.match(name)
        if match is None or latest.get(match["event"], 0) <= int(match["version"]):
            problems.append(f"{name}: removed without a newer version of the event")
    return problems


def _git(root: Path, *args: str) -> str | None:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def default_base(root: Path = ROOT) -> str:
    """The commit this checkout's schemas are judged against (see the module's docstring)."""
    for branch in _BASES:
        base = _git(root, "merge-base", "HEAD", branch)
        if base:
            return base
    head = _git(root, "rev-parse", "HEAD")
    if head is None:
        raise SystemExit("compat: not a git checkout with commits; pass --base")
    return head


def committed_schemas(base: str, root: Path = ROOT) -> dict[str, Schema]:
    """The schema files under `root` as committed at `base`."""
    prefix = _git(root, "rev-parse", "--show-prefix") or ""
    folder = f"{prefix}{SCHEMA_DIR}/"
    listing = _git(root, "ls-tree", "--full-tree", "--name-only", f"{base}:{folder}")
    if listing is None:
        return {}  # the base has no schemas yet: everything is new
    schemas = {}
    for name in listing.splitlines():
        if name.endswith(".json"):
            text = _git(root, "show", f"{base}:{folder}{name}")
            if text is None:
                raise SystemExit(f"compat: cannot read {folder}{name} at {base}")
            schemas[name] = json.loads(text)
    return schemas


def current_schemas(root: Path = ROOT) -> dict[str, Schema]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((root / SCHEMA_DIR).glob("*.json"))
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etalase_events.compat", description=__doc__)
    parser.add_argument("--base", help="commit to compare with (default: merge-base with main)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    base = args.base or default_base(args.root)
    problems = compare_directories(committed_schemas(base, args.root), current_schemas(args.root))
    for problem in problems:
        print(f"incompatible: {problem}", file=sys.stderr)
    if problems:
        print(
            f"compared with {base}: publish the change as a new version (`.v<N+1>` with an"
            " upcaster) instead of changing a published one",
            file=sys.stderr,
        )
        return 1
    print(f"event schemas compatible with {base[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
