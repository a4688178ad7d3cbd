"""The vendor table and the queries on it."""

from dataclasses import dataclass
from datetime import datetime

from etalase_platform.domain_errors import RuleBroken
from etalase_platform.scope import covered_by
from sqlalchemy import ARRAY, Column, ColumnElement, DateTime, Text, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession


class RegistrationTable(SQLModel, registry=registry()):
    """Base of this service's tables, on metadata of their own: other services loaded in the
    same process (as in the tests) have tables with the same names."""


class Vendor(RegistrationTable, table=True):
    __tablename__ = "vendors"

    vendor_id: str = Field(primary_key=True)
    nib: str = Field(unique=True)
    npwp: str
    name: str
    legal_form: str
    scale: str
    region_code: str = Field(index=True)
    kbli: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    address: str | None = None
    email: str | None = None
    phone: str | None = None
    channel: str
    desk_id: str | None = None
    status: str
    suspension_reason: str | None = None
    version: int
    """The sequence of the vendor's latest event: 1 once registered, +1 for each change."""
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


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
