"""The identifiers a registration desk types in, checked as strictly as their issuers define them.

Every function returns the canonical form or raises `InvalidIdentifier`, whose message never
repeats the value: NPWP, NIK, e-mail and phone are personal data and must not travel into error
bodies, traces or log lines.
"""

import re
from collections.abc import Iterable

from stdnum import numdb
from stdnum.exceptions import ValidationError
from stdnum.id import nik, npwp

from etalase_registration import regions

NIB_DIGITS = 13
KBLI_DIGITS = 5
MASK = "*"
VISIBLE_DIGITS = 4

_SEPARATORS = re.compile(r"[\s.\-]")
_LOCAL_PART = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_DOMAIN = r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
_EMAIL = re.compile(rf"^{_LOCAL_PART}@{_DOMAIN}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


class InvalidIdentifier(ValueError):
    """A value that is not a valid identifier of its kind; the message names the rule broken."""


def normalize_nib(value: str) -> str:
    """NIB (Nomor Induk Berusaha, issued by OSS): exactly 13 digits."""
    nib = value.strip()
    if len(nib) != NIB_DIGITS or not nib.isascii() or not nib.isdigit():
        raise InvalidIdentifier(f"a NIB is exactly {NIB_DIGITS} digits")
    return nib


def normalize_npwp(value: str) -> str:
    """NPWP as its digits, accepting the printed form (``01.312.166.0-091.000``).

    15 digits: the old format, Luhn check over the first nine. 16 digits starting with 0: the old
    number behind a 0 (same check). Other 16 digits: a NIK, which since 2024 is the NPWP of an
    individual.
    """
    digits = _SEPARATORS.sub("", value)
    if digits and not (digits.isascii() and digits.isdigit()):
        raise InvalidIdentifier("an NPWP has only digits (dots and dashes may separate them)")
    if len(digits) == 15 or (len(digits) == 16 and digits.startswith("0")):
        try:
            return str(npwp.validate(digits))
        except ValidationError:
            raise InvalidIdentifier("the NPWP check digit does not match") from None
    if len(digits) == 16:
        return normalize_nik(digits)
    raise InvalidIdentifier("an NPWP is 15 digits, or 16 digits (0 + the old 15, or a NIK)")


def normalize_nik(value: str) -> str:
    """NIK (Nomor Induk Kependudukan): 16 digits, a kab/kota of issue and a date of birth.

    python-stdnum's `nik.validate` checks only the province of issue, and against a table that
    predates Kalimantan Utara (65) and the Papua provinces of 2022 (93-96). Here the kab/kota
    must be known: to the current Kemendagri list, or to stdnum's older table, since a NIK keeps
    the code of the kab/kota that issued it even after that code was reorganised.
    """
    digits = _SEPARATORS.sub("", value)
    if len(digits) != 16 or not digits.isascii() or not digits.isdigit():
        raise InvalidIdentifier("a NIK is exactly 16 digits")
    try:
        nik.get_birth_date(digits)
    except ValidationError:
        raise InvalidIdentifier("the NIK does not encode a valid date of birth") from None
    if not _known_place_of_issue(digits):
        raise InvalidIdentifier("the NIK does not begin with a known kabupaten/kota code")
    return digits


def _known_place_of_issue(digits: str) -> bool:
    if regions.kab_kota_name(f"{digits[:2]}.{digits[2:4]}") is not None:
        return True
    # info() splits the prefix into the parts it knows, each with its data ({} when unknown)
    parts = numdb.get("id/loc").info(digits[:4])
    return len(parts) == 2 and all(data for _, data in parts)


def normalize_kbli(codes: Iterable[str]) -> tuple[str, ...]:
    """KBLI 2020 codes: five digits each, at least one; repeated codes are kept once."""
    cleaned: list[str] = []
    for code in codes:
        code = code.strip()
        if len(code) != KBLI_DIGITS or not code.isascii() or not code.isdigit():
            raise InvalidIdentifier(f"each KBLI code is exactly {KBLI_DIGITS} digits")
        if code not in cleaned:
            cleaned.append(code)
    if not cleaned:
        raise InvalidIdentifier("at least one KBLI code is required")
    return tuple(cleaned)


def normalize_email(value: str) -> str:
    """An e-mail address of the usual form ``local@domain.tld``; the domain is lower-cased."""
    email = value.strip()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidIdentifier("not a valid e-mail address")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_phone(value: str) -> str:
    """A phone number as digits with an optional leading ``+``: 8-15 digits (E.164 at most)."""
    phone = _PHONE_SEPARATORS.sub("", value.strip())
    plus = phone.startswith("+")
    digits = phone[1:] if plus else phone
    if not digits.isascii() or not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise InvalidIdentifier("a phone number is 8-15 digits, optionally after a +")
    return ("+" if plus else "") + digits


def mask_digits(value: str) -> str:
    """All but the last four characters hidden, length kept: ``***********1000``.

    The last digits are enough for a desk officer to match a paper; nothing before them is
    shown, so a NIK used as NPWP never reveals its place or date of birth.
    """
    hidden = max(len(value) - VISIBLE_DIGITS, 0)
    return MASK * hidden + value[hidden:]


def mask_email(value: str) -> str:
    """The first character of the mailbox and the domain: ``b***@example.co.id``."""
    local, _, domain = value.rpartition("@")
    return f"{local[:1]}{MASK * 3}@{domain}"
