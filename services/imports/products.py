"""Importing products from a CSV file (services.imports.files reads it and maps its columns), by SKU:
a known SKU updates that product, a new one creates it.

Why it is built this way:

- The SKU is the key, in capitals as the catalog keeps it, so "abc-1" and "ABC-1" are one product.
  An empty cell, or a column not mapped, leaves what is saved as it is: a file of SKUs and costs
  only fills in the costs. A new product needs a name, a category and a base price.
- A category is named, not numbered: one the shop does not have yet is created (a shop's export
  names its own product types; refusing them would make the owner type each one in first).
- Prices are read as people and spreadsheets write them: 19.99, $1,299.00, 1.299,00, 19,99.
- Checked first in full (row errors by spreadsheet row), written in one transaction on the
  background connection with set-based inserts and updates (services.catalog.write_products):
  all of it or none, also when the process dies halfway.
"""

import asyncio
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from services.catalog import (
    ProductData,
    SavedProduct,
    categories_to_create,
    merged_product,
    new_product_problems,
    product_data,
    product_problems,
    product_unchanged,
    saved_products,
    write_products,
)
from services.errors import FormError
from services.imports.files import (
    PREVIEW_ROWS,
    CsvFile,
    ImportKind,
    PreviewRow,
    Progress,
    RowError,
    columns_for,
    data_rows,
    shown,
)
from services.staff.actor import Acting, Permission, require
from services.storage.conflicts import retried_on_conflict
from services.storage.database import BACKGROUND, reader_connection
from services.wording import amount_text

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
THOUSANDS = {",": re.compile(r"^-?\d{1,3}(,\d{3})+$"), ".": re.compile(r"^-?\d{1,3}(\.\d{3}){2,}$")}
LABELS = {"base_price": "Base price", "cost": "Cost"}


@dataclass(frozen=True)
class ProductCheck:
    """What importing a file would do, without doing it."""

    rows: int  # data rows that are not blank
    valid: int
    new: int
    updated: int
    unchanged: int
    new_categories: tuple[str, ...]
    error_rows: int
    errors: list[RowError]
    preview: list[PreviewRow]


@dataclass(frozen=True)
class ProductImportResult:
    imported: bool  # False: all or nothing was asked for and some rows had errors; nothing was saved
    created: int
    updated: int
    unchanged: int
    categories_created: tuple[str, ...]
    error_rows: int
    errors: list[RowError]


def amount_cents(text: str) -> int:
    """An amount as people write it, in cents: 19.99, $1,299.00, 1.299,00 (a comma for decimals),
    19,99, 20 USD. ValueError with the owner's words if it is not one."""
    cleaned = re.sub(r"[^\d,.\-]", "", text)
    if "," in cleaned and "." in cleaned:
        decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in cleaned:
        cleaned = cleaned.replace(",", "") if THOUSANDS[","].fullmatch(cleaned) else cleaned.replace(",", ".")
    elif THOUSANDS["."].fullmatch(cleaned):
        cleaned = cleaned.replace(".", "")
    if not NUMBER.fullmatch(cleaned) or not re.search(r"\d", text):
        raise ValueError(f"“{shown(text)}” is not an amount: write it like 19.99.")
    try:
        value = Decimal(cleaned) * 100
    except InvalidOperation:
        raise ValueError(f"“{shown(text)}” is not an amount: write it like 19.99.") from None
    if value != value.to_integral_value():
        raise ValueError(f"“{shown(text)}” has more than two decimals.")
    return int(value)


def _row(number: int, cells: dict[str, str]) -> tuple[ProductData | None, list[RowError]]:
    problems: list[tuple[str, str]] = []
    amounts: dict[str, int] = {}
    for key in ("base_price", "cost"):
        if text := cells.get(key):
            try:
                amounts[key] = amount_cents(text)
            except ValueError as error:
                problems.append((key, f"{LABELS[key]} {error}"))
    data = product_data(
        cells["sku"],
        name=cells.get("name") or None,
        category=cells.get("category") or None,
        base_price_cents=amounts.get("base_price"),
        cost_cents=amounts.get("cost"),
    )
    problems += product_problems(data)
    if problems:
        return None, [RowError(number, key, message) for key, message in problems]
    return data, []


@dataclass
class _Checked:
    valid: list[tuple[int, ProductData]]  # (row, product)
    errors: list[RowError]
    error_rows: int
    rows: int
    raw: dict[int, dict[str, str]]  # the first rows' cells, for the preview


def _check_rows(file: CsvFile, columns: dict[str, int]) -> _Checked:
    valid: list[tuple[int, ProductData]] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    raw: dict[int, dict[str, str]] = {}
    rows = error_rows = 0
    for number, cells in data_rows(file, columns):
        rows += 1
        if rows <= PREVIEW_ROWS:
            raw[number] = cells
        product, row_errors = _row(number, cells)
        if product is not None and product.sku in first_row:
            row_errors = [RowError(number, "sku", f"{product.sku} is already in row {first_row[product.sku]}.")]
            product = None
        if product is None:
            errors += row_errors
            error_rows += 1
        else:
            first_row[product.sku] = number
            valid.append((number, product))
    return _Checked(valid=valid, errors=errors, error_rows=error_rows, rows=rows, raw=raw)


