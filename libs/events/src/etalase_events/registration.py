"""Vendor events, on `etalase.registration.vendors`, keyed by `vendor_id`."""

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import SerializerFunctionWrapHandler, model_serializer

from etalase_events.base import Event
from etalase_events.primitives import (
    Channel,
    Id,
    KabKotaCode,
    Kbli,
    LegalForm,
    Nib,
    Scale,
    Text,
    UtcDatetime,
)
from etalase_events.topics import VENDORS


class VendorRegistered(Event):
    """A business was registered as a government supplier, at an MPP desk or online."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = VENDORS

    vendor_id: Id
    nib: Nib
    name: Text
    legal_form: LegalForm
    scale: Scale
    region_code: KabKotaCode
    """Kabupaten/kota where the business is domiciled."""
    kbli: Kbli
    channel: Channel
    desk_id: Text | None = None
    """The MPP desk that registered the vendor."""
    registered_at: UtcDatetime


class VendorVerified(Event):
    """The registration desk verified the vendor's documents."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = VENDORS

    vendor_id: Id
    verified_at: UtcDatetime


class VendorProfileUpdated(Event):
    """Some of the vendor's profile changed. Only the changed fields are present: an absent (or
    null) field kept its value."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = VENDORS

    vendor_id: Id
    updated_at: UtcDatetime
    name: Text | None = None
    legal_form: LegalForm | None = None
    scale: Scale | None = None
    region_code: KabKotaCode | None = None
    kbli: Kbli | None = None

    # None cannot be a new value (every field is required in VendorRegistered), so it means
    # "unchanged" and is left out, leaving exactly the changed fields on the wire. No "at least
    # one change" rule: a later optional field may be the only change, and an older consumer
    # must still accept that event.
    @model_serializer(mode="wrap")
    def _changed_fields_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        fields: dict[str, Any] = handler(self)
        return {name: value for name, value in fields.items() if value is not None}


class VendorSuspended(Event):
    """The vendor may no longer sell; its products are delisted."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = VENDORS

    vendor_id: Id
    reason: Text
    suspended_at: UtcDatetime


class VendorReinstated(Event):
    """A suspended vendor may sell again."""

    version: ClassVar[int] = 1
    topic: ClassVar[str] = VENDORS

    vendor_id: Id
    reinstated_at: UtcDatetime


class VendorStatus(StrEnum):
    """Where a vendor stands, as registration's events leave it: every service that keeps a
    vendor's status (registration's state machine, catalog's and reporting's views) uses this."""

    REGISTERED = "registered"
    VERIFIED = "verified"
    SUSPENDED = "suspended"


STATUS_AFTER: dict[type[Event], VendorStatus] = {
    VendorRegistered: VendorStatus.REGISTERED,
    VendorVerified: VendorStatus.VERIFIED,
    VendorSuspended: VendorStatus.SUSPENDED,
    VendorReinstated: VendorStatus.VERIFIED,
}
"""The status each status-setting vendor event leaves its vendor in (a profile update sets none)."""
