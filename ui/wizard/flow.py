"""The new / edit group wizard: a stepper whose steps are registered in STEPS, in order.

A step is a module with TITLE, ICON, FIELDS (the form fields it owns, so an error can take the
owner to the right step), `async render(form, save)`, optionally `shown_for(form)` (the Rules
step only appears for automatic and hybrid groups) and OPTIONAL (a new group can be created
before reaching it).
"""

import json
import re
from collections.abc import Sequence

from nicegui import app, ui

from models.group import RULE_TYPES, GroupType
from services.benefits.sections import check_benefits, effective_benefits, get_benefits, save_benefits
from services.benefits.summary import catalog_names, pricing_text
from services.errors import FormError, NotFoundError
from services.groups.group import GroupDetail, check_group, create_group, get_group, update_group
from services.membership.changes import AddMode, AddResult
from services.membership.matching import add_chosen
from services.rules.ladders import RungMoves, Shift
from services.rules.model import RuleError
from services.rules.preview import RulePreview, last_rung_moves, preview_rule
from services.staff.actor import Actor, Permission
from services.wording import count
from ui.actions import in_words, notify_refused, run_action
from ui.dialog_title import dialog_title
from ui.groups.detail import missing_group
from ui.groups.form import GroupForm
from ui.shell import frame, go_to_with_message, page_heading
from ui.staff.permissions import guard
from ui.staff.session import current_actor
from ui.wizard import basic as wizard_basic
from ui.wizard import customers as wizard_customers
from ui.wizard import payment as wizard_payment
from ui.wizard import pricing as wizard_pricing
from ui.wizard import review as wizard_review
from ui.wizard import rules as wizard_rules
from ui.wizard import visibility as wizard_visibility

STEPS = [
    wizard_basic,
    wizard_rules,
    wizard_pricing,
    wizard_visibility,
    wizard_payment,
    wizard_customers,
    wizard_review,  # last: it shows everything the other steps set
]


# Quasar draws the names of steps not yet reached in grey-5, too faint to read (2.7:1).
STEP_NAMES_COLOR = "inactive-color=grey-8"

# Focus, once the server's redraw is drawn: the first of `targets` that finds an element, looked for
# over a few frames (Vue draws an update a moment after it arrives). Until then the element that had
# the focus may still match (the type choice about to be redrawn), and a step sliding out still holds
# its fields, so both are passed over.
FOCUS_SCRIPT = """
const before = document.activeElement;
(function focusWhenDrawn(targets, framesLeft) {
  const usable = (element) => element !== before && element.closest('[class*="-leave-"]') === null;
  const found = targets.map((target) => [...document.querySelectorAll(target)].find(usable)).find(Boolean);
  if (found) found.focus();
  else if (framesLeft > 0) requestAnimationFrame(() => focusWhenDrawn(targets, framesLeft - 1));
})(%s, 60);
"""
# The chosen group type, redrawn when the choice adds or removes the Rules step.
CHOSEN_TYPE = '.group-wizard [aria-label="Group Type"] [role=radio][aria-checked=true]'
# The first field of the step in view (else its first button): Continue takes a keyboard user there,
# not back to the top.
STEP = ".group-wizard .q-stepper__step-inner "
FIRST_FIELD = (
    STEP + ":is(input:not([disabled]):not([type=hidden]), textarea, [role=combobox], [role=radio][tabindex='0'])"
)
FIRST_BUTTON = STEP + "button:not([disabled])"


def focus(*targets: str) -> None:
    """Focus the first element the targets find, tried in order."""
    ui.run_javascript(FOCUS_SCRIPT % json.dumps(list(targets)))


# On a phone the step names would stack into a screenful of headers: only the current one keeps
# its name, the others their icons, all on one line.
PHONE_STEPPER = """
@media (max-width: 640px) {
  .group-wizard .q-stepper__header { flex-wrap: nowrap; overflow-x: auto; min-height: 0; }
  .group-wizard .q-stepper__tab { padding: 12px 6px; min-height: 0; flex: 0 0 auto; }
  .group-wizard .q-stepper__tab:not(.q-stepper__tab--active) .q-stepper__label { display: none; }
  .group-wizard .q-stepper__step-inner { padding: 12px; }
}
"""


def _steps(form: GroupForm) -> list:
    return [step for step in STEPS if getattr(step, "shown_for", lambda _form: True)(form)]


