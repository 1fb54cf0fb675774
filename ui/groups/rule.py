"""The rule section of a group's page: the rule in words, when it last ran and what changed,
"Run rule now", who a hybrid group keeps out by hand, and the rule's history with restore (which
previews its effect first)."""

from collections.abc import Sequence

from nicegui import app, ui

from models.group import GroupType
from services.groups.group import GroupDetail
from services.groups.rule_versions import list_rule_versions, restore_rule_version
from services.membership.changes import ExclusionRow, lift_exclusions, list_exclusions
from services.rules.ladders import CustomerRef, RungMoves, Shift
from services.rules.model import RuleError, parse_rule
from services.rules.preview import explain_member, last_rung_moves, preview_rule, preview_rung_rule
from services.rules.runs import apply_rule, last_run_changes
from services.rules.words import Wording, rule_lines
from services.staff.actor import Permission
from services.wording import count, long_date
from ui.actions import in_words, notify_refused, run_action
from ui.dialog_title import dialog_title
from ui.rules.explanation import show_check
from ui.shell import go_to_with_message
from ui.staff.permissions import guard
from ui.staff.session import current_actor


def _when(moment) -> str:
    return f"{long_date(moment)} at {moment:%H:%M} UTC" if moment else "never"


def show_rule(rule: dict, wording: Wording) -> None:
    with ui.column().classes("gap-1").mark("rule-text"):
        for depth, text in rule_lines(parse_rule(rule), wording):
            ui.label(text).classes("text-slate-800" if depth else "text-slate-600 text-sm").style(
                f"padding-left: {depth * 1.25}rem"
            )


async def rule_section(group: GroupDetail, wording: Wording) -> None:
    async def run_now() -> None:
        ran = await run_action(
            lambda: apply_rule(group_id=group.id, actor=current_actor()),
            missing=lambda text: go_to_with_message("/groups", text, type="warning"),
            busy=[button],
        )
        if not ran:
            return
        run = ran.value
        text = f"Rule ran: {run.joined:,} joined, {run.left:,} left. {count(run.members, 'member')}."
        if run.ladder is not None:  # a rung: its whole ladder ran, and moved each customer once
            moves = run.ladder.moves_of(group.id)
            text = f"Ran {group.name}'s rule: {_moves_words(moves)}. {count(run.members, 'member')}."
        if run.turned_away:
            capacity = run.capacity or group.capacity or run.members  # a rung's run carries no capacity
            text += (
                f" {count(run.turned_away, 'new match', 'new matches')} not added: the group is full "
                f"({run.members:,} of {capacity:,})."
            )
        go_to_with_message(f"/groups/{group.id}", text, type="warning" if run.turned_away else "positive")

    with ui.card().classes("w-full gap-2").mark("rule-section"):
        with ui.row().classes("w-full items-center justify-between"):
            with ui.row().classes("items-center gap-2"):
                ui.label("Membership Rule").classes("text-base font-medium")
                if group.rule_version:
                    ui.badge(f"Version {group.rule_version}", color="grey-7").props("outline")
            with ui.row().classes("gap-2"):
                button = ui.button("Run rule now", icon="play_arrow", on_click=run_now).props("outline no-caps")
                button.mark("run-rule")
                guard(button, Permission.MANAGE_RULES)
                edit = ui.button(
                    "Edit rule", icon="edit", on_click=lambda: ui.navigate.to(f"/groups/{group.id}/edit?step=rules")
                ).props("flat no-caps")
                edit.mark("edit-rule")
                guard(edit, Permission.MANAGE_RULES)
        if not group.rule:
            ui.label("This group has no rule yet. Edit the group to add one.").classes("text-slate-500")
            return
        moves = await last_rung_moves(group_id=group.id)  # a rung: its ladder's last run, in moves
        _undo_banner(group, moves)
        show_rule(group.rule, wording)
        with ui.row().classes("items-center gap-2 text-sm text-slate-600").mark("rule-last-run"):
            if group.rule_applied_version < group.rule_version:
                ui.icon("schedule").classes("text-warning")
                ui.label("Members are being updated to this version of the rule.")
            else:
                ui.icon("history")
                ui.label(
                    f"Last ran {_when(group.rule_ran_at)}: {_changed_words(group, moves)}."
                    if group.rule_ran_at
                    else "Members were set with the group; the rule has not run since."
                )
            if group.status.value != "active":
                ui.label("Inactive groups keep their members; the rule runs again once the group is active.")
        if moves is not None:
            _moved_names(moves)
        else:
            changes = await last_run_changes(group_id=group.id)
            _names("joined", "Joined", changes.joined, group.rule_joined)
            _names("left", "Left", changes.left, group.rule_left)
        if group.type == GroupType.HYBRID:
            await _exclusions(group)
        await _history(group, wording)


