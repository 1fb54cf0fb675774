"""Importing customers and group memberships from CSV files.

The owner uploads a file (`read_csv`), maps its columns to our fields (`suggest_mapping` fills in
what it recognises), sees a check of every row with a preview of the first ones
(`check_customers` / `check_memberships`), and imports (`import_customers` /
`import_memberships`).

Why it is built this way:

- Row numbers are the ones the owner sees in a spreadsheet: the header is row 1, the first
  customer row 2. A quoted cell that spans several lines is still one row.
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
import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.customer import Customer, CustomerStatus, CustomerTag, PaymentRating
from models.group import CustomerGroup
from services.errors import FormError
from services.membership.changes import AddMode, AddResult, RowRefusal, add_rows, check_rows
from services.rules.runs import run_all_rules
from services.staff.actor import Acting, Permission, actor_name, require
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND, reader_connection
from services.storage.sql import dialect_sql, insert_rows
from services.text import EMAIL, HIDDEN

MAX_BYTES = 50 * 1024 * 1024
BATCH = 5_000  # rows per executemany; progress is reported after each
LOOKUP_CHUNK = 500  # emails per "IN (...)" lookup, well under every database's parameter limit
PREVIEW_ROWS = 10
NAME_MAX, COMPANY_MAX, EMAIL_MAX, TAG_MAX = 200, 200, 254, 50

Progress = Callable[[float], None]


class ImportKind(StrEnum):
    CUSTOMERS = "customers"
    MEMBERSHIPS = "memberships"


@dataclass(frozen=True)
class ImportField:
    """One of our fields a CSV column can be mapped to."""

    key: str
    label: str
    required: bool
    hint: str
    synonyms: tuple[str, ...] = ()


CUSTOMER_FIELDS = (
    ImportField(
        "email",
        "Email",
        True,
        "Identifies the customer: a known email updates that customer.",
        ("e-mail", "email address", "e-mail address", "mail", "customer email", "contact email"),
    ),
    ImportField(
        "name",
        "Name",
        True,
        "The customer's name as your lists show it.",
        ("customer name", "customer", "full name", "contact name", "contact", "client", "client name"),
    ),
    ImportField(
        "company",
        "Company",
        False,
        "Company or organisation.",
        ("company name", "organisation", "organization", "business", "business name", "firm"),
    ),
    ImportField(
        "country",
        "Country",
        False,
        "Two-letter code such as US, GB or DE.",
        ("country code", "iso country", "country iso", "nation"),
    ),
    ImportField("status", "Status", False, "active, inactive or blocked.", ("customer status", "account status")),
    ImportField(
        "payment_rating",
        "Payment history",
        False,
        "excellent, good, fair or poor.",
        ("payment rating", "rating", "credit rating", "payment", "payments"),
    ),
    ImportField("tags", "Tags", False, "Separated by ; or |, e.g. b2b; newsletter.", ("tag", "labels", "keywords")),
    ImportField(
        "created_at",
        "Customer since",
        False,
        "A date as YYYY-MM-DD; new customers without one start today.",
        ("created", "created at", "date created", "signup date", "sign up date", "registered", "registration date"),
    ),
)
MEMBERSHIP_FIELDS = (
    ImportField(
        "email", "Customer email", True, "The email of a customer already in the shop.", CUSTOMER_FIELDS[0].synonyms
    ),
    ImportField(
        "group_code",
        "Group code",
        True,
        "The group's code, e.g. VIP (not case-sensitive).",
        ("code", "group", "customer group", "group name", "segment"),
    ),
)
FIELDS = {ImportKind.CUSTOMERS: CUSTOMER_FIELDS, ImportKind.MEMBERSHIPS: MEMBERSHIP_FIELDS}

# Control characters (tabs and line breaks included) and the invisible marks that reorder text
# on screen: a name with either shows differently from what is stored.
COUNTRY = re.compile(r"^[A-Z]{2}$")
TAG_SEPARATORS = re.compile(r"[;|]")
STATUSES = {s.value: s for s in CustomerStatus}
RATINGS = {r.value: r for r in PaymentRating}
FORMULA_START = ("=", "+", "-", "@")


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvFile:
    headers: tuple[str, ...]
    rows: list[list[str]]  # data rows, the header excluded; rows[i] is spreadsheet row i + 2
    delimiter: str
    encoding: str

    @property
    def row_count(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class RowError:
    row: int  # as in a spreadsheet: the header is row 1
    field: str | None  # our field's key, or None for the row as a whole
    message: str


@dataclass(frozen=True)
class PreviewRow:
    row: int
    action: str  # "new", "update", "unchanged" or "error"
    values: dict[str, str]  # field key -> the value as it would be saved (the cell as is for errors)
    errors: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class MembershipCheck:
    rows: int
    valid: int
    error_rows: int
    errors: list[RowError]
    preview: list[PreviewRow]
    by_group: dict[str, int]  # group name -> valid rows for it


@dataclass(frozen=True)
class MembershipImportResult:
    imported: bool
    added: int
    already: int
    error_rows: int
    errors: list[RowError]
    groups: list[AddResult] = field(default_factory=list)


# --- Reading the file -------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    # Excel on Windows saves "CSV" in the Windows code page; latin-1 decodes anything left.
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def _delimiter(text: str) -> str:
    """The most frequent of , ; and tab in the header line, outside quotes (comma on a tie)."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in text[:65536]:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        elif ch in counts and not quoted:
            counts[ch] += 1
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _parse(data: bytes) -> CsvFile:
    if not data.strip():
        raise FormError({"file": "The file is empty."})
    if len(data) > MAX_BYTES:
        raise FormError({"file": f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into parts."})
    if b"\x00" in data[:8192]:
        raise FormError(
            {"file": "This is not a CSV file (perhaps an Excel workbook). Save it as “CSV UTF-8” and upload that."}
        )
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    except csv.Error as error:
        raise FormError({"file": f"This file cannot be read as CSV ({error}). Save it as CSV and try again."}) from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise FormError({"file": "The first row must name the columns, e.g. Email, Name, Company."})
    headers = tuple(cell.strip() or f"Column {i + 1}" for i, cell in enumerate(records[0]))
    seen: set[str] = set()
    for header in headers:
        if header.casefold() in seen:
            raise FormError({"file": f"Two columns are named “{header}”: give each column its own name."})
        seen.add(header.casefold())
    return CsvFile(headers=headers, rows=records[1:], delimiter=delimiter, encoding=encoding)


async def read_csv(*, data: bytes) -> CsvFile:
    """Decode and parse an uploaded CSV file (comma, semicolon or tab separated).

    Refuses (FormError on "file") an empty file, one without a header row, one that is not CSV,
    and one larger than 50 MB."""
    return await asyncio.to_thread(_parse, data)


# --- Mapping ----------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def fields_for(kind: ImportKind) -> tuple[ImportField, ...]:
    return FIELDS[kind]


def suggest_mapping(*, headers: Sequence[str], kind: ImportKind = ImportKind.CUSTOMERS) -> dict[str, str | None]:
    """Our field -> the CSV column that looks like it (same name or a common synonym), or None.

    Each column is suggested for one field at most; exact names win over synonyms."""
    by_normal = {_normal(h): h for h in reversed(headers)}
    mapping: dict[str, str | None] = {f.key: None for f in FIELDS[kind]}
    used: set[str] = set()
    for names in (lambda f: (f.key, f.label), lambda f: f.synonyms):
        for item in FIELDS[kind]:
            if mapping[item.key]:
                continue
            for name in names(item):
                header = by_normal.get(_normal(name))
                if header and header not in used:
                    mapping[item.key] = header
                    used.add(header)
                    break
    return mapping


def _columns(file: CsvFile, mapping: dict[str, str | None], kind: ImportKind) -> dict[str, int]:
    """Our field -> column index, checking that required fields are mapped to real columns."""
    errors: dict[str, str] = {}
    columns: dict[str, int] = {}
    for item in FIELDS[kind]:
        header = mapping.get(item.key)
        if not header:
            if item.required:
                errors[item.key] = f"Choose the column that holds the {item.label.lower()}."
            continue
        if header not in file.headers:
            errors[item.key] = f"The file has no column “{header}”."
            continue
        columns[item.key] = file.headers.index(header)
    if errors:
        raise FormError(errors)
    return columns


def _cells(file: CsvFile, columns: dict[str, int]) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, field -> stripped cell) for every row that is not blank."""
    for number, record in enumerate(file.rows, start=2):
        if not any(cell.strip() for cell in record):
            continue
        yield number, {key: record[i].strip() if i < len(record) else "" for key, i in columns.items()}


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


def _shown(value: str, limit: int = 30) -> str:
    """A cell quoted in a message: without control characters, and cut short."""
    value = HIDDEN.sub("", value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


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
        raise ValueError(f"Customer since “{_shown(value)}” is not a date: write it as YYYY-MM-DD.") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if parsed > now:
        raise ValueError(f"Customer since {_shown(value)} is in the future.")
    return parsed


# A cell's problems, as (column, message), in the order the row's columns are checked.
Problems = list[tuple[str, str]]


def _email(text: str, problems: Problems) -> str:
    email = text.lower()
    if not email:
        problems.append(("email", "Email is missing."))
    elif HIDDEN.search(email) or len(email) > EMAIL_MAX or not EMAIL.match(email):
        problems.append(("email", f"“{_shown(email, 60)}” is not an email address."))
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
        problems.append(("country", f"Country “{_shown(text)}” is not a two-letter code such as US or DE."))
    return text.upper()


def _status(text: str, problems: Problems, _now: datetime) -> str:
    if text.lower() not in STATUSES:
        problems.append(("status", f"Status “{_shown(text)}” is not one of active, inactive, blocked."))
    return text.lower()


def _payment_rating(text: str, problems: Problems, _now: datetime) -> str:
    if text.lower() not in RATINGS:
        problems.append(
            ("payment_rating", f"Payment history “{_shown(text)}” is not one of excellent, good, fair, poor.")
        )
    return text.lower()


def _tags(text: str, problems: Problems, _now: datetime) -> tuple[str, ...]:
    cleaned: list[str] = []
    for tag in TAG_SEPARATORS.split(text):
        tag = " ".join(tag.split()).lower()
        if tag and tag not in cleaned:
            cleaned.append(_text(tag, f"Tag “{_shown(tag)}”", TAG_MAX, problems, "tags"))
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


def _customer_row(number: int, cells: dict[str, str], now: datetime) -> tuple[_Customer | None, list[RowError]]:
    problems: Problems = []
    email = _email(cells["email"], problems)
    name = _name(cells["name"], problems)
    values = {
        column: read(text, problems, now) for column, read in OPTIONAL_COLUMNS.items() if (text := cells.get(column))
    }
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


def _check_customers(file: CsvFile, columns: dict[str, int], now: datetime) -> _Checked:
    valid: list[_Customer] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    raw: dict[int, dict[str, str]] = {}
    rows = error_rows = 0
    for number, cells in _cells(file, columns):
        rows += 1
        if rows <= PREVIEW_ROWS:
            raw[number] = cells
        customer, row_errors = _customer_row(number, cells, now)
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
        }
        preview.append(PreviewRow(row=number, action=action, values=values))
    return preview


async def check_customers(*, file: CsvFile, mapping: dict[str, str | None]) -> ImportCheck:
    """Check every row and count what an import would create and update; nothing is saved.

    Refuses (FormError) a mapping without the required columns."""
    columns = _columns(file, mapping, ImportKind.CUSTOMERS)
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
    columns = _columns(file, mapping, ImportKind.CUSTOMERS)
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


# --- Memberships ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    row: int
    customer_id: int
    group_id: int


@dataclass
class _MemberCheck:
    valid: list[_Member]
    errors: list[RowError]
    error_rows: int
    rows: int
    raw: dict[int, dict[str, str]]


async def _check_members(file: CsvFile, columns: dict[str, int], mode: AddMode) -> _MemberCheck:
    cells = list(_cells(file, columns))
    emails = sorted({c["email"].lower() for _, c in cells if c["email"]})
    customers: dict[str, int] = {}
    connection = reader_connection()
    for start in range(0, len(emails), LOOKUP_CHUNK):
        customers.update(
            await Customer.filter(email__in=emails[start : start + LOOKUP_CHUNK])
            .using_db(connection)
            .values_list("email", "id")  # type: ignore[arg-type]
        )
    groups = {g.code: g for g in await CustomerGroup.all().using_db(connection)}
    valid: list[_Member] = []
    errors: list[RowError] = []
    first_row: dict[tuple[int, int], int] = {}
    group_row: dict[int, tuple[int, int]] = {}  # customer -> (group, row), for move / primary
    raw: dict[int, dict[str, str]] = {}
    rows = error_rows = 0
    for number, row in cells:
        rows += 1
        if rows <= PREVIEW_ROWS:
            raw[number] = row
        problems: list[tuple[str, str]] = []
        email, code = row["email"].lower(), row["group_code"].upper()
        customer_id = customers.get(email)
        if not email:
            problems.append(("email", "Email is missing."))
        elif customer_id is None:
            problems.append(("email", f"No customer has the email “{_shown(email, 60)}”."))
        group = groups.get(code)
        if not code:
            problems.append(("group_code", "Group code is missing."))
        elif group is None:
            problems.append(("group_code", f"There is no group with the code “{_shown(code)}”."))
        if not problems:
            assert customer_id is not None and group is not None
            if (customer_id, group.id) in first_row:
                problems.append(("email", f"{email} and {code} are already in row {first_row[customer_id, group.id]}."))
            elif mode != AddMode.ADD and customer_id in group_row:
                problems.append(
                    (
                        "group_code",
                        f"{email} is already listed for another group in row {group_row[customer_id][1]}: "
                        "moving or making primary takes one group per customer.",
                    )
                )
        if problems:
            errors += [RowError(number, key, message) for key, message in problems]
            error_rows += 1
            continue
        assert customer_id is not None and group is not None
        first_row[customer_id, group.id] = number
        group_row[customer_id] = (group.id, number)
        valid.append(_Member(number, customer_id, group.id))
    return _MemberCheck(valid=valid, errors=errors, error_rows=error_rows, rows=rows, raw=raw)


def _rows(checked: _MemberCheck) -> list[tuple[int, int, int]]:
    return [(m.row, m.customer_id, m.group_id) for m in checked.valid]


def _with_refusals(checked: _MemberCheck, refused: list[RowRefusal]) -> _MemberCheck:
    """The check, with the rows the membership service refuses (a full group, a blocked customer,
    one group per customer ...) moved from valid to errors, at the cell the reason is about."""
    if not refused:
        return checked
    rows = {r.key for r in refused}
    errors = checked.errors + [
        RowError(r.key, "email" if r.field == "customer" else "group_code", r.message) for r in refused
    ]
    errors.sort(key=lambda e: e.row)  # stable: a row's own errors stay in their order
    return replace(
        checked,
        valid=[m for m in checked.valid if m.row not in rows],
        errors=errors,
        error_rows=checked.error_rows + len(rows),
    )


async def check_memberships(
    *, file: CsvFile, mapping: dict[str, str | None], mode: AddMode = AddMode.ADD
) -> MembershipCheck:
    """Check every row: a known customer email, a known group code, and what adding them would meet
    (the same checks as adding by hand, row after row: capacity, blocked customers, inactive and
    automatic groups, one group per customer)."""
    columns = _columns(file, mapping, ImportKind.MEMBERSHIPS)
    checked = await _check_members(file, columns, mode)
    checked = _with_refusals(checked, await check_rows(rows=_rows(checked), mode=mode))
    names = dict(await CustomerGroup.all().values_list("id", "name"))  # type: ignore[arg-type]
    by_group: dict[str, int] = {}
    for member in checked.valid:
        by_group[names[member.group_id]] = by_group.get(names[member.group_id], 0) + 1
    errors: dict[int, list[str]] = {}
    for error in checked.errors:
        errors.setdefault(error.row, []).append(error.message)
    preview = [
        PreviewRow(
            row=number,
            action="error" if number in errors else "add",
            values={"email": cells["email"].lower(), "group_code": cells["group_code"].upper()},
            errors=tuple(errors.get(number, ())),
        )
        for number, cells in checked.raw.items()
    ]
    return MembershipCheck(
        rows=checked.rows,
        valid=len(checked.valid),
        error_rows=checked.error_rows,
        errors=checked.errors,
        preview=preview,
        by_group=by_group,
    )


async def import_memberships(
    *,
    file: CsvFile,
    mapping: dict[str, str | None],
    all_or_nothing: bool = False,
    mode: AddMode = AddMode.ADD,
    actor: Acting,
    progress: Progress | None = None,
) -> MembershipImportResult:
    """Add the customers in the file's rows to their groups, in one transaction.

    Each row goes through the membership service's checks (services.membership.changes.add_rows): a row
    they refuse (the group is full, the customer is blocked ...) is reported with its row number
    and the rest are added, or, with `all_or_nothing`, nothing is."""
    await require(actor, Permission.MANAGE_MEMBERS)
    say = progress or (lambda _share: None)
    columns = _columns(file, mapping, ImportKind.MEMBERSHIPS)
    checked = await _check_members(file, columns, mode)
    say(0.3)
    if (checked.errors and all_or_nothing) or not checked.valid:
        return MembershipImportResult(
            imported=False, added=0, already=0, error_rows=checked.error_rows, errors=checked.errors
        )
    added = await add_rows(
        rows=_rows(checked),
        mode=mode,
        actor=actor,
        reason=f"Imported from CSV by {actor_name(actor)}",
        all_or_nothing=all_or_nothing,
    )
    checked = _with_refusals(checked, added.refused)
    say(1.0)
    return MembershipImportResult(
        imported=added.written,
        added=sum(r.added for r in added.groups) if added.written else 0,
        already=sum(r.already for r in added.groups) if added.written else 0,
        error_rows=checked.error_rows,
        errors=checked.errors,
        groups=list(added.groups) if added.written else [],
    )
