"""Use cases: each opens one transaction, checks the caller's scope, applies the domain rules,
writes the vendor and enqueues its event in the outbox, so that both commit or neither does.

Log lines name vendors by id and region only: NPWP, NIK, e-mail and phone never appear.
"""

import logging
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from etalase_events.models import (
    Event,
    LegalForm,
    Scale,
    VendorProfileUpdated,
    VendorRegistered,
    VendorReinstated,
    VendorStatus,
    VendorSuspended,
    VendorVerified,
)
from etalase_platform.auth import Principal, Role
from etalase_platform.db import SessionFactory, session_transaction
from etalase_platform.deps import Page, PageParams
from etalase_platform.idempotency import Answer, StoredResponse, run_once
from etalase_platform.models import respond
from etalase_platform.outbox import enqueue
from etalase_platform.problems import Invalid, NotFound
from sqlmodel.ext.asyncio.session import AsyncSession

from etalase_registration import access, db, regions
from etalase_registration.domain import (
    Profile,
    Transition,
    next_status,
    profile_changes,
    registration_channel,
)
from etalase_registration.identifiers import mask_digits, mask_email
from etalase_registration.schemas import ProfileUpdate, VendorRegistration, VendorView

log = logging.getLogger(__name__)
SOURCE = "etalase/registration"


async def register_vendor(
    sessions: SessionFactory,
    principal: Principal,
    request: VendorRegistration,
    *,
    idempotency_key: str | None,
) -> StoredResponse:
    """Register a vendor once; a retry with the same Idempotency-Key gets the first answer."""
    access.require_may_manage(principal, request.region_code)

    async def create(session: AsyncSession, _answer: Answer) -> dict[str, Any]:
        view = await _register(session, principal, request)
        return view.model_dump(mode="json")

    stored = await run_once(
        session_transaction(sessions),
        key=idempotency_key,
        # per caller, so that two desks choosing the same key cannot see each other's answers
        scope=f"POST /vendors {principal.sub}",
        request=request,
        create=create,
    )
    if not stored.replayed:
        log.info(
            "vendor %s registered in %s by %s",
            stored.body["vendor_id"],
            request.region_code,
            principal.sub,
        )
    return stored


async def _register(
    session: AsyncSession, principal: Principal, request: VendorRegistration
) -> VendorView:
    now = datetime.now(UTC)
    at_desk = principal.role is Role.DESK
    vendor = db.Vendor(
        vendor_id=str(uuid.uuid4()),
        nib=request.nib,
        npwp=request.npwp,
        name=request.name,
        legal_form=request.legal_form,
        scale=request.scale,
        region_code=request.region_code,
        kbli=list(request.kbli),
        address=request.address,
        email=request.email,
        phone=request.phone,
        channel=registration_channel(at_desk),
        desk_id=principal.sub if at_desk else None,
        status=VendorStatus.REGISTERED,
        version=1,
        registered_at=now,
        updated_at=now,
    )
    await db.insert_vendor(session, vendor)
    event = VendorRegistered(
        vendor_id=vendor.vendor_id,
        nib=vendor.nib,
        name=vendor.name,
        legal_form=request.legal_form,
        scale=request.scale,
        region_code=vendor.region_code,
        kbli=tuple(vendor.kbli),
        channel=registration_channel(at_desk),
        desk_id=vendor.desk_id,
        registered_at=now,
    )
    await enqueue(session, event, source=SOURCE, subject=vendor.vendor_id, sequence=1, time=now)
    return to_view(vendor)


async def get_vendor(sessions: SessionFactory, principal: Principal, vendor_id: str) -> VendorView:
    access.require_may_read_id(principal, vendor_id)
    async with sessions() as session:
        vendor = await db.get_vendor(session, vendor_id)
    if vendor is None:
        raise NotFound(f"no vendor {vendor_id}")
    access.require_may_read(principal, vendor_id, vendor.region_code)
    return to_view(vendor)


