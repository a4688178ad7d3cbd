"""The regions of the scenario, their MPP desks and their agencies (OPD).

OPD codes follow api.md: the kab/kota code, then the agency's own code in the urusan.bidang.unit
numbering of Permendagri 90/2019 (1.02 is kesehatan, 2.11 lingkungan hidup, 4.01 sekretariat...).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    vendor_share: float
    """The part of the scenario's vendors based here."""
    desks: tuple[str, ...]
    """MPP desk officers (the `sub` of their tokens, recorded as the vendor's desk_id)."""
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Agency:
    code: str
    """The agency's own code, after the region code: 1.02.01."""
    name: str
    kind: str
    """What it buys (catalogue.BUYING)."""
    weight: float
    """Its share of the region's purchasing."""


REGIONS: tuple[Region, ...] = (
    Region(
        "33.75",
        "Kota Pekalongan",
        0.6,
        (
            "mpp-kota-pekalongan/loket-1",
            "mpp-kota-pekalongan/loket-2",
            "mpp-kota-pekalongan/loket-3",
        ),
        ("Jl. Hayam Wuruk", "Jl. Dr. Cipto", "Jl. Sultan Agung", "Jl. Merdeka", "Jl. Kurinci"),
    ),
    Region(
        "33.26",
        "Kabupaten Pekalongan",
        0.2,
        ("mpp-kab-pekalongan/loket-1", "mpp-kab-pekalongan/loket-2"),
        ("Jl. Raya Kedungwuni", "Jl. Raya Wiradesa", "Jl. Raya Kajen", "Jl. Raya Buaran"),
    ),
    Region(
        "33.74",
        "Kota Semarang",
        0.2,
        ("mpp-kota-semarang/loket-1", "mpp-kota-semarang/loket-2"),
        ("Jl. Pemuda", "Jl. Pandanaran", "Jl. Majapahit", "Jl. Setiabudi", "Jl. Kaligawe"),
    ),
)

REGION_BY_CODE = {region.code: region for region in REGIONS}

AGENCIES: dict[str, tuple[Agency, ...]] = {
    "33.75": (
        Agency("1.01.01", "Dinas Pendidikan dan Kebudayaan", "pendidikan", 1.6),
        Agency("1.02.01", "Dinas Kesehatan", "kesehatan", 1.5),
        Agency("1.02.02", "RSUD Bendan", "rsud", 1.8),
        Agency("1.03.01", "Dinas Pekerjaan Umum dan Penataan Ruang", "pupr", 1.3),
        Agency("1.05.01", "Satuan Polisi Pamong Praja", "satpol", 0.5),
        Agency("2.11.01", "Dinas Lingkungan Hidup", "lingkungan", 0.9),
        Agency("2.16.01", "Dinas Komunikasi dan Informatika", "kominfo", 0.7),
        Agency("3.25.01", "Dinas Kelautan dan Perikanan", "perikanan", 0.6),
        Agency("4.01.01", "Sekretariat Daerah", "umum", 1.0),
    ),
    "33.26": (
        Agency("1.02.01", "Dinas Kesehatan", "kesehatan", 1.2),
        Agency("1.06.01", "Dinas Sosial", "sosial", 0.7),
    ),
    "33.74": (
        Agency("1.02.03", "RSUD K.R.M.T. Wongsonegoro", "rsud", 1.8),
        Agency("2.15.01", "Dinas Perhubungan", "perhubungan", 0.9),
    ),
}

ADMIN = "ukpbj"
"""The `sub` prefix of a region's admin tokens (its UKPBJ: sets budgets, registers online)."""
