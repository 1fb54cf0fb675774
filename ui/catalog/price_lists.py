"""Price lists: the catalog's Price lists tab, and one price list's page with its prices and
quantity tiers."""

from nicegui import ui

from services.catalog import (
    PriceListDetail,
    PriceListItemRow,
    add_price_list_item,
    create_price_list,
    delete_price_list,
    delete_price_list_item,
    get_price_list,
    list_price_list_items,
    list_price_lists,
    product_choices,
    update_price_list,
    update_price_list_item,
)
from services.errors import NotFoundError
from services.shop import get_shop
from services.staff.actor import Permission
from services.wording import count, money
from ui.catalog.form import (
    actions_cell,
    confirm_dialog,
    form_dialog,
    list_heading,
    price_input,
    search_input,
    to_cents,
)
from ui.paged_table import PagedTable
from ui.shell import empty_state, frame, go_to_with_message
from ui.staff.permissions import guard
from ui.staff.session import current_actor
from ui.table_headers import hide_header

ITEM_COLUMNS = [
    {"name": "sku", "label": "SKU", "field": "sku", "align": "left"},
    {"name": "product", "label": "Product", "field": "product", "align": "left"},
    {"name": "tier", "label": "Quantity", "field": "tier", "align": "left"},
    {"name": "price", "label": "Price", "field": "price", "align": "right"},
    {"name": "base", "label": "Base price", "field": "base", "align": "right"},
    {"name": "saving", "label": "Below base", "field": "saving", "align": "right"},
    {"name": "actions", "label": "", "field": "id", "align": "right"},
]


def tier_text(min_quantity: int) -> str:
    return f"{min_quantity:,}+ units"


def _item_row(item: PriceListItemRow, *, currency: str) -> dict:
    saving = item.saving_percent
    return {
        "id": item.id,
        "sku": item.sku,
        "product": item.product_name,
        "product_id": item.product_id,
        "tier": tier_text(item.min_quantity),
        "min_quantity": item.min_quantity,
        "price_cents": item.price_cents,
        "price": money(item.price_cents, currency=currency, cents_shown="always"),
        "base": money(item.base_price_cents, currency=currency, cents_shown="always"),
        "saving": f"{saving:g}%" if saving else "—",
    }


# --- The catalog's tab ------------------------------------------------------------------------


async def price_lists_tab() -> None:
    rows = await list_price_lists()
    with ui.card().classes("w-full gap-2"):
        list_heading(
            "Price lists",
            count(len(rows), "price list"),
            add="New Price List",
            on_add=lambda: _price_list_dialog(None),
            marker="add-price-list",
        )
        ui.label(
            "A price list sets a product's price per quantity tier. A group prices with it when its "
            "pricing method is a price list."
        ).classes("text-sm text-slate-500")
        if not rows:
            empty_state("request_quote", "No price lists yet", "Create one for contract or wholesale prices.")
            return
        with ui.column().classes("w-full gap-0").mark("price-lists"):
            for row in rows:
                with ui.row().classes("w-full items-center py-2 border-b border-slate-100 no-wrap"):
                    with ui.column().classes("gap-0 w-96"):
                        ui.link(row.name, f"/catalog/price-lists/{row.id}").classes(
                            "font-medium text-primary no-underline hover:underline"
                        )
                        if row.description:
                            ui.label(row.description).classes("text-sm text-slate-500")
                    ui.label(f"{count(row.products, 'product')} · {count(row.rows, 'price')}").classes(
                        "text-slate-600 w-48"
                    )
                    used = f"Used by {', '.join(row.used_by)}" if row.used_by else "Not used by any group"
                    ui.label(used).classes("text-sm " + ("text-slate-600" if row.used_by else "text-slate-400"))


