"""The OCDS 1.1 export: each e-purchasing order is one contracting process (docs/ocds.md).

One release per order, describing it as it stands: the buyer OPD and the supplier as parties, the
award (placing the order is awarding it to the catalogue vendor), the contract (accepted = active,
completed = terminated with its BAST as a met delivery milestone, cancelled = cancelled) and the
items from the order's lines. Vendor scale goes in the supplier's `details.scale` (OCDS partyScale
codes) and the Etalase facts OCDS has no field for (Indonesian scale, legal form, UMK-K, TKDN, BMP,
PDN, catalogue) in `details` and in item fields named in docs/ocds.md. Built from the projections
alone, so it is events only.
"""

from datetime import datetime
from typing import Any

from etalase_events.compliance import is_umkk
from etalase_events.models import OrderLine, Scale
from etalase_platform.auth import Principal
from etalase_platform.db import SessionFactory

from etalase_reporting.read.queries import live_view
from etalase_reporting.read.records import OrderRecord, records_of_year
from etalase_reporting.service import compliance_scope

OCDS_VERSION = "1.1"
PARTY_SCALE = {
    Scale.MIKRO: "micro",
    Scale.KECIL: "small",
    Scale.MENENGAH: "medium",
    Scale.BESAR: "large",
}
"""Usaha mikro/kecil/menengah/besar (UU 20/2008) onto the OCDS partyScale codelist."""
_CONTRACT_STATUS = {
    "placed": "pending",
    "accepted": "active",
    "completed": "terminated",
    "cancelled": "cancelled",
}
_TAGS = {
    "placed": ["award", "contract"],
    "accepted": ["award", "contract"],
    "completed": ["award", "contract", "implementation"],
    "cancelled": ["award", "contract", "contractTermination"],
}


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _idr(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "IDR"}


def _item(line: OrderLine) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": str(line.line_no),
        "description": line.name,
        "classification": {"scheme": "x_etalase_category", "id": line.category},
        "quantity": line.quantity,
        "unit": {"name": "unit", "value": _idr(line.unit_price_idr)},
        "etalaseProductId": line.product_id,
        "etalaseCatalog": line.catalog.value,
        "etalaseSubtotal": _idr(line.subtotal_idr),
        "domesticProduct": line.domestic,
        "pdnAlternativeAvailable": line.pdn_alternative_available,
    }
    if line.tkdn_pct is not None:
        item["tkdn"] = {
            "percentage": float(line.tkdn_pct),
            "bmpPercentage": None if line.bmp_pct is None else float(line.bmp_pct),
        }
    return item


def release(record: OrderRecord, prefix: str) -> dict[str, Any]:
    order = record.order
    status = record.status
    latest = max((stamp for stamp in record.stages.values() if stamp), key=lambda s: s[1])
    buyer = {"id": order.opd_code, "name": record.opd_name or order.opd_code}
    supplier = {"id": order.vendor_id, "name": record.vendor_name or order.vendor_id}
    supplier_party: dict[str, Any] = {
        **supplier,
        "roles": ["supplier"],
        "address": {"region": order.vendor_region_code, "countryName": "Indonesia"},
        "details": {
            "scale": PARTY_SCALE[order.vendor_scale],
            "etalaseScale": order.vendor_scale.value,
            "legalForm": order.vendor_legal_form.value,
            "umkk": is_umkk(order.vendor_scale, order.vendor_legal_form),
        },
    }
    if record.vendor_nib:
        supplier_party["identifier"] = {"scheme": "ID-NIB", "id": record.vendor_nib}
    items = [_item(line) for line in order.lines]
    placed_at = order.placed_at
    award: dict[str, Any] = {
        "id": f"{order.order_id}-award",
        "status": "cancelled" if status == "cancelled" else "active",
        "date": _time(placed_at),
        "value": _idr(order.total_idr),
        "suppliers": [supplier],
        "items": items,
    }
    contract: dict[str, Any] = {
        "id": f"{order.order_id}-contract",
        "awardID": award["id"],
        "status": _CONTRACT_STATUS[status],
        "value": _idr(order.total_idr),
        "items": items,
        "period": {"startDate": _time(placed_at)},
    }
    accepted, completed = record.stages["accepted"], record.stages["completed"]
    cancelled = record.stages["cancelled"]
    if accepted is not None:
        contract["dateSigned"] = _time(accepted[1])
    if cancelled is not None:
        contract["period"]["endDate"] = _time(cancelled[1])
    elif completed is not None:
        contract["period"]["endDate"] = _time(completed[1])
        contract["implementation"] = {
            "milestones": [
                {
                    "id": f"{order.order_id}-bast",
                    "title": "Berita acara serah terima (BAST)",
                    "type": "delivery",
                    "status": "met",
                    "dateMet": _time(completed[1]),
                }
            ]
        }
    body: dict[str, Any] = {
        "ocid": prefix + order.order_id,
        "id": latest[0],
        "date": _time(latest[1]),
        "tag": _TAGS[status],
        "initiationType": "tender",
        "language": "id",
        "parties": [
            {
                **buyer,
                "roles": ["buyer", "procuringEntity"],
                "address": {"region": order.region_code, "countryName": "Indonesia"},
            },
            supplier_party,
        ],
        "buyer": buyer,
        "tender": {
            "id": f"{order.order_id}-tender",
            "status": "complete",
            "procurementMethod": "direct",
            "procurementMethodDetails": "E-purchasing (katalog elektronik / toko daring)",
            "procuringEntity": buyer,
        },
        "awards": [award],
        "contracts": [contract],
    }
    if order.rup_code:
        body["planning"] = {"budget": {"id": order.rup_code, "description": "Kode RUP"}}
    return body


async def release_package(
    sessions: SessionFactory,
    principal: Principal,
    fiscal_year: int,
    region_code: str | None,
    *,
    prefix: str,
    uri: str,
    published: datetime,
) -> dict[str, Any]:
    scope = compliance_scope(principal, region_code)
    async with live_view(sessions) as view:
        records = await records_of_year(view, fiscal_year, scope)
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": _time(published),
        "publisher": {"name": "Etalase"},
        "releases": [release(record, prefix) for record in records],
    }
