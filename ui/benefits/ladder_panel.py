"""The tier ladder of the group chosen on the hierarchy page: its rungs top first with the members
on each (a chart, and a table saying the same for screen readers and small screens), the moves of
its last run, and the changes (the rungs' order, the hold period, turning it off). A parent group
with two or more subgroups that is not a ladder yet offers to become one.

Every change that moves customers (making the ladder, a new order) first shows its preview: who is
on more than one rung now and where each ends up, and the moves per rung; only then is it made."""

import json
from collections.abc import Awaitable, Callable

from nicegui import ui

from models.group import GroupStatus, GroupType
from services.errors import NotFoundError
from services.rules.ladder_setup import (
    MIN_RUNGS,
    LadderPreview,
    LadderView,
    RungView,
    get_ladder,
    ladder_preview,
    make_ladder,
    reorder_rungs,
    set_hold_days,
    turn_off_ladder,
)
from services.rules.ladders import LadderRun, Overlap, Shift
from services.staff.actor import Permission
from services.wording import count, short_date
from ui.actions import beside, in_words, notify_refused, run_action
from ui.dialog_title import dialog_title
from ui.staff.permissions import guard
from ui.staff.session import current_actor

Changed = Callable[[], Awaitable[None]]

BY_RULE_COLOUR = "#1f4e79"  # the app's primary colour
FROZEN_COLOUR = "#94a3b8"  # a rung no rule runs: its members stay where they are
ROW_HEIGHT = 44  # px per rung in the chart
OVERLAP_SAMPLE = 5  # customers named in the preview of who is on more than one rung; the rest counted
# Making or changing a ladder moves members as a rule run does: the services need both.
CHANGES = (Permission.MANAGE_GROUPS, Permission.MANAGE_RULES)

# Focus the button once the server's update is drawn (it may arrive disabled, then be enabled): after
# a move, a keyboard user stays on the rung they moved, not on the place it left.
FOCUS_WHEN_DRAWN = """
(function focusWhenDrawn(id, framesLeft) {
  const button = document.getElementById(id);
  if (button && !button.disabled) button.focus();
  else if (framesLeft > 0) requestAnimationFrame(() => focusWhenDrawn(id, framesLeft - 1));
})(%s, 30);
"""


async def ladder_panel(group_id: int, *, on_change: Changed) -> None:
    """The chosen group's ladder, or the offer to make one; nothing for a group with fewer than two
    subgroups that is no ladder."""
    try:
        view = await get_ladder(group_id=group_id)
    except NotFoundError:
        return
    if view.is_ladder:
        _ladder_card(view, on_change)
    elif len(view.rungs) >= MIN_RUNGS:
        _offer_card(view, on_change)


def _may_change(element) -> bool:
    """Disable `element` with the missing permission named unless the signed-in person has both."""
    return all(guard(element, permission) for permission in CHANGES)


# --- Words ----------------------------------------------------------------------------------------


def placed_words(rung: RungView) -> str:
    """How customers come to be on the rung, as the rungs' table says it."""
    if rung.status != GroupStatus.ACTIVE:
        return "inactive (members stay)"
    if rung.type == GroupType.MANUAL:
        return "manual (members pinned)"
    if not rung.by_rule:
        return "rule unreadable (members stay)"
    if rung.type == GroupType.HYBRID:
        return "by rule; added by hand: pinned"
    return "by rule"


SHIFT_ORDER = {"up": 0, "down": 1, "join": 2, "leave": 3}


def shift_words(shift: Shift) -> str:
    """ "12 moved up from Silver Tier to Gold Tier", "5 joined the ladder on Bronze Tier", "23 left
    Plus, now on Premium only"."""
    n = f"{shift.customers:,}"
    if shift.direction == "up":
        return f"{n} moved up from {shift.from_name} to {shift.to_name}"
    if shift.direction == "down":
        return f"{n} moved down from {shift.from_name} to {shift.to_name}"
    if shift.direction == "join":
        return f"{n} joined the ladder on {shift.to_name}"
    if shift.to_name:  # on more than one rung: they left this one and stay on the ladder
        return f"{n} left {shift.from_name}, now on {shift.to_name} only"
    return f"{n} left the ladder from {shift.from_name}"