def _names(mark: str, label: str, people: Sequence[CustomerRef], more: int) -> None:
    """ "Joined: Ann · Bob and 12 more", each name a link to the customer."""
    if not people:
        return
    with ui.row().classes("gap-1 items-center text-sm text-slate-600 pl-6").mark(f"last-run-{mark}"):
        ui.label(f"{label}:")
        for i, person in enumerate(people):
            ui.link(person.name, f"/customers/{person.id}").classes("text-primary")
            if i + 1 < len(people):
                ui.label("·")
        if more > len(people):
            ui.label(f"and {more - len(people):,} more")


def _move_title(shift: Shift, group_id: int) -> str:
    """A move of the last run as seen from this rung: "Moved up from Silver Tier", "Moved down to
    Silver Tier", "New to the ladder", "Off the ladder"."""
    if shift.direction == "join":
        return "New to the ladder"
    if shift.direction == "leave":
        return "Off the ladder" if shift.to_group_id is None else f"On {shift.to_name} only"
    if shift.to_group_id == group_id:
        return f"Moved {shift.direction} from {shift.from_name}"
    return f"Moved {shift.direction} to {shift.to_name}"


def _moved_names(moves: RungMoves) -> None:
    """The last run's customers on a rung, a list per move (a move is no leave plus a join)."""
    shifts = (*moves.up_from, *moves.down_from, moves.new, *moves.up_to, *moves.down_to, moves.off, *moves.only_on)
    for shift in shifts:
        if shift is None:
            continue
        # Marks by way: "last-run-up-from", "last-run-down-to", "last-run-join", "last-run-leave" (off
        # the ladder), "last-run-only-on" (on another rung they were on too).
        if shift.direction == "join":
            mark = "join"
        elif shift.direction == "leave":
            mark = "leave" if shift.to_group_id is None else "only-on"
        else:
            mark = f"{shift.direction}-{'from' if shift.to_group_id == moves.group_id else 'to'}"
        _names(mark, _move_title(shift, moves.group_id), shift.sample, shift.customers)


def _moves_words(moves: RungMoves) -> str:
    return moves.words() if moves.arriving or moves.leaving else "no one moved"


def _changed_words(group: GroupDetail, moves: RungMoves | None) -> str:
    """What the last run did: who joined and left; on a rung (`moves`), who moved along its ladder."""
    if moves is None:
        return f"{group.rule_joined:,} joined, {group.rule_left:,} left"
    return _moves_words(moves)


def _undo_banner(group: GroupDetail, moves: RungMoves | None) -> None:
    """Right after the wizard saved a new rule: who joined and left, and Undo (the rule in force
    before comes back as a new version, and the members follow it)."""
    undo = app.storage.user.get("rule_undo")
    if not undo or undo.get("group_id") != group.id:
        return
    del app.storage.user["rule_undo"]
    number = undo["number"]

    async def restore() -> None:
        # A rung: the moves restoring makes, previewed first, for the message that says them.
        going = await _rung_moves_of_version(group.id, number) if moves is not None else None
        restored = await run_action(
            lambda: restore_rule_version(
                group_id=group.id, number=number, version=group.version, actor=current_actor()
            ),
            errors=in_words(notify_refused),
            missing=notify_refused,
            changed=lambda: ui.notify("This group was changed meanwhile; reload the page to undo from its history."),
            busy=[button],
        )
        if not restored:
            return
        back = restored.value
        changed = _moves_words(going) if going else f"{back.rule_joined:,} joined, {back.rule_left:,} left"
        go_to_with_message(f"/groups/{group.id}", f"Undone: {group.name} has its previous rule again: {changed}.")

    with ui.row().classes("w-full items-center gap-3 rounded bg-blue-50 px-3 py-2 no-wrap").mark("rule-undo"):
        ui.icon("published_with_changes", size="sm").classes("text-primary")
        ui.label(
            f"New rule saved: {_changed_words(group, moves)}."
            if group.rule_applied_version >= group.rule_version
            else "New rule saved."
        ).classes("text-sm text-slate-800")
        ui.space()
        button = ui.button("Undo", icon="undo", on_click=restore).props("outline no-caps")
        button.tooltip(f"Restore rule version {number}")
        button.mark("undo-rule")
        guard(button, Permission.MANAGE_RULES)


async def _rung_moves_of_version(group_id: int, number: int) -> RungMoves | None:
    """What restoring rule version `number` of rung `group_id` would move; None if it cannot tell."""
    rule = next((v.rule for v in await list_rule_versions(group_id=group_id) if v.number == number), None)
    try:
        rung = await preview_rung_rule(group_id=group_id, rule=rule) if rule else None
    except RuleError:  # the restore says what is wrong with it
        return None
    return rung.moves if rung else None


