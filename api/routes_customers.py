"""Customers: list, read, create, change, import; a customer's benefits and a price quote for a cart."""

import json

from fastapi import APIRouter, Query, Request
from pydantic import Field, TypeAdapter, ValidationError

from api.cursors import paged_by_name, seek_after
from api.schemas import (
    CSV_CONTENT,
    After,
    BenefitsOut,
    CustomerChange,
    CustomerImportRow,
    CustomerIn,
    CustomerOut,
    CustomerSummary,
    GroupBenefitsOut,
    ImportErrorOut,
    ImportOut,
    PagedByName,
    PageNumber,
    PathId,
    PerPage,
    QuoteIn,
    QuoteOut,
    Search,
    SettingOut,
    is_csv,
)
from api.tokens import ApiRoute, CurrentActor
from services.benefits.pricing import CartLine, customer_benefits, quote
from services.customers import create_customer, get_customer, list_customers, update_customer
from services.errors import FormError
from services.imports.customers import import_customers
from services.imports.files import MAX_BYTES, CsvFile, ImportKind, read_csv, suggest_mapping
from services.staff.actor import Permission, require

router = APIRouter(route_class=ApiRoute, tags=["customers"])

IMPORT_COLUMNS = ("email", "name", "company", "country", "status", "payment_rating", "tags", "created_at")
MAX_IMPORT_ROWS = 100_000
MAX_ERRORS_LISTED = 100  # a file of bad rows would otherwise answer megabytes of messages
TOO_MANY_ROWS = f"Import at most {MAX_IMPORT_ROWS:,} customers at a time: split the list."
_import_rows = TypeAdapter(list[CustomerImportRow])


class CustomerImportOut(ImportOut):
    errors: list[ImportErrorOut] = Field(
        max_length=MAX_ERRORS_LISTED,
        description=f"The first {MAX_ERRORS_LISTED} errors, by row; error_count counts them all",
    )
    error_count: int = Field(description="How many errors the rows had, listed or not")


def _import_body() -> dict:
    row = CustomerImportRow.model_json_schema(ref_template="#/components/schemas/{model}")
    row.pop("$defs", None)
    return {
        "requestBody": {
            "required": True,
            "description": "A CSV file whose header names the columns (Email, Name, Company, Country, Status, "
            "Payment rating, Tags, Customer since), or a JSON list of customers: at most "
            f"{MAX_IMPORT_ROWS:,} customers and {MAX_BYTES // (1024 * 1024)} MB.",
            "content": {
                **CSV_CONTENT,
                "application/json": {"schema": {"type": "array", "maxItems": MAX_IMPORT_ROWS, "items": row}},
            },
        }
    }


@router.get("/customers", response_model=PagedByName[CustomerSummary], operation_id="listCustomers")
async def customers(
    actor: CurrentActor, page: PageNumber = 1, per_page: PerPage = 50, search: Search = "", after: After = None
):
    """A page of customers by name; `after` a page's `next` reads the page that follows it."""
    found = await list_customers(search=search, page=page, per_page=per_page, seek=seek_after(after, page=page))
    return paged_by_name(found, CustomerSummary, after=after)


@router.post("/customers", response_model=CustomerOut, status_code=201, operation_id="createCustomer")
async def new_customer(actor: CurrentActor, body: CustomerIn):
    """Create a customer; rule-based groups take them in when their rules match."""
    return await create_customer(data=body.model_dump(), actor=actor)


