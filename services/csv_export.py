"""CSV exports a shop owner opens in a spreadsheet: the customer list and a group's members, and
`CsvWriter`, which every CSV file the app writes goes through (the reports' too).

Rows are read in chunks by id (keyset, not OFFSET, so the last chunk costs what the first does),
as plain values rather than model objects, so 100,000 customers stay cheap. Money is written in
currency units with two decimals and dates as YYYY-MM-DD, which spreadsheets read as numbers and
dates and our import reads back. The file is UTF-8 with a byte order mark, which Excel needs to
show accents right.

Text someone typed (a customer's name, a group's name) may start with "=", "+", "-" or "@"; a
spreadsheet would run such a cell as a formula (CSV injection), so the writer puts a leading
apostrophe before every text cell that starts so, which spreadsheets show as text. Our import strips
it again. Numbers the app worked out itself are written as they are (`Figure`), so a negative
amount stays a number.
"""

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from tortoise.queryset import QuerySet

from models.customer import Customer, CustomerTag
from models.group import CustomerGroup, Membership, MembershipSource
from services.customers import search_filter
from services.errors import NotFoundError
from services.shop import get_shop
from services.wording import SOURCE_LABELS

CHUNK = 2_000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CUSTOMER_FIELDS = (
    "id",
    "name",
    "email",
    "company",
    "country",
    "status",
    "payment_rating",
    "created_at",
    "lifetime_cents",
    "order_count",
)


@dataclass(frozen=True)
class Figure:
    """A number the app formatted itself ("-12.50", "-6.7%"), written unguarded so that a spreadsheet
    reads it as the number it is. Never wrap text in it (not "+61% higher" either: a spreadsheet
    would take that for a formula), least of all text someone typed."""

    text: str


Cell = str | int | float | Figure | None


def safe_text(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell(value: Cell) -> str | int | float | None:
    if isinstance(value, Figure):
        return value.text
    if isinstance(value, str):
        return safe_text(value)
    return value


class CsvWriter:
    """A CSV file for a spreadsheet: every text cell guarded against running as a formula, UTF-8
    with a byte order mark (Excel needs it to show accents right)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)

    def row(self, cells: Iterable[Cell] = ()) -> None:
        self._writer.writerow([_cell(value) for value in cells])

    def data(self) -> bytes:
        return self._buffer.getvalue().encode("utf-8-sig")


def money(cents: int) -> Figure:
    """An amount in currency units with two decimals, worked out exactly from the cents."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return Figure(f"{sign}{units}.{rest:02d}")


def _date(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


async def _chunks(query: QuerySet, key: str, fields: tuple[str, ...]) -> AsyncIterator[list[dict]]:
    """`query`'s rows as dicts of `fields`, CHUNK at a time in order of `key` (an id)."""
    last = 0
    while True:
        rows = await query.filter(**{f"{key}__gt": last}).order_by(key).limit(CHUNK).values(*fields)
        if not rows:
            return
        yield rows
        last = rows[-1][key]


async def _by_customer(ids: list[int], query: Callable[[list[int]], QuerySet], fields: tuple[str, str]):
    found: dict[int, list] = {i: [] for i in ids}
    for customer_id, value in await query(ids).values_list(*fields):
        found[customer_id].append(value)
    return found


async def export_customers_csv(*, search: str = "", group_id: int | None = None) -> bytes:
    """The customer list (filtered as on the Customers page) as a CSV file."""
    currency = (await get_shop()).currency
    query = Customer.all()
    if search.strip():
        query = query.filter(search_filter(search))
    if group_id is not None:
        query = query.filter(memberships__group_id=group_id)
    writer = CsvWriter()
    writer.row(
        (
            "Name",
            "Email",
            "Company",
            "Country",
            "Status",
            "Payment history",
            "Tags",
            "Customer since",
            f"Lifetime purchases ({currency})",
            "Orders",
            "Groups",
        )
    )
    async for rows in _chunks(query, "id", CUSTOMER_FIELDS):
        ids = [r["id"] for r in rows]
        tags = await _by_customer(
            ids, lambda ids: CustomerTag.filter(customer_id__in=ids).order_by("tag"), ("customer_id", "tag")
        )
        groups = await _by_customer(
            ids,
            lambda ids: Membership.filter(customer_id__in=ids).order_by("-is_primary", "group__name"),
            ("customer_id", "group__name"),
        )
        for r in rows:
            writer.row(
                (
                    r["name"],
                    r["email"],
                    r["company"],
                    r["country"],
                    str(r["status"]),
                    str(r["payment_rating"]),
                    "; ".join(tags[r["id"]]),
                    _date(r["created_at"]),
                    money(r["lifetime_cents"]),
                    r["order_count"],
                    "; ".join(groups[r["id"]]),
                )
            )
    return writer.data()


async def export_members_csv(*, group_id: int) -> bytes:
    """A group's members as a CSV file: who they are, what they bought, since when and how they
    are in the group."""
    if not await CustomerGroup.exists(id=group_id):
        raise NotFoundError(f"There is no group with id {group_id}.")
    currency = (await get_shop()).currency
    writer = CsvWriter()
    writer.row(
        (
            "Name",
            "Email",
            "Company",
            "Country",
            "Status",
            f"Lifetime purchases ({currency})",
            "Orders",
            "Member since",
            "Assignment",
            "Primary group",
        )
    )
    fields = ("id", "source", "is_primary", "since", *(f"customer__{f}" for f in CUSTOMER_FIELDS[1:]))
    async for rows in _chunks(Membership.filter(group_id=group_id), "id", fields):
        for r in rows:
            writer.row(
                (
                    r["customer__name"],
                    r["customer__email"],
                    r["customer__company"],
                    r["customer__country"],
                    str(r["customer__status"]),
                    money(r["customer__lifetime_cents"]),
                    r["customer__order_count"],
                    _date(r["since"]),
                    SOURCE_LABELS[MembershipSource(r["source"])],
                    "Yes" if r["is_primary"] else "No",
                )
            )
    return writer.data()
