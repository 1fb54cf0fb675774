"""The catalog service: products, categories, visibility groups, price lists and the visibility
counts the group wizard shows, on a real database."""

from dataclasses import dataclass

import pytest

from models.catalog import PriceListItem, Product, VisibilityGroup
from services.benefits.sections import save_benefits
from services.catalog import (
    add_price_list_item,
    category_choices,
    count_visibility,
    create_category,
    create_price_list,
    create_product,
    create_visibility_group,
    delete_category,
    delete_price_list,
    delete_price_list_item,
    delete_product,
    delete_visibility_group,
    get_price_list,
    list_categories,
    list_price_list_items,
    list_price_lists,
    list_products,
    list_visibility_groups,
    price_list_choices,
    product_choices,
    update_price_list_item,
    update_product,
    update_visibility_group,
    visibility_group_choices,
)
from services.errors import FormError
from services.groups.group import create_group
from services.staff.actor import SystemActor

ACTOR = SystemActor("test")


@dataclass
class Shop:
    tools: int
    toys: int
    standard: int
    vip: int
    early: int


@pytest.fixture
async def shop(db) -> Shop:
    tools = await create_category(name="Tools", actor=ACTOR)
    toys = await create_category(name="Toys", actor=ACTOR)
    standard = await create_visibility_group(name="Standard Products", actor=ACTOR)
    vip = await create_visibility_group(name="VIP Exclusive Products", actor=ACTOR)
    early = await create_visibility_group(name="Early Access Products", actor=ACTOR)
    return Shop(tools.id, toys.id, standard.id, vip.id, early.id)


def product(sku: str, name: str, category_id: int, cents: int, visibility_group_id: int | None = None) -> dict:
    return {
        "sku": sku,
        "name": name,
        "category_id": category_id,
        "visibility_group_id": visibility_group_id,
        "base_price_cents": cents,
    }


async def test_a_product_is_stored_with_an_upper_case_sku_in_the_standard_group_by_default(shop: Shop):
    created = await create_product(data=product(" w-100 ", "  Cordless   Drill ", shop.tools, 12_999), actor=ACTOR)
    assert (created.sku, created.name, created.base_price_cents) == ("W-100", "Cordless Drill", 12_999)
    assert (created.category_name, created.visibility_group_name) == ("Tools", "Standard Products")


async def test_a_sku_is_unique_whatever_its_case(shop: Shop):
    await create_product(data=product("W-100", "Cordless Drill", shop.tools, 12_999), actor=ACTOR)
    with pytest.raises(FormError) as error:
        await create_product(data=product("w-100", "Hammer", shop.tools, 1_999), actor=ACTOR)
    assert error.value.errors == {"sku": 'The SKU "W-100" is already used by Cordless Drill.'}
    # Editing a product keeps its own SKU free for it.
    drill = (await list_products(search="drill")).rows[0]
    renamed = await update_product(
        product_id=drill.id, data=product("w-100", "Drill Driver", shop.tools, 11_999), actor=ACTOR
    )
    assert (renamed.sku, renamed.name) == ("W-100", "Drill Driver")


async def test_every_problem_with_a_product_is_reported_at_its_field(shop: Shop):
    with pytest.raises(FormError) as error:
        await create_product(data={"sku": "", "name": "  ", "category_id": None, "base_price_cents": -1}, actor=ACTOR)
    assert error.value.errors == {
        "sku": "Enter a SKU.",
        "name": "Enter a product name.",
        "category_id": "Choose a category.",
        "base_price_cents": "Enter a price of $0.00 or more.",
    }
    with pytest.raises(FormError) as missing:
        await create_product(data=product("A B", "Widget", 9_999, None, visibility_group_id=9_999), actor=ACTOR)
    assert missing.value.errors == {
        "sku": "Use up to 64 letters, digits, '.', '/', '-' or '_', starting with a letter or digit.",
        "category_id": "This category no longer exists; choose another.",
        "visibility_group_id": "This visibility group no longer exists; choose another.",
        "base_price_cents": "Enter the base price.",
    }
    free = await create_product(data=product("FREE-1", "Sample", shop.toys, 0), actor=ACTOR)
    assert free.base_price_cents == 0


