"""What the catalog's pages and dialogs share: prices in the shop's currency, list headings and row
buttons, add/edit dialogs that show errors beside their fields, and a confirmation dialog that can
show why the service refused. Actions the signed-in role lacks the permission for (the catalog's,
unless said otherwise) are shown disabled, with a tooltip naming it."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from inspect import isawaitable
from typing import Any, TypeVar

from nicegui import ui
from nicegui.elements.mixins.validation_element import ValidationElement

from services.staff.actor import Permission
from services.wording import currency_symbol
from ui.actions import in_words, run_action
from ui.dialog_title import dialog_title
from ui.staff.permissions import can, guard, missing_text

Saved = TypeVar("Saved")


def to_cents(amount: float | int | None) -> int | None:
    """A price typed in currency units, in cents; empty stays empty (the service says what is missing)."""
    return None if amount is None or amount == "" else round(float(amount) * 100)


def price_input(label: str, cents: int | None, *, currency: str, marker: str) -> ui.number:
    """A price field in the shop's currency, to the cent, filled with `cents` when editing; read it
    back with `to_cents`."""
    return (
        ui.number(
            label,
            value=cents / 100 if cents is not None else None,
            min=0,
            precision=2,
            step=0.01,
            prefix=currency_symbol(currency),
        )
        .props("outlined")
        .mark(marker)
    )


def error_label(marker: str) -> ui.label:
    label = ui.label().classes("text-negative text-sm").mark(marker)
    label.visible = False
    return label


def show_error(label: ui.label, text: str | None) -> None:
    label.text = text or ""
    label.visible = bool(text)


def show_errors(inputs: dict[str, ValidationElement], errors: dict[str, str], rest: ui.label) -> None:
    """Each message beside its field; messages for no field on the form go to `rest`."""
    for name, element in inputs.items():
        element.error = errors.get(name)
    show_error(rest, " ".join(text for key, text in errors.items() if key not in inputs))


def clear_on_edit(inputs: dict[str, ValidationElement]) -> None:
    """An error disappears as soon as the owner edits its field."""
    for element in inputs.values():
        element.on_value_change(lambda _, e=element: setattr(e, "error", None))


# --- Lists and tables -------------------------------------------------------------------------


def list_heading(
    title: str,
    total: str,
    *,
    add: str,
    on_add: Callable[[], Any],
    marker: str,
    permission: Permission = Permission.MANAGE_CATALOG,
) -> None:
    """A catalog tab's heading: what it lists, how many there are, and the button that adds one."""
    with ui.row().classes("w-full items-center"):
        ui.label(title).classes("text-base font-medium")
        ui.label(total).classes("text-sm text-slate-500")
        guard(ui.button(add, icon="add", on_click=on_add).classes("ml-auto").mark(marker), permission)


def row_buttons(
    *,
    on_edit: Callable[[], Any],
    on_delete: Callable[[], Any],
    marker: str,
    edit_tip: str,
    delete_tip: str = "Delete",
    delete_refused: str | None = None,
    permission: Permission = Permission.MANAGE_CATALOG,
) -> None:
    """A list row's Edit and Delete icons, marked `edit-<marker>` / `delete-<marker>`. A row that may
    not be deleted passes why as `delete_refused`."""
    with ui.row().classes("ml-auto gap-1"):
        edit = ui.button(icon="edit", on_click=on_edit).props("flat dense round color=primary").mark(f"edit-{marker}")
        delete = ui.button(icon="delete", on_click=on_delete)
        delete.props("flat dense round color=negative").mark(f"delete-{marker}")
    if not can(permission):
        guard(edit, permission)
        guard(delete, permission)
        return
    edit.tooltip(edit_tip)
    if delete_refused:
        delete.disable()
        delete.tooltip(delete_refused)
    else:
        delete.tooltip(delete_tip)


def actions_cell(*, remove_event: str, remove_tip: str, permission: Permission = Permission.MANAGE_CATALOG) -> str:
    """A table's Edit and Delete (or Remove) icons; they send `edit` / `remove_event` with the row to
    the page, which opens the matching dialog. Build it while the page renders: without `permission`
    both are disabled, their tooltips naming it."""
    disable, edit_tip, remove_word = "", "Edit", remove_tip
    if not can(permission):
        disable = " disable"
        edit_tip = remove_tip = missing_text(permission)  # fixed wording, no user text
    # Named with the row's product for screen readers ("Edit Coffee Beans"), as the tooltip shows it.
    name = "(props.row.name || props.row.product || '')"
    return rf"""
<q-td :props="props" auto-width>
  <q-btn flat dense round size="sm" icon="edit" color="primary"{disable} :aria-label="'Edit ' + {name}"
         @click="() => $parent.$emit('edit', props.row)">
    <q-tooltip>{edit_tip}</q-tooltip>
  </q-btn>
  <q-btn flat dense round size="sm" icon="delete" color="negative"{disable} :aria-label="'{remove_word} ' + {name}"
         @click="() => $parent.$emit('{remove_event}', props.row)">
    <q-tooltip>{remove_tip}</q-tooltip>
  </q-btn>
</q-td>
"""