def _step_of(field: str):
    # "rule:2.0" belongs to the step that owns "rule", "pricing.percent" to the one that owns "pricing".
    field = re.split("[:.]", field)[0]
    return next((step for step in STEPS if field in step.FIELDS), STEPS[0])


async def step_problems(form: GroupForm, step) -> dict[str, str]:
    """What saving would refuse in the fields `step` owns (the other steps are checked on theirs)."""
    errors = await check_group(data=form.data(), group_id=form.group_id)
    try:
        await check_benefits(sections=form.benefit_sections())
    except FormError as error:
        errors |= error.errors
    return {field: text for field, text in errors.items() if _step_of(field) is step}


async def _members_leaving(form: GroupForm, original: GroupDetail | None) -> RulePreview | None:
    """The preview of an edited rule that would take members out of the group (of a rung: out of
    any rung of its ladder, by a move or off the ladder); None otherwise."""
    if original is None or GroupType(form.type) not in RULE_TYPES or form.rule == original.rule:
        return None
    try:
        preview = await preview_rule(rule=form.rule, group_id=form.group_id)
    except RuleError:
        return None  # the save reports the rule's problems at its conditions
    if preview.ladder is not None:
        return preview if any(shift.from_group_id is not None for shift in preview.ladder.run.shifts) else None
    return preview if preview.change is not None and preview.change.leaving else None


async def _benefit_words(group_id: int) -> str:
    """What a member has from the group, in the overview's words ("5% off"); "" for none."""
    benefits = await effective_benefits(group_id=group_id)
    _, short = pricing_text(benefits.pricing, await catalog_names())
    return "" if short == "Standard" else short


def leaving_text(name: str, preview: RulePreview, benefit: str) -> str:
    """ "55 customers will leave Silver Tier and lose 5% off; 12 will join." """
    change = preview.change
    text = f"{count(change.leaving, 'customer')} will leave {name}" + (f" and lose {benefit}" if benefit else "")
    return text + (f"; {change.joining:,} will join." if change.joining else "; no one will join.")


def move_text(shift: Shift, ladder_name: str, benefits: dict[int, str]) -> str:
    """One way customers go when a rung's rule is saved, with what their prices become: "37 customers
    will move up from Silver Tier to Gold Tier (10% off instead of 5% off)"."""
    who = count(shift.customers, "customer")
    before = benefits.get(shift.from_group_id, "") if shift.from_group_id else ""
    after = benefits.get(shift.to_group_id, "") if shift.to_group_id else ""
    if shift.direction == "join":
        return f"{who} will join {shift.to_name}" + (f" ({after})" if after else "") + f": new to {ladder_name}"
    if shift.direction == "leave" and shift.to_group_id is not None:
        # On two rungs at once (overlapping groups): leaving one, they stay on the ladder on `to`.
        return f"{who} will stay on {shift.to_name} only (leaving {shift.from_name})"
    if shift.direction == "leave":
        lose = f" and lose {before}" if before else ""
        return f"{who} will leave {shift.from_name}{lose}: no rung of {ladder_name} takes them"
    text = f"{who} will move {shift.direction} from {shift.from_name} to {shift.to_name}"
    if before == after:
        return text
    if before and after:
        return f"{text} ({after} instead of {before})"
    return f"{text} ({after})" if after else f"{text} and lose {before}"


SHIFT_NAMES = {"up": "Moving up", "down": "Moving down", "join": "Joining", "leave": "Leaving"}


def rung_saved_text(name: str, moves: RungMoves) -> str:
    """ "Saved Gold Tier: +37 up from Silver Tier, +12 new to the ladder." """
    return f"Saved {name}: {moves.words()}." if moves.arriving or moves.leaving else f"Saved {name}: no one moved."


