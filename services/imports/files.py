"""An uploaded CSV file and what its columns may be mapped to, for every kind of import.

The owner uploads a file (`read_csv`), maps its columns to our fields (`suggest_mapping` fills in
what it recognises: first a shop platform's own export layout, told by its header (LAYOUTS), then
the column names and their common synonyms), and each kind's module (services.imports.customers,
services.imports.memberships, services.imports.orders) checks and imports its rows.

A new kind adds its ImportKind, its fields to FIELDS, and any layouts it recognises to LAYOUTS.

Row numbers are the ones the owner sees in a spreadsheet: the header is row 1, the first data row
2. A quoted cell that spans several lines is still one row. Parsing is plain Python run in a worker
thread, so the page stays responsive.
"""

import asyncio
import csv
import io
import re
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from services.bulk import release_frozen, without_cycle_collection
from services.errors import FormError
from services.text import HIDDEN

MAX_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 10
LOOKUP_CHUNK = 500  # emails per "IN (...)" lookup, well under every database's parameter limit
Progress = Callable[[float], None]


class ImportKind(StrEnum):
    CUSTOMERS = "customers"
    MEMBERSHIPS = "memberships"
    ORDERS = "orders"
    PRODUCTS = "products"


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
        False,  # required, or First name and Last name instead (services.imports.customers asks)
        "The customer's name as your lists show it; or map First name and Last name.",
        ("customer name", "customer", "full name", "contact name", "contact", "client", "client name"),
    ),
    ImportField(
        "company",
        "Company",
        False,
        "Company or organisation.",
        (
            "company name",
            "organisation",
            "organization",
            "business",
            "business name",
            "firm",
            "default address company",
        ),
    ),
    ImportField(
        "country",
        "Country",
        False,
        "Two-letter code such as US, GB or DE.",
        ("country code", "iso country", "country iso", "nation", "default address country code"),
    ),
    ImportField("status", "Status", False, "active, inactive or blocked.", ("customer status", "account status")),
    ImportField(
        "payment_rating",
        "Payment history",
        False,
        "excellent, good, fair or poor.",
        ("payment rating", "rating", "credit rating", "payment", "payments"),
    ),
    ImportField(
        "tags",
        "Tags",
        False,
        "Separated by ; or |, e.g. b2b; newsletter (by commas in Shopify's export).",
        ("tag", "labels", "keywords"),
    ),
    ImportField(
        "created_at",
        "Customer since",
        False,
        "A date as YYYY-MM-DD; new customers without one start today.",
        ("created", "created at", "date created", "signup date", "sign up date", "registered", "registration date"),
    ),
    ImportField(
        "first_name",
        "First name",
        False,
        "With Last name, makes the name where the file has no name column (or an empty one).",
        ("firstname", "given name", "forename"),
    ),
    ImportField("last_name", "Last name", False, "See First name.", ("lastname", "surname", "family name")),
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
# An order may span several rows, one per line item: the order's own columns may be left empty
# on all its rows but the first (as Shopify's export does), or repeated on each (as WooCommerce's).
ORDER_FIELDS = (
    ImportField(
        "number",
        "Order number",
        True,
        "Rows with the same number are one order; a known number updates it.",
        ("order number", "order no", "order id", "order", "order ref", "order reference", "invoice number"),
    ),
    ImportField(
        "email",
        "Customer email",
        True,
        "The customer who ordered, found by email.",
        (*CUSTOMER_FIELDS[0].synonyms, "billing email", "billing email address"),
    ),
    ImportField(
        "placed_at",
        "Placed at",
        True,
        "Date and time, e.g. 2024-03-15 14:30 (UTC unless it gives an offset).",
        ("order date", "date", "created at", "placed", "ordered at", "purchase date", "date created"),
    ),
    ImportField(
        "total",
        "Total",
        True,
        "The order's total, e.g. 1234.50.",
        ("order total", "total amount", "order total amount", "grand total", "amount"),
    ),
    ImportField(
        "status",
        "Status",
        False,
        "completed, pending, cancelled, refunded, or your platform's own words. Empty: completed.",
        ("order status", "financial status", "payment status"),
    ),
    ImportField(
        "currency", "Currency", False, "Three letters such as USD; empty: the shop's own.", ("order currency",)
    ),
    ImportField(
        "cancelled_at", "Cancelled at", False, "Any date here marks the order cancelled.", ("cancelled", "canceled at")
    ),
    ImportField(
        "refunded",
        "Refunded amount",
        False,
        "Comes off the total of a partly refunded order.",
        ("refunded amount", "refund amount", "amount refunded"),
    ),
    ImportField(
        "customer_name",
        "Customer name",
        False,
        "Only for customers the import creates.",
        ("billing name", "customer name", "full name", "shipping name"),
    ),
    ImportField("line_sku", "Item SKU", False, "One line item per row.", ("sku", "item sku", "product sku")),
    ImportField("line_name", "Item name", False, "What was bought.", ("item name", "product name", "product", "item")),
    ImportField("line_quantity", "Quantity", False, "How many, a whole number.", ("qty", "item quantity", "quantity")),
    ImportField("line_price", "Item price", False, "Per unit, e.g. 19.99.", ("item price", "unit price", "price")),
)
PRODUCT_FIELDS = (
    ImportField(
        "sku",
        "SKU",
        True,
        "Identifies the product: a known SKU updates that product (not case-sensitive).",
        ("variant sku", "item sku", "product sku", "article number", "item number", "product code", "code"),
    ),
    ImportField(
        "name",
        "Name",
        False,
        "Needed for a new product.",
        ("product name", "title", "product title", "item name", "product", "description"),
    ),
    ImportField(
        "category",
        "Category",
        False,
        "By name; needed for a new product. A category the shop does not have yet is created.",
        ("product category", "type", "product type", "category name", "collection", "department"),
    ),
    ImportField(
        "base_price",
        "Base price",
        False,
        "The list price, e.g. 19.99; needed for a new product.",
        ("price", "list price", "unit price", "variant price", "retail price", "regular price", "sales price"),
    ),
    ImportField(
        "cost",
        "Cost",
        False,
        "What one unit costs you, e.g. 8.50; reports use it for the net margin.",
        ("cost price", "unit cost", "cost per item", "variant cost", "purchase price", "buying price", "cogs"),
    ),
)
FIELDS = {
    ImportKind.CUSTOMERS: CUSTOMER_FIELDS,
    ImportKind.MEMBERSHIPS: MEMBERSHIP_FIELDS,
    ImportKind.ORDERS: ORDER_FIELDS,
    ImportKind.PRODUCTS: PRODUCT_FIELDS,
}


