"""The HTTP contract of api.md: request bodies, checked field by field, and the vendor as shown.

Each validator reports under its own field, so a client gets a 422 naming what to correct.
"""

from typing import Annotated, Any

from etalase_events.models import LegalForm, Scale
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, field_validator

from etalase_registration import identifiers, regions
from etalase_registration.db import VendorBase
from etalase_registration.domain import (
    ADDRESS_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PROFILE_FIELDS,
    REASON_MAX_LENGTH,
    clean_text,
)


def _known_kab_kota(code: str) -> str:
    code = code.strip()
    if regions.kab_kota_name(code) is None:
        raise ValueError("not a Kemendagri kabupaten/kota code (e.g. 33.75)")
    return code


def _name(value: str) -> str:
    return clean_text(value, max_length=NAME_MAX_LENGTH)


def _kbli(codes: list[str]) -> list[str]:
    return list(identifiers.normalize_kbli(codes))


def _reason(value: str) -> str:
    return clean_text(value, max_length=REASON_MAX_LENGTH)


def _address(value: str) -> str:
    return clean_text(value, max_length=ADDRESS_MAX_LENGTH)


def _documents(**rules: JsonValue) -> Any:
    """The rule a validator enforces, stated in the JSON Schema for clients and fuzzers (the
    validator stays the one that checks, with its own message)."""
    return Field(json_schema_extra=rules)


_KBLI_CODE: dict[str, JsonValue] = {"type": "string", "pattern": r"^[0-9]{5}$"}
Name = Annotated[str, AfterValidator(_name), _documents(minLength=1, maxLength=NAME_MAX_LENGTH)]
Nib = Annotated[str, AfterValidator(identifiers.normalize_nib), _documents(pattern=r"^[0-9]{13}$")]
Npwp = Annotated[
    str,
    AfterValidator(identifiers.normalize_npwp),
    _documents(pattern=r"^[0-9][0-9.\- ]{13,22}[0-9]$"),
]
KabKota = Annotated[
    str, AfterValidator(_known_kab_kota), _documents(pattern=r"^[1-9][0-9]\.[0-9]{2}$")
]
Kbli = Annotated[list[str], AfterValidator(_kbli), _documents(items=_KBLI_CODE, minItems=1)]
Email = Annotated[str, AfterValidator(identifiers.normalize_email), _documents(maxLength=254)]
Phone = Annotated[
    str, AfterValidator(identifiers.normalize_phone), _documents(pattern=r"^\+?[0-9 ()\-.]{8,30}$")
]
Address = Annotated[
    str, AfterValidator(_address), _documents(minLength=1, maxLength=ADDRESS_MAX_LENGTH)
]
Reason = Annotated[
    str, AfterValidator(_reason), _documents(minLength=1, maxLength=REASON_MAX_LENGTH)
]

_EXAMPLE: dict[str, JsonValue] = {
    "nib": "9120001234567",
    "npwp": "01.312.166.0-091.000",
    "name": "CV Batik Pesisir Jaya",
    "legal_form": "cv",
    "scale": "mikro",
    "region_code": "33.75",
    "kbli": ["13134"],
    "address": "Jl. Hayam Wuruk No. 5, Pekalongan",
    "email": "batik@example.co.id",
    "phone": "0285 421234",
}


class VendorRegistration(BaseModel):
    """A business to register. `npwp`, `email` and `phone` are stored and only shown masked."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    nib: Nib = Field(description="Nomor Induk Berusaha (OSS): 13 digits")
    npwp: Npwp = Field(description="15 digits, or 16 (0 + the old 15, or a NIK); checked")
    name: Name
    legal_form: LegalForm
    scale: Scale
    region_code: KabKota = Field(description="Kemendagri kabupaten/kota code, e.g. 33.75")
    kbli: Kbli = Field(description="KBLI 2020 codes, 5 digits each, at least one")
    address: Address | None = None
    email: Email | None = None
    phone: Phone | None = None


class ProfileUpdate(BaseModel):
    """Any of the profile fields; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    legal_form: LegalForm | None = None
    scale: Scale | None = None
    kbli: Kbli | None = None

    # An absent field means "keep"; an explicit null would mean "erase", which none allows.
    @field_validator(*PROFILE_FIELDS, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not null")
        return value

    def requested(self) -> dict[str, Any]:
        """The fields the client sent, with the profile's own types (kbli as a tuple)."""
        values = self.model_dump(include=self.model_fields_set)
        if "kbli" in values:
            values["kbli"] = tuple(values["kbli"])
        return values


class Suspension(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class VendorView(VendorBase):
    """A vendor as shown: personal data only masked, the rest as registered."""

    npwp_masked: str = Field(description="All but the last 4 digits hidden: ***********1000")
    email_masked: str | None = Field(None, description="First letter and domain: b***@x.co.id")
    phone_masked: str | None = Field(None, description="All but the last 4 digits hidden")
