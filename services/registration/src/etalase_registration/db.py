"""The vendor table and the queries on it."""

from dataclasses import dataclass
from datetime import datetime

from etalase_events.models import Channel, LegalForm, Scale, VendorStatus
from etalase_platform.domain_errors import RuleBroken
from etalase_platform.models import TextEnum
from etalase_platform.scope import covered_by
from sqlalchemy import ARRAY, ColumnElement, DateTime, Index, Text, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession


class RegistrationTable(SQLModel, registry=registry()):
    """Base of this service's tables, on metadata of their own: other services loaded in the
    same process (as in the tests) have tables with the same names."""


class VendorBase(SQLModel):
    """A vendor's fields as stored and shown alike (`schemas.VendorView` adds the masked
    personal data); the row adds what is never shown as is."""

    vendor_id: str = Field(primary_key=True, sa_type=Text)
    # one registration per NIB: the index, not a prior look-up, settles concurrent ones
    nib: str = Field(unique=True, sa_type=Text)
    name: str = Field(sa_type=Text)
    legal_form: LegalForm = Field(sa_type=TextEnum(LegalForm))
    scale: Scale = Field(sa_type=TextEnum(Scale))
    region_code: str = Field(index=True, sa_type=Text)
    kbli: list[str] = Field(sa_type=ARRAY(Text))
    channel: Channel = Field(sa_type=TextEnum(Channel))
    desk_id: str | None = Field(sa_type=Text)
    status: VendorStatus = Field(sa_type=TextEnum(VendorStatus))
    registered_at: datetime = Field(sa_type=DateTime(timezone=True))
    address: str | None = Field(default=None, sa_type=Text)


class Vendor(VendorBase, RegistrationTable, table=True):
    __tablename__ = "vendors"
    __table_args__ = (Index("ix_vendors_registered_at", "registered_at", "vendor_id"),)

    npwp: str = Field(sa_type=Text)
    email: str | None = Field(default=None, sa_type=Text)
    phone: str | None = Field(default=None, sa_type=Text)
    suspension_reason: str | None = Field(default=None, sa_type=Text)
    version: int
    """The sequence of the vendor's latest event: 1 once registered, +1 for each change."""
    updated_at: datetime = Field(sa_type=DateTime(timezone=True))


async def insert_vendor(session: AsyncSession, vendor: Vendor) -> None:
    """Insert a new vendor, or refuse (409 `nib_taken`) naming the vendor that holds its NIB.

    The unique index decides, not a prior look-up: of two registrations of one NIB at the same
    moment, the second waits on the index until the first commits and then fails here.
    """
    try:
        async with session.begin_nested():
            session.add(vendor)
    except IntegrityError:
        holder = await vendor_id_by_nib(session, vendor.nib)
        if holder is None:
            raise
        raise RuleBroken("nib_taken", "this NIB is already registered", vendor_id=holder) from None


async def vendor_id_by_nib(session: AsyncSession, nib: str) -> str | None:
    result = await session.exec(select(Vendor.vendor_id).where(Vendor.nib == nib))
    return result.first()


async def get_vendor(
    session: AsyncSession, vendor_id: str, *, for_update: bool = False
) -> Vendor | None:
    """The vendor, locked until the transaction ends when it is about to change, so that
    concurrent changes apply one after the other and never reuse an event sequence."""
    query = select(Vendor).where(Vendor.vendor_id == vendor_id)
    if for_update:
        query = query.with_for_update()
    result = await session.exec(query)
    return result.first()


@dataclass(frozen=True)
class VendorFilter:
    """What to list. `region_code` and `scope_region` may be a kab/kota or a province."""

    region_code: str | None = None
    status: str | None = None
    scale: str | None = None
    scope_region: str | None = None
    scope_vendor_id: str | None = None


async def list_vendors(
    session: AsyncSession, where: VendorFilter, *, limit: int, offset: int
) -> tuple[list[Vendor], int]:
    """One page of vendors, newest first, and how many match in all."""
    conditions: list[ColumnElement[bool]] = []
    for region in (where.region_code, where.scope_region):
        if region is not None:
            conditions.append(covered_by(Vendor.region_code, region))
    if where.status is not None:
        conditions.append(col(Vendor.status) == where.status)
    if where.scale is not None:
        conditions.append(col(Vendor.scale) == where.scale)
    if where.scope_vendor_id is not None:
        conditions.append(col(Vendor.vendor_id) == where.scope_vendor_id)
    total = (await session.exec(select(func.count()).select_from(Vendor).where(*conditions))).one()
    page = await session.exec(
        select(Vendor)
        .where(*conditions)
        .order_by(col(Vendor.registered_at).desc(), col(Vendor.vendor_id))
        .limit(limit)
        .offset(offset)
    )
    return list(page.all()), total