@dataclass(frozen=True)
class Layout:
    """A shop platform's own export. A file is in this layout when its header has, for each of
    `marks`, one of the names listed; its columns are then mapped as `columns` says (our field ->
    the layout's names for it, the first one present wins) before synonyms fill in the rest."""

    name: str
    kind: ImportKind
    marks: tuple[tuple[str, ...], ...]
    columns: dict[str, tuple[str, ...]]


LAYOUTS: tuple[Layout, ...] = (
    # Shopify: Customers, Export. First and last name apart, tags separated by commas; the older
    # export's "Country" holds the country's name, so its "Country Code" is the country.
    Layout(
        "Shopify customers export",
        ImportKind.CUSTOMERS,
        marks=(("First Name",), ("Last Name",), ("Accepts Email Marketing", "Accepts Marketing", "Total Spent")),
        columns={
            "email": ("Email",),
            "first_name": ("First Name",),
            "last_name": ("Last Name",),
            "company": ("Default Address Company", "Company"),
            "country": ("Default Address Country Code", "Country Code"),
            "tags": ("Tags",),
        },
    ),
    # Shopify: Orders, Export. One row per line item; the order's own columns on its first row only.
    Layout(
        "Shopify orders export",
        ImportKind.ORDERS,
        marks=(("Name",), ("Financial Status",), ("Lineitem name",)),
        columns={
            "number": ("Name",),
            "email": ("Email",),
            "placed_at": ("Created at",),
            "total": ("Total",),
            "status": ("Financial Status",),
            "currency": ("Currency",),
            "cancelled_at": ("Cancelled at",),
            "refunded": ("Refunded Amount",),
            "customer_name": ("Billing Name", "Shipping Name"),
            "line_sku": ("Lineitem sku",),
            "line_name": ("Lineitem name",),
            "line_quantity": ("Lineitem quantity",),
            "line_price": ("Lineitem price",),
        },
    ),
    # WooCommerce: the order export plugins' documented columns (one row per item), in their
    # "Order Number" / "order_number" spellings alike.
    Layout(
        "WooCommerce orders export",
        ImportKind.ORDERS,
        marks=(("Order Number", "Order ID"), ("Order Date",), ("Order Status", "Status")),
        columns={
            "number": ("Order Number", "Order ID"),
            "email": ("Billing Email Address", "Billing Email", "Email (Billing)", "Customer Email"),
            "placed_at": ("Order Date",),
            "total": ("Order Total Amount", "Order Total"),
            "status": ("Order Status", "Status"),
            "currency": ("Order Currency", "Currency"),
            "refunded": ("Order Refund Amount", "Refund Amount", "Order Refunded"),
            "customer_name": ("Billing Full Name", "Customer Name", "Billing Name"),
            "line_sku": ("Item SKU", "SKU"),
            "line_name": ("Item Name", "Product Name"),
            "line_quantity": ("Quantity", "Item Quantity", "Qty"),
            "line_price": ("Item Cost", "Item Price"),
        },
    ),
)