def search_input(placeholder: str, *, marker: str) -> ui.input:
    """A table's search box; it waits for a pause in typing before the table reloads."""
    search = ui.input(placeholder=placeholder)
    search.props("outlined dense clearable debounce=250").classes("w-72").mark(marker)
    with search.add_slot("prepend"):
        ui.icon("search")
    return search


# --- Dialogs ----------------------------------------------------------------------------------


class FormDialog:
    """An add/edit dialog built by `form_dialog`: its fields are the caller's, the rest is the same
    for every catalog form."""

    def __init__(self, dialog: ui.dialog) -> None:
        self.dialog = dialog
        self.rest: ui.label  # messages that belong to no field on the form
        self.save_button: ui.button

    def open(
        self,
        *,
        inputs: dict[str, ValidationElement],
        save: Callable[[], Awaitable[Saved]],
        saved: Callable[[Saved], Awaitable[None] | None],
        enter: ui.input | None = None,
    ) -> None:
        """Wire Save (and Enter in `enter`) to `save`, then open. A refusal stays in the dialog, each
        message beside its field; a save closes the dialog and hands what was saved to `saved`."""
        clear_on_edit(inputs)

        def refused(text: str) -> None:  # not allowed; deleted meanwhile
            show_errors(inputs, {"form": text}, self.rest)

        async def submit() -> None:
            done = await run_action(
                save, errors=lambda errors: show_errors(inputs, errors, self.rest), refused=refused, missing=refused
            )
            if not done:
                return
            self.dialog.close()
            after = saved(done.value)
            if isawaitable(after):
                await after

        self.save_button.on_click(submit)
        if enter is not None:
            enter.on("keydown.enter", submit)
        self.dialog.on("hide", self.dialog.delete)
        self.dialog.open()


@contextmanager
def form_dialog(
    *,
    title: str,
    save: str,
    marker: str,
    width: str = "w-[28rem]",
    save_marker: str | None = None,
    permission: Permission = Permission.MANAGE_CATALOG,
) -> Iterator[FormDialog]:
    """The frame of a catalog add/edit dialog: the title, then the fields the `with` body adds, a
    line for errors of no field (`<marker>-error`), Cancel and Save (`save-<marker>`), which needs
    `permission`."""
    with ui.dialog() as dialog, ui.card().classes(f"{width} max-w-full gap-2").mark(f"{marker}-dialog"):
        dialog_title(dialog, title)
        form = FormDialog(dialog)
        yield form
        form.rest = error_label(f"{marker}-error")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            form.save_button = ui.button(save, icon="save").mark(save_marker or f"save-{marker}")
            guard(form.save_button, permission)


def confirm_dialog(
    *,
    title: str,
    lines: list[str],
    action: str,
    on_confirm: Callable[[], Awaitable[None]],
    marker: str,
    permission: Permission,
) -> None:
    """Ask before something that cannot be undone, which needs `permission`. A refusal (FormError,
    PermissionDeniedError) is shown in the dialog."""
    with ui.dialog() as dialog, ui.card().classes("max-w-lg gap-3").mark(f"{marker}-dialog"):
        dialog_title(dialog, title)
        for line in lines:
            ui.label(line).classes("text-slate-600")
        error = error_label(f"{marker}-error")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            button = ui.button(action, icon="delete").props("color=negative").mark(f"confirm-{marker}")
            guard(button, permission)

    def refused(text: str) -> None:
        show_error(error, text)
        button.disable()

    def missing(text: str) -> None:  # deleted meanwhile: nothing left to confirm
        ui.notify(text, type="warning")
        dialog.close()

    async def confirm() -> None:
        if await run_action(on_confirm, errors=in_words(refused), refused=refused, missing=missing):
            dialog.close()

    button.on_click(confirm)
    dialog.on("hide", dialog.delete)
    dialog.open()
