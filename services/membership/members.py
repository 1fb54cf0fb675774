"""A group's members, as the group page lists them: by name, a page at a time, read from indexes
(customer's (name, id) and membership's (group_id, customer_id)), never by sorting the whole group."""

from dataclasses import dataclass
from datetime import datetime

from tortoise import connections

from models.group import Membership, MembershipSource
from services.customer_search import search_sql
from services.customers import CustomerFilter, matching_count, walk_names
from services.paging import Page, Seek, name_order, page_bounds
from services.storage.sql import fetch_rows

_SINCE = Membership._meta.fields_map["since"]  # raw rows hold SQLite's text; the field reads it back


@dataclass(frozen=True)
class MemberRow:
    customer_id: int
    name: str
    company: str
    since: datetime
    lifetime_cents: int
    source: MembershipSource
    is_primary: bool


async def list_members(
    *, group_id: int, search: str = "", page: int = 1, per_page: int = 25, seek: Seek | None = None
) -> Page[MemberRow]:
    """A page of the group's members by name (ties by id). The total is the group's kept member
    count, or the matches counted when searching. `seek`: see services.paging.Seek.

    Two ways to read a page, chosen by how dense the group is among the customers: walk the
    customers' name index and keep the group's members (a big group: a page of 25 of a 500k-member
    group at 1M customers walks about 50 customers), or read the group's members and sort them (a
    small group, whose members a walk would have to look for among every customer)."""
    connection = connections.get("default")
    searched = await search_sql(connection, search)
    total = await matching_count(connection, CustomerFilter(search=search, group_id=group_id), searched=searched)
    order = name_order(name="c.name", id="c.id", page=page, per_page=per_page, total=total, seek=seek)
    members = total if not search.strip() else await matching_count(connection, CustomerFilter(group_id=group_id))
    customers = (await fetch_rows(connection, "SELECT MAX(id) AS n FROM customer"))[0]["n"] or 0
    walk = walk_names(members=members, customers=customers, rows=order.offset + order.limit)
    # CROSS JOIN: SQLite keeps the tables in the order written (PostgreSQL plans the join itself).
    tables = "customer c CROSS JOIN membership m" if walk else "membership m CROSS JOIN customer c"
    # The group and the page's bounds are written into the statement (integers of our own): a
    # prepared statement's generic plan on PostgreSQL would otherwise serve a 4-member group with
    # the walk that suits a 500k-member one (8 s at 1M customers instead of 0.05 ms).
    where, params = f"m.customer_id = c.id AND m.group_id = {int(group_id)}", []
    found, words = searched
    if found:
        where += f" AND {found}"
        params += words
    sql, params = order.statement(
        f"SELECT c.id, c.name, c.company, c.lifetime_cents, m.since, m.source, m.is_primary FROM {tables}",
        where,
        params,
    )
    rows = order.in_order(await fetch_rows(connection, sql, *params))
    return Page(
        rows=[
            MemberRow(
                customer_id=r["id"],
                name=r["name"],
                company=r["company"],
                since=_SINCE.to_python_value(r["since"]),
                lifetime_cents=r["lifetime_cents"],
                source=MembershipSource(r["source"]),
                is_primary=bool(r["is_primary"]),
            )
            for r in rows
        ],
        total=total,
        page=page,
        per_page=page_bounds(page, per_page)[1],
        first=(rows[0]["name"], rows[0]["id"]) if rows else None,
        last=(rows[-1]["name"], rows[-1]["id"]) if rows else None,
    )
