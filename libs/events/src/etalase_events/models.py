"""Every event model of the contract, and the registry of current event types."""

from etalase_events.base import Event
from etalase_events.catalog import (
    ProductDelisted,
    ProductListed,
    ProductPriceChanged,
    ProductRelisted,
    ProductTkdnCertified,
)
from etalase_events.primitives import Catalog, Channel, DelistReason, LegalForm, Scale
from etalase_events.purchasing import (
    BudgetAllocated,
    OrderAccepted,
    OrderCancelled,
    OrderCompleted,
    OrderLine,
    OrderPlaced,
)
from etalase_events.registration import (
    STATUS_AFTER,
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorStatus,
    VendorSuspended,
    VendorVerified,
)

__all__ = [
    "EVENT_TYPES",
    "STATUS_AFTER",
    "BudgetAllocated",
    "Catalog",
    "Channel",
    "DelistReason",
    "Event",
    "LegalForm",
    "OrderAccepted",
    "OrderCancelled",
    "OrderCompleted",
    "OrderLine",
    "OrderPlaced",
    "ProductDelisted",
    "ProductListed",
    "ProductPriceChanged",
    "ProductRelisted",
    "ProductTkdnCertified",
    "Scale",
    "VendorProfileUpdated",
    "VendorRegistered",
    "VendorReinstated",
    "VendorStatus",
    "VendorSuspended",
    "VendorVerified",
]

# Only the newest version of each event is here: older ones are upcast on decoding.
EVENT_TYPES: dict[str, type[Event]] = {
    model.event_type: model
    for model in (
        VendorRegistered,
        VendorVerified,
        VendorProfileUpdated,
        VendorSuspended,
        VendorReinstated,
        ProductListed,
        ProductPriceChanged,
        ProductTkdnCertified,
        ProductDelisted,
        ProductRelisted,
        BudgetAllocated,
        OrderPlaced,
        OrderAccepted,
        OrderCompleted,
        OrderCancelled,
    )
}
