"""The new / edit group wizard: a stepper whose steps are registered in STEPS, in order.

A step is a module with TITLE, ICON, FIELDS (the form fields it owns, so an error can take the
owner to the right step), `async render(form, save)` and optionally `shown_for(form)` (the Rules
step only appears for automatic and hybrid groups).
"""

from nicegui import ui

from services.errors import ChangedMeanwhileError, FormError, NotFoundError
from services.groups import create_group, get_group, update_group
from ui import wizard_basic, wizard_rules
from ui.group_detail import missing_group
from ui.group_form import GroupForm
from ui.shell import frame, go_to_with_message, page_heading

STEPS = [wizard_basic, wizard_rules]
ACTOR = "owner"  # until staff accounts exist, every change is the owner's


def _steps(form: GroupForm) -> list:
    return [step for step in STEPS if getattr(step, "shown_for", lambda _form: True)(form)]


def _step_of(field: str):
    field = field.split(":")[0]  # "rule:2.0" belongs to the step that owns "rule"
    return next((step for step in STEPS if field in step.FIELDS), STEPS[0])


async def wizard(form: GroupForm) -> None:
    editing = form.group_id is not None
    cancel_target = f"/groups/{form.group_id}" if editing else "/groups"

    save_buttons: list[ui.button] = []

    async def save() -> None:
        form.show_errors({})
        # Saving a rule-based group sets its members, which takes a moment on a big shop.
        for button in save_buttons:
            button.props("loading")
        try:
            if editing:
                group = await update_group(group_id=form.group_id, version=form.version, data=form.data(), actor=ACTOR)
            else:
                group = await create_group(data=form.data(), actor=ACTOR)
        except FormError as error:
            form.show_errors(error.errors)
            stepper.value = _step_of(next(iter(error.errors))).TITLE
            current["step"] = stepper.value
            ui.notify("Please correct the highlighted fields.", type="warning")
            return
        except ChangedMeanwhileError:
            changed_dialog.open()
            return
        except NotFoundError as error:
            ui.notify(str(error), type="negative")
            return
        finally:
            for button in save_buttons:
                button.props(remove="loading")
        go_to_with_message(f"/groups/{group.id}", f"Saved {group.name}" if editing else f"Created {group.name}")

    with ui.dialog() as changed_dialog, ui.card().classes("max-w-md"):
        ui.label("This group was changed meanwhile").classes("text-lg font-medium")
        ui.label(
            "Someone else saved this group after you opened it. Reload to see their version; "
            "your changes on this page will not be saved."
        ).classes("text-slate-600")
        with ui.row().classes("w-full justify-end"):
            ui.button("Keep editing", on_click=changed_dialog.close).props("flat")
            ui.button("Reload", on_click=lambda: ui.navigate.to(f"/groups/{form.group_id}/edit")).mark("reload")

    @ui.refreshable
    async def steps() -> None:
        nonlocal stepper
        shown = _steps(form)
        save_buttons.clear()
        with ui.stepper(value=current["step"]).classes("w-full").props("flat header-nav animated") as stepper:
            stepper.on_value_change(lambda e: current.update(step=e.value))
            for index, step in enumerate(shown):
                with ui.step(step.TITLE, icon=step.ICON):
                    await step.render(form, save)
                    with ui.stepper_navigation().classes("w-full"):
                        last = index + 1 == len(shown)
                        # An edit can be saved from any step; a new group is created from the last.
                        if editing or last:
                            save_buttons.append(
                                ui.button(
                                    "Save changes" if editing else "Create group", icon="check", on_click=save
                                ).mark("save-group")
                            )
                        if not last:
                            ui.button("Continue", on_click=stepper.next).props("outline" if editing else "").mark(
                                "continue"
                            )
                        if index:
                            ui.button("Back", on_click=stepper.previous).props("flat")
                        ui.button("Cancel", on_click=lambda: ui.navigate.to(cancel_target)).props("flat color=grey-8")

    async def type_changed() -> None:
        # Switching between manual and rule-based adds or removes the Rules step.
        if [s.TITLE for s in _steps(form)] != shown_titles["now"]:
            shown_titles["now"] = [s.TITLE for s in _steps(form)]
            form.rule_view = None
            form.inputs.clear()
            await steps.refresh()

    current = {"step": STEPS[0].TITLE}
    shown_titles = {"now": [s.TITLE for s in _steps(form)]}
    stepper: ui.stepper | None = None
    form.on_type_change = type_changed
    with ui.card().classes("w-full p-0"):
        await steps()


async def new_group_page() -> None:
    async with frame("New Customer Group", section="groups"):
        page_heading("New Customer Group", "Start with the basics; you can change everything later.")
        await wizard(GroupForm())


async def edit_group_page(group_id: int) -> None:
    async with frame("Edit group", section="groups"):
        try:
            group = await get_group(group_id=group_id)
        except NotFoundError:
            missing_group()
            return
        page_heading(f"Edit {group.name}", f"Code {group.code}")
        await wizard(GroupForm.from_group(group))
