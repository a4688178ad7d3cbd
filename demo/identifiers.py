"""Identifiers a registration desk types in: NIB (OSS) and NPWP, valid or deliberately not.

NPWP check digits follow python-stdnum's `stdnum.id.npwp`: Luhn over the first nine digits of the
15-digit form (the 16-digit form is a 0 before those 15).
"""

import random

from stdnum import luhn

# Entity-type prefixes of a business NPWP (badan, and individuals trading under their own name).
_NPWP_ENTITY_TYPES = ("01", "02", "03", "07", "08", "09", "21", "31", "49", "55", "66", "76", "80")
# Kode KPP of the tax offices around Pekalongan and Semarang, as the old 15-digit NPWP carries them.
_TAX_OFFICES = ("502", "503", "504", "505", "507", "508", "511", "513", "517")


def nib(rng: random.Random) -> str:
    """A 13-digit NIB shaped like the ones OSS issues (they begin with 91/81/12...)."""
    prefix = rng.choice(("912", "812", "120", "022"))
    return prefix + "".join(rng.choice("0123456789") for _ in range(13 - len(prefix)))


def npwp(rng: random.Random, *, sixteen_digits: bool = False) -> str:
    """A valid business NPWP: 15 digits, or the 2024 16-digit form (0 + the 15)."""
    body = rng.choice(_NPWP_ENTITY_TYPES) + "".join(rng.choice("0123456789") for _ in range(6))
    number = body + luhn.calc_check_digit(body) + rng.choice(_TAX_OFFICES) + "000"
    return "0" + number if sixteen_digits else number


def printed_npwp(number: str) -> str:
    """The way an NPWP card prints the 15-digit form: 01.312.166.0-091.000."""
    n = number[-15:]
    return f"{n[0:2]}.{n[2:5]}.{n[5:8]}.{n[8]}-{n[9:12]}.{n[12:15]}"


def with_wrong_check_digit(number: str) -> str:
    """The same NPWP with its check digit changed: what a typo at the desk produces."""
    at = len(number) - 7  # the check digit is the 9th of the final 15
    wrong = str((int(number[at]) + 1) % 10)
    return number[:at] + wrong + number[at + 1 :]
