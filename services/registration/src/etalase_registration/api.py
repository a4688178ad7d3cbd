"""HTTP routes of api.md, registration section: parse, call the service, answer."""

from typing import Annotated, Any

from etalase_events.models import Scale, VendorStatus
from etalase_platform.auth import CurrentPrincipal, Principal
from etalase_platform.deps import IdempotencyKey, Page, Paging, RegionFilter, Sessions
from etalase_platform.idempotency import respond
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from etalase_registration import access, service
from etalase_registration.domain import Transition
from etalase_registration.schemas import (
    ProfileUpdate,
    Suspension,
    VendorRegistration,
    VendorView,
)


# Roles are dependencies so that they are checked before the body: a role that may not act is
# told 403 whatever it sent.
async def _manager(principal: CurrentPrincipal) -> Principal:
    access.require_manager(principal)
    return principal


async def _reader(principal: CurrentPrincipal) -> Principal:
    access.require_reader(principal)
    return principal


Manager = Annotated[Principal, Depends(_manager)]
Reader = Annotated[Principal, Depends(_reader)]

# The platform documents every error status with its problem-details body; these only name
# what the status means here.
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such vendor"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The vendor's status forbids this (`rule`: `transition_forbidden`)"}
}

router = APIRouter(
    prefix="/vendors",
    tags=["vendors"],
    responses={403: {"description": "Role or region does not cover this vendor"}},
)


@router.post(
    "",
    status_code=201,
    response_model=VendorView,
    responses={
        409: {"description": "NIB already registered (`nib_taken`); `vendor_id` names its vendor"}
    },
)
async def register_vendor(
    body: VendorRegistration, principal: Manager, sessions: Sessions, key: IdempotencyKey = None
) -> JSONResponse:
    return respond(await service.register_vendor(sessions, principal, body, idempotency_key=key))


@router.get("")
async def list_vendors(
    principal: Reader,
    sessions: Sessions,
    paging: Paging,
    region_code: RegionFilter = None,
    status: VendorStatus | None = None,
    scale: Scale | None = None,
) -> Page[VendorView]:
    return await service.list_vendors(
        sessions, principal, region_code=region_code, status=status, scale=scale, paging=paging
    )


@router.get("/{vendor_id}", responses=_NOT_FOUND)
async def get_vendor(vendor_id: str, principal: Reader, sessions: Sessions) -> VendorView:
    return await service.get_vendor(sessions, principal, vendor_id)


@router.patch("/{vendor_id}", responses=_NOT_FOUND)
async def update_profile(
    vendor_id: str, body: ProfileUpdate, principal: Manager, sessions: Sessions
) -> VendorView:
    return await service.update_profile(sessions, principal, vendor_id, body)


@router.post("/{vendor_id}/verify", responses={**_NOT_FOUND, **_CONFLICT})
async def verify(vendor_id: str, principal: Manager, sessions: Sessions) -> VendorView:
    return await service.change_status(sessions, principal, vendor_id, Transition.VERIFY)


@router.post("/{vendor_id}/suspend", responses={**_NOT_FOUND, **_CONFLICT})
async def suspend(
    vendor_id: str, body: Suspension, principal: Manager, sessions: Sessions
) -> VendorView:
    return await service.change_status(
        sessions, principal, vendor_id, Transition.SUSPEND, reason=body.reason
    )


@router.post("/{vendor_id}/reinstate", responses={**_NOT_FOUND, **_CONFLICT})
async def reinstate(vendor_id: str, principal: Manager, sessions: Sessions) -> VendorView:
    return await service.change_status(sessions, principal, vendor_id, Transition.REINSTATE)
