"""Wizard step "Review": the whole group as it will be saved, every benefit with its effective value
and where it comes from ("set here", "inherited from VIP Customers", "overridden here", "default")."""

from functools import partial

from nicegui import ui

from models.group import RULE_TYPES, GroupType
from services.benefits.sections import Benefits, GroupNode, effective, load_groups, parse_section
from services.benefits.summary import catalog_names, describe
from services.groups.group import group_choices
from services.membership.changes import ADD_MODE_LABELS, AddMode
from services.rules.model import RuleError, parse_rule
from services.rules.preview import preview_rule
from services.rules.words import Wording
from services.shop import get_shop
from services.wording import GROUP_TYPE_LONG, count
from ui.actions import run_action
from ui.groups.form import GroupForm
from ui.groups.rule import show_rule

TITLE = "Review"
ICON = "fact_check"
FIELDS = ()
OPTIONAL = True
DRAFT_ID = 0  # a new group has no id yet; no stored group has 0

SOURCE_COLORS = {"here": "primary", "inherited": "teal-7", "default": "grey-6"}


async def render(form: GroupForm, save) -> None:
    @ui.refreshable
    async def body() -> None:
        await _draw(form)

    def shown(step: str) -> None:
        if step == TITLE:
            body.refresh()

    form.benefit_views.append(shown)
    await body()


async def _draw(form: GroupForm) -> None:
    groups = await load_groups()
    names = await catalog_names()
    gid = form.group_id or DRAFT_ID
    problems: dict[str, str] = {}
    own = {}
    for section, raw in form.benefit_sections().items():
        parsed = await run_action(partial(parse_section, section, raw), errors=problems.update)
        own[section] = (
            parsed.value if parsed else getattr(groups[gid].benefits if gid in groups else Benefits(gid), section)
        )
    parent_name = groups[form.parent_id].name if form.parent_id in groups else None
    groups[gid] = GroupNode(gid, form.name.strip() or "This group", form.parent_id, Benefits(gid, **own))
    benefits = effective(gid, groups)

    ui.label("Check the group before saving. Nothing is saved until you do.").classes("text-slate-600")
    with ui.card().classes("w-full").props("flat bordered").mark("review-basic"):
        ui.label("Group").classes("text-base font-medium")
        with ui.grid(columns="max-content 1fr").classes("gap-x-6 gap-y-1"):
            for label, value in (
                ("Name", form.name.strip() or "—"),
                ("Code", (form.code or "").upper() or "—"),
                ("Type", GROUP_TYPE_LONG[GroupType(form.type)]),
                ("Status", form.status.capitalize()),
                ("Parent group", parent_name or "None (top level)"),
            ):
                ui.label(label).classes("text-slate-500")
                ui.label(value)
    if GroupType(form.type) in RULE_TYPES:
        await _rule(form)
    if form.group_id is None and form.type != GroupType.AUTOMATIC.value:
        _first_members(form)
    if problems:
        with ui.card().classes("w-full bg-red-50").props("flat bordered").mark("review-problems"):
            ui.label("Some settings need attention; the other steps show where:").classes("text-negative")
            for key, text in problems.items():
                ui.label(f"{key.split('.')[0].capitalize()}: {text}").classes("text-sm")
    with ui.grid().classes("w-full gap-4 grid-cols-1 lg:grid-cols-2"):
        for section in describe(benefits, names):
            with ui.card().classes("w-full min-w-0").props("flat bordered").mark(f"review-{section.section}"):
                with ui.row().classes("w-full items-center justify-between"):
                    ui.label(section.title).classes("text-base font-medium")
                    if form.parent_id is not None:
                        inherits = form.benefits[section.section].get("inherit", True)
                        ui.label(f"Inherits from {parent_name}" if inherits else "Does not inherit").classes(
                            "text-xs text-slate-500"
                        )
                with ui.grid(columns="minmax(0, 2fr) minmax(0, 3fr) max-content").classes(
                    "w-full gap-x-4 gap-y-1 items-baseline"
                ):
                    for line in section.lines:
                        ui.label(line.label).classes("text-slate-500 text-sm")
                        ui.label(line.value).classes("text-sm")
                        ui.badge(line.source, color=SOURCE_COLORS.get(line.origin, "grey-6")).props("outline").classes(
                            "justify-self-start"
                        )


def _first_members(form: GroupForm) -> None:
    """The customers ticked in the Customers step (not drawn: none), added once the group is saved."""
    selection = form.members.selection if form.members is not None else None
    with ui.card().classes("w-full").props("flat bordered").mark("review-customers"):
        ui.label("First members").classes("text-base font-medium")
        if selection is None or not selection.count:
            ui.label("None chosen: add customers later from the group's page.").classes("text-sm text-slate-600")
            return
        names = selection.names()
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5:,} more" if len(names) > 5 else "")
        chosen = count(selection.count, "customer")
        ui.label(chosen + (f": {shown}" if shown else " (all that match the search)")).classes("text-sm")
        ui.label(f"Added as: {ADD_MODE_LABELS[AddMode(form.add_mode)]}").classes("text-sm text-slate-600")


async def _rule(form: GroupForm) -> None:
    """The rule in words and how many customers it matches today (and, for a saved group, who would
    join and leave; for a rung of a ladder, who would move)."""
    with ui.card().classes("w-full").props("flat bordered").mark("review-rule"):
        ui.label("Membership rule").classes("text-base font-medium")
        try:
            parse_rule(form.rule)
        except RuleError:
            ui.label("The rule is not complete yet: the Rules step shows what is missing.").classes(
                "text-sm text-negative"
            )
            return
        shop = await get_shop()
        names = {c.id: c.name for c in await group_choices(exclude_id=form.group_id)}
        show_rule(form.rule, Wording(currency=shop.currency, group_names=names))
        preview = await preview_rule(rule=form.rule, group_id=form.group_id)
        with ui.row().classes("items-baseline gap-2 mt-1").mark("review-matching"):
            ui.label(f"{preview.matching:,}").classes("text-xl font-semibold text-primary")
            ui.label(
                f"customer{'s' if preview.matching != 1 else ''} will match "
                f"({preview.matching:,} of {preview.total_customers:,}, {preview.share:.1%})"
            ).classes("text-slate-700")
        if preview.ladder is not None:
            moves, rung = preview.ladder.moves, preview.ladder.run.rung(form.group_id)
            members = f" {rung.name} will have {count(rung.members, 'member')}." if rung else ""
            ui.label(
                (f"When you save: {moves.words()}." if moves.arriving or moves.leaving else "No one moves.") + members
            ).classes("text-sm text-slate-600").mark("review-change")
        elif preview.change is not None:
            change = preview.change
            ui.label(
                f"+{change.joining:,} will join, −{change.leaving:,} will leave when you save."
                if change.joining or change.leaving
                else "The members stay as they are."
            ).classes("text-sm text-slate-600").mark("review-change")
        elif form.type == GroupType.HYBRID.value:
            ui.label("They join when you save; customers you add by hand come on top.").classes(
                "text-sm text-slate-600"
            )
        else:
            ui.label("They become the group's members when you save.").classes("text-sm text-slate-600")
