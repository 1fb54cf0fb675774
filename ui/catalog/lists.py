"""The catalog's Categories and Visibility groups tabs: short lists with their product counts."""

from collections.abc import Awaitable, Callable

from nicegui import ui

from services.catalog import (
    CategoryRow,
    VisibilityGroupRow,
    create_category,
    create_visibility_group,
    delete_category,
    delete_visibility_group,
    list_categories,
    list_visibility_groups,
    update_category,
    update_visibility_group,
)
from services.staff.actor import Permission
from services.wording import count
from ui.catalog.form import confirm_dialog, form_dialog, list_heading, row_buttons
from ui.shell import empty_state
from ui.staff.session import current_actor


def _products_link(n: int, query: str) -> None:
    if n:
        ui.link(count(n, "product"), f"/catalog?{query}").classes("text-primary no-underline hover:underline")
    else:
        ui.label("No products").classes("text-slate-400")


def _confirm_delete(
    row: CategoryRow | VisibilityGroupRow,
    *,
    kind: str,
    marker: str,
    delete: Callable[[], Awaitable[str]],
    still_used: str,
    refresh: Callable[[], None],
) -> None:
    """Both lists sort products, so both warn the same way: the service refuses while products use
    the entry, and the dialog says so before the owner tries."""

    async def confirm() -> None:
        name = await delete()
        ui.notify(f"Deleted the {kind} {name}.", type="positive")
        refresh()

    lines = ["This cannot be undone."]
    if row.products:
        lines.insert(0, f"{count(row.products, 'product')} {still_used}")
    confirm_dialog(
        title=f"Delete {row.name}?",
        lines=lines,
        action=f"Delete {kind}",
        on_confirm=confirm,
        marker=f"delete-{marker}",
        permission=Permission.MANAGE_CATALOG,
    )


# --- Categories -------------------------------------------------------------------------------


async def categories_tab(*, refresh: Callable[[], None]) -> None:
    """The Categories tab; `refresh` redraws it (this page's copy only, not other owners' tabs)."""
    rows = await list_categories()
    with ui.card().classes("w-full gap-2"):
        list_heading(
            "Categories",
            count(len(rows), "category", "categories"),
            add="Add Category",
            on_add=lambda: _category_dialog(None, refresh),
            marker="add-category",
        )
        if not rows:
            empty_state(
                "category", "No categories yet", "Categories sort your products, and group pricing can target them."
            )
            return
        with ui.column().classes("w-full gap-0").mark("categories-list"):
            for row in rows:
                with ui.row().classes("w-full items-center py-2 border-b border-slate-100"):
                    ui.label(row.name).classes("font-medium text-slate-800 w-72")
                    _products_link(row.products, f"category={row.id}")
                    row_buttons(
                        on_edit=lambda r=row: _category_dialog(r, refresh),
                        on_delete=lambda r=row: _delete_category(r, refresh),
                        marker=f"category-{row.id}",
                        edit_tip="Rename",
                    )


def _category_dialog(row: CategoryRow | None, refresh: Callable[[], None]) -> None:
    with form_dialog(
        title=f"Rename {row.name}" if row else "New Category", save="Save Category", marker="category"
    ) as form:
        name = ui.input("Category name", value=row.name if row else "").props("outlined autofocus maxlength=100")
        name.classes("w-full").mark("category-name")

    async def save() -> CategoryRow:
        if row:
            return await update_category(category_id=row.id, name=name.value or "", actor=current_actor())
        return await create_category(name=name.value or "", actor=current_actor())

    def saved(category: CategoryRow) -> None:
        ui.notify(f"Saved the category {category.name}.", type="positive")
        refresh()

    form.open(inputs={"name": name}, save=save, saved=saved, enter=name)


def _delete_category(row: CategoryRow, refresh: Callable[[], None]) -> None:
    _confirm_delete(
        row,
        kind="category",
        marker="category",
        delete=lambda: delete_category(category_id=row.id, actor=current_actor()),
        still_used="still use it: move them to another category first.",
        refresh=refresh,
    )


# --- Visibility groups ------------------------------------------------------------------------


async def visibility_groups_tab(*, refresh: Callable[[], None]) -> None:
    """The Visibility groups tab; `refresh` redraws it (this page's copy only)."""
    rows = await list_visibility_groups()
    with ui.card().classes("w-full gap-2"):
        list_heading(
            "Visibility groups",
            count(len(rows), "visibility group"),
            add="Add Visibility Group",
            on_add=lambda: _visibility_dialog(None, refresh),
            marker="add-visibility-group",
        )
        ui.label(
            "Every customer sees the standard group's products. A group's benefits decide which other "
            "visibility groups its members see."
        ).classes("text-sm text-slate-500")
        if not rows:
            empty_state("visibility", "No visibility groups yet", "The first one you add becomes the standard one.")
            return
        with ui.column().classes("w-full gap-0").mark("visibility-groups-list"):
            for row in rows:
                with ui.row().classes("w-full items-center py-2 border-b border-slate-100"):
                    with ui.row().classes("items-center gap-2 w-72"):
                        ui.label(row.name).classes("font-medium text-slate-800")
                        if row.is_standard:
                            ui.badge("Standard", color="grey-8").props("outline")
                    _products_link(row.products, f"visibility={row.id}")
                    row_buttons(
                        on_edit=lambda r=row: _visibility_dialog(r, refresh),
                        on_delete=lambda r=row: _delete_visibility(r, refresh),
                        marker=f"visibility-{row.id}",
                        edit_tip="Edit",
                        delete_refused="The standard group stays: make another group standard first"
                        if row.is_standard
                        else None,
                    )


def _visibility_dialog(row: VisibilityGroupRow | None, refresh: Callable[[], None]) -> None:
    with form_dialog(
        title=f"Edit {row.name}" if row else "New Visibility Group", save="Save", marker="visibility"
    ) as form:
        name = ui.input("Name", value=row.name if row else "").props("outlined autofocus maxlength=100")
        name.classes("w-full").mark("visibility-name")
        standard = ui.checkbox("Standard: shown to every customer", value=bool(row and row.is_standard))
        standard.mark("visibility-standard")
        if row and row.is_standard:
            standard.disable()
            ui.label("To change the standard group, make another group standard.").classes("text-xs text-slate-500")

    async def save() -> VisibilityGroupRow:
        if row:
            return await update_visibility_group(
                visibility_group_id=row.id, name=name.value or "", is_standard=standard.value, actor=current_actor()
            )
        return await create_visibility_group(name=name.value or "", is_standard=standard.value, actor=current_actor())

    def saved(group: VisibilityGroupRow) -> None:
        ui.notify(f"Saved the visibility group {group.name}.", type="positive")
        refresh()

    form.open(inputs={"name": name}, save=save, saved=saved, enter=name)


def _delete_visibility(row: VisibilityGroupRow, refresh: Callable[[], None]) -> None:
    _confirm_delete(
        row,
        kind="visibility group",
        marker="visibility",
        delete=lambda: delete_visibility_group(visibility_group_id=row.id, actor=current_actor()),
        still_used="still belong to it: move them to another group first.",
        refresh=refresh,
    )
