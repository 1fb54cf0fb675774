"""Importing orders from a CSV file (services.imports.files reads it, maps its columns and knows the
shop platforms' export layouts).

The owner sees a check of every row with a preview of the first orders (`check_orders`), and
imports (`import_orders`).

Why it is built this way:

- One order may span several rows, one per line item, and is grouped by its order number. The
  order's own columns (email, date, total, status ...) may be empty on all its rows but the first,
  as Shopify's export leaves them, or repeated on each, as WooCommerce's; a later row that says
  something else than the first is an error, as is a number whose rows are split apart by other
  orders' rows (a file pasted together twice): the first block stands, the later one is refused.
- An order with an error in any of its rows is left out whole: half an order would be a wrong total.
- The order number is the key (services.orders.recording): the same file imported twice changes
  nothing; a changed status updates the order and moves it out of (or into) the customer's
  purchases; the lines in the file replace the order's saved lines.
- What the status words of each platform mean is one table, services.orders.statuses.
- A refunded amount comes off the total of an order that counts (Shopify's partially_refunded):
  purchases are what the customer paid and kept.
- Customers are found by email. An email the shop does not know is an error on the order, unless
  the owner asks to create customers for unknown emails: they are created with the name the file
  gives (or the email's name) and as customers since their first order in the file.
- Parsing and checking are plain Python in a worker thread. Writing is one transaction on the
  background connection (new customers, orders, lines, stats): all of it or none, also when the
  process dies halfway. The rules run once afterwards (services.orders.stats.rerun_rules).
"""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus, OrderStatus, PaymentRating
from services.imports.files import (
    PREVIEW_ROWS,
    CsvFile,
    ImportKind,
    PreviewRow,
    Progress,
    RowError,
    columns_for,
    data_rows,
    layout_of,
    shown,
)
from services.orders.recording import (
    LineData,
    OrderData,
    Outcome,
    cents_problem,
    currency_problem,
    customer_ids_by_email,
    line_problems,
    number_problem,
    placed_at_problem,
    plan_orders,
    write_orders,
)
from services.orders.stats import RuleChange, rerun_rules
from services.orders.statuses import KNOWN_WORDS, status_for
from services.shop import get_shop
from services.staff.actor import Acting, Permission, require
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND, reader_connection
from services.storage.sql import insert_rows
from services.text import EMAIL, HIDDEN
from services.wording import count, date_time, money

NAME_MAX, EMAIL_MAX = 200, 254
ORDER_CELLS = ("email", "placed_at", "total", "status", "currency", "cancelled_at", "refunded", "customer_name")
LINE_CELLS = ("line_sku", "line_name", "line_quantity", "line_price")
LABELS = {
    "email": "Customer email",
    "placed_at": "Placed at",
    "total": "Total",
    "status": "Status",
    "currency": "Currency",
    "cancelled_at": "Cancelled at",
    "refunded": "Refunded amount",
    "customer_name": "Customer name",
}
STATUS_LABELS = {s: s.value.capitalize() for s in OrderStatus}
MOMENT = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
MONEY = re.compile(r"^(\d+)(?:\.(\d+))?$")
CURRENCY_AROUND = re.compile(r"^[^\d.,-]*|[^\d.,]*$")


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderCheck:
    """What importing a file of orders would do, without doing it."""

    rows: int  # data rows that are not blank
    valid: int  # rows of the orders that would be imported
    orders: int  # orders that would be imported
    new: int
    updated: int
    unchanged: int
    new_customers: int  # customers the import would create (when asked to)
    error_rows: int
    errors: list[RowError]
    preview: list[PreviewRow]  # the first orders, one row each (at the order's first row)
    layout: str | None  # the shop platform's export the header shows, if any


@dataclass(frozen=True)
class OrderImportResult:
    imported: bool  # False: all or nothing was asked for and some rows had errors; nothing was saved
    created: int
    updated: int
    unchanged: int
    customers_created: int
    error_rows: int
    errors: list[RowError]
    rule_changes: list[RuleChange] = field(default_factory=list)


# --- Reading cells ----------------------------------------------------------------------------


