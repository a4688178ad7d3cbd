"""The alert rules and the dashboard as data, and the metric names their PromQL queries name."""

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy/observability"
RULE_FILES = sorted((OBSERVABILITY / "rules").glob("*.yml"))
RULE_TESTS = sorted((OBSERVABILITY / "tests").glob("*.yml"))
DASHBOARD = OBSERVABILITY / "grafana/etalase.json"
RUNBOOK = ROOT / "docs/runbook.md"

# What Prometheus itself makes, not the services.
GENERATED = {"up"}
_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left"}
_KEYWORDS |= {"group_right", "offset", "bool", "inf", "nan", "le", "atan2"}


def alerts() -> list[dict[str, Any]]:
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [rule for rule in group["rules"] if "alert" in rule]
    return found


def dashboard_queries() -> list[str]:
    document = json.loads(DASHBOARD.read_text())
    queries = [
        target["expr"] for panel in document["panels"] for target in panel.get("targets", [])
    ]
    for variable in document["templating"]["list"]:
        query = variable.get("query")
        queries.append(query["query"] if isinstance(query, dict) else str(query))
    return queries


def metric_names(query: str) -> set[str]:
    """The metric names a PromQL (or Grafana label_values) query selects: identifiers that are
    not functions, keywords, label names (inside {} or after by/on/...), durations or variables."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', query)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\$\w+", "", text)  # Grafana variables
    text = re.sub(r"label_values\(([^,()]+),[^)]*\)", r"\1", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if following.startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() in _KEYWORDS:
            continue
        before = text[: match.start()]
        if re.search(r"\d$", before):
            continue  # a unit of a number (5m)
        names.add(match.group())
    return names


def rule_metric_names() -> set[str]:
    return {name for rule in alerts() for name in metric_names(rule["expr"])}


def dashboard_metric_names() -> set[str]:
    return {name for query in dashboard_queries() for name in metric_names(query)}


def exported_series(families: Any) -> set[str]:
    """The series names a scrape of these families can hold (a histogram's _bucket/_sum/_count,
    a counter's _total), whether or not a labelled family has samples yet."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gauge": ("",),
        "info": ("_info",),
        "untyped": ("",),
    }
    names = set()
    for family in families:
        names |= {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")