def _against_saved(checked: _Checked, saved: dict[str, SavedProduct]) -> _Checked:
    """The rows again, new products without a name, category or base price now among the errors."""
    valid, errors, failed = [], list(checked.errors), 0
    for number, product in checked.valid:
        if product.sku not in saved and (problems := new_product_problems(product)):
            errors += [RowError(number, key, message) for key, message in problems]
            failed += 1
        else:
            valid.append((number, product))
    errors.sort(key=lambda e: e.row)
    return _Checked(valid, errors, checked.error_rows + failed, checked.rows, checked.raw)


async def _read(file: CsvFile, mapping: dict[str, str | None]) -> _Checked:
    """Every row checked on its own, in a worker thread: the page stays responsive."""
    try:
        columns = columns_for(file, mapping, ImportKind.PRODUCTS)
    except FormError as error:  # "the sku" reads oddly: a SKU keeps its capitals
        raise FormError(
            error.errors | ({"sku": "Choose the column that holds the SKU."} if "sku" in error.errors else {})
        ) from None
    return await asyncio.to_thread(_check_rows, file, columns)


async def _checked(checked: _Checked, connection: BaseDBAsyncClient) -> tuple[_Checked, dict[str, SavedProduct]]:
    saved = await saved_products(connection, [p.sku for _, p in checked.valid])
    return _against_saved(checked, saved), saved


def _money(cents: int | None) -> str:
    return "" if cents is None else amount_text(cents, cents_shown="always")


def _preview(checked: _Checked, saved: dict[str, SavedProduct]) -> list[PreviewRow]:
    by_row = {number: product for number, product in checked.valid if number in checked.raw}
    errors: dict[int, list[str]] = {}
    for error in checked.errors:
        if error.row in checked.raw:
            errors.setdefault(error.row, []).append(error.message)
    preview = []
    for number, cells in checked.raw.items():
        product = by_row.get(number)
        if product is None:
            preview.append(PreviewRow(number, "error", cells, tuple(errors.get(number, ()))))
            continue
        before = saved.get(product.sku)
        after = merged_product(product, before)
        action = "new" if before is None else "unchanged" if product_unchanged(after, before) else "update"
        values = {
            "sku": product.sku,
            "name": after.name,
            "category": after.category,
            "base_price": _money(after.base_price_cents),
            "cost": _money(after.cost_cents),
        }
        preview.append(PreviewRow(number, action, values))
    return preview


async def check_products(*, file: CsvFile, mapping: dict[str, str | None]) -> ProductCheck:
    """Check every row and count what an import would create and update; nothing is saved.

    Refuses (FormError) a mapping without the SKU column."""
    checked, saved = await _checked(await _read(file, mapping), reader_connection())
    new = updated = 0
    for _, product in checked.valid:
        before = saved.get(product.sku)
        if before is None:
            new += 1
        elif not product_unchanged(merged_product(product, before), before):
            updated += 1
    return ProductCheck(
        rows=checked.rows,
        valid=len(checked.valid),
        new=new,
        updated=updated,
        unchanged=len(checked.valid) - new - updated,
        new_categories=await categories_to_create([p for _, p in checked.valid]),
        error_rows=checked.error_rows,
        errors=checked.errors,
        preview=_preview(checked, saved),
    )


@retried_on_conflict
async def import_products(
    *,
    file: CsvFile,
    mapping: dict[str, str | None],
    all_or_nothing: bool = False,
    actor: Acting,
    progress: Progress | None = None,
) -> ProductImportResult:
    """Create and update products by SKU from the file's valid rows, in one transaction.

    Rows with errors are listed and left out, or with `all_or_nothing` nothing is saved when any
    row has an error. `progress` gets the share done (0 to 1) as the import goes."""
    await require(actor, Permission.MANAGE_CATALOG)
    say = progress or (lambda _share: None)
    read = await _read(file, mapping)
    say(0.05)
    async with in_transaction(BACKGROUND) as connection:
        checked, _ = await _checked(read, connection)
        say(0.1)
        if checked.errors and all_or_nothing:
            return ProductImportResult(False, 0, 0, 0, (), checked.error_rows, checked.errors)
        written = await write_products(
            connection, [p for _, p in checked.valid], progress=lambda share: say(0.1 + 0.9 * share)
        )
    say(1.0)
    return ProductImportResult(
        imported=True,
        created=written.created,
        updated=written.updated,
        unchanged=written.unchanged,
        categories_created=written.categories_created,
        error_rows=checked.error_rows,
        errors=checked.errors,
    )
