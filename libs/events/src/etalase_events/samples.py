"""One valid instance of every current event type, for tests and documentation."""

from datetime import UTC, date, datetime
from decimal import Decimal

from etalase_events.models import (
    BudgetAllocated,
    Catalog,
    Channel,
    DelistReason,
    Event,
    LegalForm,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderLine,
    OrderPlaced,
    ProductDelisted,
    ProductListed,
    ProductPriceChanged,
    ProductRelisted,
    ProductTkdnCertified,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorSuspended,
    VendorVerified,
)
from etalase_events.topics import BUDGETS, ORDERS, PRODUCTS, VENDORS

VENDOR_ID = "7d1e2a4c-3b9f-4f0e-9a51-0c2d8e6b1f37"
PRODUCT_ID = "c4a8e0f2-5d6b-4e1a-8f3c-9b7d2a1e6c50"
ORDER_ID = "5e9b1c3d-7f2a-4b8e-a6d0-1c4f8e2b9a73"
OPD_CODE = "33.75.1.02"
REGION_CODE = "33.75"
AT = datetime(2024, 6, 27, 6, 43, 0, 123456, tzinfo=UTC)

_samples: list[Event] = [
    VendorRegistered(
        vendor_id=VENDOR_ID,
        nib="9120001234567",
        name="Batik Sekar Jagad",
        legal_form=LegalForm.CV,
        scale=Scale.MIKRO,
        region_code=REGION_CODE,
        kbli=("13134", "47711"),
        channel=Channel.MPP_DESK,
        desk_id="mpp-pekalongan-03",
        registered_at=AT,
    ),
    VendorVerified(vendor_id=VENDOR_ID, verified_at=AT),
    VendorProfileUpdated(vendor_id=VENDOR_ID, updated_at=AT, scale=Scale.KECIL),
    VendorSuspended(vendor_id=VENDOR_ID, reason="NIB dicabut", suspended_at=AT),
    VendorReinstated(vendor_id=VENDOR_ID, reinstated_at=AT),
    ProductListed(
        product_id=PRODUCT_ID,
        vendor_id=VENDOR_ID,
        catalog=Catalog.LOKAL,
        catalog_region_code=REGION_CODE,
        category="Seragam dan Tekstil",
        name="Kain batik tulis 2 m",
        brand="Sekar Jagad",
        unit="lembar",
        price_idr=350_000,
        domestic=True,
        tkdn_pct=Decimal("45.50"),
        bmp_pct=Decimal("8.25"),
        tkdn_certificate_no="1234/SJ-IND.8/TKDN/2024",
        vendor_scale=Scale.MIKRO,
        vendor_legal_form=LegalForm.CV,
        vendor_region_code=REGION_CODE,
        listed_at=AT,
    ),
    ProductPriceChanged(
        product_id=PRODUCT_ID, price_idr=375_000, previous_price_idr=350_000, changed_at=AT
    ),
    ProductTkdnCertified(
        product_id=PRODUCT_ID,
        tkdn_pct=Decimal("47.10"),
        bmp_pct=Decimal("8.25"),
        certificate_no="2345/SJ-IND.8/TKDN/2024",
        valid_until=date(2027, 6, 30),
        certified_at=AT,
    ),
    ProductDelisted(product_id=PRODUCT_ID, reason=DelistReason.VENDOR_REQUEST, delisted_at=AT),
    ProductRelisted(product_id=PRODUCT_ID, relisted_at=AT),
    BudgetAllocated(
        fiscal_year=2024,
        opd_code=OPD_CODE,
        opd_name="Dinas Pendidikan dan Kebudayaan",
        region_code=REGION_CODE,
        pagu_idr=12_500_000_000,
        allocated_at=AT,
    ),
    OrderPlaced(
        order_id=ORDER_ID,
        opd_code=OPD_CODE,
        region_code=REGION_CODE,
        fiscal_year=2024,
        rup_code="45123456",
        vendor_id=VENDOR_ID,
        vendor_scale=Scale.MIKRO,
        vendor_legal_form=LegalForm.CV,
        vendor_region_code=REGION_CODE,
        lines=(
            OrderLine(
                line_no=1,
                product_id=PRODUCT_ID,
                name="Kain batik tulis 2 m",
                category="Seragam dan Tekstil",
                catalog=Catalog.LOKAL,
                quantity=40,
                unit_price_idr=350_000,
                subtotal_idr=14_000_000,
                domestic=True,
                tkdn_pct=Decimal("45.50"),
                bmp_pct=Decimal("8.25"),
                pdn_alternative_available=False,
            ),
            OrderLine(
                line_no=2,
                product_id="0f3b6d8a-2c4e-4a7b-9e1d-5c8a3f6b2d94",
                name="Printer laser A4",
                category="Peralatan Kantor",
                catalog=Catalog.NASIONAL,
                quantity=2,
                unit_price_idr=2_750_000,
                subtotal_idr=5_500_000,
                domestic=False,
                pdn_alternative_available=True,
                pdn_alternatives=("7c2e9b14-5d3a-4f6e-8b1c-2a9d4e7f3b60",),
            ),
        ),
        total_idr=19_500_000,
        placed_at=AT,
    ),
    OrderAccepted(order_id=ORDER_ID, accepted_at=AT),
    OrderCompleted(order_id=ORDER_ID, completed_at=AT),
    OrderCancelled(order_id=ORDER_ID, reason="Anggaran direvisi", cancelled_at=AT),
]

SAMPLES: dict[str, Event] = {sample.event_type: sample for sample in _samples}

_SUBJECT_ON = {
    VENDORS: VENDOR_ID,
    PRODUCTS: PRODUCT_ID,
    BUDGETS: f"2024:{OPD_CODE}",
    ORDERS: ORDER_ID,
}
SUBJECTS: dict[str, str] = {
    event_type: _SUBJECT_ON[sample.topic] for event_type, sample in SAMPLES.items()
}
"""The subject (aggregate id) of each sample, by event type."""