async def test_products_are_paged_searched_and_filtered(shop: Shop):
    for i in range(30):
        await create_product(
            data=product(f"T-{i:02d}", f"Tool {i:02d}", shop.tools, 1_000 + i, shop.vip if i % 3 == 0 else None),
            actor=ACTOR,
        )
    await create_product(data=product("TOY-1", "Kite", shop.toys, 2_500), actor=ACTOR)
    first = await list_products(per_page=10)
    assert (first.total, first.pages, len(first.rows)) == (31, 4, 10)
    assert first.rows[0].name == "Kite"  # by name
    assert (await list_products(search="toy-1")).total == 1  # the SKU, in any case
    assert (await list_products(category_id=shop.tools)).total == 30
    vip = await list_products(category_id=shop.tools, visibility_group_id=shop.vip, page=2, per_page=6)
    assert (vip.total, [r.sku for r in vip.rows]) == (10, ["T-18", "T-21", "T-24", "T-27"])


async def test_deleting_a_product_removes_its_prices_from_price_lists(shop: Shop):
    drill = await create_product(data=product("D-1", "Drill", shop.tools, 10_000), actor=ACTOR)
    wholesale = await create_price_list(name="Wholesale Price List", actor=ACTOR)
    for quantity, cents in ((1, 9_000), (10, 8_500)):
        await add_price_list_item(
            price_list_id=wholesale.id,
            data={"product_id": drill.id, "min_quantity": quantity, "price_cents": cents},
            actor=ACTOR,
        )
    deleted = await delete_product(product_id=drill.id, actor=ACTOR)
    assert (deleted.name, deleted.price_list_rows) == ("Drill", 2)
    assert not await PriceListItem.exists(price_list_id=wholesale.id)
    assert (await get_price_list(price_list_id=wholesale.id)).rows == 0


async def test_a_product_named_in_a_groups_benefits_is_not_deleted(shop: Shop):
    drill = await create_product(data=product("D-1", "Drill", shop.tools, 10_000), actor=ACTOR)
    vip = await create_group(data={"name": "VIP Customers", "code": "VIP"}, actor=ACTOR)
    await save_benefits(
        group_id=vip.id, sections={"visibility": {"mode": "custom", "product_ids": [drill.id]}}, actor=ACTOR
    )
    with pytest.raises(FormError) as error:
        await delete_product(product_id=drill.id, actor=ACTOR)
    assert error.value.errors == {
        "product_id": "The benefits of VIP Customers name this product; take it out there first."
    }
    assert await Product.exists(id=drill.id)


async def test_a_category_in_use_is_not_deleted_and_says_how_many_products_use_it(shop: Shop):
    for i in range(3):
        await create_product(data=product(f"T-{i}", f"Tool {i}", shop.tools, 100), actor=ACTOR)
    with pytest.raises(FormError) as error:
        await delete_category(category_id=shop.tools, actor=ACTOR)
    assert error.value.errors == {"category_id": "3 products use Tools; move them to another category first."}
    assert [(c.name, c.products) for c in await list_categories()] == [("Tools", 3), ("Toys", 0)]
    assert await delete_category(category_id=shop.toys, actor=ACTOR) == "Toys"
    assert [c.label for c in await category_choices()] == ["Tools"]
    with pytest.raises(FormError) as duplicate:
        await create_category(name=" tools ", actor=ACTOR)
    assert duplicate.value.errors == {"name": 'A category named "tools" already exists.'}


async def test_there_is_always_exactly_one_standard_visibility_group(shop: Shop):
    rows = await list_visibility_groups()
    assert [(r.name, r.is_standard) for r in rows] == [
        ("Standard Products", True),  # the shop's first one, listed first
        ("Early Access Products", False),
        ("VIP Exclusive Products", False),
    ]
    with pytest.raises(FormError) as error:
        await update_visibility_group(
            visibility_group_id=shop.standard, name="Standard Products", is_standard=False, actor=ACTOR
        )
    assert "make another group standard instead" in error.value.errors["is_standard"]
    with pytest.raises(FormError) as standard:
        await delete_visibility_group(visibility_group_id=shop.standard, actor=ACTOR)
    assert standard.value.errors == {
        "visibility_group_id": "Standard Products is the standard visibility group and cannot be deleted; "
        "make another group standard first."
    }
    await update_visibility_group(
        visibility_group_id=shop.early, name="Everyday Products", is_standard=True, actor=ACTOR
    )
    assert await VisibilityGroup.filter(is_standard=True).values_list("name", flat=True) == ["Everyday Products"]
    assert (await visibility_group_choices())[0].label == "Everyday Products"


