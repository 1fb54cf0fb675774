"""The catalog's Products tab: a paged, searchable table with an add/edit dialog."""

from nicegui import ui

from services.catalog import (
    ProductRow,
    category_choices,
    create_product,
    delete_product,
    list_products,
    standard_visibility_group_id,
    update_product,
    visibility_group_choices,
)
from services.shop import get_shop
from services.staff.actor import Permission
from services.wording import count, money
from ui.catalog.form import actions_cell, confirm_dialog, form_dialog, price_input, search_input, to_cents
from ui.paged_table import PagedTable
from ui.shell import empty_state
from ui.staff.permissions import guard
from ui.staff.session import current_actor
from ui.table_headers import hide_header

COLUMNS = [
    {"name": "sku", "label": "SKU", "field": "sku", "align": "left"},
    {"name": "name", "label": "Product", "field": "name", "align": "left"},
    {"name": "category", "label": "Category", "field": "category", "align": "left"},
    {"name": "visibility", "label": "Visibility group", "field": "visibility", "align": "left"},
    {"name": "price", "label": "Base price", "field": "price", "align": "right"},
    {"name": "actions", "label": "", "field": "id", "align": "right"},
]
VISIBILITY_CELL = r"""
<q-td :props="props">
  <q-badge :outline="!props.row.standard" :color="props.row.standard ? 'grey-8' : 'deep-orange-10'">{{ props.row.visibility }}</q-badge>
</q-td>
"""


def _row(product: ProductRow, standard_id: int | None, *, currency: str) -> dict:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "category": product.category_name,
        "visibility": product.visibility_group_name,
        "standard": product.visibility_group_id == standard_id,  # everyday products get a grey badge
        "price": money(product.base_price_cents, currency=currency, cents_shown="always"),
        "category_id": product.category_id,
        "visibility_group_id": product.visibility_group_id,
        "base_price_cents": product.base_price_cents,
    }


async def products_tab(*, category_id: int | None = None, visibility_group_id: int | None = None) -> None:
    categories = await category_choices()
    visibility_groups = await visibility_group_choices()
    standard_id = await standard_visibility_group_id()
    currency = (await get_shop()).currency
    if not (await list_products(per_page=1)).total:
        with ui.card().classes("w-full"):
            empty_state(
                "inventory_2", "No products yet", "Add your products to price them per group and choose who sees them."
            )
            with ui.row().classes("w-full justify-center"):
                add = ui.button(
                    "Add Product",
                    icon="add",
                    on_click=lambda: open_product_dialog(None, on_saved=_reopen),
                ).mark("add-product")
                guard(add, Permission.MANAGE_CATALOG)
        return

    with ui.card().classes("w-full"):
        with ui.row().classes("w-full items-center gap-4"):
            search = search_input("Search name or SKU", marker="product-search")
            category = (
                ui.select({None: "All categories", **dict(categories)}, value=category_id, label="Category")
                .props("outlined dense")
                .classes("w-56")
                .mark("category-filter")
            )
            visibility = (
                ui.select(
                    {None: "All visibility groups", **dict(visibility_groups)},
                    value=visibility_group_id,
                    label="Visibility group",
                )
                .props("outlined dense")
                .classes("w-56")
                .mark("visibility-filter")
            )
            total = ui.label().classes("ml-auto text-slate-600").mark("product-total")
            add = ui.button("Add Product", icon="add", on_click=lambda: open_product_dialog(None, on_saved=reload))
            guard(add.mark("add-product"), Permission.MANAGE_CATALOG)
        products = PagedTable(
            columns=COLUMNS,
            fetch=lambda page, per_page: list_products(
                search=search.value or "",
                category_id=category.value,
                visibility_group_id=visibility.value,
                page=page,
                per_page=per_page,
            ),
            to_row=lambda product: _row(product, standard_id, currency=currency),
            row_key="id",
            no_data="No products match this search.",
        )
        products.table.add_slot("body-cell-visibility", VISIBILITY_CELL)
        products.table.add_slot("body-cell-actions", actions_cell(remove_event="delete", remove_tip="Delete"))
        hide_header(products.table, "actions", "Edit or delete")
        products.table.mark("products-table")
        products.table.on("edit", lambda e: open_product_dialog(e.args, on_saved=refresh))
        products.table.on("delete", lambda e: _delete(e.args, on_deleted=refresh))

        async def reload() -> None:
            await products.load(page=1)
            total.text = count(products.total, "product")

        async def refresh() -> None:
            """After an edit: stay on the page the owner was looking at."""
            await products.load(page=products.table.pagination["page"])
            total.text = count(products.total, "product")

        search.on_value_change(reload)
        category.on_value_change(reload)
        visibility.on_value_change(reload)
        await reload()