def last_run_words(view: LadderView) -> str:
    """ "Last run Dec 6, 2026: 12 moved up from Silver Tier to Gold Tier, ..." or "No run yet"."""
    if view.last_run_at is None:
        return "No run yet."
    shifts = sorted(view.last_moves, key=lambda s: SHIFT_ORDER[s.direction])
    what = ", ".join(shift_words(s) for s in shifts) if shifts else "no one moved"
    return f"Last run {short_date(view.last_run_at)}: {what}."


def totals_words(run: LadderRun, *, done: bool) -> str:
    """ "12 moved up, 3 moved down" (`done`) or "12 move up, 3 move down" (a preview)."""
    figures = (
        (run.moved_up, "moved up", "move up"),
        (run.moved_down, "moved down", "move down"),
        (run.joined, "joined the ladder", "join the ladder"),
        (run.left, "left the ladder", "leave the ladder"),
    )
    parts = [f"{n:,} {past if done else present}" for n, past, present in figures if n]
    if parts:
        return ", ".join(parts)
    return "no one moved" if done else "no one moves"


def hold_words(hold_days: int | None) -> str:
    if hold_days is None:
        return "No hold period: a customer who falls below their rung moves down at the next run."
    return f"Hold period {count(hold_days, 'day')}: a customer who falls below their rung keeps it that long."


def chart_words(view: LadderView) -> str:
    rungs = ", ".join(f"{r.name} {r.members:,}" for r in view.rungs)
    return f"Members per rung of {view.name}, top first: {rungs}."


def _hold_value(value: float | None) -> int | None:
    """The hold field's number as whole days (None: empty). The field rounds on leaving it; a
    number typed and sent at once is rounded the same way."""
    return None if value is None or value == "" else round(float(value))


# --- A ladder ---------------------------------------------------------------------------------------


def _ladder_card(view: LadderView, on_change: Changed) -> None:
    with ui.card().classes("w-full gap-3").mark("ladder-panel"):
        with ui.column().classes("gap-0"):
            ui.label(f"Tier ladder: {view.name}").classes("text-lg font-medium").props("role=heading aria-level=2")
            ui.label(
                "Each customer sits on one rung at most: the highest whose rule they match. Top rung first."
            ).classes("text-sm text-slate-500")
        with ui.row().classes("w-full gap-4 items-start"):
            _chart(view)
            _rungs_table(view)
        with ui.row().classes("w-full items-start gap-2 no-wrap text-sm text-slate-700").mark("ladder-last-run"):
            ui.icon("history", size="20px").classes("text-slate-500 shrink-0").props("aria-hidden=true")
            ui.label(last_run_words(view))
        with ui.row().classes("w-full items-start gap-2 no-wrap text-sm text-slate-700").mark("ladder-hold"):
            ui.icon("hourglass_empty", size="20px").classes("text-slate-500 shrink-0").props("aria-hidden=true")
            ui.label(hold_words(view.hold_days))
        _hold_form(view, on_change)
        with ui.row().classes("w-full gap-2"):
            reorder = ui.button(
                "Change the order…", icon="swap_vert", on_click=lambda: _order_dialog(view, on_change, making=False)
            )
            reorder.props("outline no-caps").mark("reorder-rungs")
            _may_change(reorder)
            off = ui.button("Turn off the ladder…", icon="link_off", on_click=lambda: _turn_off_dialog(view, on_change))
            off.props("flat no-caps color=negative").mark("turn-off-ladder")
            _may_change(off)