async def test_a_visibility_group_with_products_is_not_deleted(shop: Shop):
    await create_product(data=product("V-1", "Gold Drill", shop.tools, 100, shop.vip), actor=ACTOR)
    with pytest.raises(FormError) as error:
        await delete_visibility_group(visibility_group_id=shop.vip, actor=ACTOR)
    assert error.value.errors == {
        "visibility_group_id": "1 product is in VIP Exclusive Products; move them to another visibility group first."
    }
    assert await delete_visibility_group(visibility_group_id=shop.early, actor=ACTOR) == "Early Access Products"


async def test_visibility_counts_for_the_wizard(shop: Shop):
    for i in range(6):
        await create_product(data=product(f"S-{i}", f"Standard {i}", shop.tools, 100), actor=ACTOR)
    vip_ids = [
        (await create_product(data=product(f"V-{i}", f"VIP {i}", shop.tools, 100, shop.vip), actor=ACTOR)).id
        for i in range(4)
    ]
    early = (await create_product(data=product("E-1", "Early", shop.tools, 100, shop.early), actor=ACTOR)).id
    counts = await count_visibility(visibility_group_ids=[shop.standard, shop.vip], product_ids=[], all_products=False)
    assert (counts.visible, counts.hidden, counts.exclusive) == (10, 1, 4)
    # The standard products are always shown; single products add to what the groups show.
    only = await count_visibility(visibility_group_ids=[], product_ids=[early, vip_ids[0]], all_products=False)
    assert (only.visible, only.hidden, only.exclusive) == (8, 3, 2)
    everything = await count_visibility(visibility_group_ids=[], product_ids=[], all_products=True)
    assert (everything.visible, everything.hidden, everything.exclusive) == (11, 0, 5)


async def test_price_list_rows_are_unique_per_product_and_quantity(shop: Shop):
    bolts = await create_product(data=product("B-1", "Bolts", shop.tools, 1_000), actor=ACTOR)
    price_list = await create_price_list(name="Wholesale Price List", description="Quantity breaks", actor=ACTOR)
    one = await add_price_list_item(
        price_list_id=price_list.id, data={"product_id": bolts.id, "min_quantity": 1, "price_cents": 900}, actor=ACTOR
    )
    tier = await add_price_list_item(
        price_list_id=price_list.id,
        data={"product_id": bolts.id, "min_quantity": 100.0, "price_cents": 700},
        actor=ACTOR,
    )
    assert (tier.min_quantity, tier.saving_percent) == (100, 30.0)
    with pytest.raises(FormError) as clash:
        await update_price_list_item(
            item_id=tier.id, data={"product_id": bolts.id, "min_quantity": 1, "price_cents": 700}, actor=ACTOR
        )
    assert clash.value.errors == {
        "min_quantity": "Bolts already has a price for 1+ units on this list; edit that row instead."
    }
    with pytest.raises(FormError) as bad:
        await add_price_list_item(
            price_list_id=price_list.id, data={"product_id": None, "min_quantity": 0, "price_cents": -5}, actor=ACTOR
        )
    assert bad.value.errors == {
        "product_id": "Choose a product.",
        "min_quantity": "Enter a whole number of at least 1.",
        "price_cents": "Enter a price of $0.00 or more.",
    }
    items = await list_price_list_items(price_list_id=price_list.id)
    assert [(i.min_quantity, i.price_cents) for i in items.rows] == [(1, 900), (100, 700)]
    await delete_price_list_item(item_id=one.id, actor=ACTOR)
    [row] = await list_price_lists()
    assert (row.name, row.products, row.rows, row.used_by) == ("Wholesale Price List", 1, 1, ())
    assert [c.label for c in await product_choices()] == ["B-1 · Bolts"]


async def test_a_price_list_a_group_prices_with_is_not_deleted(shop: Shop):
    price_list = await create_price_list(name="Wholesale Price List", actor=ACTOR)
    wholesale = await create_group(data={"name": "Wholesale", "code": "WHOLESALE"}, actor=ACTOR)
    await save_benefits(
        group_id=wholesale.id,
        sections={"pricing": {"type": "price_list", "price_list_id": price_list.id}},
        actor=ACTOR,
    )
    assert (await list_price_lists())[0].used_by == ("Wholesale",)
    with pytest.raises(FormError) as error:
        await delete_price_list(price_list_id=price_list.id, actor=ACTOR)
    assert error.value.errors == {
        "price_list_id": "The pricing of Wholesale uses Wholesale Price List; choose another pricing there first."
    }
    other = await create_price_list(name="Old List", actor=ACTOR)
    assert await delete_price_list(price_list_id=other.id, actor=ACTOR) == "Old List"
    assert [(c.id, c.label) for c in await price_list_choices()] == [(price_list.id, "Wholesale Price List")]
