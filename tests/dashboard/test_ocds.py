"""GET /ocds/releases against the OCDS 1.1.5 schemas (JSON Schema draft 4, resolved locally):
the package and every release validate, each release says what its order's events said, and a
release missing a required field is rejected (so the validation is real)."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.dashboard.conftest import Reporting
from tests.dashboard.scenario import FISCAL_YEAR, M
from tests.helpers import bearer

pytestmark = pytest.mark.infra

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / ".." / "shared" / "ocds" / "1.1.5"
"""`../shared/ocds` from the repository root, where the standard's copy lives on these machines;
the copy beside this file (the same files, unchanged) is used where it is absent, as in CI."""
SCHEMAS = SHARED if (SHARED / "release-schema.json").exists() else HERE / "ocds-1.1.5"
RELEASE_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"


def _load(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return schema


def validators() -> tuple[Draft4Validator, Draft4Validator]:
    release = _load("release-schema.json")
    package = _load("release-package-schema.json")
    # the package's $ref names the release schema by URL: served from the local copy
    registry: Registry[Any] = Registry().with_resource(
        RELEASE_URL, Resource.from_contents(release, default_specification=DRAFT4)
    )
    return (
        Draft4Validator(package, registry=registry),
        Draft4Validator(release, registry=registry),
    )


def test_the_copy_in_the_repository_is_the_shared_one() -> None:
    if not (SHARED / "release-schema.json").exists():
        pytest.skip("../shared/ocds is not on this machine; the repository's copy is used")
    for name in ("release-schema.json", "release-package-schema.json"):
        assert (HERE / "ocds-1.1.5" / name).read_bytes() == (SHARED / name).read_bytes()


async def _package(reporting: Reporting, **params: Any) -> dict[str, Any]:
    async with reporting.client() as client:
        response = await client.get(
            "/ocds/releases",
            params={"fiscal_year": FISCAL_YEAR, **params},
            headers=bearer("auditor"),
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_package_and_releases_validate_and_carry_the_orders(reporting: Reporting) -> None:
    s = reporting.scenario
    package = await _package(reporting, region_code=s.province)
    package_validator, release_validator = validators()
    assert not list(package_validator.iter_errors(package))
    for item in package["releases"]:
        assert not list(release_validator.iter_errors(item)), item["ocid"]
    assert package["version"] == "1.1"
    by_ocid = {r["ocid"]: r for r in package["releases"]}
    assert set(by_ocid) == {f"ocds-etalase-{order}" for order in s.orders.values()}

    o1 = by_ocid[f"ocds-etalase-{s.orders['o1']}"]
    parties = {p["id"]: p for p in o1["parties"]}
    assert parties[s.dinkes]["roles"] == ["buyer", "procuringEntity"]
    assert parties[s.dinkes]["name"] == "Dinas Kesehatan"
    supplier = parties[s.vendors["o1"]]
    assert supplier["roles"] == ["supplier"] and supplier["name"] == "CV Batik Pesisir"
    assert supplier["details"]["scale"] == "micro" and supplier["details"]["umkk"] is True
    assert o1["buyer"] == {"id": s.dinkes, "name": "Dinas Kesehatan"}
    (award,) = o1["awards"]
    (contract,) = o1["contracts"]
    assert award["value"] == contract["value"] == {"amount": 180 * M, "currency": "IDR"}
    assert award["suppliers"] == [{"id": s.vendors["o1"], "name": "CV Batik Pesisir"}]
    assert contract["awardID"] == award["id"] and contract["status"] == "terminated"
    assert contract["dateSigned"] == "2025-03-12T03:00:00Z"
    assert contract["period"]["endDate"] == "2025-04-05T03:00:00Z"
    (bast,) = contract["implementation"]["milestones"]
    assert bast["status"] == "met" and bast["dateMet"] == "2025-04-05T03:00:00Z"
    assert [
        (i["id"], i["quantity"], i["unit"]["value"]["amount"], i.get("tkdn"))
        for i in award["items"]
    ] == [
        ("1", 4, 30 * M, {"percentage": 45.0, "bmpPercentage": 10.0}),
        ("2", 1, 60 * M, {"percentage": 20.0, "bmpPercentage": None}),
    ]
    assert "implementation" in o1["tag"]

    o3 = by_ocid[f"ocds-etalase-{s.orders['o3']}"]
    assert o3["contracts"][0]["status"] == "cancelled" and o3["awards"][0]["status"] == "cancelled"
    assert "contractTermination" in o3["tag"]
    o5 = by_ocid[f"ocds-etalase-{s.orders['o5']}"]
    assert o5["contracts"][0]["status"] == "pending" and o5["tag"] == ["award", "contract"]
    o4 = by_ocid[f"ocds-etalase-{s.orders['o4']}"]
    assert {p["id"]: p for p in o4["parties"]}[s.vendors["o4"]]["details"]["scale"] == "medium"


async def test_a_release_without_a_required_field_is_rejected(reporting: Reporting) -> None:
    package = await _package(reporting, region_code=reporting.scenario.province)
    package_validator, release_validator = validators()
    for field in ("ocid", "id", "date", "tag", "initiationType"):
        broken = copy.deepcopy(package["releases"][0])
        del broken[field]
        assert not release_validator.is_valid(broken), field
        wrapped = {**package, "releases": [broken]}
        assert not package_validator.is_valid(wrapped), field
    no_version = {k: v for k, v in package.items() if k != "version"}
    assert not package_validator.is_valid(no_version)


async def test_scope_as_for_compliance_reads(reporting: Reporting) -> None:
    s = reporting.scenario
    async with reporting.client() as client:
        params = {"fiscal_year": FISCAL_YEAR}
        buyer = bearer("buyer", opd=s.disdik, region=s.kota)
        mine = (await client.get("/ocds/releases", params=params, headers=buyer)).json()
        assert [r["ocid"] for r in mine["releases"]] == [f"ocds-etalase-{s.orders['o3']}"]
        admin = bearer("admin", region=s.kabupaten)
        theirs = await client.get(
            "/ocds/releases", params={**params, "region_code": s.kota}, headers=admin
        )
        assert theirs.status_code == 403
        assert (await client.get("/ocds/releases", params=params)).status_code == 401
        vendor = bearer("vendor", vendor_id=s.vendors["o1"])
        assert (
            await client.get("/ocds/releases", params=params, headers=vendor)
        ).status_code == 403