class Wizard:
    """One owner's wizard on one page: the stepper, which steps are drawn, and the actions of its
    buttons (Continue checks its step, a header jump the steps in between, save may ask first)."""

    def __init__(self, form: GroupForm, *, start: str | None, original: GroupDetail | None) -> None:
        self.form = form
        self.original = original
        self.editing = form.group_id is not None
        self.cancel_target = f"/groups/{form.group_id}" if self.editing else "/groups"
        self.save_buttons: list[ui.button] = []
        titles = [step.TITLE for step in _steps(form)]
        self.current = start if start in titles else STEPS[0].TITLE
        self.shown_titles = titles
        self.stepper: ui.stepper | None = None
        # The steps shown, the content of each (a ui.step), and which have been drawn.
        self.shown: list = []
        self.bodies: dict[str, ui.step] = {}
        self.drawn: set[str] = set()
        form.on_type_change = self.type_changed

    async def show(self) -> None:
        # Where a dialog drawn later (on a conflict) lives: a click's own place may be gone by then
        # (the confirmation it came from closes and deletes itself while the save runs).
        self.dialogs = ui.element().classes("hidden")
        ui.add_css(PHONE_STEPPER)
        with ui.card().classes("w-full p-0 group-wizard"):
            await self.steps()

    def _changed_meanwhile(self) -> None:
        """Drawn when it happens (rarely), not with every page: fewer elements for each page load."""
        with self.dialogs, ui.dialog() as dialog, ui.card().classes("max-w-md"):
            dialog_title(dialog, "This group was changed meanwhile")
            ui.label(
                "Someone else saved this group after you opened it. Reload to see their version; "
                "your changes on this page will not be saved."
            ).classes("text-slate-600")
            with ui.row().classes("w-full justify-end"):
                ui.button("Keep editing", on_click=dialog.close).props("flat")
                ui.button("Reload", on_click=lambda: ui.navigate.to(f"/groups/{self.form.group_id}/edit")).mark(
                    "reload"
                )
        dialog.on("hide", dialog.delete)
        dialog.open()

    async def wrong_fields(self, errors: dict[str, str]) -> None:
        # Each step with a problem is drawn first, so its fields are there to show it.
        for title in dict.fromkeys(_step_of(field).TITLE for field in errors):
            await self.draw(title)
        self.form.show_errors(errors)
        self.stepper.value = _step_of(next(iter(errors))).TITLE
        self.current = self.stepper.value
        ui.notify("Please correct the highlighted fields.", type="warning")

    async def save(self) -> None:
        self.form.show_errors({})
        leaving = await _members_leaving(self.form, self.original)
        if leaving is not None:
            assert self.original is not None
            await _confirm_leaving(self.original, leaving, on_confirm=self.really_save)
            return
        await self.really_save()

    async def really_save(self) -> None:
        actor = current_actor()
        # Saving a rule-based group sets its members, which takes a moment on a big shop.
        saved = await run_action(
            lambda: _save_group(self.form, actor),
            errors=self.wrong_fields,
            missing=notify_refused,
            changed=self._changed_meanwhile,
            busy=self.save_buttons,
        )
        if saved:
            await _save_the_rest(self.form, saved.value, actor, original=self.original)

    async def go_on(self, step) -> None:
        """Continue: only once the step's own fields would pass the save's checks."""
        problems = await step_problems(self.form, step)
        if problems:
            self.form.show_errors(problems)
            ui.notify("Please correct the highlighted fields on this step.", type="warning")
            return
        # Set on the server (not Quasar's next()), so the step in view is known here at once.
        titles = [shown.TITLE for shown in _steps(self.form)]
        self.stepper.value = titles[min(titles.index(step.TITLE) + 1, len(titles) - 1)]
        await self.draw(self.stepper.value)
        focus(FIRST_FIELD, FIRST_BUTTON)

    async def moved(self, shown: list, target: str) -> None:
        """A step header clicked (or Continue): going ahead passes the checks of every step in between,
        as Continue does, else the first step with a problem shows it."""
        titles = [step.TITLE for step in shown]
        here = titles.index(self.current) if self.current in titles else 0
        self.current = target
        for step in shown[here : titles.index(target)]:
            if problems := await step_problems(self.form, step):
                await self.draw(step.TITLE)
                self.form.show_errors(problems)
                self.current = self.stepper.value = step.TITLE
                ui.notify(f"Please correct the highlighted fields on “{step.TITLE}” first.", type="warning")
                return
        await self.draw(target)

    async def draw(self, title: str) -> None:
        """A step's content is built when it is first shown: building every step's elements up front
        made the page slow to serve (NiceGUI's cost is per element). What the owner enters lives in
        the form, so a step drawn late starts from it."""
        titles = [step.TITLE for step in self.shown]
        if title in self.drawn or title not in titles:
            return
        self.drawn.add(title)
        index = titles.index(title)
        with self.bodies[title]:
            await self.shown[index].render(self.form, self.save)
            # Only the step in view shows its buttons; Quasar hides the others' content, and
            # this says so on the server too (one "Create group" to click, not one per step).
            with ui.stepper_navigation().classes("w-full").bind_visibility_from(self.stepper, "value", value=title):
                _step_buttons(
                    self.stepper,
                    self.shown,
                    index,
                    editing=self.editing,
                    save=self.save,
                    go_on=self.go_on,
                    save_buttons=self.save_buttons,
                )
                ui.button("Cancel", on_click=lambda: ui.navigate.to(self.cancel_target)).props("flat color=grey-8")

    @ui.refreshable_method
    async def steps(self) -> None:
        shown = self.shown = _steps(self.form)
        self.save_buttons.clear()
        self.drawn, self.bodies = set(), {}
        if wizard_rules in shown:
            wizard_rules.prepare(self.form)  # the rule the Rules step would start from, checked before it is drawn
        with (
            ui.stepper(value=self.current)
            .classes("w-full")
            .props(f"flat header-nav animated {STEP_NAMES_COLOR}") as stepper
        ):
            self.stepper = stepper
            stepper.on_value_change(lambda e: self.moved(shown, e.value))
            stepper.on_value_change(lambda e: [view(e.value) for view in self.form.benefit_views])
            for step in shown:
                self.bodies[step.TITLE] = ui.step(step.TITLE, icon=step.ICON)
        await self.draw(self.current)

    async def type_changed(self) -> None:
        # Switching between manual and rule-based adds or removes the Rules step.
        titles = [s.TITLE for s in _steps(self.form)]
        if titles != self.shown_titles:
            self.shown_titles = titles
            self.form.rule_view = None
            self.form.inputs.clear()
            self.form.benefit_views.clear()
            self.form.autofocus_name = False
            # Asked before the redraw: this handler's radio goes with it, and so does the rest of the
            # handler. Without it a keyboard user is dropped at the top of the page.
            focus(CHOSEN_TYPE)
            await self.steps.refresh()


