"""Request and response bodies of the catalog API (api.md, "catalog")."""

from decimal import Decimal
from typing import Annotated

from etalase_events.models import Catalog, DelistReason, LegalForm, Scale
from etalase_events.primitives import RegionCode
from etalase_platform.deps import Day
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)

from etalase_catalog.db import ProductBase
from etalase_catalog.domain import BMP_MAX, TKDN_MAX, ProductDraft

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
_AsNumber = PlainSerializer(float, return_type=float, when_used="json")


def _percent(maximum: Decimal) -> WithJsonSchema:
    # a JSON number, as clients send it (pydantic would also offer any string for a Decimal)
    return WithJsonSchema(
        {
            "type": "number",
            "minimum": 0,
            "maximum": float(maximum),
            "description": "At most two decimals",
        }
    )


TkdnPct = Annotated[
    Decimal, Field(ge=0, le=TKDN_MAX, decimal_places=2), _AsNumber, _percent(TKDN_MAX)
]
BmpPct = Annotated[Decimal, Field(ge=0, le=BMP_MAX, decimal_places=2), _AsNumber, _percent(BMP_MAX)]
# A bound keeps absurd prices a 422 rather than a database overflow.
Price = Annotated[StrictInt, Field(gt=0, le=10**15, description="Whole rupiah, more than 0")]


class ProductCreate(BaseModel):
    vendor_id: Label
    catalog: Catalog
    catalog_region_code: RegionCode | None = Field(
        None, description="Required for `lokal`: the vendor's own kab/kota (or its province)"
    )
    category: Label
    name: Name
    brand: Label | None = None
    unit: Label
    price_idr: Price
    domestic: StrictBool
    tkdn_pct: TkdnPct | None = None
    bmp_pct: BmpPct | None = None
    tkdn_certificate_no: Label | None = Field(None, description="Required when tkdn_pct is given")

    def draft(self) -> ProductDraft:
        return ProductDraft(**self.model_dump())


class PriceChange(BaseModel):
    price_idr: Price


class TkdnCertificate(BaseModel):
    tkdn_pct: TkdnPct
    bmp_pct: BmpPct
    certificate_no: Label
    valid_until: Day


class DelistRequest(BaseModel):
    reason: DelistReason | None = Field(
        None,
        description="`vendor_request` (the vendor) or `admin` (the regional admin); defaults to"
        " the caller's. `vendor_suspended` is set only by a suspension.",
    )


# The product's own fields (as its row has them), and its vendor's. No docstring: it would
# become the schema's description in the OpenAPI document.
class ProductPublic(ProductBase):
    vendor_scale: Scale | None = Field(description="The vendor as catalog last heard of it.")
    vendor_legal_form: LegalForm | None
    vendor_region_code: str | None


class CategoryCount(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    category: str
    tayang: int
    """Displayed products in this category."""
