"""Customers: the paged list, one customer's details, and their groups; creating and editing one."""

import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus, CustomerTag, PaymentRating
from models.group import Membership, MembershipSource
from services.counted import count_customers
from services.customer_search import search_sql
from services.errors import FormError, NotFoundError
from services.fields import TEXT
from services.paging import Page, Seek, name_order, page_bounds
from services.rules.runs import reevaluate_customer
from services.staff.actor import Acting, Permission, require
from services.storage.conflicts import retried_on_conflict
from services.storage.sql import fetch_rows
from services.text import EMAIL, EMAIL_PATTERN, plain_text

logger = logging.getLogger(__name__)

NAME_MAX, COMPANY_MAX, EMAIL_MAX, TAG_MAX, TAGS_MAX = 200, 200, 254, 50, 50
COUNTRY = r"^([A-Za-z]{2})?$"  # as entered; stored in capitals
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
Tag = Annotated[str, Field(max_length=TAG_MAX)]


class CustomerBase(BaseModel):
    """A customer's editable fields, declared once: the service's input (CustomerInput), its read
    model (CustomerDetail) and the API's bodies (api.schemas) build on it. Adding a field: declare
    it here, then in models.customer and a migration."""

    email: str = Field(max_length=EMAIL_MAX, pattern=EMAIL_PATTERN, description="Unique; stored in lower case")
    name: str = Field(max_length=NAME_MAX, pattern=TEXT)
    company: str = Field(default="", max_length=COMPANY_MAX)
    country: str = Field(default="", pattern=COUNTRY, description="ISO 3166 two-letter code, e.g. DE, or empty")
    status: CustomerStatus = CustomerStatus.ACTIVE
    payment_rating: PaymentRating = PaymentRating.GOOD
    tags: list[Tag] = Field(default_factory=list, max_length=TAGS_MAX)


EDITABLE = tuple(CustomerBase.model_fields)  # the fields an owner edits, in their declared order


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


