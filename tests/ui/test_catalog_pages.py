"""What a shop owner sees and does on the catalog pages, on the demo shop."""

from nicegui import ui
from nicegui.testing import User

from models.catalog import Category, PriceList, PriceListItem, Product


def set_value(user: User, marker: str, value) -> None:
    user.find(marker=marker).elements.pop().value = value


async def test_the_products_are_paged_and_searchable(user: User):
    await user.open("/catalog")
    await user.should_see("200 products")
    assert len(user.find(marker="products-table").elements.pop().rows) == 25
    user.find(marker="product-search").type("off-001")
    await user.should_see("1 product")
    [row] = user.find(marker="products-table").elements.pop().rows
    assert (row["sku"], row["name"]) == ("OFF-001", "Ballpoint Pens, Blue (Box of 12)")


async def test_a_duplicate_sku_is_reported_at_the_sku_field(user: User):
    office = await Category.get(name="Office Supplies")
    await user.open("/catalog")
    await user.should_see("200 products")
    user.find(marker="add-product").click()
    await user.should_see("New Product")
    user.find(marker="product-sku").type("off-001")
    user.find(marker="product-name").type("Blue Pens, Fine")
    set_value(user, "product-category", office.id)
    set_value(user, "product-price", 7.49)
    user.find(marker="save-product").click()
    message = 'The SKU "OFF-001" is already used by Ballpoint Pens, Blue (Box of 12).'
    await user.should_see(message, marker="product-sku")  # the error shows beside the field
    assert user.find(marker="product-name").elements.pop().error is None
    assert await Product.all().count() == 200

    user.find(marker="product-sku").clear().type("off-900")
    user.find(marker="save-product").click()
    await user.should_see("Saved Blue Pens, Fine (OFF-900).")
    product = await Product.get(sku="OFF-900")
    assert (product.name, product.base_price_cents, product.category_id) == ("Blue Pens, Fine", 749, office.id)


async def test_a_quantity_tier_is_added_to_a_price_list(user: User):
    wholesale = await PriceList.get(name="Wholesale Price List")
    item = await PriceListItem.filter(price_list_id=wholesale.id, min_quantity=1).order_by("id").first()
    product = await Product.get(id=item.product_id)
    await user.open(f"/catalog/price-lists/{wholesale.id}")
    await user.should_see("Used by Wholesale", marker="price-list-used-by")
    rows = await PriceListItem.filter(price_list_id=wholesale.id).count()
    await user.should_see(f"{rows} prices")
    user.find(marker="add-price").click()
    await user.should_see("Add Price to Wholesale Price List")
    set_value(user, "item-product", product.id)
    set_value(user, "item-quantity", 500)
    set_value(user, "item-price", 1.5)
    user.find(marker="save-price").click()
    await user.should_see(f"Saved {product.name}: $1.50 (500+ units).")
    await user.should_see(f"{rows + 1} prices")
    tiers = await PriceListItem.filter(price_list_id=wholesale.id, product_id=product.id).values_list(
        "min_quantity", "price_cents"
    )
    assert sorted(tiers)[-1] == (500, 150)


async def test_the_same_tier_twice_is_refused_beside_the_quantity(user: User):
    wholesale = await PriceList.get(name="Wholesale Price List")
    item = await PriceListItem.filter(price_list_id=wholesale.id, min_quantity=10).order_by("id").first()
    product = await Product.get(id=item.product_id)
    await user.open(f"/catalog/price-lists/{wholesale.id}")
    await user.should_see("Prices")
    user.find(marker="add-price").click()
    await user.should_see("Add Price to Wholesale Price List")
    set_value(user, "item-product", product.id)
    set_value(user, "item-quantity", 10)
    set_value(user, "item-price", 1)
    user.find(marker="save-price").click()
    expected = f"{product.name} already has a price for 10+ units on this list; edit that row instead."
    await user.should_see(expected, marker="item-quantity")


async def test_a_category_with_products_is_not_deleted(user: User):
    office = await Category.get(name="Office Supplies")
    await user.open("/catalog?tab=categories")
    await user.should_see("8 categories")
    user.find(marker=f"delete-category-{office.id}").click()
    await user.should_see("25 products still use it: move them to another category first.")
    user.find(kind=ui.button, marker="confirm-delete-category").click()
    await user.should_see("25 products use Office Supplies; move them to another category first.")
    assert await Category.exists(id=office.id)


async def test_visibility_groups_show_their_product_counts(user: User):
    await user.open("/catalog?tab=visibility-groups")
    await user.should_see("4 visibility groups")
    await user.should_see("Standard")
    await user.should_see("45 products")
    await user.should_see("Not used by any group")  # the VIP Price List, on the next tab


async def test_a_product_is_deleted_after_confirming_with_its_prices(user: User):
    wholesale = await PriceList.get(name="Wholesale Price List")
    item = await PriceListItem.filter(price_list_id=wholesale.id).order_by("id").first()
    product = await Product.get(id=item.product_id)
    await user.open("/catalog")
    user.find(marker="product-search").type(product.sku)
    await user.should_see("1 product")
    [row] = user.find(marker="products-table").elements.pop().rows
    user.find(marker="products-table").trigger("delete", row)
    await user.should_see(f"Delete {product.name}?")
    user.find(marker="confirm-delete-product").click()
    await user.should_see(f"Deleted {product.name} and its 3 price list prices.")
    await user.should_see("0 products")
    assert not await Product.exists(id=product.id)
    assert not await PriceListItem.exists(product_id=product.id)
