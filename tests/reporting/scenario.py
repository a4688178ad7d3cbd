"""A small kota-and-kabupaten scenario whose figures are computed by hand in the tests.

Days are WIB: D0 = 28 Feb, D1 = 1 Mar, ... (year 2041; the fiscal year is unique per run).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from etalase_events.models import Catalog, LegalForm, Scale

from tests.reporting.support import (
    Sent,
    accepted,
    budget,
    cancelled,
    completed,
    line,
    placed,
)

WIB = timezone(timedelta(hours=7))


def wib(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Day 0 is 28 Feb 2041, day n is n March, at the given WIB time; returned in UTC."""
    base = datetime(2041, 2, 28, tzinfo=WIB) + timedelta(days=day)
    return base.replace(hour=hour, minute=minute, second=second).astimezone(UTC)


def measures(*values: int) -> dict[str, int]:
    names = [
        "orders",
        "total_idr",
        "ecatalog_idr",
        "katalog_lokal_idr",
        "toko_daring_idr",
        "pdn_idr",
        "tkdn25_idr",
        "pdn_wajib_idr",
        "umkk_idr",
        "local_idr",
    ]
    assert len(values) == len(names)
    return dict(zip(names, values, strict=True))


NONE = measures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
M = 1_000_000


def targets(umkk: str, ecatalog: str, pdn: str) -> dict[str, Any]:
    return {
        "umkk_of_pagu": {"target": 40.0, "status": umkk},
        "ecatalog_of_pagu": {"target": 30.0, "status": ecatalog},
        "pdn_of_spend": {"target": 95.0, "status": pdn},
    }


def shares(umkk: float | None, ecat: float | None, pdn: float | None, local: float | None) -> Any:
    return {
        "umkk_of_pagu": umkk,
        "ecatalog_of_pagu": ecat,
        "pdn_of_spend": pdn,
        "local_of_spend": local,
    }


def flags(violations: int, lines: int) -> dict[str, int]:
    return {"reserved_package_violations": violations, "pdn_substitution_lines": lines}


@dataclass
class Scenario:
    fiscal_year: int
    province: str
    kota: str  # R1
    kabupaten: str  # R2
    dinkes: str  # OPD A, in the kota
    disdik: str  # OPD B, in the kota
    dpu: str  # OPD C, in the kabupaten
    bappeda: str  # OPD D, the province government's own
    events: dict[str, Sent]

    @classmethod
    def build(cls, fiscal_year: int, province: str) -> "Scenario":
        kota, kabupaten = f"{province}.71", f"{province}.02"
        a, b, c, d = (
            f"{kota}.1.02.01",
            f"{kota}.2.01.01",
            f"{kabupaten}.1.03.01",
            f"{province}.4.01",
        )
        fy = fiscal_year
        # order ids are UUIDs in purchasing: unique across runs of this test on a shared log
        o1, o2, o3, o4 = (f"o{n}-{uuid.uuid4()}" for n in range(1, 5))
        events = {
            "budget_a": budget(fy, a, kota, 900 * M, wib(0, 9), name="Dinas Kesehatan"),
            "budget_b1": budget(fy, b, kota, 500 * M, wib(0, 9), name="Dinas Pendidikan"),
            "budget_b2": budget(fy, b, kota, 600 * M, wib(3, 10), 2, name="Dinas Pendidikan"),
            "budget_c": budget(fy, c, kabupaten, 200 * M, wib(0, 9), name="Dinas PU"),
            "budget_d": budget(fy, d, province, 1 * M, wib(0, 9), name="Bappeda Provinsi"),
            "o1_placed": placed(
                o1,
                fy,
                a,
                kota,
                [
                    line(1, 100 * M, Catalog.NASIONAL, tkdn="30", bmp="15"),
                    line(2, 50 * M, Catalog.LOKAL, tkdn="20", alternative=True, quantity=5),
                ],
                wib(1, 10),
                scale=Scale.MIKRO,
                legal_form=LegalForm.CV,
                vendor_region_code=kota,
            ),
            "o1_accepted": accepted(o1, wib(1, 12)),
            "o1_completed": completed(o1, wib(2, 0, 0, 0)),  # midnight opens D2
            "o2_placed": placed(
                o2,
                fy,
                a,
                kota,
                [line(1, 40 * M, Catalog.TOKO_DARING, domestic=False)],
                wib(1, 11),
                scale=Scale.MENENGAH,
                legal_form=LegalForm.PT,
                vendor_region_code=kabupaten,
            ),
            "o2_cancelled": cancelled(o2, wib(3, 9), sequence=2),
            "o3_placed": placed(
                o3,
                fy,
                b,
                kota,
                [line(1, 300 * M, Catalog.SEKTORAL, tkdn="25", bmp="10")],
                wib(2, 23, 59, 59),  # the last second of D2
                scale=Scale.BESAR,
                legal_form=LegalForm.KOPERASI,
                vendor_region_code=kota,
            ),
            "o3_accepted": accepted(o3, wib(3, 8)),
            "o3_completed": completed(o3, wib(4, 10)),
            "o4_placed": placed(
                o4,
                fy,
                c,
                kabupaten,
                [line(1, 20 * M, Catalog.NASIONAL, domestic=False)],
                wib(2, 9),
                scale=Scale.BESAR,
                legal_form=LegalForm.PT,
                vendor_region_code=kabupaten,
            ),
        }
        return cls(fy, province, kota, kabupaten, a, b, c, d, events)

    def arrival(self) -> list[Sent]:
        """Orders before budgets, a completion before its order, and some events twice."""
        e = self.events
        orders = [
            e["o1_completed"],
            e["o1_placed"],
            e["o1_accepted"],
            e["o1_completed"],
            e["o2_placed"],
            e["o2_cancelled"],
            e["o3_placed"],
            e["o3_accepted"],
            e["o3_completed"],
            e["o4_placed"],
            e["o2_cancelled"],
        ]
        budgets = [e[k] for k in ("budget_b2", "budget_a", "budget_b1", "budget_c", "budget_d")]
        return [*orders, *budgets, e["budget_b2"]]