def _price_list_dialog(detail: PriceListDetail | None) -> None:
    with form_dialog(
        title=f"Edit {detail.name}" if detail else "New Price List",
        save="Save Price List",
        marker="price-list",
        width="w-[32rem]",
    ) as form:
        name = ui.input("Name", value=detail.name if detail else "").props("outlined autofocus maxlength=100")
        name.classes("w-full").mark("price-list-name")
        description = ui.textarea("Description (optional)", value=detail.description if detail else "")
        description.props("outlined autogrow maxlength=2000").classes("w-full").mark("price-list-description")

    async def save() -> PriceListDetail:
        if detail:
            return await update_price_list(
                price_list_id=detail.id,
                name=name.value or "",
                description=description.value or "",
                actor=current_actor(),
            )
        return await create_price_list(
            name=name.value or "", description=description.value or "", actor=current_actor()
        )

    def saved(price_list: PriceListDetail) -> None:
        go_to_with_message(f"/catalog/price-lists/{price_list.id}", f"Saved the price list {price_list.name}.")

    form.open(inputs={"name": name, "description": description}, save=save, saved=saved, enter=name)


# --- One price list's page --------------------------------------------------------------------


async def price_list_page(price_list_id: int) -> None:
    try:
        detail = await get_price_list(price_list_id=price_list_id)
    except NotFoundError:
        async with frame("Price list not found", section="catalog"):
            with ui.card().classes("w-full"):
                empty_state("search_off", "This price list does not exist", "Pick one from the catalog's price lists.")
                with ui.row().classes("w-full justify-center"):
                    ui.button("Back to price lists", on_click=lambda: ui.navigate.to("/catalog?tab=price-lists"))
        return
    async with frame(detail.name, section="catalog"):
        with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
            ui.link("Catalog", "/catalog").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.link("Price lists", "/catalog?tab=price-lists").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.label(detail.name)
        with ui.row().classes("w-full items-start justify-between no-wrap"):
            with ui.column().classes("gap-1"):
                ui.label(detail.name).classes("text-2xl font-semibold text-slate-800").mark("price-list-title")
                if detail.description:
                    ui.label(detail.description).classes("text-slate-500")
                used = f"Used by {', '.join(detail.used_by)}" if detail.used_by else "Not used by any group yet"
                ui.label(used).classes("text-sm text-slate-600").mark("price-list-used-by")
            with ui.row().classes("gap-2 no-wrap"):
                edit = ui.button("Edit", icon="edit", on_click=lambda: _price_list_dialog(detail))
                guard(edit.props("outline").mark("edit-price-list"), Permission.MANAGE_CATALOG)
                delete = ui.button("Delete", icon="delete", on_click=lambda: _delete_price_list(detail))
                guard(delete.props("flat color=negative").mark("delete-price-list"), Permission.MANAGE_CATALOG)
        await _items_card(detail, currency=(await get_shop()).currency)


async def _items_card(detail: PriceListDetail, *, currency: str) -> None:
    with ui.card().classes("w-full"):
        with ui.row().classes("w-full items-center gap-4"):
            ui.label("Prices").classes("text-base font-medium")
            search = search_input("Search product or SKU", marker="item-search")
            total = ui.label().classes("ml-auto text-slate-600").mark("item-total")
            add = ui.button(
                "Add Price",
                icon="add",
                on_click=lambda: _item_dialog(detail, None, currency=currency, on_saved=refresh),
            )
            guard(add.mark("add-price"), Permission.MANAGE_CATALOG)
        ui.label(
            "Each row is a product's unit price from a quantity on: add rows for 10+ or 100+ units to give "
            "quantity breaks. A line gets the row of the largest quantity it reaches."
        ).classes("text-sm text-slate-500")
        items = PagedTable(
            columns=ITEM_COLUMNS,
            fetch=lambda page, per_page: list_price_list_items(
                price_list_id=detail.id, search=search.value or "", page=page, per_page=per_page
            ),
            to_row=lambda item: _item_row(item, currency=currency),
            row_key="id",
            no_data="No prices yet: add the first with Add Price."
            if not detail.rows
            else "No prices match this search.",
        )
        items.table.add_slot("body-cell-actions", actions_cell(remove_event="remove", remove_tip="Remove"))
        hide_header(items.table, "actions", "Edit or remove")
        items.table.mark("items-table")
        items.table.on("edit", lambda e: _item_dialog(detail, e.args, currency=currency, on_saved=refresh))
        items.table.on("remove", lambda e: _remove_item(e.args, on_removed=refresh))

        async def reload() -> None:
            await items.load(page=1)
            total.text = count(items.total, "price")

        async def refresh() -> None:
            await items.load(page=items.table.pagination["page"])
            total.text = count(items.total, "price")
            items.table.props["no-data-label"] = "No prices match this search." if items.total else "No prices yet."

        search.on_value_change(reload)
        await reload()


