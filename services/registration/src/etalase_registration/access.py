"""Who may do what with a vendor (api.md, "Authentication and scope").

- `desk` and `admin` register and manage vendors of their region.
- `auditor` reads vendors of its region, or of everywhere when its token has no region.
- `vendor` reads its own record only.
- `buyer` has nothing to do with the vendor registry: every call is 403.

Roles are checked before anything is looked up, so a role that may not act learns nothing about
which vendors exist; the region is checked against the vendor once it is found.
"""

from dataclasses import dataclass

from etalase_platform.auth import Principal, Role
from etalase_platform.problems import Forbidden

MANAGERS = (Role.DESK, Role.ADMIN)
READERS = (Role.DESK, Role.ADMIN, Role.AUDITOR, Role.VENDOR)


def require_manager(principal: Principal) -> None:
    principal.require_role(*MANAGERS)


def require_reader(principal: Principal) -> None:
    principal.require_role(*READERS)


def require_may_manage(principal: Principal, region_code: str) -> None:
    require_manager(principal)
    principal.require_region(region_code)


def require_may_read_id(principal: Principal, vendor_id: str) -> None:
    """What can be decided from the id alone: the role, and a vendor's own record."""
    require_reader(principal)
    if principal.role is Role.VENDOR and principal.vendor_id != vendor_id:
        raise Forbidden("a vendor may read only its own record")


def require_may_read(principal: Principal, vendor_id: str, region_code: str) -> None:
    require_may_read_id(principal, vendor_id)
    if principal.role is not Role.VENDOR:
        principal.require_region(region_code)


@dataclass(frozen=True)
class ListScope:
    """The vendors a caller may list: of a region (None: everywhere) or only its own record."""

    region: str | None
    vendor_id: str | None


def list_scope(principal: Principal, region_filter: str | None) -> ListScope:
    require_reader(principal)
    if principal.role is Role.VENDOR:
        return ListScope(region=None, vendor_id=principal.vendor_id)
    if region_filter is not None:
        principal.require_region(region_filter)
    return ListScope(region=principal.region, vendor_id=None)