async def wizard(form: GroupForm, *, start: str | None = None, original: GroupDetail | None = None) -> None:
    await Wizard(form, start=start, original=original).show()


async def _save_group(form: GroupForm, actor: Actor) -> GroupDetail:
    # Benefits are checked first, so a bad value leaves nothing half-written.
    await check_benefits(sections=form.benefit_sections())
    if form.group_id is not None:
        return await update_group(group_id=form.group_id, version=form.version, data=form.data(), actor=actor)
    return await create_group(data=form.data(), actor=actor)


def _saved_text(group: GroupDetail, original: GroupDetail | None, moves: RungMoves | None) -> str:
    """ "Saved Silver Tier: 12 joined, 55 left." when the save changed the rule and it ran (a rung's
    in moves: `moves`, its ladder's last run); an Undo on the group's page then restores the rule in
    force before (its rule section offers it)."""
    if original is None or group.rule_version == original.rule_version or not original.rule_version:
        return f"Saved {group.name}"
    app.storage.user["rule_undo"] = {"group_id": group.id, "number": original.rule_version}
    if group.rule_applied_version < group.rule_version:
        return f"Saved {group.name}. Its members follow the new rule once the group is active."
    if moves is not None:
        return rung_saved_text(group.name, moves)
    return f"Saved {group.name}: {group.rule_joined:,} joined, {group.rule_left:,} left."


async def _save_the_rest(form: GroupForm, group: GroupDetail, actor: Actor, *, original: GroupDetail | None) -> None:
    """The group is saved: save its benefits and add a new group's first members, then show it."""

    def benefits_not_saved(problem: str) -> None:
        go_to_with_message(
            f"/groups/{group.id}", f"Saved {group.name}, but not its benefits: {problem}", type="warning"
        )

    if not await run_action(
        lambda: save_benefits(group_id=group.id, sections=form.benefit_sections(), actor=actor),
        errors=in_words(benefits_not_saved),
        refused=benefits_not_saved,
        missing=benefits_not_saved,
    ):
        return
    if form.group_id is not None:
        text = _saved_text(group, original, await last_rung_moves(group_id=group.id))
        # A changed rule lands on the group page's rule, where its Undo is; any other edit on the
        # overview, where the group's information and benefits show what was saved.
        changed_rule = "rule_undo" in app.storage.user
        go_to_with_message(f"/groups/{group.id}?tab=" + ("rule" if changed_rule else "overview"), text)
        return
    text, kind = f"Created {group.name}.", "positive"
    if form.members is not None and form.members.selection.count:
        # The group exists now; its first members go through the same checks as any addition.
        problems: list[str] = []
        added = await run_action(
            lambda: _add_first_members(form, group, actor),
            errors=in_words(problems.append),
            refused=problems.append,
            missing=problems.append,
        )
        if added:
            text = f"Created {group.name}. {added.value.summary()}"
        else:
            text, kind = f"Created {group.name}, but its customers were not added: {problems[0]}", "warning"
    go_to_with_message(f"/groups/{group.id}", text, type=kind)


