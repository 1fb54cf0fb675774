"""An uploaded CSV file and what its columns may be mapped to, for every kind of import.

The owner uploads a file (`read_csv`), maps its columns to our fields (`suggest_mapping` fills in
what it recognises from the column names and their common synonyms), and each kind's module
(services.imports.customers, services.imports.memberships) checks and imports its rows.

Row numbers are the ones the owner sees in a spreadsheet: the header is row 1, the first data row
2. A quoted cell that spans several lines is still one row. Parsing is plain Python run in a worker
thread, so the page stays responsive.
"""

import asyncio
import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.errors import FormError
from services.text import HIDDEN

MAX_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 10
LOOKUP_CHUNK = 500  # emails per "IN (...)" lookup, well under every database's parameter limit
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


def columns_for(file: CsvFile, mapping: dict[str, str | None], kind: ImportKind) -> dict[str, int]:
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


def data_rows(file: CsvFile, columns: dict[str, int]) -> Iterator[tuple[int, dict[str, str]]]:
    """(spreadsheet row number, field -> stripped cell) for every row that is not blank."""
    for number, record in enumerate(file.rows, start=2):
        if not any(cell.strip() for cell in record):
            continue
        yield number, {key: record[i].strip() if i < len(record) else "" for key, i in columns.items()}


def shown(value: str, limit: int = 30) -> str:
    """A cell quoted in a message: without control characters, and cut short."""
    value = HIDDEN.sub("", value)
    return value if len(value) <= limit else value[: limit - 1] + "…"