async def _reopen() -> None:
    ui.navigate.to("/catalog")


async def open_product_dialog(row: dict | None, *, on_saved) -> None:
    """Add a product (row None) or edit the one in `row`."""
    categories = await category_choices()
    visibility_groups = await visibility_group_choices()
    currency = (await get_shop()).currency
    editing = row is not None
    with form_dialog(
        title=f"Edit {row['name']}" if editing else "New Product",
        save="Save Product",
        marker="product",
        width="w-[36rem]",
    ) as form:
        with ui.grid(columns=2).classes("w-full gap-x-4 gap-y-1"):
            sku = (
                ui.input("SKU", value=row["sku"] if editing else "").props("outlined maxlength=64").mark("product-sku")
            )
            sku.props["hint"] = "Letters and digits, stored in capitals"
            amount = price_input(
                "Base price", row["base_price_cents"] if editing else None, currency=currency, marker="product-price"
            )
        name = (
            ui.input("Product name", value=row["name"] if editing else "")
            .props("outlined maxlength=200")
            .classes("w-full")
            .mark("product-name")
        )
        with ui.grid(columns=2).classes("w-full gap-x-4 gap-y-1"):
            category = (
                ui.select(dict(categories), label="Category", value=row["category_id"] if editing else None)
                .props("outlined")
                .mark("product-category")
            )
            default_visibility = visibility_groups[0].id if visibility_groups else None
            visibility = (
                ui.select(
                    dict(visibility_groups),
                    label="Visibility group",
                    value=row["visibility_group_id"] if editing else default_visibility,
                )
                .props("outlined")
                .mark("product-visibility")
            )
        if not categories:
            ui.label("Add a category on the Categories tab first.").classes("text-sm text-slate-500")
    inputs = {
        "sku": sku,
        "name": name,
        "category_id": category,
        "visibility_group_id": visibility,
        "base_price_cents": amount,
    }

    async def save() -> ProductRow:
        data = {
            "sku": sku.value or "",
            "name": name.value or "",
            "category_id": category.value,
            "visibility_group_id": visibility.value,
            "base_price_cents": to_cents(amount.value),
        }
        if editing:
            return await update_product(product_id=row["id"], data=data, actor=current_actor())
        return await create_product(data=data, actor=current_actor())

    async def saved(product: ProductRow) -> None:
        ui.notify(f"Saved {product.name} ({product.sku}).", type="positive")
        await on_saved()

    form.open(inputs=inputs, save=save, saved=saved, enter=name)


def _delete(row: dict, *, on_deleted) -> None:
    async def confirm() -> None:
        result = await delete_product(product_id=row["id"], actor=current_actor())
        removed = f" and its {count(result.price_list_rows, 'price list price')}" if result.price_list_rows else ""
        ui.notify(f"Deleted {result.name}{removed}.", type="positive")
        await on_deleted()

    confirm_dialog(
        title=f"Delete {row['name']}?",
        lines=[
            f"{row['sku']} disappears from the catalog, and its prices from every price list.",
            "Orders already placed stay as they are. This cannot be undone.",
        ],
        action="Delete product",
        on_confirm=confirm,
        marker="delete-product",
        permission=Permission.MANAGE_CATALOG,
    )
