"""The scenario's plan as data: agencies, vendors, products, orders, and the world holding them."""

from dataclasses import dataclass, field
from decimal import Decimal

PDN_TKDN = Decimal(25)
PDN_TKDN_PLUS_BMP = Decimal(40)
QUARTERS = 4


def meets_pdn_wajib(tkdn: Decimal | None, bmp: Decimal | None) -> bool:
    return tkdn is not None and tkdn >= PDN_TKDN and tkdn + (bmp or 0) >= PDN_TKDN_PLUS_BMP


@dataclass(frozen=True)
class Opd:
    code: str
    name: str
    region_code: str
    kind: str
    weight: float


@dataclass
class Vendor:
    key: int
    nib: str
    npwp: str
    name: str
    legal_form: str
    scale: str
    region_code: str
    kbli: list[str]
    channel: str
    """`mpp_desk` (registered by a desk officer) or `online` (by the region's admin)."""
    desk: str | None
    address: str
    phone: str | None
    email: str | None
    categories: tuple[str, ...]
    fate: str = "verified"
    """`verified`, `unverified` (documents still pending), `suspended`, or `reinstated`."""

    @property
    def orderable(self) -> bool:
        """Its products stay displayed all year, so orders may go to it."""
        return self.fate == "verified"


@dataclass(frozen=True)
class Certification:
    tkdn_pct: Decimal
    bmp_pct: Decimal
    certificate_no: str
    valid_until: str


@dataclass
class Product:
    key: int
    vendor_key: int
    catalog: str
    catalog_region_code: str | None
    category: str
    name: str
    brand: str
    unit: str
    price_idr: int
    domestic: bool
    tkdn_pct: Decimal | None
    bmp_pct: Decimal | None
    certificate_no: str | None
    new_price_idr: int | None = None
    certification: Certification | None = None
    delist: str | None = None
    """`vendor_request` or `admin`: taken down before the year's orders."""

    @property
    def final_price_idr(self) -> int:
        return self.new_price_idr or self.price_idr

    @property
    def final_tkdn(self) -> tuple[Decimal | None, Decimal | None]:
        if self.certification:
            return self.certification.tkdn_pct, self.certification.bmp_pct
        return self.tkdn_pct, self.bmp_pct


@dataclass(frozen=True)
class OrderPlan:
    key: int
    opd_code: str
    quarter: int
    lines: tuple[tuple[int, int], ...]
    """(product key, quantity), all products of one vendor."""
    fate: str
    settle_quarter: int
    """When the order is completed or cancelled."""


@dataclass
class World:
    seed: int
    fiscal_year: int
    opds: list[Opd]
    vendors: list[Vendor]
    products: list[Product]
    orders: list[OrderPlan]
    pagu_idr: dict[str, int]
    revised_pagu_idr: dict[str, int] = field(default_factory=dict)
    """APBD-Perubahan: the budgets raised in the third quarter."""

    def vendor_of(self, product: Product) -> Vendor:
        return self.vendors[product.vendor_key]


def order_total(world: World, plan: OrderPlan) -> int:
    return sum(world.products[key].final_price_idr * quantity for key, quantity in plan.lines)