class CustomerMembership(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_id: int
    group_name: str
    source: MembershipSource
    is_primary: bool
    since: datetime


class CustomerDetail(CustomerBase):
    """One customer as the page and the API show them: the editable fields, then what the shop's
    orders and groups say about them."""

    model_config = ConfigDict(frozen=True)

    id: int
    created_at: datetime
    lifetime_cents: int
    order_count: int
    average_order_cents: int
    first_order_at: datetime | None
    last_order_at: datetime | None
    memberships: list[CustomerMembership]

    def as_input(self) -> "CustomerInput":
        return CustomerInput.model_validate(self.model_dump(include=set(EDITABLE)))


def search_filter(search: str, prefix: str = "") -> Q:
    """Name, company or email containing the text, case-insensitively (a bound parameter)."""
    text = search.strip()
    return (
        Q(**{f"{prefix}name__icontains": text})
        | Q(**{f"{prefix}company__icontains": text})
        | Q(**{f"{prefix}email__icontains": text})
    )


@dataclass(frozen=True)
class CustomerFilter:
    """Which customers a list shows, and so what "Select all N matching" means: the search, and
    either a group's members (`group_id`) or everyone but them (`not_in_group_id`, those one could
    add to it)."""

    search: str = ""
    group_id: int | None = None
    not_in_group_id: int | None = None


async def filter_sql(connection: BaseDBAsyncClient, chosen: CustomerFilter) -> tuple[str, list]:
    """The customers `chosen` names, as a condition over the customer `c` ("1 = 1" for everyone),
    with its parameters."""
    return filter_with(chosen, await search_sql(connection, chosen.search))


def filter_with(chosen: CustomerFilter, searched: tuple[str, list], *, alias: str = "c") -> tuple[str, list]:
    """filter_sql with the search's condition already made (search_sql, once per list: on SQLite it
    asks the index how many candidates there are). Group filters are EXISTS probes of membership's
    (group_id, customer_id) key."""
    conditions, params = [], []
    search, words = searched
    if search:
        conditions.append(search)
        params += words
    probe = f"EXISTS (SELECT 1 FROM membership m0 WHERE m0.group_id = ? AND m0.customer_id = {alias}.id)"
    if chosen.group_id is not None:
        conditions.append(probe)
        params.append(chosen.group_id)
    if chosen.not_in_group_id is not None:
        conditions.append(f"NOT {probe}")
        params.append(chosen.not_in_group_id)
    return " AND ".join(conditions) or "1 = 1", params


async def _member_count(connection: BaseDBAsyncClient, group_id: int) -> int:
    """The group's member count as its writers keep it (services.membership.books.recount): exact,
    and one row read."""
    rows = await fetch_rows(connection, "SELECT member_count FROM customer_group WHERE id = ?", group_id)
    return rows[0]["member_count"] if rows else 0


async def _highest_id(connection: BaseDBAsyncClient) -> int:
    """About how many customers there are, from the end of the key (customers are never deleted):
    enough to choose a plan by, at no cost."""
    rows = await fetch_rows(connection, "SELECT MAX(id) AS n FROM customer")
    return rows[0]["n"] or 0


def walk_names(*, members: int, customers: int, rows: int) -> bool:
    """Whether to read a group's page by walking every customer in name order and keeping its
    members (cheap for a big group: its members are dense among the customers), rather than reading
    the group's members and sorting them by name (cheap for a small group). `rows`: how far into
    the list the page ends. Measured at 1M customers on SQLite: a customer walked costs about 2.4
    times a member sorted."""
    walked = rows * customers / max(members, 1)
    return walked * 2.4 < members


async def matching_count(
    connection: BaseDBAsyncClient, chosen: CustomerFilter, *, searched: tuple[str, list] | None = None
) -> int:
    """How many customers `chosen` names: from the kept counts when there is no search (the shop's
    customers, a group's member count), counted otherwise. `searched`: the search's condition, when
    the caller made it already (search_sql)."""
    if not chosen.search.strip():
        if chosen.group_id is not None:
            inside = await _member_count(connection, chosen.group_id)
            if chosen.not_in_group_id is None:
                return inside
        else:
            total = await count_customers()
            if chosen.not_in_group_id is None:
                return total
            return total - await _member_count(connection, chosen.not_in_group_id)
    if searched is None:
        searched = await search_sql(connection, chosen.search)
    where, params = filter_with(chosen, searched)
    rows = await fetch_rows(connection, f"SELECT COUNT(*) AS n FROM customer c WHERE {where}", *params)
    return rows[0]["n"]


async def list_customers(
    *,
    search: str = "",
    group_id: int | None = None,
    not_in_group_id: int | None = None,
    page: int = 1,
    per_page: int = 25,
    seek: Seek | None = None,
) -> Page[CustomerRow]:
    """A page of customers by name; `group_id` keeps a group's members, `not_in_group_id` leaves
    them out (the customers one could add to that group). `seek`: the page beside the one shown,
    read from the index on (name, id) from there (services.paging)."""
    connection = connections.get("default")
    chosen = CustomerFilter(search=search, group_id=group_id, not_in_group_id=not_in_group_id)
    searched = await search_sql(connection, search)
    total = await matching_count(connection, chosen, searched=searched)
    where, params = filter_with(chosen, searched)
    order = name_order(name="c.name", id="c.id", page=page, per_page=per_page, total=total, seek=seek)
    tables = "customer c"
    if group_id is not None:
        where_group, params_group = filter_with(replace(chosen, group_id=None), searched)
        walk = walk_names(
            members=await _member_count(connection, group_id),
            customers=await _highest_id(connection),
            rows=order.offset + order.limit,
        )
        # CROSS JOIN: SQLite keeps the tables in the order written (PostgreSQL plans it itself).
        tables = "customer c CROSS JOIN membership m" if walk else "membership m CROSS JOIN customer c"
        # The group and the bounds written in: see services.membership.members.list_members.
        where = f"m.customer_id = c.id AND m.group_id = {int(group_id)} AND {where_group}"
        params = params_group
    sql, params = order.statement(
        f"SELECT c.id, c.name, c.company, c.email, c.country, c.status, c.lifetime_cents, c.order_count FROM {tables}",
        where,
        params,
    )
    found = order.in_order(await fetch_rows(connection, sql, *params))
    ids = [c["id"] for c in found]
    groups: dict[int, list[str]] = {i: [] for i in ids}
    for customer_id, name in (
        await Membership.filter(customer_id__in=ids)
        .order_by("-is_primary", "group__name")
        .values_list("customer_id", "group__name")
    ):
        groups[customer_id].append(name)
    rows = [
        CustomerRow(
            id=c["id"],
            name=c["name"],
            company=c["company"],
            email=c["email"],
            country=c["country"],
            status=CustomerStatus(c["status"]),
            lifetime_cents=c["lifetime_cents"],
            order_count=c["order_count"],
            groups=groups[c["id"]],
        )
        for c in found
    ]
    return Page(
        rows=rows,
        total=total,
        page=page,
        per_page=page_bounds(page, per_page)[1],
        first=(rows[0].name, rows[0].id) if rows else None,
        last=(rows[-1].name, rows[-1].id) if rows else None,
    )


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


# --- Creating and editing ---------------------------------------------------------------------


class CustomerInput(CustomerBase):
    """A customer as entered (the API's create and update): text is tidied, and what falls outside a
    field's limits gets a message of its own, before the base's limits are checked."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value  # not text: the type's own message
        value = plain_text(value, label="Email", limit=EMAIL_MAX).lower()
        if not EMAIL.fullmatch(value):
            raise ValueError("Enter an email address like anna@example.com.")
        return value

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = " ".join(plain_text(value, label="Name", limit=NAME_MAX).split())
        if not value:
            raise ValueError("Enter the customer's name.")
        return value

    @field_validator("company", mode="before")
    @classmethod
    def _company(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return " ".join(plain_text(value, label="Company", limit=COMPANY_MAX).split())

    @field_validator("country", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip().upper()
        if value and not COUNTRY_PATTERN.fullmatch(value):
            raise ValueError("Use a two-letter country code such as US, GB or DE.")
        return value

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
            return value
        tags: list[str] = []
        for tag in value:
            tag = " ".join(plain_text(tag, label="A tag", limit=TAG_MAX).split()).lower()
            if tag and tag not in tags:
                tags.append(tag)
        if len(tags) > TAGS_MAX:
            raise ValueError(f"Use at most {TAGS_MAX} tags.")
        return sorted(tags)


def _checked(data: CustomerInput | dict) -> CustomerInput:
    if isinstance(data, CustomerInput):
        return data
    try:
        return CustomerInput.model_validate(data)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else "form"
            errors.setdefault(field, item["msg"].removeprefix("Value error, "))
        raise FormError(errors) from None


def _taken(email: str) -> FormError:
    return FormError({"email": f"{email} belongs to another customer."})


async def _rules_follow(customer_id: int, actor: Acting) -> None:
    """Re-check the customer against every rule-based group, so those groups follow the change.

    After the change has committed: a failure here does not undo it (nor may the change be made
    again), so it is logged, and the periodic rule refresh brings the groups up to date."""
    try:
        await reevaluate_customer(customer_id=customer_id, actor=actor)
    except Exception:
        logger.exception("Saved customer %s, but could not re-check the rule-based groups", customer_id)


@retried_on_conflict
async def create_customer(*, data: CustomerInput | dict, actor: Acting) -> CustomerDetail:
    """A new customer (email unique, stored lower-case), who then joins the rule-based groups they match."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    data = _checked(data)
    if await Customer.exists(email=data.email):
        raise _taken(data.email)
    try:
        async with in_transaction("default"):
            customer = await Customer.create(
                **data.model_dump(exclude={"tags"}), metadata={}, created_at=datetime.now(UTC)
            )
            await CustomerTag.bulk_create([CustomerTag(customer_id=customer.id, tag=tag) for tag in data.tags])
    except IntegrityError:  # another save with the same email won the race
        raise _taken(data.email) from None
    await _rules_follow(customer.id, actor)
    return await get_customer(customer_id=customer.id)


@retried_on_conflict
async def update_customer(*, customer_id: int, data: CustomerInput | dict, actor: Acting) -> CustomerDetail:
    """Change a customer; a dict may name only the fields that change. Rule-based groups follow."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    current = await get_customer(customer_id=customer_id)
    if isinstance(data, dict):
        data = _checked({**current.model_dump(include=set(EDITABLE)), **data})
    if data.email != current.email and await Customer.filter(email=data.email).exclude(id=customer_id).exists():
        raise _taken(data.email)
    try:
        async with in_transaction("default"):
            if not await Customer.filter(id=customer_id).update(**data.model_dump(exclude={"tags"})):
                raise NotFoundError("This customer was deleted meanwhile.")
            if data.tags != current.tags:
                await CustomerTag.filter(customer_id=customer_id).delete()
                await CustomerTag.bulk_create([CustomerTag(customer_id=customer_id, tag=tag) for tag in data.tags])
    except IntegrityError:
        raise _taken(data.email) from None
    await _rules_follow(customer_id, actor)
    return await get_customer(customer_id=customer_id)