@router.post(
    "/customers/import", response_model=CustomerImportOut, openapi_extra=_import_body(), operation_id="importCustomers"
)
async def import_(
    actor: CurrentActor,
    request: Request,
    all_or_nothing: bool = Query(False, description="Save nothing if any row has an error"),
):
    """Create and update customers by email (a known email updates that customer), then re-run the group rules."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    body = await request.body()
    if is_csv(request.headers.get("content-type", "")):
        file = await read_csv(data=body)
        if len(file.rows) > MAX_IMPORT_ROWS:
            raise FormError({"file": TOO_MANY_ROWS})
        mapping = suggest_mapping(headers=file.headers, kind=ImportKind.CUSTOMERS)
    else:
        file = _rows_file(body)
        mapping = {column: column for column in IMPORT_COLUMNS}
    result = await import_customers(file=file, mapping=mapping, all_or_nothing=all_or_nothing, actor=actor)
    return CustomerImportOut.model_validate(
        {**result.__dict__, "errors": result.errors[:MAX_ERRORS_LISTED], "error_count": len(result.errors)}
    )


def _rows_file(body: bytes) -> CsvFile:
    """A JSON list of customers as the import's table: one column per field, empty where not given."""
    if len(body) > MAX_BYTES:
        raise FormError({"body": f"The list is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into parts."})
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # ApiRoute refuses deep JSON, but not when sent as another type
        raise FormError({"body": "Send a JSON list of customers, or a CSV file as text/csv."}) from None
    if isinstance(data, list) and len(data) > MAX_IMPORT_ROWS:
        raise FormError({"body": TOO_MANY_ROWS})
    try:
        # Strict, as JSON Schema reads the documented body: 0 is not a date, nor "1" a number.
        rows = _import_rows.validate_json(body, strict=True)
    except ValidationError as error:
        problems = {".".join(str(part) for part in item["loc"]) or "body": item["msg"] for item in error.errors()}
        raise FormError(problems) from None
    if not rows:
        raise FormError({"body": "The list has no customers."})

    def cell(row: CustomerImportRow, column: str) -> str:
        value = getattr(row, column)
        if value is None:
            return ""
        if isinstance(value, list):
            return "; ".join(value)
        return value.isoformat() if column == "created_at" else str(value)

    return CsvFile(
        headers=IMPORT_COLUMNS,
        rows=[[cell(row, column) for column in IMPORT_COLUMNS] for row in rows],
        delimiter=",",
        encoding="utf-8",
    )


@router.get("/customers/{customer_id}", response_model=CustomerOut, operation_id="getCustomer")
async def customer(actor: CurrentActor, customer_id: PathId):
    """One customer with their groups."""
    return await get_customer(customer_id=customer_id)


@router.patch("/customers/{customer_id}", response_model=CustomerOut, operation_id="changeCustomer")
async def change_customer(actor: CurrentActor, customer_id: PathId, body: CustomerChange):
    """Change the given fields of a customer; rule-based groups follow."""
    return await update_customer(customer_id=customer_id, data=body.model_dump(exclude_unset=True), actor=actor)


@router.get("/customers/{customer_id}/benefits", response_model=BenefitsOut, operation_id="getCustomerBenefits")
async def benefits(actor: CurrentActor, customer_id: PathId):
    """What the customer gets across all their groups: prices, visibility, portal, payment terms."""
    found = await customer_benefits(customer_id=customer_id)

    def section(settings: dict) -> dict[str, SettingOut]:
        return {name: SettingOut.model_validate(setting) for name, setting in settings.items()}

    return BenefitsOut(
        customer_id=found.customer_id,
        primary_group=found.primary_group,
        groups=[
            GroupBenefitsOut(
                group_id=g.group_id,
                group_name=g.group_name,
                chain=list(g.chain),
                pricing=section(g.pricing),
                visibility=section(g.visibility),
                portal=section(g.portal),
                payment=section(g.payment),
            )
            for g in found.groups
        ],
        sees_all_products=found.sees_all_products,
        visibility_group_names=list(found.visibility_group_names),
        extra_product_count=found.extra_product_count,
        portal=found.portal,
        payment=section(found.payment.payment) if found.payment else None,
    )


@router.post("/customers/{customer_id}/quote", response_model=QuoteOut, operation_id="quotePrices")
async def price_quote(actor: CurrentActor, customer_id: PathId, body: QuoteIn):
    """Each line's price for this customer, with every candidate price and why it won or lost."""
    result = await quote(
        customer_id=customer_id,
        lines=[CartLine(product_id=line.product_id, quantity=line.quantity) for line in body.lines],
        at=body.date,
    )
    return QuoteOut.model_validate({**result.__dict__, "savings_cents": result.savings_cents})