def _chart(view: LadderView) -> None:
    bars = [
        {"value": r.members, "itemStyle": {"color": BY_RULE_COLOUR if r.by_rule else FROZEN_COLOUR}} for r in view.rungs
    ]
    chart = ui.echart(
        {
            "animation": False,
            "grid": {"left": 8, "right": 48, "top": 4, "bottom": 4, "containLabel": True},
            "xAxis": {"type": "value", "show": False, "minInterval": 1},
            "yAxis": {
                "type": "category",
                "inverse": True,  # the top rung on top
                "data": [r.name for r in view.rungs],
                "axisTick": {"show": False},
                "axisLine": {"lineStyle": {"color": "#cbd5e1"}},
                "axisLabel": {"color": "#334155", "fontSize": 13},
            },
            "series": [
                {
                    "type": "bar",
                    "data": bars,
                    "barMaxWidth": 26,
                    "label": {"show": True, "position": "right", "color": "#334155", "fontSize": 13},
                }
            ],
        }
    )
    chart.classes("flex-1 min-w-[16rem]").style(f"height: {ROW_HEIGHT * len(view.rungs) + 8}px")
    # A picture to a screen reader, named by what it shows; the table beside it has the same figures.
    chart.props["role"] = "img"
    chart.props["aria-label"] = chart_words(view)
    chart.mark("ladder-chart")


def _rungs_table(view: LadderView) -> None:
    cell = "py-1 pr-2 text-left align-top"
    with ui.element("table").classes("flex-1 min-w-[16rem] text-sm").mark("ladder-rungs"):
        with ui.element("caption").classes("sr-only"):
            ui.label(f"Rungs of {view.name}, top first")
        with ui.element("thead"), ui.element("tr").classes("border-b border-slate-200 text-slate-600"):
            for text, align in (("Rung", "text-left"), ("Members", "text-right"), ("Placed", "text-left")):
                with ui.element("th").props("scope=col").classes(f"py-1 pr-2 font-medium {align}"):
                    ui.label(text)
        with ui.element("tbody"):
            for rung in view.rungs:
                with ui.element("tr").classes("border-b border-slate-100").mark(f"rung-{rung.group_id}"):
                    with ui.element("td").classes(cell), ui.row().classes("items-baseline gap-2 no-wrap"):
                        ui.label(f"{rung.position}").classes("text-slate-500 tabular-nums")
                        ui.link(rung.name, f"/groups/{rung.group_id}").classes("text-primary")
                    with ui.element("td").classes("py-1 pr-2 text-right align-top tabular-nums"):
                        ui.label(f"{rung.members:,}")
                    with ui.element("td").classes(cell + " text-slate-600"):
                        ui.label(placed_words(rung))


def _hold_form(view: LadderView, on_change: Changed) -> None:
    with ui.row().classes("w-full items-start gap-2"):
        field = ui.number("Hold period in days", value=view.hold_days, precision=0)
        field.props('outlined dense hint="Empty: no hold"').classes("w-56").mark("hold-days")
        save = ui.button("Save hold period", icon="save").props("outline no-caps").classes("mt-1").mark("save-hold")
        allowed = _may_change(save)
        if not allowed:
            field.disable()

    async def saved() -> None:
        field.error = None
        hold = _hold_value(field.value)
        done = await run_action(
            lambda: set_hold_days(ladder_id=view.group_id, hold_days=hold, actor=current_actor()),
            errors=beside({"hold_days": field}, rest=lambda text: text and notify_refused(text)),
            missing=notify_refused,
            busy=[save],
        )
        if not done:
            return
        held = "no hold period" if hold is None else f"a hold period of {count(hold, 'day')}"
        ui.notify(f"{view.name} has {held} now; {totals_words(done.value, done=True)}.", type="positive")
        await on_change()

    save.on_click(saved)