async def _exclusions(group: GroupDetail) -> None:
    """Who the owner took out of a hybrid group although the rule may match them, with an undo."""
    rows, total = await list_exclusions(group_id=group.id)
    if not total:
        return

    async def lift(row: ExclusionRow) -> None:
        lifted = await run_action(
            lambda: lift_exclusions(group_id=group.id, customer_ids=[row.customer_id], actor=current_actor())
        )
        if not lifted:
            return
        rejoined = lifted.value
        text = "and the rule added them back" if rejoined else "the rule does not match them now"
        go_to_with_message(f"/groups/{group.id}", f"{row.name} is no longer kept out; {text}.")

    with (
        ui.expansion(f"Kept out by hand ({count(total, 'customer')})", icon="block")
        .classes("w-full")
        .mark("exclusions")
    ):
        ui.label("The rule may match these customers, but they stay out of the group until you let the rule decide.")
        for row in rows:
            with ui.row().classes("w-full items-center gap-3 border-b border-slate-100 py-1 text-sm"):
                ui.link(row.name, f"/customers/{row.customer_id}").classes("text-primary font-medium")
                ui.label(f"{row.actor} · {_when(row.at)}").classes("text-slate-600")
                if row.reason:
                    ui.label(row.reason).classes("text-slate-500 italic")
                ui.space()
                lift_button = ui.button("Let the rule decide", on_click=lambda r=row: lift(r))
                lift_button.props("flat dense no-caps").mark(f"lift-{row.customer_id}")
                guard(lift_button, Permission.MANAGE_MEMBERS)
        if total > len(rows):
            ui.label(f"and {total - len(rows):,} more").classes("text-sm text-slate-500")


async def _history(group: GroupDetail, wording: Wording) -> None:
    versions = await list_rule_versions(group_id=group.id)
    if not versions:
        return
    with (
        ui.expansion(f"Rule history ({count(len(versions), 'version')})", icon="history")
        .classes("w-full")
        .mark("rule-history")
    ):
        for version in versions:
            with ui.row().classes("w-full items-center gap-3 border-b border-slate-100 py-1 text-sm"):
                ui.label(f"Version {version.number}").classes("font-medium w-24")
                ui.label(f"{version.author} · {_when(version.at)}").classes("text-slate-600")
                if version.note:
                    ui.label(version.note).classes("text-slate-500 italic")
                ui.space()
                if version.is_current:
                    ui.badge("Current", color="positive").props("outline")
                else:
                    restore = ui.button("Restore…", on_click=lambda v=version: _restore_dialog(group, v, wording))
                    restore.props("flat dense no-caps").mark(f"restore-{version.number}")
                    guard(restore, Permission.MANAGE_RULES)


async def _restore_dialog(group: GroupDetail, version, wording: Wording) -> None:
    preview = await preview_rule(rule=version.rule, group_id=group.id)

    async def restore() -> None:
        if not await run_action(
            lambda: restore_rule_version(
                group_id=group.id, number=version.number, version=group.version, actor=current_actor()
            ),
            errors=in_words(notify_refused),
            missing=notify_refused,
            changed=lambda: ui.notify(
                "This group was changed meanwhile; reload the page and try again.", type="warning"
            ),
        ):
            return
        go_to_with_message(f"/groups/{group.id}", f"Restored rule version {version.number}.")

    with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full"):
        dialog_title(dialog, f"Restore rule version {version.number}?")
        show_rule(version.rule, wording)
        change = preview.change
        with ui.row().classes("gap-4").mark("restore-diff"):
            ui.label(f"{preview.matching:,} customers match").classes("text-slate-700")
            if preview.ladder is not None:  # a rung: its ladder moves customers, each once
                ui.label(preview.ladder.words()).classes("font-medium text-slate-900")
            elif change:
                ui.label(f"+{change.joining:,} would join").classes("text-positive font-medium")
                ui.label(f"−{change.leaving:,} would leave").classes("text-negative font-medium")
        ui.label("It is saved as a new version; the current one stays in the history.").classes(
            "text-sm text-slate-500"
        )
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            confirm = ui.button(f"Restore version {version.number}", icon="restore", on_click=restore)
            confirm.mark("confirm-restore")
            guard(confirm, Permission.MANAGE_RULES)
    dialog.on("hide", dialog.delete)  # a new dialog each time: closed ones would stay in the page's memory
    dialog.open()


async def why_dialog(group: GroupDetail, customer_id: int, name: str, wording: Wording) -> None:
    check = await explain_member(group_id=group.id, customer_id=customer_id)
    with ui.dialog() as dialog, ui.card().classes("w-[36rem] max-w-full"):
        dialog_title(dialog, f"Why {name} is in {group.name}")
        if check is None:
            ui.label("This group has no rule.").classes("text-slate-600")
        else:
            if not check.passed:
                ui.label("The rule does not match this customer: they are a member because they were added by hand.")
            show_check(check, wording)
        with ui.row().classes("w-full justify-end"):
            ui.button("Close", on_click=dialog.close).props("flat")
    dialog.on("hide", dialog.delete)  # a new dialog each time: closed ones would stay in the page's memory
    dialog.open()
