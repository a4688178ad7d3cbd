"""A product field is declared once per layer and the rest follows it by name: the row and the
public body are the domain product's fields, the create body is the draft's, and the
ProductListed event carries the draft. A field added to one layer but not its partners fails
here, not in production (where the by-name mapping would raise or drop it)."""

from dataclasses import fields

from etalase_catalog.db import ProductRow
from etalase_catalog.domain import Product, ProductDraft
from etalase_catalog.schemas import ProductCreate, ProductPublic
from etalase_events.models import ProductListed

PRODUCT = {field.name for field in fields(Product)}
DRAFT = {field.name for field in fields(ProductDraft)}
VENDOR_AS_HEARD = {"vendor_scale", "vendor_legal_form", "vendor_region_code"}


def test_the_row_has_a_column_for_each_field_of_the_product_and_no_other() -> None:
    assert set(ProductRow.__table__.columns.keys()) == PRODUCT  # type: ignore[attr-defined]


def test_the_public_body_is_the_product_and_its_vendor_as_catalog_heard_of_it() -> None:
    assert set(ProductPublic.model_fields) == PRODUCT | VENDOR_AS_HEARD


def test_the_create_body_and_the_listing_event_carry_the_draft() -> None:
    assert set(ProductCreate.model_fields) == DRAFT
    assert DRAFT.issubset(ProductListed.model_fields)
    assert DRAFT.issubset(PRODUCT) and DRAFT != PRODUCT
