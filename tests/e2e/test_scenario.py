"""`python -m demo`, small, against the running stack: what it prints is what the reporting API
answers, and both equal the scenario's own computation from what it did."""

import asyncio
import json
import re
import sys
import uuid
from asyncio.subprocess import PIPE
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from demo.catalogue import CATEGORIES
from demo.places import REGIONS
from tests.e2e.stack import ROOT, Stack
from tests.e2e.support import retry, verified_vendor
from tests.helpers import bearer

pytestmark = pytest.mark.infra

FIGURES = ("pagu_idr", "placed", "realized", "shares", "targets", "flags")


def _rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _printed_cells(row: dict[str, Any]) -> list[str]:
    """The table cells the demo prints for an API row, as a person reads them."""
    shares = []
    for share in ("umkk_of_pagu", "ecatalog_of_pagu", "pdn_of_spend", "local_of_spend"):
        value = row["shares"][share]
        status = row["targets"].get(share, {}).get("status")
        mark = {"met": " ✓", "not_met": " ✗"}.get(status, "")
        shares.append("-" if value is None else f"{value:.2f}{mark}")
    return [
        _rupiah(row["pagu_idr"]),
        _rupiah(row["placed"]["total_idr"]),
        _rupiah(row["realized"]["total_idr"]),
        *shares,
        str(row["flags"]["reserved_package_violations"]),
        str(row["flags"]["pdn_substitution_lines"]),
    ]


async def _crowd_every_category(stack: Stack, *, per_category: int = 5) -> None:
    """Other sellers' PDN-wajib products, cheaper than any of the demo's and local to each of its
    regions, so that every category's best alternatives are none of the demo's (the shared log
    fills up like this as runs and other clients accumulate)."""
    async with httpx.AsyncClient(timeout=30) as http:
        for region in REGIONS:
            vendor_id = await verified_vendor(http, stack, region=region.code, name="CV Murah Jaya")
            token = bearer("vendor", vendor_id=vendor_id)
            url = f"{stack.urls['catalog']}/products"
            for category in CATEGORIES:
                for n in range(per_category):
                    product = {
                        "vendor_id": vendor_id, "catalog": "lokal",
                        "catalog_region_code": region.code, "category": category.name,
                        "name": f"{category.items[0]} Murah {n}", "unit": "buah",
                        "price_idr": 100 + n, "domestic": True, "tkdn_pct": 60, "bmp_pct": 15,
                        "tkdn_certificate_no": "1234/SJ-IND.8/TKDN/3/2026",
                    }  # fmt: skip
                    listed = await retry(partial(http.post, url, json=product, headers=token))
                    assert listed.status_code == 201, listed.text


async def test_the_demo_prints_the_api_figures_and_they_equal_its_own(
    stack: Stack, tmp_path: Path
) -> None:
    await _crowd_every_category(stack)
    tag = "T" + uuid.uuid4().hex[:6]
    out = tmp_path / "figures.json"
    command = [
        sys.executable, "-m", "demo", "--seed", "5", "--vendors", "40", "--products", "150",
        "--orders", "60", "--tag", tag, "--json-out", str(out), "--zipkin-url", "http://127.0.0.1:9",
    ]  # fmt: skip
    demo = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=stack.env(), stdout=PIPE, stderr=PIPE
    )
    stdout, stderr = await asyncio.wait_for(demo.communicate(), timeout=900)
    printed = stdout.decode()
    assert demo.returncode == 0, printed[-6000:] + stderr.decode()[-3000:]
    assert "Independent computation vs reporting API: MATCH" in printed
    document = json.loads(out.read_text())
    codes: list[str] = document["opd_codes"]
    assert len(codes) == 13 and all(code.endswith("." + tag) for code in codes)
    assert sum(document["orders"].values()) >= 60
    assert all(r["expected"] == r["got"] for r in document["rejections"]), document["rejections"]
    assert {r["got"] for r in document["rejections"]} >= {403, 409, 422}
    # buyers who checked first and took a PDN-wajib alternative: no substitution line left, even
    # with the check's best alternatives all other sellers' (the demo knows only its own facts)
    matches = document["p3dn_matches"]
    assert matches and all(m["substitution_before"] for m in matches)
    assert not any(m["substitution_after"] for m in matches)
    assert not any(m["named"] for m in matches)
    assert "P3DN matching (POST /orders/check before ordering)" in printed

    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(
            f"{stack.urls['reporting']}/compliance/opd",
            params={"fiscal_year": document["fiscal_year"]},
            headers=bearer("auditor"),
        )
    assert response.status_code == 200
    api = {row["opd_code"]: row for row in response.json()["items"]}

    lines = {line.split()[0]: line for line in printed.splitlines() if line.split()[:1]}
    for code in codes:
        row, ours = api[code], document["ours"][code]
        # the scenario's own computation equals the reporting API, figure by figure
        assert {k: ours[k] for k in FIGURES} == {k: row[k] for k in FIGURES}, code
        # and the table printed is the API's figures
        printed_cells = re.split(r"\s{2,}", lines[code].strip())
        assert printed_cells[-9:] == _printed_cells(row), lines[code]
    completed = sum(api[code]["realized"]["orders"] for code in codes)
    assert completed == document["orders"]["completed"] > 0
    assert any(api[code]["flags"]["pdn_substitution_lines"] for code in codes)
