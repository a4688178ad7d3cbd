"""The vendor's rules, without I/O: its lifecycle, what a profile change is, text clean-up."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from etalase_events.models import Channel, LegalForm, Scale, VendorStatus
from etalase_platform.domain_errors import RuleBroken

NAME_MAX_LENGTH = 200
REASON_MAX_LENGTH = 500
ADDRESS_MAX_LENGTH = 500


class Transition(StrEnum):
    VERIFY = "verify"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


# A suspension is lifted by reinstating, which returns the vendor to verified: a suspended
# vendor was verified before, and its documents do not need checking again.
_TRANSITIONS: dict[Transition, tuple[VendorStatus, VendorStatus]] = {
    Transition.VERIFY: (VendorStatus.REGISTERED, VendorStatus.VERIFIED),
    Transition.SUSPEND: (VendorStatus.VERIFIED, VendorStatus.SUSPENDED),
    Transition.REINSTATE: (VendorStatus.SUSPENDED, VendorStatus.VERIFIED),
}


def next_status(current: VendorStatus, transition: Transition) -> VendorStatus:
    """The status after `transition`; RuleBroken `transition_forbidden` from any other status."""
    source, target = _TRANSITIONS[transition]
    if current is not source:
        raise RuleBroken(
            "transition_forbidden",
            f"cannot {transition} a vendor that is {current} (it must be {source})",
            vendor_status=current.value,
        )
    return target


def registration_channel(registered_by_desk: bool) -> Channel:
    """An MPP desk officer registers in person; a regional admin's registrations are online."""
    return Channel.MPP_DESK if registered_by_desk else Channel.ONLINE


@dataclass(frozen=True)
class Profile:
    """The part of a vendor that PATCH may change (and VendorProfileUpdated reports)."""

    name: str
    legal_form: LegalForm
    scale: Scale
    kbli: tuple[str, ...]


PROFILE_FIELDS = ("name", "legal_form", "scale", "kbli")


def profile_changes(current: Profile, requested: Mapping[str, Any]) -> dict[str, Any]:
    """The requested values that differ from the current profile: only these are written and
    reported, so a request that changes nothing changes nothing at all."""
    unknown = set(requested) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    return {field: value for field, value in requested.items() if getattr(current, field) != value}


def clean_text(value: str, *, max_length: int) -> str:
    """Surrounding whitespace removed and inner runs of whitespace made one space; it must
    remain non-empty. A name typed at a desk often carries stray spaces."""
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError("must not be empty")
    if len(cleaned) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return cleaned
