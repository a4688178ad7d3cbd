"""How figures read in Bahasa Indonesia: `Rp1.234.567`, `52,00%`, `31 Mar 2025`."""

from datetime import date, datetime

from etalase_reporting.timeline import WIB

MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
STATUS_TEXT = {"met": "Tercapai", "not_met": "Belum tercapai", "no_data": "Tidak ada data"}
ORDER_STATUS = {
    "placed": "Dipesan",
    "accepted": "Diterima penyedia",
    "completed": "Selesai (BAST)",
    "cancelled": "Dibatalkan",
}
SHARE_LABELS = {
    "umkk_of_pagu": "UMK-K / pagu",
    "ecatalog_of_pagu": "E-katalog / pagu",
    "pdn_of_spend": "PDN / belanja",
    "local_of_spend": "Lokal / belanja",
}


def thousands(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def rupiah(value: int) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}Rp{thousands(abs(value))}"


def percent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}".replace(".", ",") + "%"


def target(value: float) -> str:
    return "≥ " + f"{value:g}".replace(".", ",") + "%"


def day(value: date | None) -> str:
    if value is None:
        return "–"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def moment(value: datetime | None) -> str:
    """A moment in WIB, as people read dates (api.md)."""
    if value is None:
        return "–"
    local = value.astimezone(WIB)
    return f"{day(local.date())} {local:%H.%M} WIB"
