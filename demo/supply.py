"""Who sells: vendors of every scale and legal form, their products and what changes in the
catalogue before the year's orders. Pure; drawn from the plan's random generator."""

import math
import random
from decimal import Decimal

from demo import identifiers, names
from demo.catalogue import BY_NAME, CATEGORIES, Category
from demo.model import Certification, Product, Vendor, meets_pdn_wajib
from demo.places import REGIONS

_LEGAL_FORMS = ("perorangan", "cv", "pt", "koperasi", "firma", "lainnya")
_LEGAL_WEIGHTS = {"light": (36, 36, 13, 9, 2, 4), "heavy": (8, 34, 48, 6, 3, 1)}
_SCALES = ("mikro", "kecil", "menengah", "besar")
_SCALE_WEIGHTS = {
    "perorangan": (80, 20, 0, 0),
    "cv": (30, 48, 20, 2),
    "pt": (4, 24, 40, 32),
    "koperasi": (40, 40, 20, 0),
    "firma": (10, 50, 40, 0),
    "lainnya": (60, 40, 0, 0),
}
_CATEGORY_WEIGHTS = {
    "Batik dan Seragam": 14,
    "Jasa Boga dan Konsumsi Rapat": 14,
    "Alat Tulis Kantor": 12,
    "Percetakan dan Penggandaan": 9,
    "Hasil Perikanan dan Pangan Lokal": 8,
}


