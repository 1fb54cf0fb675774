"""A group's members, as the group page lists them."""

from dataclasses import dataclass
from datetime import datetime

from models.group import Membership, MembershipSource
from services.customers import search_filter
from services.paging import Page, page_bounds


@dataclass(frozen=True)
class MemberRow:
    customer_id: int
    name: str
    company: str
    since: datetime
    lifetime_cents: int
    source: MembershipSource
    is_primary: bool


async def list_members(*, group_id: int, search: str = "", page: int = 1, per_page: int = 25) -> Page[MemberRow]:
    offset, limit = page_bounds(page, per_page)
    query = Membership.filter(group_id=group_id)
    if search.strip():
        query = query.filter(search_filter(search, prefix="customer__"))
    total = await query.count()
    rows = (
        await query.order_by("customer__name", "customer_id")
        .offset(offset)
        .limit(limit)
        .values(
            "customer_id",
            "customer__name",
            "customer__company",
            "since",
            "customer__lifetime_cents",
            "source",
            "is_primary",
        )
    )
    return Page(
        rows=[
            MemberRow(
                customer_id=r["customer_id"],
                name=r["customer__name"],
                company=r["customer__company"],
                since=r["since"],
                lifetime_cents=r["customer__lifetime_cents"],
                source=MembershipSource(r["source"]),
                is_primary=r["is_primary"],
            )
            for r in rows
        ],
        total=total,
        page=page,
        per_page=limit,
    )
