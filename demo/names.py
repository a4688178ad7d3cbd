"""Indonesian-looking business names, brands and contact details. Invented, not real companies."""

import random

from demo.catalogue import Category

_AUSPICIOUS = (
    "Jaya",
    "Makmur",
    "Sejahtera",
    "Abadi",
    "Berkah",
    "Barokah",
    "Mandiri",
    "Sentosa",
    "Lestari",
    "Rejeki",
    "Mulia",
    "Utama",
    "Sakti",
    "Indah",
    "Amanah",
    "Sukses",
    "Perkasa",
    "Gemilang",
    "Maju",
    "Sinergi",
    "Harapan",
    "Mitra",
    "Karya",
)
_PLACES = (
    "Pesisir",
    "Kauman",
    "Setono",
    "Pekajangan",
    "Buaran",
    "Wiradesa",
    "Kedungwuni",
    "Jlamprang",
    "Kajen",
    "Bendan",
    "Krapyak",
    "Panjang",
    "Landungsari",
    "Medono",
    "Tirto",
    "Kergon",
    "Candi",
    "Banyumanik",
    "Tembalang",
    "Simpang Lima",
    "Ngaliyan",
)
_LIGHTS = ("Sinar", "Cahaya", "Surya", "Bintang", "Mentari", "Fajar", "Nusa", "Citra", "Dwi")
_GIVEN = (
    "Slamet",
    "Sri",
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Hadi",
    "Rina",
    "Bambang",
    "Wahyuni",
    "Joko",
    "Endang",
    "Teguh",
    "Nur",
    "Eko",
    "Ratna",
    "Heru",
    "Yuni",
    "Fajar",
    "Lestari",
    "Arif",
    "Kusuma",
    "Rahmat",
    "Aminah",
    "Sholeh",
    "Fatimah",
)
_SURNAMES = ("Santoso", "Wibowo", "Susanto", "Hidayat", "Setiawan", "Prasetyo", "Nugroho", "Rahman")
_COOPERATIVES = ("Produsen", "Serba Usaha", "Konsumen", "Pemasaran")
_FOREIGN_BRANDS = (
    "Kanghua",
    "Meditech Asia",
    "Shenlong",
    "Everwin",
    "Norwell",
    "Hanshin",
    "Tokai",
    "Zentrix",
    "Orbis",
    "Kairos",
)


def _core(rng: random.Random, category: Category) -> str:
    trade = rng.choice(category.trade_words)
    shape = rng.random()
    if shape < 0.4:
        return f"{trade} {rng.choice(_PLACES)} {rng.choice(_AUSPICIOUS)}"
    if shape < 0.7:
        return f"{rng.choice(_LIGHTS)} {trade} {rng.choice(_AUSPICIOUS)}"
    return f"{rng.choice(_LIGHTS)} {rng.choice(_AUSPICIOUS)} {trade}"


def business_name(rng: random.Random, legal_form: str, category: Category) -> str:
    """A name whose form shows the legal form, as in the OSS register: CV ..., PT ..., UD ..."""
    core = _core(rng, category)
    if legal_form == "perorangan":
        owner = rng.choice(_GIVEN)
        return rng.choice((f"UD {core}", f"Toko {core}", f"{category.trade_words[0]} Bu {owner}"))
    if legal_form == "cv":
        return f"CV {core}"
    if legal_form == "firma":
        return f"Firma {rng.choice(_SURNAMES)} dan Rekan"
    if legal_form == "pt":
        return f"PT {core}" + rng.choice(("", " Indonesia", " Nusantara"))
    if legal_form == "koperasi":
        return f"Koperasi {rng.choice(_COOPERATIVES)} {core}"
    return f"BUMDes {rng.choice(_PLACES)} {rng.choice(_AUSPICIOUS)}"


def brand(rng: random.Random, vendor_name: str, *, domestic: bool) -> str:
    """Domestic goods carry their maker's name; imports a foreign-looking one."""
    if not domestic:
        return rng.choice(_FOREIGN_BRANDS)
    words = [w for w in vendor_name.split() if w not in {"CV", "PT", "UD", "Toko", "Bu"}]
    return " ".join(words[-2:]) if len(words) >= 2 else vendor_name


def address(rng: random.Random, streets: tuple[str, ...], region_name: str) -> str:
    return f"{rng.choice(streets)} No. {rng.randint(1, 240)}, {region_name}"


def phone(rng: random.Random, region_code: str) -> str:
    if rng.random() < 0.6:
        return "08" + rng.choice("1256789") + "".join(rng.choice("0123456789") for _ in range(8))
    area = {"33.75": "0285", "33.26": "0285", "33.74": "024"}.get(region_code, "0285")
    return f"{area} {rng.randint(400000, 8999999)}"


def email(rng: random.Random, vendor_name: str) -> str:
    handle = "".join(ch for ch in vendor_name.lower() if ch.isalnum())[:20] or "usaha"
    return f"{handle}{rng.randint(1, 99)}@" + rng.choice(("gmail.com", "yahoo.co.id", "contoh.id"))
