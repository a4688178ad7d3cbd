"""Value types shared by the event models, so that a field means the same in every event."""

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    PlainSerializer,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)


def _as_utc(value: datetime) -> datetime:
    # most moments arrive in UTC already (`Z`): the method call costs more than the check
    return value if value.tzinfo is UTC else value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
"""A moment: a naive datetime is rejected rather than guessed at; any offset becomes UTC, which
serialises as RFC 3339 with `Z`."""

Id = Annotated[str, StringConstraints(min_length=1)]
Text = Annotated[str, StringConstraints(min_length=1)]

# Strict, so that 150000.0 or "150000" is refused: the contract promises JSON integers.
Idr = Annotated[StrictInt, Field(ge=0)]
"""Whole rupiah."""
PositiveIdr = Annotated[StrictInt, Field(gt=0)]
"""Whole rupiah, more than zero (a price)."""

# Decimal, not float: compliance rules compare sums against thresholds (TKDN + BMP >= 40), which
# must not flip on binary rounding (25.1 + 14.9 is 39.99999... as floats). On the wire it is a
# JSON number, as the contract says; at most two decimals, so the float used for JSON is exact.
Percent = Annotated[
    Decimal,
    Field(ge=0, le=100, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema(
        {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "description": "Percentage, at most two decimals.",
        }
    ),
]

Nib = Annotated[str, StringConstraints(pattern=r"^[0-9]{13}$")]
"""Nomor Induk Berusaha (OSS): 13 digits."""

KbliCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")]
"""KBLI 2020 business classification: 5 digits."""
Kbli = Annotated[tuple[KbliCode, ...], Field(min_length=1)]

# Kemendagri codes: kabupaten 01-69 and kota 71-99 inside a province.
_KAB_KOTA = r"[1-9][0-9]\.(0[1-9]|[1-6][0-9]|7[1-9]|[89][0-9])"
KabKotaCode = Annotated[str, StringConstraints(pattern=rf"^{_KAB_KOTA}$")]
"""Kabupaten/kota code, e.g. `33.75`."""
RegionCode = Annotated[str, StringConstraints(pattern=rf"^([1-9][0-9]|{_KAB_KOTA})$")]
"""Province (`33`) or kabupaten/kota (`33.75`) code: a province government has OPDs and a
local catalogue too."""

FiscalYear = Annotated[int, Field(ge=2000, le=2100)]


class LegalForm(StrEnum):
    """Legal form of a business."""

    PERORANGAN = "perorangan"
    CV = "cv"
    FIRMA = "firma"
    PT = "pt"
    KOPERASI = "koperasi"
    LAINNYA = "lainnya"


class Scale(StrEnum):
    """Business scale (PP 7/2021)."""

    MIKRO = "mikro"
    KECIL = "kecil"
    MENENGAH = "menengah"
    BESAR = "besar"


class Channel(StrEnum):
    """Where the vendor registered."""

    MPP_DESK = "mpp_desk"
    ONLINE = "online"


class Catalog(StrEnum):
    """Which electronic catalogue, or the online shop, a product is listed in."""

    NASIONAL = "nasional"
    SEKTORAL = "sektoral"
    LOKAL = "lokal"
    TOKO_DARING = "toko_daring"


class DelistReason(StrEnum):
    """Why a product was taken down (turun tayang)."""

    VENDOR_SUSPENDED = "vendor_suspended"
    VENDOR_REQUEST = "vendor_request"
    ADMIN = "admin"
