"""Importing customers from a CSV file (services.imports.files reads it and maps its columns).

The owner sees a check of every row with a preview of the first ones (`check_customers`), and
imports (`import_customers`).

Why it is built this way:

- Row numbers are the ones the owner sees in a spreadsheet: the header is row 1, the first
  customer row 2. A quoted cell that spans several lines is still one row.
- Shop platforms' exports are read as they are (services.imports.files.LAYOUTS): Shopify's has first
  and last name apart (joined into the name when the file has no name of its own) and separates tags
  with commas, where other files use ; or | (a comma may be part of a tag there).
- Idempotent by email (stored lower-case): an email we know updates that customer, a new one
  creates a customer. An empty cell, or a column not mapped, leaves what is saved as it is, so a
  partial file never wipes data; tags are replaced by a non-empty tags cell. Importing the same
  file twice changes nothing the second time.
- Parsing and checking are plain Python over the whole file, run in a worker thread so the page
  stays responsive. Writing is one transaction on the background connection: the import is
  applied completely or not at all, also when the process dies halfway. Rows are written in batches
  with executemany of the ORM's parameterised statements, not one model object per row.
- After the commit, group rules are re-run so new and changed customers land in their
  rule-based groups.
"""

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus, CustomerTag, PaymentRating
from services.errors import FormError
from services.imports.files import (
    LOOKUP_CHUNK,
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
from services.rules.runs import run_all_rules
from services.staff.actor import Acting, Permission, require
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND, reader_connection
from services.storage.sql import dialect_sql, insert_rows
from services.text import EMAIL, HIDDEN

BATCH = 5_000  # rows per executemany; progress is reported after each
NAME_MAX, COMPANY_MAX, EMAIL_MAX, TAG_MAX = 200, 200, 254, 50

COUNTRY = re.compile(r"^[A-Z]{2}$")
TAG_SEPARATORS = re.compile(r"[;|]")
COMMA_TAGS = re.compile(r"[;|,]")
COMMA_TAG_LAYOUTS = ("Shopify customers export",)
STATUSES = {s.value: s for s in CustomerStatus}
RATINGS = {r.value: r for r in PaymentRating}
FORMULA_START = ("=", "+", "-", "@")


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportCheck:
    """What importing a file would do, without doing it."""

    rows: int  # data rows that are not blank
    valid: int
    new: int
    updated: int
    unchanged: int
    error_rows: int
    errors: list[RowError]
    preview: list[PreviewRow]


@dataclass(frozen=True)
class RuleChange:
    group_name: str
    joined: int
    left: int


@dataclass(frozen=True)
class ImportResult:
    imported: bool  # False: all or nothing was asked for and some rows had errors; nothing was saved
    created: int
    updated: int
    unchanged: int
    error_rows: int
    errors: list[RowError]
    rule_changes: list[RuleChange] = field(default_factory=list)


# --- Checking customer rows -------------------------------------------------------------------


@dataclass(frozen=True)
class _Customer:
    """A valid row's values; None where the cell was empty or the column not mapped."""

    row: int
    email: str
    name: str
    company: str | None = None
    country: str | None = None
    status: str | None = None
    payment_rating: str | None = None
    tags: tuple[str, ...] | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class _Saved:
    id: int
    name: str
    company: str
    country: str
    status: str
    payment_rating: str
    tags: tuple[str, ...] = ()


def _unquote(text: str) -> str:
    """Undo our export's guard against spreadsheet formulas ('=... -> =...), so files round-trip."""
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START else text


def _text(value: str, label: str, limit: int, errors: list[tuple[str, str]], key: str) -> str:
    if HIDDEN.search(value):
        errors.append(
            (key, f"{label} contains hidden characters (such as tabs, line breaks or direction marks): remove them.")
        )
    elif len(value) > limit:
        errors.append((key, f"{label} is longer than {limit} characters."))
    return value


def _date(value: str, now: datetime) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise ValueError(f"Customer since “{shown(value)}” is not a date: write it as YYYY-MM-DD.") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if parsed > now:
        raise ValueError(f"Customer since {shown(value)} is in the future.")
    return parsed


# A cell's problems, as (column, message), in the order the row's columns are checked.
Problems = list[tuple[str, str]]


def _email(text: str, problems: Problems) -> str:
    email = text.lower()
    if not email:
        problems.append(("email", "Email is missing."))
    elif HIDDEN.search(email) or len(email) > EMAIL_MAX or not EMAIL.match(email):
        problems.append(("email", f"“{shown(email, 60)}” is not an email address."))
    return email


def _name(text: str, problems: Problems) -> str:
    name = _text(_unquote(text), "Name", NAME_MAX, problems, "name")
    if not name:
        problems.append(("name", "Name is missing."))
    return name


def _company(text: str, problems: Problems, _now: datetime) -> str:
    return _text(_unquote(text), "Company", COMPANY_MAX, problems, "company")


def _country(text: str, problems: Problems, _now: datetime) -> str:
    if not COUNTRY.match(text.upper()):
        problems.append(("country", f"Country “{shown(text)}” is not a two-letter code such as US or DE."))
    return text.upper()


def _status(text: str, problems: Problems, _now: datetime) -> str:
    if text.lower() not in STATUSES:
        problems.append(("status", f"Status “{shown(text)}” is not one of active, inactive, blocked."))
    return text.lower()


def _payment_rating(text: str, problems: Problems, _now: datetime) -> str:
    if text.lower() not in RATINGS:
        problems.append(
            ("payment_rating", f"Payment history “{shown(text)}” is not one of excellent, good, fair, poor.")
        )
    return text.lower()


def _tags(text: str, problems: Problems, _now: datetime, separators: re.Pattern = TAG_SEPARATORS) -> tuple[str, ...]:
    cleaned: list[str] = []
    for tag in separators.split(text):
        tag = " ".join(tag.split()).lower()
        if tag and tag not in cleaned:
            cleaned.append(_text(tag, f"Tag “{shown(tag)}”", TAG_MAX, problems, "tags"))
    return tuple(sorted(cleaned))


def _created_at(text: str, problems: Problems, now: datetime) -> datetime | None:
    try:
        return _date(text, now)
    except ValueError as error:
        problems.append(("created_at", str(error)))
        return None


# The columns a row may leave empty, each read (and its problems noted) only when it has a value.
OPTIONAL_COLUMNS: dict[str, Callable[[str, Problems, datetime], Any]] = {
    "company": _company,
    "country": _country,
    "status": _status,
    "payment_rating": _payment_rating,
    "tags": _tags,
    "created_at": _created_at,
}


def _customer_row(
    number: int, cells: dict[str, str], now: datetime, readers: dict[str, Callable] = OPTIONAL_COLUMNS
) -> tuple[_Customer | None, list[RowError]]:
    problems: Problems = []
    email = _email(cells["email"], problems)
    given = (cells.get("first_name", ""), cells.get("last_name", ""))
    name = _name(cells.get("name") or " ".join(part for part in given if part), problems)
    values = {column: read(text, problems, now) for column, read in readers.items() if (text := cells.get(column))}
    if problems:
        return None, [RowError(row=number, field=key, message=message) for key, message in problems]
    return _Customer(row=number, email=email, name=name, **values), []


@dataclass
class _Checked:
    valid: list[_Customer]
    errors: list[RowError]
    error_rows: int
    rows: int
    raw: dict[int, dict[str, str]]  # the first rows' cells, for the preview


def _readers(file: CsvFile) -> dict[str, Callable]:
    """How the file's optional cells are read: tags split by commas too in a layout that does so."""
    layout = layout_of(headers=file.headers, kind=ImportKind.CUSTOMERS)
    if layout is not None and layout.name in COMMA_TAG_LAYOUTS:
        return OPTIONAL_COLUMNS | {"tags": partial(_tags, separators=COMMA_TAGS)}
    return OPTIONAL_COLUMNS


def customer_columns(file: CsvFile, mapping: dict[str, str | None]) -> dict[str, int]:
    """Our field -> column index; the name comes from a name column, or first and last names."""
    columns = columns_for(file, mapping, ImportKind.CUSTOMERS)
    if not {"name", "first_name", "last_name"} & set(columns):
        raise FormError({"name": "Choose the column that holds the name, or the first and last name columns."})
    return columns


def _check_customers(file: CsvFile, columns: dict[str, int], now: datetime) -> _Checked:
    readers = _readers(file)
    valid: list[_Customer] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    raw: dict[int, dict[str, str]] = {}
    rows = error_rows = 0
    for number, cells in data_rows(file, columns):
        rows += 1
        if rows <= PREVIEW_ROWS:
            raw[number] = cells
        customer, row_errors = _customer_row(number, cells, now, readers)
        if customer is not None and customer.email in first_row:
            row_errors = [RowError(number, "email", f"{customer.email} is already in row {first_row[customer.email]}.")]
            customer = None
        if customer is None:
            errors += row_errors
            error_rows += 1
        else:
            first_row[customer.email] = number
            valid.append(customer)
    return _Checked(valid=valid, errors=errors, error_rows=error_rows, rows=rows, raw=raw)


async def _saved_customers(
    connection: BaseDBAsyncClient, emails: list[str], *, with_tags: bool, progress: Progress, share: float
) -> dict[str, _Saved]:
    saved: dict[str, _Saved] = {}
    for start in range(0, len(emails), LOOKUP_CHUNK):
        for row in (
            await Customer.filter(email__in=emails[start : start + LOOKUP_CHUNK])
            .using_db(connection)
            .values_list("id", "email", "name", "company", "country", "status", "payment_rating")
        ):
            customer_id, email, name, company, country, status, rating = row
            saved[email] = _Saved(customer_id, name, company, country, str(status), str(rating))
        if start // LOOKUP_CHUNK % 20 == 19:
            progress(share * (start + LOOKUP_CHUNK) / len(emails))
    if with_tags and saved:
        tags: dict[int, list[str]] = {}
        ids = [s.id for s in saved.values()]
        for start in range(0, len(ids), LOOKUP_CHUNK):
            for customer_id, tag in (
                await CustomerTag.filter(customer_id__in=ids[start : start + LOOKUP_CHUNK])
                .using_db(connection)
                .values_list("customer_id", "tag")
            ):
                tags.setdefault(customer_id, []).append(tag)
        saved = {email: replace(s, tags=tuple(sorted(tags.get(s.id, ())))) for email, s in saved.items()}
    progress(share)
    return saved


def _merged(customer: _Customer, saved: _Saved | None) -> _Saved:
    """The customer as they will be after the import (id 0 for a new one)."""
    base = saved or _Saved(0, "", "", "", CustomerStatus.ACTIVE.value, PaymentRating.GOOD.value)
    return _Saved(
        id=base.id,
        name=customer.name,
        company=base.company if customer.company is None else customer.company,
        country=base.country if customer.country is None else customer.country,
        status=customer.status or base.status,
        payment_rating=customer.payment_rating or base.payment_rating,
        tags=base.tags if customer.tags is None else customer.tags,
    )


def _preview(checked: _Checked, saved: dict[str, _Saved], now: datetime) -> list[PreviewRow]:
    by_row = {c.row: c for c in checked.valid if c.row in checked.raw}
    errors: dict[int, list[str]] = {}
    for error in checked.errors:
        if error.row in checked.raw:
            errors.setdefault(error.row, []).append(error.message)
    preview = []
    for number, cells in checked.raw.items():
        customer = by_row.get(number)
        if customer is None:
            preview.append(PreviewRow(row=number, action="error", values=cells, errors=tuple(errors.get(number, ()))))
            continue
        before = saved.get(customer.email)
        after = _merged(customer, before)
        action = "new" if before is None else "unchanged" if after == before else "update"
        since = customer.created_at or (None if before else now)
        values = {
            "email": customer.email,
            "name": after.name,
            "company": after.company,
            "country": after.country,
            "status": after.status,
            "payment_rating": after.payment_rating,
            "tags": ", ".join(after.tags),
            "created_at": f"{since:%Y-%m-%d}" if since else "",
            "first_name": cells.get("first_name", ""),
            "last_name": cells.get("last_name", ""),
        }
        preview.append(PreviewRow(row=number, action=action, values=values))
    return preview


async def check_customers(*, file: CsvFile, mapping: dict[str, str | None]) -> ImportCheck:
    """Check every row and count what an import would create and update; nothing is saved.

    Refuses (FormError) a mapping without the required columns."""
    columns = customer_columns(file, mapping)
    now = datetime.now(UTC)
    checked = await asyncio.to_thread(_check_customers, file, columns, now)
    saved = await _saved_customers(
        reader_connection(),
        [c.email for c in checked.valid],
        with_tags="tags" in columns,
        progress=lambda _: None,
        share=1.0,
    )
    new = updated = 0
    for customer in checked.valid:
        before = saved.get(customer.email)
        if before is None:
            new += 1
        elif _merged(customer, before) != before:
            updated += 1
    return ImportCheck(
        rows=checked.rows,
        valid=len(checked.valid),
        new=new,
        updated=updated,
        unchanged=len(checked.valid) - new - updated,
        error_rows=checked.error_rows,
        errors=checked.errors,
        preview=_preview(checked, saved, now),
    )


# --- Writing ----------------------------------------------------------------------------------


async def _insert_batches(
    connection: BaseDBAsyncClient,
    model: type[Model],
    columns: Sequence[str],
    rows: list[tuple],
    *,
    progress: Progress,
    start: float,
    end: float,
) -> None:
    for first in range(0, len(rows), BATCH):
        await insert_rows(connection, model, columns, rows[first : first + BATCH])
        progress(start + (end - start) * min(first + BATCH, len(rows)) / len(rows))


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
UPDATED_COLUMNS = ("name", "company", "country", "status", "payment_rating")


async def _write_customers(
    connection: BaseDBAsyncClient,
    valid: list[_Customer],
    saved: dict[str, _Saved],
    *,
    with_tags: bool,
    now: datetime,
    progress: Progress,
) -> tuple[int, int]:
    """Insert the new customers and update the changed ones; (created, updated)."""
    new_rows: list[tuple] = []
    new_tags: dict[str, tuple[str, ...]] = {}
    changed: list[list[Any]] = []
    retagged: dict[int, tuple[str, ...]] = {}
    updated = 0
    for customer in valid:
        before = saved.get(customer.email)
        after = _merged(customer, before)
        if before is None:
            new_rows.append(
                (
                    after.name,
                    after.company,
                    customer.email,
                    after.country,
                    CustomerStatus(after.status),
                    PaymentRating(after.payment_rating),
                    {},
                    customer.created_at or now,
                    0,
                    0,
                )
            )
            if after.tags:
                new_tags[customer.email] = after.tags
            continue
        if after == before:
            continue
        updated += 1
        if after.tags != before.tags:
            retagged[before.id] = after.tags
        if replace(after, tags=()) != replace(before, tags=()):
            changed.append([after.name, after.company, after.country, after.status, after.payment_rating, before.id])

    # The database numbers new customers above every id it has given so far (we hold the write
    # lock), so their ids are read back in one query rather than per email.
    last_id = await Customer.all().using_db(connection).order_by("-id").first().values_list("id", flat=True)
    await _insert_batches(connection, Customer, CUSTOMER_COLUMNS, new_rows, progress=progress, start=0.2, end=0.7)
    update = dialect_sql(
        connection,
        f"UPDATE {Customer._meta.db_table} SET {', '.join(f'{c} = ?' for c in UPDATED_COLUMNS)} WHERE id = ?",
    )
    for first in range(0, len(changed), BATCH):
        await connection.execute_many(update, changed[first : first + BATCH])
        progress(0.7 + 0.1 * min(first + BATCH, len(changed)) / len(changed))
    if with_tags and (new_tags or retagged):
        delete = dialect_sql(connection, f"DELETE FROM {CustomerTag._meta.db_table} WHERE customer_id = ?")
        if retagged:
            await connection.execute_many(delete, [[customer_id] for customer_id in retagged])
        ids: dict[str, int] = {}
        if new_tags:
            new_ids = Customer.filter(id__gt=last_id or 0).using_db(connection).values_list("email", "id")
            ids = {email: customer_id for email, customer_id in await new_ids}
        tag_rows = [(ids[email], tag) for email, tags in new_tags.items() for tag in tags]
        tag_rows += [(customer_id, tag) for customer_id, tags in retagged.items() for tag in tags]
        await _insert_batches(
            connection, CustomerTag, ("customer_id", "tag"), tag_rows, progress=progress, start=0.8, end=0.9
        )
    progress(0.9)
    return len(new_rows), updated


@retried_on_conflict
async def import_customers(
    *,
    file: CsvFile,
    mapping: dict[str, str | None],
    all_or_nothing: bool = False,
    actor: Acting,
    progress: Progress | None = None,
    rerun_rules: bool = True,
) -> ImportResult:
    """Create and update customers from the file's valid rows, in one transaction.

    Rows with errors are listed and left out, or with `all_or_nothing` nothing is saved when any
    row has an error. `progress` gets the share done (0 to 1) after each batch. Afterwards the
    group rules are re-run (unless `rerun_rules` is off) so customers land in rule-based groups."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    say = progress or (lambda _share: None)
    columns = customer_columns(file, mapping)
    now = datetime.now(UTC)
    checked = await asyncio.to_thread(_check_customers, file, columns, now)
    say(0.05)
    if checked.errors and all_or_nothing:
        return ImportResult(
            imported=False,
            created=0,
            updated=0,
            unchanged=0,
            error_rows=checked.error_rows,
            errors=checked.errors,
        )
    with_tags = "tags" in columns
    async with in_transaction(BACKGROUND) as connection:
        saved = await _saved_customers(
            connection, [c.email for c in checked.valid], with_tags=with_tags, progress=say, share=0.2
        )
        created, updated = await _write_customers(
            connection, checked.valid, saved, with_tags=with_tags, now=now, progress=say
        )
    rule_changes: list[RuleChange] = []
    if rerun_rules and (created or updated):
        runs = await run_all_rules(actor=actor)
        rule_changes = [RuleChange(r.group_name, r.joined, r.left) for r in runs if r.changed]
    say(1.0)
    return ImportResult(
        imported=True,
        created=created,
        updated=updated,
        unchanged=len(checked.valid) - created - updated,
        error_rows=checked.error_rows,
        errors=checked.errors,
        rule_changes=rule_changes,
    )
