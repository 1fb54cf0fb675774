"""Wizard step "Basic information": name, code, description, status, parent and type."""

from nicegui import ui

from models.group import GroupStatus, GroupType
from services.groups.group import group_choices, suggest_code
from services.wording import GROUP_TYPE_LONG
from ui.groups.benefits import ErrorText
from ui.groups.form import GroupForm, watch

TITLE = "Basic information"
ICON = "badge"
FIELDS = ("name", "code", "description", "status", "parent_id", "type", "capacity")
PAIRS = "w-full gap-x-6 gap-y-2 max-md:grid-cols-1!"  # two fields a row, one on a phone


async def render(form: GroupForm, save) -> None:
    choices = await group_choices(exclude_id=form.group_id)
    with ui.grid(columns=2).classes(PAIRS):
        name = ui.input("Group Name", value=form.name).props("outlined maxlength=100").mark("name")
        if form.autofocus_name:
            name.props("autofocus")
        name.on("keydown.enter", save)
        code = ui.input("Group Code", value=form.code).props("outlined maxlength=32").mark("code")
        code.props["hint"] = "Letters, digits, - and _. Suggested from the name; you can change it."
        code.on("keydown.enter", save)
    description = ui.textarea("Description", value=form.description).props("outlined autogrow maxlength=2000")
    description.classes("w-full").mark("description")
    with ui.grid(columns=2).classes(PAIRS):
        status = ui.select({s.value: s.value.capitalize() for s in GroupStatus}, label="Status", value=form.status)
        status.props("outlined").mark("status")
        parent = (
            ui.select(
                {None: "(None - Top Level)", **{c.id: c.label for c in choices}},
                label="Parent Group (optional)",
                value=form.parent_id,
            )
            .props("outlined")
            .mark("parent")
        )
    with ui.grid(columns=2).classes(PAIRS):
        capacity = (
            ui.number("Capacity (optional)", value=form.capacity, min=1, precision=0, step=1)
            .props("outlined clearable")
            .mark("capacity")
        )
        capacity.props["hint"] = "The most customers this group holds, by hand or by rule; empty: no limit."
    ui.label("Group Type").classes("text-sm text-slate-600 mt-2")
    kind = ui.radio({t.value: GROUP_TYPE_LONG[t] for t in GroupType}, value=form.type).mark("type")
    kind.props('aria-label="Group Type"')  # named for screen readers; flow.py finds the choice by it
    form.inputs.update(
        name=name,
        code=code,
        description=description,
        status=status,
        parent_id=parent,
        capacity=capacity,
        type=ErrorText("type-error"),
    )

    for element, field in ((name, "name"), (description, "description"), (status, "status")):
        watch(element, form, field)
    watch(parent, form, "parent_id")
    watch(capacity, form, "capacity")
    watch(kind, form, "type")
    kind.on_value_change(lambda _: form.on_type_change() if form.on_type_change else None)

    def code_typed(event) -> None:
        form.code = event.value or ""
        form.clear_error("code")
        if event.value != suggest_code(form.name):
            form.code_edited = True

    def name_typed(event) -> None:
        if not form.code_edited:
            code.value = suggest_code(event.value or "")

    code.on_value_change(code_typed)
    name.on_value_change(name_typed)