async def _add_first_members(form: GroupForm, group: GroupDetail, actor: Actor) -> AddResult:
    assert form.members is not None
    return await add_chosen(
        group_id=group.id, chosen=form.members.selection.chosen(), mode=AddMode(form.add_mode), actor=actor
    )


async def new_group_page() -> None:
    async with frame("New Customer Group", section="groups"):
        page_heading("New Customer Group", "Start with the basics; you can change everything later.")
        await wizard(GroupForm())


async def edit_group_page(group_id: int, step: str = "") -> None:
    async with frame("Edit group", section="groups"):
        try:
            group = await get_group(group_id=group_id)
        except NotFoundError:
            missing_group()
            return
        page_heading(f"Edit {group.name}", f"Code {group.code}")
        # ?step=pricing opens the wizard at that step (the group page's "Edit benefits").
        start = next((s.TITLE for s in STEPS if step and s.TITLE.lower().startswith(step.lower())), None)
        await wizard(GroupForm.from_group(group, await get_benefits(group_id=group.id)), start=start, original=group)


def _names(label: str, samples: Sequence, total: int) -> None:
    """ "Leaving: Ann, Bob and 53 more" under what the confirmation says."""
    if not samples:
        return
    names = ", ".join(s.name for s in samples)
    more = total - len(samples)
    ui.label(f"{label}: {names}" + (f" and {more:,} more" if more > 0 else "")).classes("text-sm text-slate-600")


async def _confirm_leaving(original: GroupDetail, preview: RulePreview, *, on_confirm) -> None:
    """Members would leave: say who and what they lose, in the owner's words, before saving. For a
    rung, every move its ladder would make, each customer once."""
    change = preview.change
    with ui.dialog() as dialog, ui.card().classes("w-[34rem] max-w-full gap-3").mark("confirm-leaving"):
        dialog_title(dialog, f"Save the new rule for {original.name}?")
        if preview.ladder is not None:
            shifts = preview.ladder.run.shifts
            touched = {gid for shift in shifts for gid in (shift.from_group_id, shift.to_group_id) if gid}
            benefits = {gid: await _benefit_words(gid) for gid in touched}
            with ui.column().classes("w-full gap-2").mark("leaving-text"):
                for shift in shifts:
                    with ui.column().classes("gap-0"):
                        ui.label(move_text(shift, preview.ladder.ladder_name, benefits) + ".").classes(
                            "text-base text-slate-800"
                        )
                        _names(SHIFT_NAMES[shift.direction], shift.sample, shift.customers)
            ui.label(
                f"{preview.ladder.ladder_name} is a ladder: a customer sits on one of its rungs only. Each move is "
                "one entry in the history; Undo on the group's page restores this rule."
            ).classes("text-sm text-slate-500")
        else:
            ui.label(leaving_text(original.name, preview, await _benefit_words(original.id))).classes(
                "text-base text-slate-800"
            ).mark("leaving-text")
            _names("Leaving", change.leaving_samples, change.leaving)
            ui.label(
                "Every join and leave is kept in the history; Undo on the group's page restores this rule."
            ).classes("text-sm text-slate-500")
        with ui.row().classes("w-full justify-end"):
            ui.button("Keep editing", on_click=dialog.close).props("flat").mark("keep-editing")

            async def go_ahead() -> None:
                dialog.close()
                await on_confirm()

            ui.button("Save and update members", icon="check", on_click=go_ahead).mark("confirm-save")
    dialog.on("hide", dialog.delete)
    dialog.open()


def _step_buttons(stepper, shown: list, index: int, *, editing: bool, save, go_on, save_buttons: list) -> None:
    """A step's Save (an edit from any step; a new group once only optional steps remain), Continue
    and Back."""
    step = shown[index]
    can_save = editing or all(getattr(later, "OPTIONAL", False) for later in shown[index + 1 :])
    if can_save:
        button = ui.button("Save changes" if editing else "Create group", icon="check", on_click=save).mark(
            "save-group"
        )
        guard(button, Permission.MANAGE_GROUPS)
        save_buttons.append(button)
    if index + 1 < len(shown):
        ui.button("Continue", on_click=lambda: go_on(step)).props("outline" if can_save else "").mark("continue")
    if index:
        ui.button("Back", on_click=stepper.previous).props("flat")
