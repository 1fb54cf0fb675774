"""Products by SKU: list, read, create or update one or a batch (the SKU is the key, so sending the
same products again changes nothing), and import a CSV file."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from api.schemas import (
    CSV_CONTENT,
    Paged,
    PageNumber,
    PerPage,
    ProductFields,
    ProductImportOut,
    ProductOut,
    ProductsIn,
    ProductsSavedOut,
    Search,
)
from api.tokens import ApiRoute, CurrentActor
from services.catalog import ProductData, get_product_by_sku, list_products, product_data, upsert_products
from services.errors import FormError
from services.imports.files import MAX_BYTES, ImportKind, read_csv, suggest_mapping
from services.imports.products import import_products
from services.staff.actor import Permission, require

router = APIRouter(route_class=ApiRoute, tags=["products"])

SkuPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$", description="Not case-sensitive")]

MAX_IMPORT_ROWS = 100_000
MAX_ERRORS_LISTED = 100
# The services' field names for the import's columns, as the API's bodies name them.
API_FIELDS = {"base_price": "base_price_cents", "cost": "cost_cents"}


def _data(sku: str, body: ProductFields) -> ProductData:
    return product_data(
        sku,
        name=body.name,
        category=body.category,
        base_price_cents=body.base_price_cents,
        cost_cents=body.cost_cents,
        clear_cost="cost_cents" in body.model_fields_set and body.cost_cents is None,
    )


def _api_errors(error: FormError, *, prefix: str) -> FormError:
    """The service's "<position>.<field>" keys as the body names them ("products.0.cost_cents")."""
    renamed = {}
    for key, message in error.errors.items():
        position, _, field = key.partition(".")
        renamed[f"{prefix}{position}.{API_FIELDS.get(field, field)}" if prefix else API_FIELDS.get(field, field)] = (
            message
        )
    return FormError(renamed)


@router.get("/products", response_model=Paged[ProductOut], operation_id="listProducts")
async def products(actor: CurrentActor, page: PageNumber = 1, per_page: PerPage = 50, search: Search = ""):
    """A page of products by name; `search` finds a part of the name or SKU."""
    found = await list_products(search=search, page=page, per_page=per_page)
    return Paged[ProductOut](
        items=[ProductOut.model_validate(row) for row in found.rows], total=found.total, page=page, per_page=per_page
    )


@router.post("/products/batch", response_model=ProductsSavedOut, operation_id="upsertProducts")
async def save_products(actor: CurrentActor, body: ProductsIn):
    """Create or update products by SKU, all of them or (422, by "products.<position>.<field>") none."""
    try:
        saved = await upsert_products(products=[_data(p.sku, p) for p in body.products], actor=actor)
    except FormError as error:
        raise _api_errors(error, prefix="products.") from None
    return ProductsSavedOut.model_validate(saved)


@router.post(
    "/products/import",
    response_model=ProductImportOut,
    operation_id="importProducts",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A CSV file whose header names the columns (SKU, Name, Category, Base price, Cost; "
            f"common names such as Title, Product Type, Price, Cost per item too): at most {MAX_IMPORT_ROWS:,} "
            f"products and {MAX_BYTES // (1024 * 1024)} MB.",
            "content": CSV_CONTENT,
        }
    },
)
async def import_(
    actor: CurrentActor,
    request: Request,
    all_or_nothing: bool = Query(False, description="Save nothing if any row has an error"),
):
    """Create and update products by SKU from a CSV file; categories are created by name when missing."""
    await require(actor, Permission.MANAGE_CATALOG)
    file = await read_csv(data=await request.body())
    if len(file.rows) > MAX_IMPORT_ROWS:
        raise FormError({"file": f"Import at most {MAX_IMPORT_ROWS:,} products at a time: split the file."})
    mapping = suggest_mapping(headers=file.headers, kind=ImportKind.PRODUCTS)
    result = await import_products(file=file, mapping=mapping, all_or_nothing=all_or_nothing, actor=actor)
    return ProductImportOut.model_validate(
        {**result.__dict__, "errors": result.errors[:MAX_ERRORS_LISTED], "error_count": len(result.errors)}
    )


@router.get("/products/{sku:path}", response_model=ProductOut, operation_id="getProduct")
async def product(actor: CurrentActor, sku: SkuPath):
    """One product by its SKU (not case-sensitive)."""
    return await get_product_by_sku(sku=sku)


@router.put("/products/{sku:path}", response_model=ProductOut, operation_id="upsertProduct")
async def save_product(actor: CurrentActor, sku: SkuPath, body: ProductFields):
    """Create the product with this SKU, or update the fields sent; sending it again changes nothing."""
    try:
        await upsert_products(products=[_data(sku, body)], actor=actor)
    except FormError as error:
        raise _api_errors(error, prefix="") from None
    return await get_product_by_sku(sku=sku)