def _turn_off_dialog(view: LadderView, on_change: Changed) -> None:
    async def turn_off() -> None:
        done = await run_action(
            lambda: turn_off_ladder(ladder_id=view.group_id, actor=current_actor()),
            errors=in_words(notify_refused),
            missing=notify_refused,
            busy=[confirm],
        )
        if not done:
            return
        dialog.close()
        members = sum(r.members for r in done.value.rungs)
        ui.notify(
            f"{view.name} is no longer a ladder; its {count(members, 'member')} stay where they are.", type="positive"
        )
        await on_change()

    with ui.dialog() as dialog, ui.card().classes("w-[32rem] max-w-full"):
        dialog_title(dialog, f"Turn off the ladder {view.name}?")
        rungs = ", ".join(f"{r.name}: {r.members:,}" for r in view.rungs)
        ui.label(f"Every member stays where they are ({rungs}).").classes("text-slate-700")
        ui.label(
            "From then on each group follows its own rule, so a customer may be in more than one of them again. "
            "The rungs keep their order, should you make it a ladder again."
        ).classes("text-sm text-slate-600")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
            confirm = ui.button("Turn off the ladder", icon="link_off", on_click=turn_off)
            confirm.props("no-caps color=negative").mark("confirm-turn-off")
            _may_change(confirm)
    dialog.on("hide", dialog.delete)  # a new dialog each time: closed ones would stay in the page's memory
    dialog.open()


# --- Not a ladder yet -------------------------------------------------------------------------------


def _offer_card(view: LadderView, on_change: Changed) -> None:
    with ui.card().classes("w-full gap-2").mark("ladder-panel"):
        ui.label("Tier ladder").classes("text-lg font-medium").props("role=heading aria-level=2")
        names = ", ".join(r.name for r in view.rungs)
        ui.label(
            f"Make {view.name} a ladder of its {len(view.rungs)} subgroups ({names}): each customer then sits on "
            "one of them at most, the highest whose rule they match, and moves up or down by rule. "
            "You see who would move before anything changes."
        ).classes("text-sm text-slate-600")
        make = ui.button("Make a ladder…", icon="stairs", on_click=lambda: _order_dialog(view, on_change, making=True))
        make.props("outline no-caps").mark("make-ladder")
        _may_change(make)


# --- The rungs' order, with its preview ------------------------------------------------------------


class _Slot:
    """One place on the ladder in the dialog (1 is the top); the rung on it changes as they move."""

    def __init__(self, position: int, total: int, move: Callable[[int, int], Awaitable[None]]) -> None:
        self.position = position
        with ui.row().classes("w-full items-center gap-2 no-wrap border-b border-slate-100 py-1"):
            ui.label(f"{position}").classes("w-6 text-slate-500 tabular-nums")
            with ui.column().classes("gap-0 flex-1 min-w-0"):
                self.name = ui.label().classes("font-medium text-slate-800 truncate")
                self.detail = ui.label().classes("text-xs text-slate-500")
            self.up = ui.button(icon="arrow_upward", on_click=lambda: move(self.position, -1))
            self.up.props("flat round dense color=primary")
            self.down = ui.button(icon="arrow_downward", on_click=lambda: move(self.position, 1))
            self.down.props("flat round dense color=primary")
        if position == 1:
            self.up.disable()
        if position == total:
            self.down.disable()

    def show(self, rung: RungView) -> None:
        self.name.text = rung.name
        self.detail.text = f"{count(rung.members, 'member')} · {placed_words(rung)}"
        for button, way in ((self.up, "up"), (self.down, "down")):
            button.props["aria-label"] = f"Move {rung.name} {way}"
            button.mark(f"rung-{way}-{rung.group_id}")
            button.update()


