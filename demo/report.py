"""The end of the scenario: wait for reporting to catch up, print its compliance tables, and set
them beside the scenario's own computation, figure by figure."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from demo import compliance, sync
from demo.context import Context
from demo.places import REGION_BY_CODE

SHARE_LABELS = (
    ("umkk_of_pagu", "UMK-K/pagu"),
    ("ecatalog_of_pagu", "e-kat/pagu"),
    ("pdn_of_spend", "PDN"),
    ("local_of_spend", "lokal"),
)


@dataclass
class Comparison:
    opd_rows: int = 0
    region_rows: int = 0
    differences: list[str] = field(default_factory=list)
    foreign_opds: dict[str, int] = field(default_factory=dict)
    """Per region or province: OPDs in the report that this scenario did not create."""

    @property
    def matches(self) -> bool:
        return not self.differences


async def wait_for_reporting(ctx: Context, *, timeout: float = 300.0) -> dict[str, Any]:
    """Until the projections have no lag and every OPD of the scenario shows the scenario's
    order counts and pagu; returns the OPD report then."""
    ledger = ctx.ledger
    want = {
        code: (
            budget.pagu_idr,
            sum(1 for o in ledger.orders if o.opd_code == code and o.status != "cancelled"),
            ledger_count(ctx, code, "completed"),
        )
        for code, budget in ledger.budgets.items()
    }
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        lag = await sync.projection_lag(ctx.api)
        report = await opd_report(ctx)
        rows = {row["opd_code"]: row for row in report["items"]}
        seen = {
            code: (
                rows[code]["pagu_idr"],
                rows[code]["placed"]["orders"],
                rows[code]["realized"]["orders"],
            )
            for code in want
            if code in rows
        }
        if lag == 0 and seen == want:
            return report
        if loop.time() > deadline:
            ctx.log.say(
                f"reporting has not caught up after {timeout:.0f}s (lag {lag}); comparing anyway"
            )
            return report
        await asyncio.sleep(0.5)


def ledger_count(ctx: Context, opd_code: str, status: str) -> int:
    return sum(1 for o in ctx.ledger.orders if o.opd_code == opd_code and o.status == status)


async def opd_report(ctx: Context) -> dict[str, Any]:
    params = {"fiscal_year": ctx.world.fiscal_year}
    report: dict[str, Any] = await ctx.api.json(
        "reporting",
        "GET",
        "/compliance/opd",
        "compliance per OPD",
        token=ctx.auditor(),
        params=params,
    )
    return report


async def region_report(ctx: Context) -> dict[str, Any]:
    params = {"fiscal_year": ctx.world.fiscal_year}
    report: dict[str, Any] = await ctx.api.json(
        "reporting",
        "GET",
        "/compliance/regions",
        "compliance per region",
        token=ctx.auditor(),
        params=params,
    )
    return report


def compare(
    ctx: Context,
    ours: Mapping[str, compliance.Figures],
    opds: dict[str, Any],
    regions: dict[str, Any],
    targets: Mapping[str, Decimal],
) -> Comparison:
    result = Comparison()
    api_rows = {row["opd_code"]: row for row in opds["items"]}
    for code, figures in sorted(ours.items()):
        row = api_rows.get(code)
        if row is None:
            result.differences.append(f"OPD {code}: missing from the reporting API")
            continue
        result.opd_rows += 1
        result.differences += [f"OPD {code} {d}" for d in compliance.differences(figures, row)]
    # Region and province rows sum every OPD reporting knows; those this scenario did not
    # create (an earlier fiscal year's run, a test on the same Kafka) enter as the API gives them.
    groups = [(row, "region_code", row["region_code"]) for row in regions["items"]]
    groups += [(row, "province_code", row["province_code"]) for row in regions.get("provinces", [])]
    region_of = {opd.code: opd.region_code for opd in ctx.world.opds if opd.code in ours}
    for row, kind, code in groups:
        mine = [c for c, region in region_of.items() if _in(region, kind, code)]
        if not mine:
            continue
        foreign = [
            r for c, r in api_rows.items() if c not in ours and _in(r["region_code"], kind, code)
        ]
        if foreign:
            result.foreign_opds[code] = len(foreign)
        expected = compliance.summed([*(ours[c] for c in mine), *foreign], targets)
        result.region_rows += 1
        result.differences += [f"{kind} {code} {d}" for d in compliance.differences(expected, row)]
        if row.get("opds") != len(mine) + len(foreign):
            count = len(mine) + len(foreign)
            result.differences.append(f"{kind} {code} opds: ours {count} != api {row.get('opds')}")
    return result


def _in(region_code: str, kind: str, code: str) -> bool:
    """Whether an OPD of `region_code` belongs to the region or province row `code`."""
    if kind == "region_code":
        return region_code == code
    return region_code.split(".")[0] == code


# --- printing --------------------------------------------------------------------------------


def rupiah(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _share(row: Mapping[str, Any], share: str) -> str:
    value = row["shares"].get(share)
    if value is None:
        return "-"
    status = row["targets"].get(share, {}).get("status")
    mark = {"met": " ✓", "not_met": " ✗"}.get(status or "", "")
    return f"{value:.2f}{mark}"


HEADER = (
    "pagu (Rp)",
    "komitmen (Rp)",
    "realisasi (Rp)",
    *(label for _, label in SHARE_LABELS),
    "paket>UMK",
    "subst",
)


def figure_cells(row: Mapping[str, Any]) -> list[str]:
    return [
        rupiah(row["pagu_idr"]),
        rupiah(row["placed"]["total_idr"]),
        rupiah(row["realized"]["total_idr"]),
        *(_share(row, share) for share, _ in SHARE_LABELS),
        str(row["flags"]["reserved_package_violations"]),
        str(row["flags"]["pdn_substitution_lines"]),
    ]


WIDTHS = (18, 18, 18, 12, 12, 9, 9, 9, 6)


def _line(first: str, cells: list[str]) -> str:
    return (
        first
        + "  "
        + "  ".join(cell.rjust(width) for cell, width in zip(cells, WIDTHS, strict=True))
    )


def print_tables(ctx: Context, opds: dict[str, Any], regions: dict[str, Any]) -> None:
    log = ctx.log
    ours = {opd.code for opd in ctx.world.opds}
    log.plain()
    log.plain(f"Kepatuhan P3DN per OPD, tahun anggaran {ctx.world.fiscal_year} (reporting API):")
    log.plain(_line(f"{'kode OPD':<24}  {'nama':<40}", list(HEADER)))
    for row in sorted(opds["items"], key=lambda r: r["opd_code"]):
        if row["opd_code"] in ours:
            name = (row.get("opd_name") or "")[:40]
            log.plain(_line(f"{row['opd_code']:<24}  {name:<40}", figure_cells(row)))
    log.plain()
    log.plain(
        "Per kabupaten/kota and province (every OPD reporting knows of, shares from the sums):"
    )
    log.plain(_line(f"{'wilayah':<24}  {'nama':<34}  {'OPD':>4}", list(HEADER)))
    regions_here = {opd.region_code for opd in ctx.world.opds}
    for row in sorted(regions["items"], key=lambda r: r["region_code"]):
        if row["region_code"] in regions_here:
            name = REGION_BY_CODE[row["region_code"]].name
            log.plain(
                _line(f"{row['region_code']:<24}  {name:<34}  {row['opds']:>4}", figure_cells(row))
            )
    for row in regions.get("provinces", []):
        if any(code.startswith(row["province_code"] + ".") for code in regions_here):
            label = f"provinsi {row['province_code']}"
            log.plain(
                _line(f"{label:<24}  {'Jawa Tengah':<34}  {row['opds']:>4}", figure_cells(row))
            )
    log.plain(
        "  ✓ target met, ✗ not met (UMK-K >= 40 % of pagu, e-katalog >= 30 % of pagu,"
        " PDN >= 95 % of spend); paket>UMK: orders up to Rp15 miliar to non-UMK-K vendors;"
    )
    log.plain("  subst: order lines without TKDN >= 25 where a PDN-wajib product was listed.")
