"""A fiscal year of one province for the dashboard and OCDS tests, as real events: budgets, vendor
registrations and orders placed, accepted, completed and cancelled across the months (FY 2025,
so that every month's end has passed and the trend has twelve points)."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from etalase_events.models import Catalog, LegalForm, Scale, VendorRegistered
from etalase_events.primitives import Channel

from tests.reporting.support import (
    Sent,
    accepted,
    budget,
    cancelled,
    completed,
    line,
    placed,
    sent,
)

FISCAL_YEAR = 2025
M = 1_000_000
WIB = timezone(timedelta(hours=7))
FORMULA_NAME = '=HYPERLINK("http://example.invalid","Dinas PU")'
"""An OPD name a spreadsheet would run as a formula: the downloads must keep it text."""


PASSED_OVER = ("produk-pdn-wajib-1", "produk-pdn-wajib-2")
"""The PDN-wajib alternatives o1's substitution line passed over."""


def wib(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(FISCAL_YEAR, month, day, hour, tzinfo=WIB).astimezone(UTC)


@dataclass
class Scenario:
    province: str
    kota: str
    kabupaten: str
    dinkes: str  # kota, two orders realised, one still placed
    disdik: str  # kota, its only order cancelled
    dpu: str  # kabupaten, named like a formula
    orders: dict[str, str]
    vendors: dict[str, str]
    events: list[Sent]

    @classmethod
    def build(cls, province: str) -> "Scenario":
        kota, kabupaten = f"{province}.71", f"{province}.02"
        dinkes, disdik, dpu = f"{kota}.1.02.01", f"{kota}.2.01.01", f"{kabupaten}.1.03.01"
        orders = {name: f"{name}-{uuid.uuid4()}" for name in ("o1", "o2", "o3", "o4", "o5")}
        vendors = {name: f"v-{order}" for name, order in orders.items()}
        fy = FISCAL_YEAR

        def vendor(name: str, title: str, scale: Scale, form: LegalForm, region: str) -> Sent:
            event = VendorRegistered(
                vendor_id=vendors[name],
                nib=f"{uuid.uuid4().int % 10**13:013d}",
                name=title,
                legal_form=form,
                scale=scale,
                region_code=region,
                kbli=("47591",),
                channel=Channel.MPP_DESK,
                desk_id="mpp-1",
                registered_at=wib(1, 3),
            )
            return sent(event, vendors[name], 1)

        o1, o2, o3, o4, o5 = (orders[k] for k in ("o1", "o2", "o3", "o4", "o5"))
        events = [
            budget(fy, dinkes, kota, 900 * M, wib(1, 2), name="Dinas Kesehatan"),
            budget(fy, disdik, kota, 500 * M, wib(1, 2), name="Dinas Pendidikan"),
            budget(fy, dpu, kabupaten, 200 * M, wib(1, 2), name=FORMULA_NAME),
            vendor("o1", "CV Batik Pesisir", Scale.MIKRO, LegalForm.CV, kota),
            vendor("o2", "PT Sarana Medika", Scale.BESAR, LegalForm.PT, kabupaten),
            vendor("o4", "Koperasi Karya Bersama", Scale.MENENGAH, LegalForm.KOPERASI, kabupaten),
            placed(
                o1,
                fy,
                dinkes,
                kota,
                [
                    line(1, 120 * M, Catalog.LOKAL, tkdn="45", bmp="10", quantity=4),
                    line(2, 60 * M, Catalog.NASIONAL, tkdn="20", alternative=True).model_copy(
                        update={"pdn_alternatives": PASSED_OVER}
                    ),
                ],
                wib(3, 10),
                scale=Scale.MIKRO,
                vendor_region_code=kota,
            ),
            accepted(o1, wib(3, 12)),
            completed(o1, wib(4, 5)),
            placed(
                o2,
                fy,
                dinkes,
                kota,
                [line(1, 300 * M, Catalog.TOKO_DARING, domestic=False)],
                wib(5, 2),
                scale=Scale.BESAR,
                legal_form=LegalForm.PT,
                vendor_region_code=kabupaten,
            ),
            accepted(o2, wib(5, 6)),
            completed(o2, wib(6, 20)),
            placed(
                o3,
                fy,
                disdik,
                kota,
                [line(1, 75 * M, Catalog.SEKTORAL, tkdn="30", bmp="15")],
                wib(7, 1),
                vendor_region_code=kota,
            ),
            cancelled(o3, wib(7, 5), sequence=2),
            placed(
                o4,
                fy,
                dpu,
                kabupaten,
                [line(1, 90 * M, Catalog.NASIONAL, tkdn="50", bmp="5", quantity=3)],
                wib(8, 1),
                scale=Scale.MENENGAH,
                legal_form=LegalForm.KOPERASI,
                vendor_region_code=kabupaten,
            ),
            accepted(o4, wib(8, 3)),
            completed(o4, wib(9, 1)),
            placed(
                o5,
                fy,
                dinkes,
                kota,
                [line(1, 45 * M, Catalog.LOKAL, tkdn="35", bmp="10", quantity=9)],
                wib(10, 1),
                vendor_region_code=kota,
            ),
        ]
        return cls(province, kota, kabupaten, dinkes, disdik, dpu, orders, vendors, events)