async def _item_dialog(detail: PriceListDetail, row: dict | None, *, currency: str, on_saved) -> None:
    products = await product_choices()
    with form_dialog(
        title=f"Edit price: {row['product']}" if row else f"Add Price to {detail.name}",
        save="Save Price",
        marker="item",
        width="w-[36rem]",
        save_marker="save-price",
    ) as form:
        product = (
            ui.select(
                dict(products),
                label="Product",
                value=row["product_id"] if row else None,
                with_input=True,
            )
            .props("outlined")
            .classes("w-full")
            .mark("item-product")
        )
        with ui.grid(columns=2).classes("w-full gap-x-4 gap-y-1"):
            quantity = (
                ui.number("From quantity", value=row["min_quantity"] if row else 1, min=1, precision=0, step=1)
                .props("outlined")
                .mark("item-quantity")
            )
            quantity.props["hint"] = "1 for every order; 10 for 10+ units"
            amount = price_input(
                "Unit price", row["price_cents"] if row else None, currency=currency, marker="item-price"
            )

    async def save() -> PriceListItemRow:
        data = {"product_id": product.value, "min_quantity": quantity.value, "price_cents": to_cents(amount.value)}
        if row:
            return await update_price_list_item(item_id=row["id"], data=data, actor=current_actor())
        return await add_price_list_item(price_list_id=detail.id, data=data, actor=current_actor())

    async def saved(item: PriceListItemRow) -> None:
        ui.notify(
            f"Saved {item.product_name}: {money(item.price_cents, currency=currency, cents_shown='always')} "
            f"({tier_text(item.min_quantity).lower()}).",
            type="positive",
        )
        await on_saved()

    form.open(inputs={"product_id": product, "min_quantity": quantity, "price_cents": amount}, save=save, saved=saved)


def _remove_item(row: dict, *, on_removed) -> None:
    async def confirm() -> None:
        removed = await delete_price_list_item(item_id=row["id"], actor=current_actor())
        ui.notify(f"Removed the price of {removed.product_name} ({tier_text(removed.min_quantity).lower()}).")
        await on_removed()

    confirm_dialog(
        title=f"Remove this price of {row['product']}?",
        lines=[f"{row['price']} for {row['tier'].lower()}. Other quantity tiers of the product stay."],
        action="Remove price",
        on_confirm=confirm,
        marker="remove-price",
        permission=Permission.MANAGE_CATALOG,
    )


def _delete_price_list(detail: PriceListDetail) -> None:
    async def confirm() -> None:
        name = await delete_price_list(price_list_id=detail.id, actor=current_actor())
        go_to_with_message("/catalog?tab=price-lists", f"Deleted the price list {name}.")

    lines = [f"Its {count(detail.rows, 'price')} go with it. Products stay in the catalog. This cannot be undone."]
    if detail.used_by:
        lines.insert(0, f"The pricing of {', '.join(detail.used_by)} uses it: choose another pricing there first.")
    confirm_dialog(
        title=f"Delete {detail.name}?",
        lines=lines,
        action="Delete price list",
        on_confirm=confirm,
        marker="delete-price-list",
        permission=Permission.MANAGE_CATALOG,
    )
