"""Product events, on `etalase.catalog.products`, keyed by `product_id`."""

from datetime import date
from typing import ClassVar, Self

from pydantic import model_validator

from etalase_events.base import Event
from etalase_events.primitives import (
    Catalog,
    DelistReason,
    Id,
    KabKotaCode,
    LegalForm,
    Percent,
    PositiveIdr,
    RegionCode,
    Scale,
    Text,
    UtcDatetime,
)
from etalase_events.topics import PRODUCTS


class ProductListed(Event):
    """A product was listed (tayang) in a catalogue, with the vendor as known when listing."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = PRODUCTS

    product_id: Id
    vendor_id: Id
    catalog: Catalog
    catalog_region_code: RegionCode | None = None
    """The region whose local catalogue this is; required for `lokal`."""
    category: Text
    """Catalogue category (etalase/kategori)."""
    name: Text
    brand: Text | None = None
    unit: Text
    price_idr: PositiveIdr
    domestic: bool
    """Produced in Indonesia (PDN)."""
    tkdn_pct: Percent | None = None
    bmp_pct: Percent | None = None
    tkdn_certificate_no: Text | None = None
    vendor_scale: Scale
    vendor_legal_form: LegalForm
    vendor_region_code: KabKotaCode
    listed_at: UtcDatetime

    @model_validator(mode="after")
    def _local_catalogue_has_a_region(self) -> Self:
        if self.catalog is Catalog.LOKAL and self.catalog_region_code is None:
            raise ValueError("catalog_region_code is required for the lokal catalog")
        return self


class ProductPriceChanged(Event):
    """The vendor changed the product's price."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = PRODUCTS

    product_id: Id
    price_idr: PositiveIdr
    previous_price_idr: PositiveIdr
    changed_at: UtcDatetime


class ProductTkdnCertified(Event):
    """The product got a (new) TKDN certificate from Kemenperin."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = PRODUCTS

    product_id: Id
    tkdn_pct: Percent
    bmp_pct: Percent
    certificate_no: Text
    valid_until: date
    certified_at: UtcDatetime


class ProductDelisted(Event):
    """The product was taken down (turun tayang)."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = PRODUCTS

    product_id: Id
    reason: DelistReason
    delisted_at: UtcDatetime


class ProductRelisted(Event):
    """A delisted product is displayed again."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = PRODUCTS

    product_id: Id
    relisted_at: UtcDatetime
