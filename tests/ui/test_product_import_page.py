"""What a shop owner sees importing products on the Import page: their shop's columns matched, new
categories named before anything is saved, row errors by row, and the products saved by SKU."""

from nicegui import ui
from nicegui.testing import User

from models.catalog import Category, Product

PRODUCTS = b"""SKU,Title,Product Type,Price,Cost per item
NEW-DESK-1,Standing desk,Desks (imported),"1,249.00",610.00
NEW-DESK-2,,Desks (imported),99.00,
"""


async def _upload(user: User, data: bytes, name: str = "products_export.csv") -> None:
    upload = user.find("import-upload").elements.pop()
    await upload.handle_uploads([ui.upload.SmallFileUpload(name, "text/csv", data)])


async def test_products_are_matched_checked_and_imported_by_sku(user: User):
    known = await Product.all().order_by("id").first()
    data = PRODUCTS + f"{known.sku.lower()},,,,12.34\n".encode()
    before = await Product.all().count()
    await user.open("/customers/import")
    user.find("Products").click()
    await user.should_see("a category you do not have yet is created", retries=20)
    await _upload(user, data)

    await user.should_see("3 rows: 1 new product, 1 product to update, 0 unchanged, 1 row with errors.")
    assert user.find("map-sku").elements.pop().value == "SKU"
    assert user.find("map-cost").elements.pop().value == "Cost per item"
    await user.should_see("New categories: Desks (imported).")
    preview = user.find("import-preview").elements.pop()
    assert [(r["row"], r["action"], r["sku"]) for r in preview.rows] == [
        (2, "New", "NEW-DESK-1"),
        (3, "Error", "NEW-DESK-2"),
        (4, "Update", known.sku),
    ]
    errors = user.find("import-errors").elements.pop()
    assert [(r["row"], r["column"], r["message"]) for r in errors.rows] == [(3, "Name", "A new product needs a name.")]

    user.find("import-button").click()
    await user.should_see("Imported: 1 product created, 1 updated, 0 unchanged. New categories: Desks (imported).")
    assert await Product.all().count() == before + 1
    desk = await Product.get(sku="NEW-DESK-1").prefetch_related("category")
    assert (desk.base_price_cents, desk.cost_cents, desk.category.name) == (124_900, 61_000, "Desks (imported)")
    assert (await Product.get(id=known.id)).cost_cents == 1_234
    assert await Category.filter(name="Desks (imported)").count() == 1
    await user.should_see(marker="back-to-catalog")