def vendors(rng: random.Random, count: int) -> list[Vendor]:
    weights = [_CATEGORY_WEIGHTS.get(c.name, 5) for c in CATEGORIES]
    vendors: list[Vendor] = []
    for key in range(count):
        # the first vendors cover every category, so each has something to buy
        primary = CATEGORIES[key] if key < len(CATEGORIES) else rng.choices(CATEGORIES, weights)[0]
        categories = [primary]
        if rng.random() < 0.25:
            categories.append(rng.choices(CATEGORIES, weights)[0])
        vendors.append(_vendor(rng, key, primary, tuple(dict.fromkeys(c.name for c in categories))))
    # a few keep their documents pending; a few are suspended, one of them reinstated later
    candidates = list(range(len(CATEGORIES), count))
    rng.shuffle(candidates)
    pending = max(1, count // 50)
    suspended = max(2, count // 100)
    for index in candidates[:pending]:
        vendors[index].fate = "unverified"
    for index in candidates[pending : pending + suspended]:
        vendors[index].fate = "suspended"
    vendors[candidates[pending]].fate = "reinstated"
    return vendors


def _vendor(rng: random.Random, key: int, primary: Category, categories: tuple[str, ...]) -> Vendor:
    region = rng.choices(REGIONS, [r.vendor_share for r in REGIONS])[0]
    legal_form = rng.choices(_LEGAL_FORMS, _LEGAL_WEIGHTS["heavy" if primary.heavy else "light"])[0]
    scale = rng.choices(_SCALES, _SCALE_WEIGHTS[legal_form])[0]
    name = names.business_name(rng, legal_form, primary)
    at_desk = rng.random() < 0.65
    return Vendor(
        key=key,
        nib=identifiers.nib(rng),
        npwp=identifiers.npwp(rng, sixteen_digits=rng.random() < 0.3),
        name=name,
        legal_form=legal_form,
        scale=scale,
        region_code=region.code,
        kbli=list(dict.fromkeys(BY_NAME[c].kbli for c in categories)),
        channel="mpp_desk" if at_desk else "online",
        desk=rng.choice(region.desks) if at_desk else None,
        address=names.address(rng, region.streets, region.name),
        phone=names.phone(rng, region.code) if at_desk or rng.random() < 0.5 else None,
        email=names.email(rng, name) if not at_desk or rng.random() < 0.3 else None,
        categories=categories,
    )


# --- products -------------------------------------------------------------------------------


def products(
    rng: random.Random, vendors: list[Vendor], count: int, fiscal_year: int
) -> list[Product]:
    sellers = [v for v in vendors if v.fate != "unverified"]
    # a few vendors list a lot, most list a handful; every seller lists at least one
    shares = [rng.paretovariate(1.6) for _ in sellers]
    extra = count - len(sellers)
    counts = [1] * len(sellers)
    if extra > 0:
        for index in rng.choices(range(len(sellers)), shares, k=extra):
            counts[index] += 1
    products: list[Product] = []
    for seller, n in zip(sellers, counts, strict=True):
        for listed in range(n):
            if len(products) == count:
                break
            # its first product is of its main trade, so every category has one
            name = seller.categories[0] if listed == 0 else rng.choice(seller.categories)
            category = BY_NAME[name]
            products.append(_product(rng, len(products), seller, category, fiscal_year))
    return products


def _product(
    rng: random.Random, key: int, seller: Vendor, category: Category, fiscal_year: int
) -> Product:
    catalog = rng.choices(category.catalogs, [3] + [1] * (len(category.catalogs) - 1))[0]
    domestic = rng.random() >= category.imported_share
    tkdn = bmp = None
    certificate = None
    if domestic and rng.random() < category.certified_share:
        tkdn, bmp, certificate = _tkdn(rng, fiscal_year - rng.randint(0, 2))
    return Product(
        key=key,
        vendor_key=seller.key,
        catalog=catalog,
        catalog_region_code=seller.region_code if catalog == "lokal" else None,
        category=category.name,
        name=f"{rng.choice(category.items)} {names.brand(rng, seller.name, domestic=domestic)}",
        brand=names.brand(rng, seller.name, domestic=domestic),
        unit=category.unit,
        price_idr=_price(rng, *category.price_idr),
        domestic=domestic,
        tkdn_pct=tkdn,
        bmp_pct=bmp,
        certificate_no=certificate,
    )


def _tkdn(rng: random.Random, year: int) -> tuple[Decimal, Decimal, str]:
    """A Kemenperin certificate: most above 25 %, some below; BMP up to 15 %."""
    low, high = (10, 25) if rng.random() < 0.2 else (25, 88)
    tkdn = Decimal(rng.randint(low * 100, high * 100 - 1)).scaleb(-2)
    bmp = Decimal(0) if rng.random() < 0.3 else Decimal(rng.randint(200, 1500)).scaleb(-2)
    number = f"{rng.randint(100, 99999)}/SJ-IND.8/TKDN/{rng.randint(1, 12)}/{year}"
    return tkdn, bmp, number


def _price(rng: random.Random, low: int, high: int) -> int:
    price = math.exp(rng.uniform(math.log(low), math.log(high)))
    step = 500 if price < 100_000 else 5_000 if price < 5_000_000 else 50_000
    return max(step, round(price / step) * step)


def plan_catalog_changes(
    rng: random.Random, vendors: list[Vendor], products: list[Product], fiscal_year: int
) -> None:
    """Before the year's orders: price changes, new TKDN certificates, a few delistings; and in
    every category a PDN-wajib product displayed all year (an anchor), so that the flag
    `pdn_alternative_available` depends on the line alone."""
    anchors = _anchors(rng, vendors, products, fiscal_year)
    for product in products:
        if vendors[product.vendor_key].fate != "verified":
            continue  # a suspended vendor's products cannot change
        roll = rng.random()
        if roll < 0.06:
            factor = rng.uniform(0.85, 1.15)
            product.new_price_idr = max(500, round(product.price_idr * factor / 500) * 500)
        elif roll < 0.09 and product.key not in anchors:
            by_admin = product.catalog == "lokal" and roll < 0.065
            product.delist = "admin" if by_admin else "vendor_request"
        if product.domestic and product.tkdn_pct is None and rng.random() < 0.25:
            tkdn, bmp, number = _tkdn(rng, fiscal_year)
            product.certification = Certification(tkdn, bmp, number, f"{fiscal_year + 3}-12-31")


def _anchors(
    rng: random.Random, vendors: list[Vendor], products: list[Product], fiscal_year: int
) -> set[int]:
    """One product a category, of a vendor verified all year, meeting TKDN >= 25 and
    TKDN + BMP >= 40 (certified so if none does yet)."""
    anchors = set()
    for category in CATEGORIES:
        eligible = [
            p
            for p in products
            if p.category == category.name and vendors[p.vendor_key].fate == "verified"
        ]
        if not eligible:
            raise ValueError(f"no product in {category.name}: raise --products")
        qualifying = [p for p in eligible if meets_pdn_wajib(p.tkdn_pct, p.bmp_pct)]
        anchor = (
            qualifying[0] if qualifying else min(eligible, key=lambda p: (not p.domestic, p.key))
        )
        if not qualifying:
            anchor.domestic = True
            anchor.tkdn_pct, anchor.bmp_pct = Decimal("43.50"), Decimal("7.25")
            anchor.certificate_no = f"{rng.randint(100, 99999)}/SJ-IND.8/TKDN/1/{fiscal_year}"
        anchors.add(anchor.key)
    return anchors
