"""The catalog page: products, categories, visibility groups and price lists, one tab each.
A price list's own page lives in ui.catalog.price_lists."""

from nicegui import ui

from ui.catalog.lists import categories_tab, visibility_groups_tab
from ui.catalog.price_lists import price_list_page, price_lists_tab
from ui.catalog.products import products_tab
from ui.shell import frame, page_heading

__all__ = ["catalog_page", "price_list_page"]

TABS = {
    "products": "Products",
    "categories": "Categories",
    "visibility-groups": "Visibility groups",
    "price-lists": "Price lists",
}


async def catalog_page(tab: str = "products", category: int | None = None, visibility: int | None = None) -> None:
    """`tab` opens a tab; `category` / `visibility` open Products filtered (the lists link there)."""
    current = tab if tab in TABS else "products"
    async with frame("Catalog", section="catalog"):
        page_heading("Catalog", "Your products, who may see them, and the price lists groups can price with.")
        with (
            ui.tabs(value=current).props("align=left no-caps inline-label").classes("text-slate-700 max-w-full") as tabs
        ):
            for key, label in TABS.items():
                ui.tab(key, label).mark(f"tab-{key}")
        tabs.mark("catalog-tabs")
        # Keep the open tab in the address, so reloading or going back returns to it.
        tabs.on_value_change(_remember_tab)
        with ui.tab_panels(tabs, value=current).classes("w-full bg-transparent"):
            with ui.tab_panel("products").classes("p-0 pt-2"):
                await products_tab(category_id=category, visibility_group_id=visibility)
            # Refreshables made per page visit: a module-level one would redraw every owner's open tab.
            with ui.tab_panel("categories").classes("p-0 pt-2"):

                @ui.refreshable
                async def categories() -> None:
                    await categories_tab(refresh=categories.refresh)

                await categories()
            with ui.tab_panel("visibility-groups").classes("p-0 pt-2"):

                @ui.refreshable
                async def visibility_groups() -> None:
                    await visibility_groups_tab(refresh=visibility_groups.refresh)

                await visibility_groups()
            with ui.tab_panel("price-lists").classes("p-0 pt-2"):
                await price_lists_tab()


def _remember_tab(event) -> None:
    if event.value in TABS:  # only our own keys ever reach the browser's address bar
        ui.run_javascript(f"history.replaceState(null, '', '/catalog?tab={event.value}')")
