"""What a kota's agencies buy: the catalogue categories (etalase) of the scenario, with the kind of
goods in each, where they are listed, their prices and how often they are domestic and certified.

Figures are plausible for Central Java in the mid-2020s, not quotations.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    name: str
    catalogs: tuple[str, ...]
    """Where products of the category are listed, the first being the most common."""
    unit: str
    price_idr: tuple[int, int]
    items: tuple[str, ...]
    kbli: str
    trade_words: tuple[str, ...]
    """Words a business of this trade puts in its name."""
    quantity: tuple[int, int]
    imported_share: float
    certified_share: float
    heavy: bool = False
    """Mostly sold by PT and bigger firms (vehicles, computers, medical devices)."""


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Batik dan Seragam",
        ("lokal", "toko_daring"),
        "potong",
        (145_000, 850_000),
        (
            "Kain Batik Tulis Motif Jlamprang",
            "Kain Batik Cap Motif Buketan",
            "Seragam Batik Korpri Lengan Panjang",
            "Kemeja Batik Motif Sekar Jagad",
            "Seragam Linmas Lengkap",
            "Kain Batik Cap Motif Liong Pesisiran",
        ),
        "13134",
        ("Batik", "Konveksi", "Sandang"),
        (10, 250),
        0.0,
        0.55,
    ),
    Category(
        "Jasa Boga dan Konsumsi Rapat",
        ("lokal", "toko_daring"),
        "kotak",
        (18_000, 65_000),
        (
            "Nasi Kotak Menu Megono",
            "Snack Box Rapat Tiga Macam",
            "Nasi Kotak Garang Asem",
            "Tauto Pekalongan Porsi Rapat",
            "Nasi Kotak Ayam Bakar",
        ),
        "56210",
        ("Katering", "Dapur", "Rumah Makan"),
        (40, 600),
        0.0,
        0.15,
    ),
    Category(
        "Alat Tulis Kantor",
        ("toko_daring", "lokal", "nasional"),
        "rim",
        (24_000, 95_000),
        (
            "Kertas HVS A4 70 gsm",
            "Kertas HVS F4 80 gsm",
            "Map Snelhecter Plastik (isi 50)",
            "Pulpen Gel 0,5 mm (isi 12)",
            "Ordner Folio 7 cm",
            "Amplop Cokelat Kabinet (isi 100)",
        ),
        "46491",
        ("Alat Tulis", "ATK", "Stationery"),
        (10, 300),
        0.05,
        0.6,
    ),
    Category(
        "Komputer dan Laptop",
        ("nasional", "toko_daring"),
        "unit",
        (6_500_000, 24_000_000),
        (
            "Laptop 14 inci Core i5 RAM 16 GB",
            "PC All-in-One 24 inci",
            "Laptop 14 inci Ryzen 5 SSD 512 GB",
            "Printer Laser Monokrom A4",
            "Proyektor LCD 4000 Lumen",
        ),
        "46521",
        ("Komputer", "Tekno", "Data Sistem"),
        (1, 25),
        0.35,
        0.7,
        heavy=True,
    ),
    Category(
        "Alat Kesehatan",
        ("sektoral", "nasional"),
        "unit",
        (150_000, 45_000_000),
        (
            "Tensimeter Digital Lengan Atas",
            "Tempat Tidur Pasien Tiga Engkol",
            "Timbangan Bayi Digital",
            "Kursi Roda Standar Lipat",
            "Konsentrator Oksigen 5 Liter",
            "Stetoskop Dewasa Dual Head",
        ),
        "46693",
        ("Medika", "Husada", "Alkes"),
        (1, 40),
        0.3,
        0.55,
        heavy=True,
    ),
    Category(
        "Obat dan Bahan Medis Habis Pakai",
        ("sektoral", "nasional"),
        "box",
        (35_000, 900_000),
        (
            "Sarung Tangan Medis Nitril (isi 100)",
            "Masker Medis 3 Ply (isi 50)",
            "Spuit 3 ml (isi 100)",
            "Kasa Steril 16 x 16 (isi 16)",
            "Alkohol Swab (isi 100)",
            "Parasetamol 500 mg (isi 100)",
        ),
        "46693",
        ("Farma", "Medika", "Husada"),
        (10, 400),
        0.15,
        0.6,
    ),
    Category(
        "Peralatan Pendidikan",
        ("sektoral", "lokal"),
        "set",
        (250_000, 7_500_000),
        (
            "Meja Kursi Siswa SD",
            "Papan Tulis Whiteboard 120 x 240",
            "Alat Peraga IPA SD",
            "Paket Buku Bacaan Literasi",
            "Lemari Perpustakaan Kaca",
        ),
        "47610",
        ("Edukasi", "Pustaka", "Ilmu"),
        (2, 120),
        0.05,
        0.6,
    ),
    Category(
        "Furnitur Kantor",
        ("lokal", "nasional"),
        "unit",
        (850_000, 9_000_000),
        (
            "Meja Kerja Setengah Biro",
            "Kursi Kerja Putar",
            "Lemari Arsip Empat Laci",
            "Sofa Tamu Kantor",
            "Rak Arsip Besi Lima Susun",
        ),
        "31001",
        ("Mebel", "Jati", "Furnitur"),
        (1, 30),
        0.1,
        0.7,
    ),
    Category(
        "Percetakan dan Penggandaan",
        ("lokal", "toko_daring"),
        "paket",
        (45_000, 1_500_000),
        (
            "Cetak Spanduk Flexi 3 x 1 m",
            "Cetak Buku Laporan A4",
            "Cetak Leaflet A5 (1 rim)",
            "Cetak Blangko Formulir",
            "Stiker Vinyl Kendaraan Dinas",
        ),
        "18111",
        ("Percetakan", "Grafika", "Offset"),
        (5, 300),
        0.0,
        0.15,
    ),
    Category(
        "Kebersihan dan Sanitasi",
        ("lokal", "toko_daring"),
        "buah",
        (15_000, 4_500_000),
        (
            "Sapu Ijuk Gagang Kayu",
            "Cairan Pembersih Lantai 5 Liter",
            "Tempat Sampah Pilah Tiga Warna",
            "Gerobak Sampah Fiber",
            "Kantong Sampah Hitam (isi 50)",
        ),
        "20231",
        ("Bersih", "Kimia", "Sanitasi"),
        (5, 400),
        0.05,
        0.4,
    ),
    Category(
        "Hasil Perikanan dan Pangan Lokal",
        ("lokal",),
        "kg",
        (25_000, 350_000),
        (
            "Ikan Pindang Tongkol",
            "Ikan Asap Manyung",
            "Beras Premium Kemasan 5 kg",
            "Paket Sembako Keluarga",
            "Kerupuk Ikan Pekalongan",
        ),
        "10213",
        ("Mina", "Bahari", "Samudra"),
        (50, 1000),
        0.0,
        0.2,
    ),
    Category(
        "Kendaraan Operasional",
        ("nasional",),
        "unit",
        (18_000_000, 650_000_000),
        (
            "Sepeda Motor 125 cc",
            "Mobil Pikap 1.500 cc",
            "Motor Roda Tiga Pengangkut Sampah",
            "Mobil Ambulans Transport",
        ),
        "45101",
        ("Motor", "Otomotif", "Mobilindo"),
        (1, 4),
        0.15,
        0.85,
        heavy=True,
    ),
    Category(
        "Bahan Bangunan",
        ("lokal", "nasional"),
        "sak",
        (45_000, 700_000),
        (
            "Semen Portland 50 kg",
            "Besi Beton Polos 10 mm",
            "Paving Block K-300 per m2",
            "Pipa PVC 4 inci",
            "Cat Tembok 25 kg",
        ),
        "46633",
        ("Bangunan", "Beton", "Material"),
        (20, 2000),
        0.05,
        0.65,
    ),
    Category(
        "Perlengkapan Kebencanaan dan Keamanan",
        ("nasional", "lokal"),
        "buah",
        (85_000, 25_000_000),
        (
            "Tenda Pengungsi Keluarga",
            "Pelampung Dewasa",
            "Alat Pemadam Api Ringan 6 kg",
            "Radio Handy Talky",
            "Rompi Reflektif Petugas",
        ),
        "46599",
        ("Safety", "Proteksi", "Siaga"),
        (2, 80),
        0.25,
        0.5,
    ),
    Category(
        "Perangkat Jaringan dan CCTV",
        ("nasional", "toko_daring"),
        "unit",
        (350_000, 18_000_000),
        (
            "Kamera CCTV 4 MP",
            "Router Wi-Fi Dual Band",
            "Switch 24 Port Gigabit",
            "Kabel UTP Cat6 (1 roll)",
            "Access Point Luar Ruang",
        ),
        "46523",
        ("Net", "Link", "Sistem"),
        (1, 40),
        0.5,
        0.35,
        heavy=True,
    ),
)

BY_NAME = {category.name: category for category in CATEGORIES}

# What each kind of agency buys, most often first; every agency also buys the common goods.
COMMON = ("Alat Tulis Kantor", "Jasa Boga dan Konsumsi Rapat", "Batik dan Seragam")
BUYING: dict[str, tuple[str, ...]] = {
    "kesehatan": ("Obat dan Bahan Medis Habis Pakai", "Alat Kesehatan", "Kendaraan Operasional"),
    "rsud": ("Obat dan Bahan Medis Habis Pakai", "Alat Kesehatan", "Kebersihan dan Sanitasi"),
    "pendidikan": ("Peralatan Pendidikan", "Komputer dan Laptop", "Furnitur Kantor"),
    "pupr": ("Bahan Bangunan", "Kendaraan Operasional", "Perlengkapan Kebencanaan dan Keamanan"),
    "lingkungan": ("Kebersihan dan Sanitasi", "Kendaraan Operasional", "Bahan Bangunan"),
    "sosial": ("Hasil Perikanan dan Pangan Lokal", "Perlengkapan Kebencanaan dan Keamanan"),
    "perikanan": ("Hasil Perikanan dan Pangan Lokal", "Perlengkapan Kebencanaan dan Keamanan"),
    "kominfo": ("Perangkat Jaringan dan CCTV", "Komputer dan Laptop", "Percetakan dan Penggandaan"),
    "perhubungan": ("Perangkat Jaringan dan CCTV", "Perlengkapan Kebencanaan dan Keamanan"),
    "satpol": ("Perlengkapan Kebencanaan dan Keamanan", "Kendaraan Operasional"),
    "umum": ("Furnitur Kantor", "Komputer dan Laptop", "Percetakan dan Penggandaan"),
}
