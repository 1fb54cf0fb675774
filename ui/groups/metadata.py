"""The group page's "Custom data" card: the shop's own keys and values about the group (the API's
`metadata`), shown as a list and edited in a dialog of key and value rows."""

from dataclasses import dataclass

from nicegui import ui

from services.groups.checks import metadata_pairs
from services.groups.fields import METADATA_VALUE_MAX
from services.groups.group import GroupDetail, update_group
from services.staff.actor import Permission
from ui.actions import run_action
from ui.dialog_title import dialog_title
from ui.staff.permissions import guard
from ui.staff.session import current_actor

HINT = (
    "Your own notes for other tools, such as the group's id in your shop or mailing list. "
    "The app does not use them; the API reads and writes them as metadata."
)


@dataclass
class _Row:
    key: str
    value: str


class MetadataEditor:
    """The dialog: one row per key, each with its own error; what belongs to no row below them."""

    def __init__(self, group: GroupDetail) -> None:
        self.group = group
        self.rows = [_Row(key, value) for key, value in group.metadata.items()] or [_Row("", "")]
        self.errors: dict[str, str] = {}
        with ui.dialog() as self.dialog, ui.card().classes("w-full max-w-2xl"):
            dialog_title(self.dialog, f"Custom data of {group.name}")
            ui.label(
                f"{HINT} Keys: up to 40 letters, digits, _ - or .; values: up to {METADATA_VALUE_MAX} characters."
            ).classes("text-sm text-slate-500")
            self.rows_view()
            with ui.row().classes("w-full items-center justify-between"):
                ui.button("Add a key", icon="add", on_click=self.add).props("flat no-caps").mark("metadata-add")
                with ui.row().classes("gap-2"):
                    ui.button("Cancel", on_click=self.dialog.close).props("flat")
                    self.save_button = ui.button("Save", icon="save", on_click=self.save).mark("metadata-save")

    def open(self) -> None:
        self.dialog.open()

    def add(self) -> None:
        self.rows.append(_Row("", ""))
        self.rows_view.refresh()

    def remove(self, row: _Row) -> None:
        self.rows.remove(row)
        self.rows_view.refresh()

    @ui.refreshable_method
    def rows_view(self) -> None:
        with ui.column().classes("w-full gap-1"):
            for index, row in enumerate(self.rows):
                message = self.errors.get(f"metadata.{row.key.strip()}")
                # A key's message names the key ("The key ...", "A value has no key"); the rest are its value's.
                about_key = message is not None and "key" in message.lower()
                with ui.row().classes("w-full items-start gap-2 no-wrap"):
                    key = ui.input("Key", value=row.key).props("outlined dense maxlength=40").classes("w-52")
                    key.mark("metadata-key", f"metadata-key-{index}").on_value_change(
                        lambda e, r=row: setattr(r, "key", e.value or "")
                    )
                    value = ui.input("Value", value=row.value).props(f"outlined dense maxlength={METADATA_VALUE_MAX}")
                    value.classes("grow").mark("metadata-value", f"metadata-value-{index}")
                    value.on_value_change(lambda e, r=row: setattr(r, "value", e.value or ""))
                    (key if about_key else value).error = message
                    ui.button(icon="close", on_click=lambda r=row: self.remove(r)).props(
                        "flat round dense color=grey-7"
                    ).classes("mt-1").mark("metadata-remove").tooltip("Remove this key")
            if not self.rows:
                ui.label("No keys: saving removes all custom data.").classes("text-sm text-slate-500")
            rest = [text for where, text in self.errors.items() if where not in self._row_keys()]
            if rest:
                ui.label(" ".join(rest)).classes("text-sm text-negative").mark("metadata-error")

    def _row_keys(self) -> set[str]:
        return {f"metadata.{row.key.strip()}" for row in self.rows}

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each key's message beside its row; the rest (about all the data) below the rows."""
        self.errors = errors
        self.rows_view.refresh()

    async def save(self) -> None:
        data, repeated = metadata_pairs([(row.key, row.value) for row in self.rows])
        if repeated:
            self.show_errors(repeated)
            return
        update = self.group.as_input().model_dump() | {"metadata": data}
        saved = await run_action(
            lambda: update_group(
                group_id=self.group.id, version=self.group.version, data=update, actor=current_actor()
            ),
            errors=self.show_errors,
            changed=lambda: self.show_errors(
                {"metadata": "Someone changed this group after you opened the page: reload it, then edit again."}
            ),
            busy=[self.save_button],
        )
        if saved:
            self.dialog.close()
            ui.navigate.reload()


def metadata_card(group: GroupDetail) -> None:
    """The group's custom data, with Edit for those who manage groups."""
    editor = MetadataEditor(group)
    with ui.card().classes("w-full").mark("metadata-card"):
        with ui.row().classes("w-full items-center justify-between"):
            ui.label("Custom data").classes("text-base font-medium")
            edit = (
                ui.button("Edit custom data", icon="edit", on_click=editor.open)
                .props("flat no-caps")
                .mark("metadata-edit")
            )
            guard(edit, Permission.MANAGE_GROUPS)
        if not group.metadata:
            ui.label(f"None yet. {HINT}").classes("text-sm text-slate-500").mark("metadata-empty")
            return
        with ui.grid(columns="minmax(8rem, max-content) 1fr").classes("w-full gap-x-6 gap-y-1").mark("metadata-list"):
            for key, value in group.metadata.items():
                ui.label(key).classes("font-mono text-sm text-slate-600 break-all")
                shown = ui.label(value or "(empty)").classes("text-slate-800" if value else "text-slate-400")
                shown.style("overflow-wrap: anywhere")  # a long link or id wraps instead of widening the page
