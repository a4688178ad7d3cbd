"""The alert rules and the dashboard, offline: promtool checks and unit-tests the rules, every
alert links to its runbook section, the dashboard parses and queries only metrics."""

import json
import re
import shutil
import subprocess

import pytest

from tests.ops.observability import (
    DASHBOARD,
    RULE_FILES,
    RULE_TESTS,
    RUNBOOK,
    alerts,
    anchor,
    dashboard_metric_names,
    dashboard_queries,
    metric_names,
    rule_metric_names,
)


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: bash deploy/tools.sh (Debian's prometheus package)")
    return promtool


def test_promtool_checks_the_rule_files() -> None:
    result = subprocess.run(
        [_promtool(), "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_on_its_case_and_stays_silent_on_the_others() -> None:
    result = subprocess.run(
        [_promtool(), "test", "rules", *map(str, RULE_TESTS)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {
        name for path in RULE_TESTS for name in re.findall(r"alertname: (\w+)", path.read_text())
    }
    assert tested == {rule["alert"] for rule in alerts()}


def test_every_alert_has_a_summary_a_description_and_a_runbook_section() -> None:
    headings = {anchor(h) for h in re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), re.M)}
    for rule in alerts():
        annotations = rule["annotations"]
        assert annotations.get("summary") and annotations.get("description"), rule["alert"]
        page, _, section = annotations["runbook_url"].partition("#")
        assert page == "docs/runbook.md", rule["alert"]
        assert section in headings, f"{rule['alert']}: no section #{section} in {RUNBOOK}"


def test_the_dashboard_parses_and_uses_the_provisioned_datasource() -> None:
    document = json.loads(DASHBOARD.read_text())
    assert document["uid"] == "etalase"
    panels = [p for p in document["panels"] if p["type"] != "row"]
    assert panels and all(p["targets"] for p in panels)
    for panel in panels:
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "prometheus"}
    wanted = {
        "etalase_consumer_lag",
        "etalase_outbox_backlog",
        "etalase_outbox_oldest_age_seconds",
        "etalase_dead_letters_total",
        "etalase_http_requests_total",
        "etalase_http_request_duration_seconds_bucket",
        "etalase_consumer_last_applied_timestamp_seconds",
    }
    assert wanted <= dashboard_metric_names()


def test_metric_names_are_read_from_queries_not_their_labels_or_functions() -> None:
    query = (
        'sum by (service, le) (rate(x_seconds_bucket{status=~"5.."}[5m])) / on (service)'
        " group_left max(y_total offset 5m) > 0.5 and time() - z > 300 or $__all_q"
    )
    assert metric_names(query) == {"x_seconds_bucket", "y_total", "z"}
    assert all(q.strip() for q in dashboard_queries())
    assert rule_metric_names()