async def list_vendors(
    sessions: SessionFactory,
    principal: Principal,
    *,
    region_code: str | None,
    status: VendorStatus | None,
    scale: Scale | None,
    paging: PageParams,
) -> Page[VendorView]:
    access.require_reader(principal)
    if region_code is not None and not (
        regions.kab_kota_name(region_code) or regions.province_name(region_code)
    ):
        raise Invalid("region_code", "not a Kemendagri province or kabupaten/kota code")
    scope = access.list_scope(principal, region_code)
    where = db.VendorFilter(
        region_code=region_code,
        status=status.value if status else None,
        scale=scale.value if scale else None,
        scope_region=scope.region,
        scope_vendor_id=scope.vendor_id,
    )
    async with sessions() as session:
        vendors, total = await db.list_vendors(
            session, where, limit=paging.limit, offset=paging.offset
        )
    return Page(items=[to_view(vendor) for vendor in vendors], total=total)


async def update_profile(
    sessions: SessionFactory, principal: Principal, vendor_id: str, request: ProfileUpdate
) -> VendorView:
    """Apply the fields that differ; VendorProfileUpdated carries exactly those, and a request
    that changes nothing writes nothing and emits nothing."""
    access.require_manager(principal)
    async with sessions() as session, session.begin():
        vendor = await _vendor_to_change(session, principal, vendor_id)
        current = Profile(
            name=vendor.name,
            legal_form=LegalForm(vendor.legal_form),
            scale=Scale(vendor.scale),
            kbli=tuple(vendor.kbli),
        )
        changes = profile_changes(current, request.requested())
        if changes:
            now = datetime.now(UTC)
            for field, value in changes.items():
                setattr(vendor, field, _column_value(value))
            event = VendorProfileUpdated(vendor_id=vendor_id, updated_at=now, **changes)
            await _record(session, vendor, event, now)
    if changes:
        log.info("vendor %s profile updated: %s", vendor_id, ", ".join(sorted(changes)))
    return to_view(vendor)


async def change_status(
    sessions: SessionFactory,
    principal: Principal,
    vendor_id: str,
    transition: Transition,
    *,
    reason: str | None = None,
) -> VendorView:
    """Verify, suspend or reinstate; any other move of the status machine is a 409."""
    access.require_manager(principal)
    async with sessions() as session, session.begin():
        vendor = await _vendor_to_change(session, principal, vendor_id)
        status = next_status(VendorStatus(vendor.status), transition)
        now = datetime.now(UTC)
        vendor.status = status
        vendor.suspension_reason = reason if transition is Transition.SUSPEND else None
        await _record(session, vendor, _status_event(transition, vendor_id, now, reason), now)
    log.info("vendor %s is now %s (%s by %s)", vendor_id, status, transition, principal.sub)
    return to_view(vendor)


def _status_event(
    transition: Transition, vendor_id: str, now: datetime, reason: str | None
) -> Event:
    if transition is Transition.VERIFY:
        return VendorVerified(vendor_id=vendor_id, verified_at=now)
    if transition is Transition.SUSPEND:
        assert reason is not None, "a suspension needs a reason"
        return VendorSuspended(vendor_id=vendor_id, reason=reason, suspended_at=now)
    return VendorReinstated(vendor_id=vendor_id, reinstated_at=now)


async def _vendor_to_change(
    session: AsyncSession, principal: Principal, vendor_id: str
) -> db.Vendor:
    """The vendor, locked for this transaction, once the caller's region is known to cover it."""
    vendor = await db.get_vendor(session, vendor_id, for_update=True)
    if vendor is None:
        raise NotFound(f"no vendor {vendor_id}")
    access.require_may_manage(principal, vendor.region_code)
    return vendor


async def _record(session: AsyncSession, vendor: db.Vendor, event: Event, now: datetime) -> None:
    """Bump the vendor's version and enqueue `event` with it as its sequence."""
    vendor.version += 1
    vendor.updated_at = now
    session.add(vendor)
    await enqueue(
        session, event, source=SOURCE, subject=vendor.vendor_id, sequence=vendor.version, time=now
    )


def _column_value(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def to_view(vendor: db.Vendor) -> VendorView:
    return respond(
        VendorView,
        vendor,
        npwp_masked=mask_digits(vendor.npwp),
        email_masked=mask_email(vendor.email) if vendor.email else None,
        phone_masked=mask_digits(vendor.phone) if vendor.phone else None,
    )
