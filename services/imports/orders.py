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
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus, OrderStatus, PaymentRating
from services.bulk import release_frozen, without_cycle_collection
from services.imports.customers import CUSTOMER_COLUMNS  # a new customer is written as an import writes one
from services.imports.files import (
    PREVIEW_ROWS,
    CsvFile,
    ImportKind,
    PreviewRow,
    Progress,
    RowError,
    columns_for,
    layout_of,
    shown,
)
from services.orders.recording import (
    LineData,
    OrderData,
    Outcome,
    Written,
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
from services.storage.conflicts import retried_on_conflict_or_duplicate
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
_status = lru_cache(maxsize=256)(status_for)  # a file has a handful of status words


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

PLAIN_MONEY = re.compile(r"(\d{1,11})(?:\.(\d{1,2}))?")  # "1234.5": well below MAX_CENTS, no rounding
ZONES: dict[str | None, timezone] = {}  # offset as written -> its zone, built once


def _zone(offset: str | None) -> timezone:
    zone = ZONES.get(offset)
    if zone is None:
        zone = UTC
        if offset and offset.upper() not in ("Z", "UTC", "GMT"):
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        ZONES[offset] = zone
    return zone


def _moment(text: str) -> datetime:
    text = text.strip()
    found = MOMENT.match(text)
    if not found:
        raise ValueError(f"“{shown(text)}” is not a date: write it as YYYY-MM-DD or YYYY-MM-DD HH:MM.")
    if text[4] == "-" and text[10:11] in (" ", "T"):  # as shop platforms write it: Python's parser reads it 15x faster
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            pass  # a one-digit month, a zone by name, a day that does not exist: read below
        else:
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    zone = _zone(offset)
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
    return moment if zone is UTC else moment.astimezone(UTC)


def _cents(text: str, what: str) -> int:
    """An amount as shops write it ("1234.5", "1,234.50", "$12.00", "12,50 EUR") in cents."""
    if plain := PLAIN_MONEY.fullmatch(text):  # most cells: read without Decimal
        whole, part = plain.groups()
        return int(whole) * 100 + (int(part.ljust(2, "0")) if part else 0)
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
    if text.isascii() and text.isdigit():  # most cells
        return int(text)
    if not text:
        return 1
    value = text.removesuffix(".0").removesuffix(".00")
    if not value.isdigit():
        raise ValueError(f"Quantity “{shown(text)}” is not a whole number.")
    return int(value)


LINE_KEYS = {"sku": "line_sku", "name": "line_name", "quantity": "line_quantity", "price_cents": "line_price"}


def _line(cells: dict[str, str]) -> LineData | list[tuple[str | None, str]] | None:
    """A row's line item (its cells as read), or its problems (field, message), or None for a row
    without one."""
    sku, name = cells.get("line_sku", "").strip(), cells.get("line_name", "").strip()
    quantity, price = cells.get("line_quantity", "").strip(), cells.get("line_price", "").strip()
    if not (sku or name or quantity or price):
        return None
    try:
        line = LineData(sku, name, _quantity(quantity), _cents(price, "The item price") if price else 0)
    except ValueError as error:
        return [(None, str(error))]
    problems = line_problems(line)
    return [(LINE_KEYS[key], message) for key, message in problems] if problems else line


# --- Grouping rows into orders ----------------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """An order as its rows are read: the first value of each order cell, and its lines."""

    number: str
    first_row: int
    raw: tuple[str, ...]  # its first row's order cells as read: a row repeating them adds nothing
    rows: list[int] = field(default_factory=list)
    cells: dict[str, tuple[str, int]] = field(default_factory=dict)  # field -> (text, row it came from)
    lines: list[LineData] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    order: OrderData | None = None  # without its customer, who is found in the database later
    name: str = ""


@dataclass
class _Parsed:
    """The file read into orders: what depends on the file alone, never on the database."""

    drafts: list[_Draft]
    stray: list[RowError]  # errors of rows that belong to no order
    stray_rows: int
    rows: int
    raw: dict[int, dict[str, str]]  # the first rows' cells, for the preview of orders with errors
    with_lines: bool
    now: datetime  # the moment dates were checked against ("in the future")
    future: bool = False  # some order is dated in the future (as of `now`)


def _same_text(key: str, a: str, b: str) -> bool:
    return a.casefold() == b.casefold() if key in ("email", "status", "currency") else a == b


def _add_cells(draft: _Draft, number: int, cells: dict[str, str]) -> None:
    for key, text in cells.items():
        if not text:
            continue
        if key not in draft.cells:
            draft.cells[key] = (text, number)
        elif not _same_text(key, text, draft.cells[key][0]):
            first, at = draft.cells[key]
            draft.errors.append(
                RowError(number, key, f"{LABELS[key]} “{shown(text)}” differs from row {at} (“{shown(first)}”).")
            )


def _cells_of(columns: dict[str, int], keys: tuple[str, ...]) -> Callable[[list[str]], tuple[str, ...]]:
    """The cells of `keys` from a record, as read (one C call, not a dict per row)."""
    if not keys:
        return lambda _record: ()
    if len(keys) == 1:
        at = columns[keys[0]]
        return lambda record: (record[at],)
    return itemgetter(*(columns[key] for key in keys))  # type: ignore[return-value]


class _Rows:
    """Reads the file's rows into orders. A million rows make every per-row step count: a row that
    continues the order before it (its order cells empty, as Shopify leaves them, or the same as
    on the order's first row, as WooCommerce repeats them) costs a comparison, and a line item
    like one already read (same cells) a dictionary look-up."""

    LINE_CACHE = 50_000  # line items remembered; enough for a shop's catalogue at its prices

    def __init__(self, columns: dict[str, int], now: datetime) -> None:
        self.columns = columns
        self.order_keys = tuple(key for key in ORDER_CELLS if key in columns)
        self.line_keys = tuple(key for key in LINE_CELLS if key in columns)
        self.order_cells = _cells_of(columns, self.order_keys)
        self.line_cells = _cells_of(columns, self.line_keys)
        self.lines: dict[tuple[str, ...], LineData | list[tuple[str | None, str]] | None] = {}
        self.drafts: dict[str, _Draft] = {}
        self.parsed = _Parsed([], [], 0, 0, {}, bool(self.line_keys), now)

    def stray(self, number: int, message: str) -> None:
        self.parsed.stray.append(RowError(number, "number", message))
        self.parsed.stray_rows += 1

    def start(self, number: int, order_number: str, record: list[str]) -> _Draft | None:
        """The order a row with a new number begins, or None (and its error) when it cannot."""
        if problem := number_problem(order_number):
            self.stray(number, problem)
            return None
        draft = self.drafts.get(order_number)
        if draft is not None:
            span = f"row {draft.rows[0]}" if len(draft.rows) == 1 else f"rows {draft.rows[0]}–{draft.rows[-1]}"
            self.stray(
                number,
                f"Order {shown(order_number)} is already in {span}: the rows of one order must follow each other.",
            )
            return None
        draft = self.drafts[order_number] = _Draft(order_number, number, self.order_cells(record))
        self.parsed.drafts.append(draft)
        return draft

    def add(self, draft: _Draft, number: int, record: list[str]) -> None:
        draft.rows.append(number)
        cells = self.order_cells(record)
        if (number == draft.first_row or cells != draft.raw) and "".join(cells).strip():
            _add_cells(draft, number, {key: text.strip() for key, text in zip(self.order_keys, cells, strict=True)})
        if not self.line_keys:
            return
        raw = self.line_cells(record)
        line = self.lines.get(raw, False)
        if line is False:
            if len(self.lines) >= self.LINE_CACHE:
                self.lines.clear()
            line = self.lines[raw] = _line(dict(zip(self.line_keys, raw, strict=True)))
        if isinstance(line, LineData):
            draft.lines.append(line)
        elif line:
            draft.errors += [RowError(number, key, message) for key, message in line]

    def read(self, file: CsvFile) -> _Parsed:
        parsed, columns, at = self.parsed, self.columns, self.columns["number"]
        width = max(columns.values()) + 1
        current: _Draft | None = None
        for number, record in enumerate(file.rows, start=2):
            if len(record) < width:
                record = record + [""] * (width - len(record))
            order_number = record[at].strip()
            if not order_number and not "".join(record).strip():
                continue  # a blank row
            parsed.rows += 1
            if len(parsed.raw) < PREVIEW_ROWS * 3:
                parsed.raw[number] = {key: record[i].strip() for key, i in columns.items()}
            if current is None or order_number != current.number:
                draft = self.start(number, order_number, record)
                if draft is None:
                    continue
                current = draft
            self.add(current, number, record)
        return parsed


def _email(draft: _Draft) -> str:
    """The order's email in lower case; a missing or malformed one adds its error."""
    email, at = draft.cells.get("email", ("", draft.first_row))
    email = email.lower()
    if not email:
        draft.errors.append(RowError(draft.first_row, "email", "Customer email is missing."))
    elif HIDDEN.search(email) or len(email) > EMAIL_MAX or not EMAIL.match(email):
        draft.errors.append(RowError(at, "email", f"“{shown(email, 60)}” is not an email address."))
    return email


def _total(text: str) -> int:
    return _cents(text, "The total")


def _required(draft: _Draft, key: str, read: Callable[[str], Any]) -> Any:
    """A required cell of the order read, or None with its error."""
    text, at = draft.cells.get(key, ("", draft.first_row))
    if not text:
        draft.errors.append(RowError(draft.first_row, key, f"{LABELS[key]} is missing."))
        return None
    try:
        return read(text)
    except ValueError as error:
        draft.errors.append(RowError(at, key, str(error)))
        return None


def _finish(draft: _Draft, with_lines: bool, now: datetime) -> bool:
    """Read the order's own cells into draft.order, or add its errors; True when it is dated in the future."""
    errors, cells, nothing = draft.errors, draft.cells, ("", draft.first_row)
    email = _email(draft)
    placed_at = _required(draft, "placed_at", _moment)
    total = _required(draft, "total", _total)
    text, at = cells.get("status", nothing)
    status = _status(text)
    if status is None:
        errors.append(RowError(at, "status", f"Status “{shown(text)}” is not one we know: use one of {KNOWN_WORDS}."))
    if "cancelled_at" in cells:
        status = OrderStatus.CANCELLED
    refunded = 0
    text, at = cells.get("refunded", nothing)
    if text:
        try:
            refunded = _cents(text, "The refunded amount")
        except ValueError as error:
            errors.append(RowError(at, "refunded", str(error)))
    currency, at = cells.get("currency", nothing)
    currency = currency.upper()
    if problem := currency_problem(currency):
        errors.append(RowError(at, "currency", problem))
    future = placed_at is not None and (problem := placed_at_problem(placed_at, now))
    if future:
        errors.append(RowError(cells["placed_at"][1], "placed_at", problem))
    name, at = cells.get("customer_name", nothing)
    if HIDDEN.search(name) or len(name) > NAME_MAX:
        errors.append(RowError(at, "customer_name", f"Customer name is longer than {NAME_MAX} characters."))
    if errors:
        return bool(future)
    assert isinstance(total, int) and isinstance(placed_at, datetime) and status is not None
    if status == OrderStatus.COMPLETED:
        total = max(total - refunded, 0)
    draft.name = name
    draft.order = OrderData(
        number=draft.number,
        placed_at=placed_at,
        total_cents=total,
        status=status,
        currency=currency,
        lines=tuple(draft.lines) if with_lines else None,
        email=email,
    )
    return False


def _check_rows(file: CsvFile, columns: dict[str, int], now: datetime) -> _Parsed:
    with without_cycle_collection():
        parsed = _Rows(columns, now).read(file)
        for draft in parsed.drafts:
            if _finish(draft, parsed.with_lines, now):
                parsed.future = True
    return parsed


# The check before an import read the same file: (the file, its columns, what they read to) by the
# file's id, dropped with the file. Reading is the import's dearest step after the writes.
_READ: dict[int, tuple["weakref.ref[CsvFile]", dict[str, int], _Parsed]] = {}


def _forget(file_id: int) -> None:
    """Drop what a file read to, with the file, and give what the import froze back to the collector."""
    _READ.pop(file_id, None)
    release_frozen()


async def _read_orders(file: CsvFile, columns: dict[str, int]) -> _Parsed:
    """The file's rows read into orders, checked as of now; read once per file and columns.

    What was read stands later too, unless an order was dated in the future: a later "now" can only
    accept more dates."""
    now = datetime.now(UTC)
    found = _READ.get(id(file))
    if found and found[0]() is file and found[1] == columns and not found[2].future and found[2].now <= now:
        return found[2]
    parsed = await asyncio.to_thread(_check_rows, file, columns, now)
    if id(file) not in _READ:
        weakref.finalize(file, _forget, id(file))
    _READ[id(file)] = (weakref.ref(file), dict(columns), parsed)
    return parsed


def _unknown(parsed: _Parsed, known: dict[str, int]) -> dict[str, RowError]:
    """An order of a customer the shop does not know is an error (when they are not to be created):
    order number -> its error. The file's reading is shared, so these are kept beside it."""
    return {
        draft.number: RowError(
            draft.cells["email"][1],
            "email",
            f"No customer has the email {shown(draft.order.email, 60)}: import the customer first, "
            "or tick “Create customers for unknown emails”.",
        )
        for draft in _valid(parsed)
        if draft.order and draft.order.email not in known
    }


def _valid(parsed: _Parsed, unknown: dict[str, RowError] | None = None) -> list[_Draft]:
    return [d for d in parsed.drafts if not d.errors and d.order is not None and not (unknown and d.number in unknown)]


def _errors_of(draft: _Draft, unknown: dict[str, RowError]) -> list[RowError]:
    return draft.errors or ([unknown[draft.number]] if draft.number in unknown else [])


def _errors(parsed: _Parsed, unknown: dict[str, RowError]) -> tuple[list[RowError], int]:
    """Every row error, by row, and how many rows have one: an order with an error leaves out all its rows."""
    errors = list(parsed.stray)
    error_rows = parsed.stray_rows
    for draft in parsed.drafts:
        if found := _errors_of(draft, unknown):
            errors += found
            failed = {e.row for e in found}
            errors += [
                RowError(row, None, f"Left out with order {shown(draft.number)}: row {min(failed)} has an error.")
                for row in draft.rows
                if row not in failed
            ]
            error_rows += len(draft.rows)
    errors.sort(key=lambda e: e.row)
    return errors, error_rows


def _resolved(valid: list[_Draft], known: dict[str, int]) -> list[OrderData]:
    with without_cycle_collection():
        return [
            OrderData(
                o.number, o.placed_at, o.total_cents, o.status, o.currency, o.lines, known.get(o.email, -1), o.email
            )
            for d in valid
            if (o := d.order)
        ]


# --- Preview ----------------------------------------------------------------------------------


def _preview(
    checked: _Parsed, unknown: dict[str, RowError], outcomes: dict[str, Outcome], currency: str
) -> list[PreviewRow]:
    actions = {Outcome.CREATED: "new", Outcome.UPDATED: "update", Outcome.UNCHANGED: "unchanged"}
    preview = []
    for draft in checked.drafts[:PREVIEW_ROWS]:
        order = draft.order
        errors = _errors_of(draft, unknown)
        if errors or order is None:
            cells = checked.raw.get(draft.first_row, {})
            values = {key: cells.get(key, "") for key in ("number", "email", "placed_at", "total", "status")}
            values["lines"] = ""
            preview.append(
                PreviewRow(draft.first_row, "error", values, tuple(dict.fromkeys(e.message for e in errors)))
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
    with without_cycle_collection():
        return await _check(file, mapping, create_customers)


async def _check(file: CsvFile, mapping: dict[str, str | None], create_customers: bool) -> OrderCheck:
    columns = columns_for(file, mapping, ImportKind.ORDERS)
    parsed = await _read_orders(file, columns)
    connection = reader_connection()
    known = await customer_ids_by_email(connection, [d.order.email for d in _valid(parsed) if d.order])
    unknown = {} if create_customers else _unknown(parsed, known)
    valid = _valid(parsed, unknown)
    orders = _resolved(valid, known)
    plan = await plan_orders(connection, orders)
    layout = layout_of(headers=file.headers, kind=ImportKind.ORDERS)
    errors, error_rows = _errors(parsed, unknown)
    return OrderCheck(
        rows=parsed.rows,
        valid=sum(len(d.rows) for d in valid),
        orders=len(orders),
        new=plan.count(Outcome.CREATED),
        updated=plan.count(Outcome.UPDATED),
        unchanged=plan.count(Outcome.UNCHANGED),
        new_customers=len({o.email for o in orders if o.customer_id < 0}),
        error_rows=error_rows,
        errors=errors,
        preview=_preview(parsed, unknown, plan.outcomes, (await get_shop()).currency),
        layout=layout.name if layout else None,
    )


# --- Writing ----------------------------------------------------------------------------------


async def _create_customers(
    connection: BaseDBAsyncClient, valid: list[_Draft], known: dict[str, int]
) -> dict[str, int]:
    """Create a customer for each unknown email (named as the file says, since their first order
    there); every email -> id."""
    new: dict[str, tuple] = {}
    for draft in valid:
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


async def _write(
    file: CsvFile,
    mapping: dict[str, str | None],
    all_or_nothing: bool,
    create_customers: bool,
    say: Callable[[float], None],
) -> OrderImportResult | tuple[Written, int, int, list[RowError]]:
    """The import's transaction: the refusal when all or nothing was asked for and some row has an
    error, else what was written, how many customers were created, and the row errors."""
    columns = columns_for(file, mapping, ImportKind.ORDERS)
    parsed = await _read_orders(file, columns)
    say(0.1)
    async with in_transaction(BACKGROUND) as connection:
        known = await customer_ids_by_email(connection, [d.order.email for d in _valid(parsed) if d.order])
        unknown = {} if create_customers else _unknown(parsed, known)
        errors, error_rows = _errors(parsed, unknown)
        if errors and all_or_nothing:
            return OrderImportResult(False, 0, 0, 0, 0, error_rows, errors)
        say(0.15)
        valid = _valid(parsed, unknown)
        before = len(known)
        known = await _create_customers(connection, valid, known) if create_customers else known
        written = await write_orders(connection, _resolved(valid, known), progress=say, start=0.2, end=0.9)
    return written, len(known) - before, error_rows, errors


@retried_on_conflict_or_duplicate
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
    with without_cycle_collection():
        outcome = await _write(file, mapping, all_or_nothing, create_customers, say)
    if isinstance(outcome, OrderImportResult):
        return outcome
    written, customers_created, error_rows, errors = outcome
    changes = await rerun_rules(customer_ids=written.touched, actor=actor) if rerun_rules_after else []
    say(1.0)
    return OrderImportResult(
        imported=True,
        created=written.count(Outcome.CREATED),
        updated=written.count(Outcome.UPDATED),
        unchanged=written.count(Outcome.UNCHANGED),
        customers_created=customers_created,
        error_rows=error_rows,
        errors=errors,
        rule_changes=changes,
    )
