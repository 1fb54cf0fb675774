"""Products by SKU from a CSV file and from a list (the API's): a known SKU updates that product,
a new one creates it, a category is created by name, prices are read as people write them, and
every problem is said by row, with nothing saved when all or nothing is asked for."""

import pytest

from models.catalog import Category, Product, VisibilityGroup
from models.shop import Shop
from models.staff import Role
from services.catalog import get_product_by_sku, product_data, upsert_products
from services.errors import FormError, PermissionDeniedError
from services.imports.files import ImportKind, read_csv, suggest_mapping
from services.imports.products import amount_cents, check_products, import_products
from services.staff.accounts import create_first_owner, create_user, get_actor
from services.staff.actor import SystemActor

ACTOR = SystemActor("anna")
FILE = b"""SKU,Title,Product Type,Price,Cost per item
chair-01,Oak chair,Furniture,"1,299.00",610.50
LAMP-2,Desk lamp,Lighting,$49.90,
mug-3,Mug,Kitchen,"4,50","1,75"
"""


@pytest.fixture
async def shop(db) -> dict:
    await Shop.create(name="Test shop")
    furniture = await Category.create(name="Furniture")
    standard = await VisibilityGroup.create(name="Standard Products", is_standard=True)
    await Product.create(
        sku="CHAIR-01", name="Chair", category=furniture, visibility_group=standard, base_price_cents=99_900
    )
    return {"furniture": furniture.id, "standard": standard.id}


async def _file(data: bytes = FILE):
    file = await read_csv(data=data)
    return file, suggest_mapping(headers=file.headers, kind=ImportKind.PRODUCTS)


def test_amounts_are_read_as_people_write_them():
    assert [amount_cents(t) for t in ("19.99", "$1,299.00", "1.299,00", "19,99", "20 USD", "1,299", "€ 0.5")] == [
        1999,
        129_900,
        129_900,
        1999,
        2000,
        129_900,
        50,
    ]
    for text in ("abc", "19.999", "1.2.3,4,5", ""):
        with pytest.raises(ValueError):
            amount_cents(text)


async def test_a_shops_product_file_is_mapped_checked_and_previewed(shop):
    file, mapping = await _file()
    assert mapping == {
        "sku": "SKU",
        "name": "Title",
        "category": "Product Type",
        "base_price": "Price",
        "cost": "Cost per item",
    }
    check = await check_products(file=file, mapping=mapping)
    assert (check.rows, check.new, check.updated, check.unchanged, check.error_rows) == (3, 2, 1, 0, 0)
    assert check.new_categories == ("Kitchen", "Lighting")
    chair = check.preview[0]
    assert (chair.action, chair.values) == (
        "update",
        {"sku": "CHAIR-01", "name": "Oak chair", "category": "Furniture", "base_price": "1,299.00", "cost": "610.50"},
    )
    assert check.preview[1].values["cost"] == ""
    assert await Product.all().count() == 1, "a check saves nothing"


async def test_importing_creates_and_updates_by_sku_and_a_second_time_changes_nothing(shop):
    file, mapping = await _file()
    shares: list[float] = []
    result = await import_products(file=file, mapping=mapping, actor=ACTOR, progress=shares.append)
    assert (result.created, result.updated, result.unchanged) == (2, 1, 0)
    assert result.categories_created == ("Kitchen", "Lighting")
    assert shares[-1] == 1.0 and shares == sorted(shares)

    chair = await get_product_by_sku(sku="chair-01")
    assert (chair.name, chair.base_price_cents, chair.cost_cents) == ("Oak chair", 129_900, 61_050)
    mug = await get_product_by_sku(sku="MUG-3")
    assert (mug.category_name, mug.base_price_cents, mug.cost_cents) == ("Kitchen", 450, 175)
    assert mug.visibility_group_id == shop["standard"], "new products are shown to everyone"
    assert (await get_product_by_sku(sku="LAMP-2")).cost_cents is None

    again = await import_products(file=file, mapping=mapping, actor=ACTOR)
    assert (again.created, again.updated, again.unchanged, again.categories_created) == (0, 0, 3, ())


async def test_a_file_of_skus_and_costs_only_fills_in_the_costs(shop):
    file, mapping = await _file(b"SKU,Cost\nCHAIR-01,400\n")
    result = await import_products(file=file, mapping=mapping, actor=ACTOR)
    assert (result.updated, result.errors) == (1, [])
    chair = await get_product_by_sku(sku="CHAIR-01")
    assert (chair.name, chair.category_name, chair.base_price_cents, chair.cost_cents) == (
        "Chair",
        "Furniture",
        99_900,
        40_000,
    )