class _OrderDialog:
    """Make the group a ladder (with an optional hold period), or put a ladder's rungs in a new order:
    up and down per rung, and the preview of what it would do, worked out again after every change."""

    def __init__(self, view: LadderView, on_change: Changed, *, making: bool) -> None:
        self.view = view
        self.on_change = on_change
        self.making = making
        self.rungs = {r.group_id: r for r in view.rungs}
        self.order = [r.group_id for r in view.rungs]
        self.saved_order = list(self.order)
        self.asked = 0  # previews asked for; an answer to an older one is dropped
        self.preview: LadderPreview | None = None
        self.hold: ui.number | None = None

    def open(self) -> None:
        title = f"Make {self.view.name} a ladder" if self.making else f"Reorder the rungs of {self.view.name}"
        with ui.dialog() as self.dialog, ui.card().classes("w-[36rem] max-w-full gap-3").mark("ladder-dialog"):
            dialog_title(self.dialog, title)
            ui.label(
                "Put the highest tier on top: each customer sits on the highest rung whose rule they match."
            ).classes("text-sm text-slate-600")
            heading = ui.label("Rungs, top first").classes("text-sm font-medium text-slate-700")
            with ui.column().classes("w-full gap-0").props(f"role=group aria-labelledby={heading.html_id}"):
                self.slots = [_Slot(i, len(self.order), self.move) for i in range(1, len(self.order) + 1)]
            # Says where a moved rung went, for those who cannot see the list change.
            self.announced = ui.label().classes("sr-only").props("aria-live=polite")
            self.order_problem = ui.label().classes("text-sm text-red-800").props("role=alert").mark("ladder-problem")
            self.order_problem.set_visibility(False)
            if self.making:
                self.hold = ui.number("Hold period in days (optional)", value=self.view.hold_days, precision=0)
                self.hold.props('outlined dense debounce=400 hint="Empty: a customer below their rung moves at once"')
                self.hold.classes("w-72 max-w-full").mark("hold-days")
                self.hold.on_value_change(self.update_preview)
            ui.separator()
            ui.label("Before you confirm").classes("text-sm font-medium text-slate-700")
            self.previewed = ui.column().classes("w-full gap-2").mark("ladder-preview")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat no-caps")
                label = "Make the ladder" if self.making else "Save the new order"
                self.confirm = ui.button(label, icon="check", on_click=self.confirmed).props("no-caps")
                self.confirm.mark("confirm-ladder")
                self.allowed = _may_change(self.confirm)
                self.confirm.disable()  # until the preview of this order is shown
        self.show_order()
        self.dialog.on("hide", self.dialog.delete)  # a new dialog each time
        self.dialog.open()

    def show_order(self) -> None:
        for slot, group_id in zip(self.slots, self.order, strict=True):
            slot.show(self.rungs[group_id])

    async def move(self, position: int, step: int) -> None:
        index, target = position - 1, position - 1 + step
        if not 0 <= target < len(self.order):
            return
        self.order[index], self.order[target] = self.order[target], self.order[index]
        self.show_order()
        moved = self.rungs[self.order[target]]
        self.announced.text = f"{moved.name} is rung {target + 1} of {len(self.order)} now."
        slot = self.slots[target]
        # The same way again if it can go on, else the other way: a disabled button takes no focus.
        keep = slot.up if step < 0 else slot.down
        other = slot.down if step < 0 else slot.up
        button = keep if (target > 0 if step < 0 else target < len(self.order) - 1) else other
        ui.run_javascript(FOCUS_WHEN_DRAWN % json.dumps(button.html_id))
        await self.update_preview()

    def hold_days(self) -> int | None:
        return _hold_value(self.hold.value) if self.hold is not None else self.view.hold_days

    async def update_preview(self) -> None:
        self.asked += 1
        asked = self.asked
        self.confirm.disable()
        self.previewed.clear()
        if not self.making and self.order == self.saved_order:
            self.show_problems({})
            with self.previewed:
                ui.label("Move a rung up or down to see who the new order would move.").classes(
                    "text-sm text-slate-600"
                )
            return
        with self.previewed:
            with ui.row().classes("items-center gap-2 text-sm text-slate-600"):
                ui.spinner(size="sm")
                ui.label("Working out who would move…")
        found = await run_action(
            lambda: ladder_preview(
                parent_id=self.view.group_id,
                rung_order=list(self.order),
                hold_days=self.hold_days(),
                actor=current_actor(),
            ),
            refused=notify_refused,
            missing=notify_refused,
        )
        if asked != self.asked:
            return  # a newer change is being previewed
        self.previewed.clear()
        if not found:
            return
        self.preview = found.value
        self.show_problems(self.preview.problems)
        if self.preview.run is None:
            return
        with self.previewed:
            self.show_run(self.preview.run)
        if self.allowed:
            self.confirm.enable()

    def show_problems(self, problems: dict[str, str]) -> None:
        if self.hold is not None:
            self.hold.error = problems.get("hold_days")
        text = " ".join(text for name, text in problems.items() if name != "hold_days" or self.hold is None)
        self.order_problem.text = text
        self.order_problem.set_visibility(bool(text))

    def show_run(self, run: LadderRun) -> None:
        if run.overlap is not None and (self.making or run.overlap.customers):
            _overlap(run.overlap)
        with ui.column().classes("w-full gap-1").mark("ladder-moves"):
            ui.label(f"In all: {totals_words(run, done=False)}.").classes("text-slate-800")
            for outcome in run.rungs if run.changed else ():
                before = self.rungs[outcome.group_id].members
                with (
                    ui.column().classes("w-full gap-0 border-b border-slate-100 py-1").mark(f"moves-{outcome.group_id}")
                ):
                    with ui.row().classes("w-full items-baseline gap-2"):
                        ui.label(f"{outcome.position}. {outcome.name}").classes("font-medium text-slate-800")
                        if before == outcome.members:
                            members = count(before, "member")
                        else:
                            members = f"{before:,} → {count(outcome.members, 'member')}"
                        ui.label(members).classes("text-sm text-slate-600 tabular-nums")
                    moves = run.moves_of(outcome.group_id)
                    if moves.arriving or moves.leaving:
                        ui.label(moves.words()).classes("text-sm text-slate-600")

    async def change(self) -> LadderRun:
        order = list(self.order)
        if self.making:
            return await make_ladder(
                parent_id=self.view.group_id, rung_order=order, hold_days=self.hold_days(), actor=current_actor()
            )
        return await reorder_rungs(ladder_id=self.view.group_id, rung_order=order, actor=current_actor())

    async def confirmed(self) -> None:
        done = await run_action(self.change, errors=self.show_problems, missing=notify_refused, busy=[self.confirm])
        if not done:
            return
        run = done.value
        self.dialog.close()
        if self.making:
            text = (
                f"{self.view.name} is a ladder of {len(self.order)} rungs now: {totals_words(run, done=True)}; "
                "nobody is on more than one rung."
            )
        else:
            names = ", ".join(self.rungs[gid].name for gid in self.order)
            text = f"New order of {self.view.name}: {names}. {totals_words(run, done=True).capitalize()}."
        ui.notify(text, type="positive")
        await self.on_change()


def _overlap(overlap: Overlap) -> None:
    with ui.column().classes("w-full gap-1 rounded bg-amber-50 px-3 py-2").mark("ladder-overlap"):
        ui.label(overlap.words()).classes("text-slate-800")
        sample = overlap.sample[:OVERLAP_SAMPLE]
        if sample:
            with ui.element("ul").classes("pl-5 text-sm text-slate-700").style("list-style: disc"):
                for customer in sample:
                    ends = f"keeps {customer.ends_on}" if customer.ends_on else "leaves the ladder"
                    with ui.element("li"):
                        ui.label(f"{customer.name}: on {', '.join(customer.rungs)}; {ends}")
        more = overlap.customers - len(sample)
        if more > 0:
            ui.label(f"and {more:,} more").classes("text-sm text-slate-600")


async def _order_dialog(view: LadderView, on_change: Changed, *, making: bool) -> None:
    dialog = _OrderDialog(view, on_change, making=making)
    dialog.open()
    await dialog.update_preview()
