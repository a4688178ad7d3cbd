"""Schemathesis (its engine, as `st run` drives it) against every running service as several
roles: no 5xx, and every answer's status, content type and body as the OpenAPI document says.

Bounded and reproducible: a fixed seed, deterministic generation, a few examples per operation
in the examples, coverage and fuzzing phases, no example database."""

from collections import Counter

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine.events import FatalError, NonFatalError, ScenarioFinished

from tests.e2e.stack import SERVICES, Stack
from tests.helpers import bearer

pytestmark = pytest.mark.infra

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
REGION = "33.75"
BUYER = bearer("buyer", opd=f"{REGION}.1.02.01", region=REGION)
ROLES: dict[str, dict[str, dict[str, str]]] = {
    "registration": {
        "desk": bearer("desk", region=REGION),
        "auditor": bearer("auditor"),
        "vendor": bearer("vendor", vendor_id="V-1"),
    },
    "catalog": {
        "anonymous": {},
        "vendor": bearer("vendor", vendor_id="V-1"),
        "admin": bearer("admin", region=REGION),
    },
    "purchasing": {
        "buyer": BUYER,
        "vendor": bearer("vendor", vendor_id="V-1"),
        "admin": bearer("admin", region=REGION),
    },
    "reporting": {"auditor": bearer("auditor"), "buyer": BUYER},
}
MAX_EXAMPLES = 3


def config(headers: dict[str, str]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 20261201,
            "continue-on-failure": True,
            "cache": {"enabled": False},  # no state carried from one run to the next
            "headers": headers,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "with-security-parameters": False,
                "no-shrink": True,
            },
            "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        }
    )


def failures_of(url: str, headers: dict[str, str]) -> list[tuple[str, str, str]]:
    """Each distinct failure as (check, operation, title); engine errors as ('error', ...)."""
    schema = schemathesis.openapi.from_url(url, config=config(headers))
    found: set[tuple[str, str, str]] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, ScenarioFinished):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        found.add((check.name, event.recorder.label, failure.title))
        elif isinstance(event, NonFatalError):
            found.add(("error", event.label, repr(event.value)[:200]))
        elif isinstance(event, FatalError):
            found.add(("error", "engine", repr(event.exception)[:200]))
    return sorted(found)


@pytest.mark.parametrize("service", SERVICES)
def test_every_role_gets_documented_answers(services: Stack, service: str) -> None:
    found = [
        (role, *failure)
        for role, headers in ROLES[service].items()
        for failure in failures_of(services.urls[service] + "/openapi.json", headers)
    ]
    by_check = Counter(failure[1] for failure in found)
    assert not found, f"{service}: {dict(by_check)}\n" + "\n".join(map(str, found))