async def test_row_problems_are_said_by_row_and_all_or_nothing_saves_nothing(shop):
    data = b"""SKU,Name,Category,Price,Cost
NEW-1,Stool,Furniture,abc,
NEW-2,,Furniture,10,
bad sku!,Thing,Furniture,10,
NEW-1,Stool again,Furniture,10,
NEW-3,Bench,Furniture,120,
"""
    file, mapping = await _file(data)
    check = await check_products(file=file, mapping=mapping)
    # Row 5 repeats NEW-1, whose row 2 has an error: row 5 is the one that counts.
    assert [(e.row, e.field, e.message) for e in check.errors] == [
        (2, "base_price", "Base price “abc” is not an amount: write it like 19.99."),
        (3, "name", "A new product needs a name."),
        (4, "sku", "Use up to 64 letters, digits, '.', '/', '-' or '_', starting with a letter or digit."),
    ]
    refused = await import_products(file=file, mapping=mapping, all_or_nothing=True, actor=ACTOR)
    assert (refused.imported, refused.error_rows) == (False, 3)
    assert await Product.all().count() == 1

    partly = await import_products(file=file, mapping=mapping, actor=ACTOR)
    assert (partly.imported, partly.created, partly.error_rows) == (True, 2, 3)
    assert (await get_product_by_sku(sku="NEW-1")).name == "Stool again"
    assert sorted(await Product.all().values_list("sku", flat=True)) == ["CHAIR-01", "NEW-1", "NEW-3"]


async def test_a_file_without_a_sku_column_is_refused():
    file = await read_csv(data=b"Name,Price\nStool,10\n")
    with pytest.raises(FormError) as refused:
        await check_products(file=file, mapping=suggest_mapping(headers=file.headers, kind=ImportKind.PRODUCTS))
    assert refused.value.errors == {"sku": "Choose the column that holds the SKU."}


async def test_a_list_of_products_is_saved_all_together_or_not_at_all(shop):
    products = [
        product_data("chair-01", cost_cents=500),
        product_data("TABLE-9", name="  Oak   table ", category="furniture", base_price_cents=45_000),
    ]
    saved = await upsert_products(products=products, actor=ACTOR)
    assert (saved.created, saved.updated, saved.categories_created) == (1, 1, ())
    table = await get_product_by_sku(sku="table-9")
    assert (table.name, table.category_id) == ("Oak table", shop["furniture"])
    assert (await upsert_products(products=products, actor=ACTOR)).unchanged == 2

    with pytest.raises(FormError) as refused:
        await upsert_products(
            products=[product_data("NEW-1", name="Stool"), product_data("CHAIR-01", cost_cents=-1)], actor=ACTOR
        )
    assert refused.value.errors == {
        "1.cost": "The cost must be between 0 and 100,000,000.",
    }
    with pytest.raises(FormError) as refused:
        await upsert_products(products=[product_data("NEW-1", name="Stool")], actor=ACTOR)
    assert refused.value.errors == {
        "0.category": "A new product needs a category.",
        "0.base_price": "A new product needs a base price.",
    }
    assert not await Product.exists(sku="NEW-1")


async def test_an_empty_shop_gets_a_standard_visibility_group_for_its_first_products(db):
    await Shop.create(name="Test shop")
    await upsert_products(products=[product_data("A-1", name="A", category="Misc", base_price_cents=100)], actor=ACTOR)
    product = await get_product_by_sku(sku="A-1")
    assert product.visibility_group_name == "Standard Products"
    assert await VisibilityGroup.filter(is_standard=True).count() == 1


async def test_only_who_manages_the_catalog_imports_products(shop):
    owner = await create_first_owner(email="o@example.com", name="Olivia", password="a long password")
    row = await create_user(
        email="v@example.com", name="Vera", password="a long password", role=Role.VIEWER, actor=owner
    )
    viewer = await get_actor(user_id=row.id)
    file, mapping = await _file()
    with pytest.raises(PermissionDeniedError):
        await import_products(file=file, mapping=mapping, actor=viewer)
    with pytest.raises(PermissionDeniedError):
        await upsert_products(products=[product_data("CHAIR-01", cost_cents=1)], actor=viewer)
