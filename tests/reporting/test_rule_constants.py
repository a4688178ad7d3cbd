"""A P3DN rule changed in its one place changes every figure that depends on it, through HTTP.

The UMK-K target (`etalase_reporting.domain.UMKK_TARGET`) decides the target shown and its status
in /compliance/opd and in its CSV export alike; the TKDN threshold shared with purchasing
(`etalase_events.compliance.TKDN_MINIMUM`) decides the TKDN >= 25 and PDN-wajib spend of the
compliance figures (classified when an order is projected), of the CSV export and the catalogue
counts of /stats/catalog (counted when they are read). Each constant is patched alone, so a copy
of it anywhere else would leave one of the readings at the default.
"""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from etalase_events import compliance
from etalase_events.models import Catalog, LegalForm, ProductListed, Scale
from etalase_reporting import domain

from tests.helpers import Infra, bearer, unique
from tests.reporting.support import (
    budget,
    completed,
    fresh_scope,
    line,
    placed,
    produce,
    sent,
    wait_applied,
)

pytestmark = pytest.mark.infra

AT = datetime(2041, 3, 2, 3, 0, tzinfo=UTC)
M = 1_000_000
AUDITOR = bearer("auditor")


async def _project(client: httpx.AsyncClient, kafka: str) -> tuple[int, str, str]:
    """In a fresh scope: an OPD with a pagu of 100 M, one completed 20 M order from a UMK-K
    vendor whose one line has TKDN 30 and BMP 15, and one listed product with the same TKDN and
    BMP; returns the fiscal year, the region and the OPD."""
    fiscal_year, province = await fresh_scope(client, kafka)
    region, opd = f"{province}.71", f"{province}.71.1.01.01"
    order_id = unique("rc-")
    product = ProductListed(
        product_id=unique("rc-p-"),
        vendor_id=unique("rc-v-"),
        catalog=Catalog.NASIONAL,
        catalog_region_code=None,
        category="alat tulis",
        name="Pensil",
        unit="buah",
        price_idr=10_000,
        domestic=True,
        tkdn_pct=Decimal(30),
        bmp_pct=Decimal(15),
        tkdn_certificate_no="TKDN-1",
        vendor_scale=Scale.MIKRO,
        vendor_legal_form=LegalForm.CV,
        vendor_region_code=region,
        listed_at=AT,
    )
    events = [
        budget(fiscal_year, opd, region, 100 * M, AT),
        placed(order_id, fiscal_year, opd, region, [line(1, 20 * M, tkdn="30", bmp="15")], AT),
        completed(order_id, AT),
        sent(product, product.product_id, 1),
    ]
    await wait_applied(client, await produce(kafka, events))
    return fiscal_year, region, opd


async def _readings(client: httpx.AsyncClient, fiscal_year: int, region: str) -> dict[str, Any]:
    params: dict[str, str | int] = {"fiscal_year": fiscal_year, "region_code": region}
    report = await client.get("/compliance/opd", params=params, headers=AUDITOR)
    export = await client.get("/compliance/opd.csv", params=params, headers=AUDITOR)
    stats = await client.get("/stats/catalog", params={"region_code": region}, headers=AUDITOR)
    for response in (report, export, stats):
        assert response.status_code == 200, response.text
    (item,) = report.json()["items"]
    (row,) = csv.DictReader(io.StringIO(export.text))
    (counts,) = stats.json()["items"]
    return {"json": item, "csv": row, "stats": counts}


@pytest.fixture(scope="module")
async def patched(infra: Infra, reporting: httpx.AsyncClient) -> dict[str, Any]:
    """The readings of the scenario projected and read with the two constants changed; the
    patch ends before the tests run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(domain, "UMKK_TARGET", Decimal(10))
        patch.setattr(compliance, "TKDN_MINIMUM", Decimal(50))
        fiscal_year, region, _ = await _project(reporting, infra.kafka)
        return await _readings(reporting, fiscal_year, region)


async def test_the_umkk_target_decides_the_report_and_its_export(patched: dict[str, Any]) -> None:
    # 20 M of 100 M: 20 % meets a 10 % target, not the 40 % one
    assert patched["json"]["shares"]["umkk_of_pagu"] == 20.0
    assert patched["json"]["targets"]["umkk_of_pagu"] == {"target": 10.0, "status": "met"}
    assert patched["csv"]["umkk_of_pagu_target"] == "10"
    assert patched["csv"]["umkk_of_pagu_status"] == "met"


async def test_the_tkdn_threshold_decides_the_figures_the_export_and_the_counts(
    patched: dict[str, Any],
) -> None:
    # TKDN 30 is under a threshold of 50: neither TKDN >= "25" nor PDN-wajib, anywhere
    realized = patched["json"]["realized"]
    assert (realized["total_idr"], realized["tkdn25_idr"], realized["pdn_wajib_idr"]) == (
        20 * M,
        0,
        0,
    )
    assert (patched["csv"]["realized_tkdn25_idr"], patched["csv"]["realized_pdn_wajib_idr"]) == (
        "0",
        "0",
    )
    counts = patched["stats"]
    assert (counts["tayang"], counts["tayang_tkdn25"], counts["tayang_pdn_wajib"]) == (1, 0, 0)


async def test_with_the_defaults_the_same_events_meet_tkdn_and_miss_the_umkk_target(
    infra: Infra, reporting: httpx.AsyncClient, patched: dict[str, Any]
) -> None:
    """The control: the patched readings differ from these only by the patched constants."""
    fiscal_year, region, _ = await _project(reporting, infra.kafka)
    readings = await _readings(reporting, fiscal_year, region)
    assert readings["json"]["targets"]["umkk_of_pagu"] == {"target": 40.0, "status": "not_met"}
    assert readings["csv"]["umkk_of_pagu_status"] == "not_met"
    assert readings["json"]["realized"]["tkdn25_idr"] == 20 * M
    assert readings["json"]["realized"]["pdn_wajib_idr"] == 20 * M
    assert readings["csv"]["realized_pdn_wajib_idr"] == str(20 * M)
    assert (readings["stats"]["tayang_tkdn25"], readings["stats"]["tayang_pdn_wajib"]) == (1, 1)