# --- Results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvFile:
    headers: tuple[str, ...]
    # Data rows, the header excluded; rows[i] is spreadsheet row i + 2. Left out of the repr: a
    # million rows written out for a log line or a traceback would take seconds.
    rows: list[list[str]] = field(repr=False)
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


def _parse(data: bytes, max_bytes: int = MAX_BYTES) -> CsvFile:
    if not data.strip():
        raise FormError({"file": "The file is empty."})
    if len(data) > max_bytes:
        raise FormError({"file": f"The file is larger than {max_bytes // (1024 * 1024)} MB: split it into parts."})
    if b"\x00" in data[:8192]:
        raise FormError(
            {"file": "This is not a CSV file (perhaps an Excel workbook). Save it as “CSV UTF-8” and upload that."}
        )
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    try:
        with without_cycle_collection():  # a million rows are a million lists, kept
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
    file = CsvFile(headers=headers, rows=records[1:], delimiter=delimiter, encoding=encoding)
    weakref.finalize(file, release_frozen)  # its rows were frozen out of the collector's sight
    return file


async def read_csv(*, data: bytes, max_bytes: int = MAX_BYTES) -> CsvFile:
    """Decode and parse an uploaded CSV file (comma, semicolon or tab separated).

    Refuses (FormError on "file") an empty file, one without a header row, one that is not CSV,
    and one larger than `max_bytes` (50 MB: what an upload may be)."""
    return await asyncio.to_thread(_parse, data, max_bytes)


# --- Mapping ----------------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def fields_for(kind: ImportKind) -> tuple[ImportField, ...]:
    return FIELDS[kind]


def layout_of(*, headers: Sequence[str], kind: ImportKind) -> Layout | None:
    """The shop platform's export layout the header shows, if it is one we know."""
    present = {_normal(h) for h in headers}
    for layout in LAYOUTS:
        if layout.kind == kind and all(any(_normal(n) in present for n in names) for names in layout.marks):
            return layout
    return None


def suggest_mapping(*, headers: Sequence[str], kind: ImportKind = ImportKind.CUSTOMERS) -> dict[str, str | None]:
    """Our field -> the CSV column that looks like it, or None: the column a recognised layout names
    for it, else one of the same name or a common synonym.

    Each column is suggested for one field at most; a layout's names win over exact names, and
    exact names over synonyms."""
    by_normal = {_normal(h): h for h in reversed(headers)}
    mapping: dict[str, str | None] = {f.key: None for f in FIELDS[kind]}
    used: set[str] = set()
    layout = layout_of(headers=headers, kind=kind)
    for names in (
        lambda f: layout.columns.get(f.key, ()) if layout else (),
        lambda f: (f.key, f.label),
        lambda f: f.synonyms,
    ):
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