def _moment(text: str) -> datetime:
    found = MOMENT.match(text.strip())
    if not found:
        raise ValueError(f"“{shown(text)}” is not a date: write it as YYYY-MM-DD or YYYY-MM-DD HH:MM.")
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    zone = UTC
    if offset and offset.upper() not in ("Z", "UTC", "GMT"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        raise ValueError(f"“{shown(text)}” is not a date that exists.") from None
    return moment.astimezone(UTC)


def _cents(text: str, what: str) -> int:
    """An amount as shops write it ("1234.5", "1,234.50", "$12.00", "12,50 EUR") in cents."""
    value = CURRENCY_AROUND.sub("", text.strip()).replace(" ", "")
    if "," in value and "." not in value and re.search(r",\d{1,2}$", value):
        value = value.replace(",", ".")  # a decimal comma
    value = value.replace(",", "")
    if value.startswith("-"):
        raise ValueError(f"{what} cannot be negative.")
    if not MONEY.match(value):
        raise ValueError(f"{what} “{shown(text)}” is not an amount such as 1234.50.")
    try:
        cents = int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        raise ValueError(f"{what} “{shown(text)}” is not an amount such as 1234.50.") from None
    if problem := cents_problem(cents, what):
        raise ValueError(problem)
    return cents


def _quantity(text: str) -> int:
    if not text:
        return 1
    value = text.strip().removesuffix(".0").removesuffix(".00")
    if not value.isdigit():
        raise ValueError(f"Quantity “{shown(text)}” is not a whole number.")
    return int(value)


# --- Grouping rows into orders ----------------------------------------------------------------


@dataclass
class _Draft:
    """An order as its rows are read: the first value of each order cell, and its lines."""

    number: str
    first_row: int
    rows: list[int] = field(default_factory=list)
    cells: dict[str, tuple[str, int]] = field(default_factory=dict)  # field -> (text, row it came from)
    lines: list[LineData] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    order: OrderData | None = None
    name: str = ""


@dataclass
class _Parsed:
    drafts: list[_Draft]
    stray: list[RowError]  # errors of rows that belong to no order
    stray_rows: int
    rows: int
    raw: dict[int, dict[str, str]]  # the first rows' cells, for the preview of orders with errors
    with_lines: bool


def _same_text(key: str, a: str, b: str) -> bool:
    return a.casefold() == b.casefold() if key in ("email", "status", "currency") else a == b


def _add_row(draft: _Draft, number: int, cells: dict[str, str], with_lines: bool) -> None:
    draft.rows.append(number)
    for key in ORDER_CELLS:
        text = cells.get(key, "")
        if not text:
            continue
        if key not in draft.cells:
            draft.cells[key] = (text, number)
        elif not _same_text(key, text, draft.cells[key][0]):
            first, at = draft.cells[key]
            draft.errors.append(
                RowError(number, key, f"{LABELS[key]} “{shown(text)}” differs from row {at} (“{shown(first)}”).")
            )
    if with_lines and any(cells.get(key) for key in LINE_CELLS):
        try:
            line = LineData(
                sku=cells.get("line_sku", ""),
                name=cells.get("line_name", ""),
                quantity=_quantity(cells.get("line_quantity", "")),
                price_cents=_cents(cells["line_price"], "The item price") if cells.get("line_price") else 0,
            )
        except ValueError as error:
            draft.errors.append(RowError(number, None, str(error)))
            return
        problems = line_problems(line)
        keys = {"sku": "line_sku", "name": "line_name", "quantity": "line_quantity", "price_cents": "line_price"}
        draft.errors += [RowError(number, keys[key], message) for key, message in problems]
        if not problems:
            draft.lines.append(line)


def _group_rows(file: CsvFile, columns: dict[str, int]) -> _Parsed:
    with_lines = any(key in columns for key in LINE_CELLS)
    drafts: dict[str, _Draft] = {}
    stray: list[RowError] = []
    raw: dict[int, dict[str, str]] = {}
    rows = stray_rows = 0
    current: _Draft | None = None
    for number, cells in data_rows(file, columns):
        rows += 1
        if len(raw) < PREVIEW_ROWS * 3:
            raw[number] = cells
        order_number = cells["number"]
        if problem := number_problem(order_number):
            stray.append(RowError(number, "number", problem))
            stray_rows += 1
            continue
        draft = drafts.get(order_number)
        if draft is None:
            draft = drafts[order_number] = _Draft(order_number, number)
        elif draft is not current:
            span = f"row {draft.rows[0]}" if len(draft.rows) == 1 else f"rows {draft.rows[0]}–{draft.rows[-1]}"
            stray.append(
                RowError(
                    number,
                    "number",
                    f"Order {shown(order_number)} is already in {span}: the rows of one order must follow each other.",
                )
            )
            stray_rows += 1
            continue
        current = draft
        _add_row(draft, number, cells, with_lines)
    return _Parsed(list(drafts.values()), stray, stray_rows, rows, raw, with_lines)


def _finish(draft: _Draft, with_lines: bool, now: datetime) -> None:
    """Read the order's own cells into draft.order, or add its errors."""
    errors = draft.errors
    first = draft.first_row

    def cell(key: str) -> tuple[str, int]:
        return draft.cells.get(key, ("", first))

    email, at = cell("email")
    email = email.lower()
    if not email:
        errors.append(RowError(first, "email", "Customer email is missing."))
    elif HIDDEN.search(email) or len(email) > EMAIL_MAX or not EMAIL.match(email):
        errors.append(RowError(at, "email", f"“{shown(email, 60)}” is not an email address."))
    values: dict[str, object] = {}
    for key, read in (("placed_at", _moment), ("total", lambda t: _cents(t, "The total"))):
        text, at = cell(key)
        if not text:
            errors.append(RowError(first, key, f"{LABELS[key]} is missing."))
            continue
        try:
            values[key] = read(text)
        except ValueError as error:
            errors.append(RowError(at, key, str(error)))
    text, at = cell("status")
    status = status_for(text)
    if status is None:
        errors.append(RowError(at, "status", f"Status “{shown(text)}” is not one we know: use one of {KNOWN_WORDS}."))
    if cell("cancelled_at")[0]:
        status = OrderStatus.CANCELLED
    refunded = 0
    text, at = cell("refunded")
    if text:
        try:
            refunded = _cents(text, "The refunded amount")
        except ValueError as error:
            errors.append(RowError(at, "refunded", str(error)))
    currency, at = cell("currency")
    if problem := currency_problem(currency.upper()):
        errors.append(RowError(at, "currency", problem))
    if "placed_at" in values and (problem := placed_at_problem(values["placed_at"], now)):  # type: ignore[arg-type]
        errors.append(RowError(cell("placed_at")[1], "placed_at", problem))
    name, at = cell("customer_name")
    if HIDDEN.search(name) or len(name) > NAME_MAX:
        errors.append(RowError(at, "customer_name", f"Customer name is longer than {NAME_MAX} characters."))
    if errors:
        return
    total = values["total"]
    assert isinstance(total, int) and isinstance(values["placed_at"], datetime) and status is not None
    if status == OrderStatus.COMPLETED:
        total = max(total - refunded, 0)
    draft.name = name
    draft.order = OrderData(
        number=draft.number,
        placed_at=values["placed_at"],
        total_cents=total,
        status=status,
        currency=currency.upper(),
        lines=tuple(draft.lines) if with_lines else None,
        email=email,
    )


def _check_rows(file: CsvFile, columns: dict[str, int], now: datetime) -> _Parsed:
    parsed = _group_rows(file, columns)
    for draft in parsed.drafts:
        _finish(draft, parsed.with_lines, now)
    return parsed


def _valid(parsed: _Parsed) -> list[_Draft]:
    return [d for d in parsed.drafts if not d.errors and d.order is not None]


def _errors(parsed: _Parsed) -> tuple[list[RowError], int]:
    """Every row error, by row, and how many rows have one: an order with an error leaves out all its rows."""
    errors = list(parsed.stray)
    error_rows = parsed.stray_rows
    for draft in parsed.drafts:
        if draft.errors:
            errors += draft.errors
            failed = {e.row for e in draft.errors}
            errors += [
                RowError(row, None, f"Left out with order {shown(draft.number)}: row {min(failed)} has an error.")
                for row in draft.rows
                if row not in failed
            ]
            error_rows += len(draft.rows)
    errors.sort(key=lambda e: e.row)
    return errors, error_rows


def _unknown_customers(parsed: _Parsed, known: dict[str, int]) -> None:
    """An order of a customer the shop does not know is an error (when they are not to be created)."""
    for draft in _valid(parsed):
        assert draft.order is not None
        if draft.order.email not in known:
            draft.errors.append(
                RowError(
                    draft.cells["email"][1],
                    "email",
                    f"No customer has the email {shown(draft.order.email, 60)}: import the customer first, "
                    "or tick “Create customers for unknown emails”.",
                )
            )


def _resolved(parsed: _Parsed, known: dict[str, int]) -> list[OrderData]:
    return [replace(d.order, customer_id=known.get(d.order.email, -1)) for d in _valid(parsed) if d.order]


# --- Preview ----------------------------------------------------------------------------------


def _preview(checked: _Parsed, outcomes: dict[str, Outcome], currency: str) -> list[PreviewRow]:
    actions = {Outcome.CREATED: "new", Outcome.UPDATED: "update", Outcome.UNCHANGED: "unchanged"}
    preview = []
    for draft in checked.drafts[:PREVIEW_ROWS]:
        order = draft.order
        if draft.errors or order is None:
            cells = checked.raw.get(draft.first_row, {})
            values = {key: cells.get(key, "") for key in ("number", "email", "placed_at", "total", "status")}
            values["lines"] = ""
            preview.append(
                PreviewRow(draft.first_row, "error", values, tuple(dict.fromkeys(e.message for e in draft.errors)))
            )
            continue
        values = {
            "number": order.number,
            "email": order.email,
            "placed_at": date_time(order.placed_at),
            "total": money(order.total_cents, currency=order.currency or currency, cents_shown="always"),
            "status": STATUS_LABELS[order.status],
            "lines": count(len(order.lines), "item") if order.lines is not None else "",
        }
        preview.append(PreviewRow(draft.first_row, actions[outcomes[order.number]], values))
    return preview


async def check_orders(*, file: CsvFile, mapping: dict[str, str | None], create_customers: bool = False) -> OrderCheck:
    """Check every row, group the rows into orders and count what an import would create and
    update; nothing is saved. Refuses (FormError) a mapping without the required columns."""
    columns = columns_for(file, mapping, ImportKind.ORDERS)
    now = datetime.now(UTC)
    parsed = await asyncio.to_thread(_check_rows, file, columns, now)
    connection = reader_connection()
    known = await customer_ids_by_email(connection, [d.order.email for d in _valid(parsed) if d.order])
    if not create_customers:
        _unknown_customers(parsed, known)
    orders = _resolved(parsed, known)
    plan = await plan_orders(connection, orders)
    layout = layout_of(headers=file.headers, kind=ImportKind.ORDERS)
    errors, error_rows = _errors(parsed)
    return OrderCheck(
        rows=parsed.rows,
        valid=sum(len(d.rows) for d in _valid(parsed)),
        orders=len(orders),
        new=plan.count(Outcome.CREATED),
        updated=plan.count(Outcome.UPDATED),
        unchanged=plan.count(Outcome.UNCHANGED),
        new_customers=len({o.email for o in orders if o.customer_id < 0}),
        error_rows=error_rows,
        errors=errors,
        preview=_preview(parsed, plan.outcomes, (await get_shop()).currency),
        layout=layout.name if layout else None,
    )


# --- Writing ----------------------------------------------------------------------------------

CUSTOMER_COLUMNS = (
    "name",
    "company",
    "email",
    "country",
    "status",
    "payment_rating",
    "metadata",
    "created_at",
    "lifetime_cents",
    "order_count",
)


async def _create_customers(connection: BaseDBAsyncClient, parsed: _Parsed, known: dict[str, int]) -> dict[str, int]:
    """Create a customer for each unknown email (named as the file says, since their first order
    there); every email -> id."""
    new: dict[str, tuple] = {}
    for draft in _valid(parsed):
        order = draft.order
        assert order is not None
        if order.email in known:
            continue
        name, since = draft.name or order.email.split("@")[0], order.placed_at
        if order.email in new:
            name = new[order.email][0] if not draft.name else name
            since = min(since, new[order.email][7])
        row = (name, "", order.email, "", CustomerStatus.ACTIVE, PaymentRating.GOOD, {}, since, 0, 0)
        new[order.email] = row
    if not new:
        return known
    last_id = await Customer.all().using_db(connection).order_by("-id").first().values_list("id", flat=True)
    await insert_rows(connection, Customer, CUSTOMER_COLUMNS, list(new.values()))
    created = Customer.filter(id__gt=last_id or 0).using_db(connection).values_list("email", "id")
    return known | {email: customer_id for email, customer_id in await created if email in new}


@retried_on_conflict
async def import_orders(
    *,
    file: CsvFile,
    mapping: dict[str, str | None],
    all_or_nothing: bool = False,
    create_customers: bool = False,
    actor: Acting,
    progress: Progress | None = None,
    rerun_rules_after: bool = True,
) -> OrderImportResult:
    """Create and update orders (by number) from the file's valid rows, in one transaction, with the
    purchase stats of the customers concerned; then re-run the rules once for them.

    Rows with errors are listed and their orders left out, or with `all_or_nothing` nothing is saved
    when any row has an error. `progress` gets the share done (0 to 1) as the import goes."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    say: Callable[[float], None] = progress or (lambda _share: None)
    columns = columns_for(file, mapping, ImportKind.ORDERS)
    now = datetime.now(UTC)
    parsed = await asyncio.to_thread(_check_rows, file, columns, now)
    say(0.1)
    async with in_transaction(BACKGROUND) as connection:
        known = await customer_ids_by_email(connection, [d.order.email for d in _valid(parsed) if d.order])
        if not create_customers:
            _unknown_customers(parsed, known)
        errors, error_rows = _errors(parsed)
        if errors and all_or_nothing:
            return OrderImportResult(False, 0, 0, 0, 0, error_rows, errors)
        say(0.15)
        before = len(known)
        known = await _create_customers(connection, parsed, known) if create_customers else known
        written = await write_orders(connection, _resolved(parsed, known), progress=say, start=0.2, end=0.9)
    changes = await rerun_rules(customer_ids=written.touched, actor=actor) if rerun_rules_after else []
    say(1.0)
    return OrderImportResult(
        imported=True,
        created=written.count(Outcome.CREATED),
        updated=written.count(Outcome.UPDATED),
        unchanged=written.count(Outcome.UNCHANGED),
        customers_created=len(known) - before,
        error_rows=error_rows,
        errors=errors,
        rule_changes=changes,
    )
