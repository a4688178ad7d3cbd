"""The provenance endpoint shows, for each flagged line of an order, the PDN-wajib products the
buyer passed over, as OrderPlaced carried them on the real orders topic; a record written before
the field existed still decodes and shows none."""

import dataclasses
import json
from datetime import UTC, datetime

import httpx
import pytest
from etalase_events.codec import decode
from etalase_events.models import OrderLine, OrderPlaced

from tests.helpers import Infra, bearer, unique
from tests.reporting.support import fresh_scope, line, placed, produce, wait_applied

pytestmark = pytest.mark.infra

AUDITOR = bearer("auditor")


def _flagged(number: int, subtotal: int, *alternatives: str) -> OrderLine:
    return line(number, subtotal, alternative=True).model_copy(
        update={"pdn_alternatives": alternatives}
    )


async def test_provenance_shows_what_each_flagged_line_passed_over(
    infra: Infra, reporting: httpx.AsyncClient
) -> None:
    fiscal_year, province = await fresh_scope(reporting, infra.kafka)
    new_id, old_id = unique("p3dn-new-"), unique("p3dn-old-")  # the log outlives runs
    region, opd = f"{province}.71", f"{province}.71.1.01"
    at = datetime(fiscal_year, 2, 3, 4, 0, tzinfo=UTC)
    with_alternatives = placed(
        new_id,
        fiscal_year,
        opd,
        region,
        [_flagged(1, 500, "alt-1", "alt-2"), line(2, 300, tkdn="40"), _flagged(3, 200, "alt-3")],
        at,
    )
    before_the_field = placed(
        old_id, fiscal_year, opd, region, [line(1, 100, alternative=True)], at
    )
    old = before_the_field.record()
    value = json.loads(old.value)
    for item in value["data"]["lines"]:
        del item["pdn_alternatives"]
    old = dataclasses.replace(old, value=json.dumps(value).encode())
    decoded = decode(old.value, old.headers)
    assert isinstance(decoded.event, OrderPlaced)
    assert decoded.event.lines[0].pdn_alternatives == ()
    new = with_alternatives.record()
    assert decode(new.value, new.headers).event == with_alternatives.event

    await wait_applied(reporting, await produce(infra.kafka, [new, old]))

    response = await reporting.get(f"/compliance/opd/{fiscal_year}/{opd}/orders", headers=AUDITOR)
    assert response.status_code == 200, response.text
    items = {item["order_id"]: item for item in response.json()["items"]}
    assert items[new_id]["flagged_lines"] == [
        {
            "line_no": 1,
            "product_id": "p-1",
            "name": "Produk 1",
            "category": "alat tulis",
            "subtotal_idr": 500,
            "pdn_alternatives": ["alt-1", "alt-2"],
        },
        {
            "line_no": 3,
            "product_id": "p-3",
            "name": "Produk 3",
            "category": "alat tulis",
            "subtotal_idr": 200,
            "pdn_alternatives": ["alt-3"],
        },
    ]
    assert [line["pdn_alternatives"] for line in items[old_id]["flagged_lines"]] == [[]]
    figures = await reporting.get(
        "/compliance/opd",
        params={"fiscal_year": fiscal_year, "region_code": region},
        headers=AUDITOR,
    )
    (opd_figures,) = figures.json()["items"]
    assert opd_figures["flags"]["pdn_substitution_lines"] == 3
