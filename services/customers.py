"""Customers: the paged list, one customer's details, and their groups."""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from models.customer import Customer, CustomerStatus, CustomerTag, PaymentRating
from models.group import Membership, MembershipSource
from services.errors import NotFoundError
from services.paging import Page, page_bounds


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    company: str
    email: str
    country: str
    status: CustomerStatus
    lifetime_cents: int
    order_count: int
    groups: list[str]


@dataclass(frozen=True)
class CustomerMembership:
    group_id: int
    group_name: str
    source: MembershipSource
    is_primary: bool
    since: datetime


@dataclass(frozen=True)
class CustomerDetail:
    id: int
    name: str
    company: str
    email: str
    country: str
    status: CustomerStatus
    payment_rating: PaymentRating
    tags: list[str]
    created_at: datetime
    lifetime_cents: int
    order_count: int
    average_order_cents: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    memberships: list[CustomerMembership]


def search_filter(search: str, prefix: str = "") -> Q:
    """Name, company or email containing the text, case-insensitively (a bound parameter)."""
    text = search.strip()
    return (
        Q(**{f"{prefix}name__icontains": text})
        | Q(**{f"{prefix}company__icontains": text})
        | Q(**{f"{prefix}email__icontains": text})
    )


async def list_customers(
    *, search: str = "", group_id: int | None = None, page: int = 1, per_page: int = 25
) -> Page[CustomerRow]:
    offset, limit = page_bounds(page, per_page)
    query = Customer.all()
    if search.strip():
        query = query.filter(search_filter(search))
    if group_id is not None:
        query = query.filter(memberships__group_id=group_id)
    total = await query.count()
    customers = await query.order_by("name", "id").offset(offset).limit(limit)
    ids = [c.id for c in customers]
    groups: dict[int, list[str]] = {i: [] for i in ids}
    for customer_id, name in (
        await Membership.filter(customer_id__in=ids)
        .order_by("-is_primary", "group__name")
        .values_list("customer_id", "group__name")
    ):
        groups[customer_id].append(name)
    rows = [
        CustomerRow(
            id=c.id,
            name=c.name,
            company=c.company,
            email=c.email,
            country=c.country,
            status=c.status,
            lifetime_cents=c.lifetime_cents,
            order_count=c.order_count,
            groups=groups[c.id],
        )
        for c in customers
    ]
    return Page(rows=rows, total=total, page=page, per_page=limit)


async def get_customer(*, customer_id: int) -> CustomerDetail:
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        raise NotFoundError(f"There is no customer with id {customer_id}.")
    memberships = (
        await Membership.filter(customer_id=customer_id)
        .order_by("-is_primary", "group__name")
        .values("group_id", "group__name", "source", "is_primary", "since")
    )
    return CustomerDetail(
        id=customer.id,
        name=customer.name,
        company=customer.company,
        email=customer.email,
        country=customer.country,
        status=customer.status,
        payment_rating=customer.payment_rating,
        tags=list(await CustomerTag.filter(customer_id=customer_id).order_by("tag").values_list("tag", flat=True)),
        created_at=customer.created_at,
        lifetime_cents=customer.lifetime_cents,
        order_count=customer.order_count,
        average_order_cents=customer.average_order_cents or 0,
        first_order_at=customer.first_order_at,
        last_order_at=customer.last_order_at,
        memberships=[
            CustomerMembership(
                group_id=m["group_id"],
                group_name=m["group__name"],
                source=MembershipSource(m["source"]),
                is_primary=m["is_primary"],
                since=m["since"],
            )
            for m in memberships
        ],
    )


async def list_tags() -> list[str]:
    """Every tag in use, alphabetically, for pickers."""
    return list(await CustomerTag.all().distinct().order_by("tag").values_list("tag", flat=True))
