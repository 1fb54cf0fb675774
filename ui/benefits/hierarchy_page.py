"""The group hierarchy: the tree of all groups; for the chosen group its line, where it sits
(move it under another group), which benefit sections it inherits, what it overrides, and every
effective setting with where it comes from."""

from nicegui import ui

from services.benefits.hierarchy import (
    INHERITANCE_HINTS,
    INHERITANCE_ORDER,
    SECTION_LABELS,
    EffectiveRow,
    InheritanceView,
    TreeNode,
    group_tree,
    inheritance_view,
    move_group,
    set_inheritance,
    walk,
)
from services.errors import NotFoundError
from services.groups.group import group_choices
from services.staff.actor import Permission
from ui.actions import joined, run_action
from ui.benefits.ladder_panel import ladder_panel
from ui.shell import empty_state, frame, page_heading
from ui.staff.permissions import guard
from ui.staff.session import current_actor

TOP_LEVEL = 0  # the "Move under…" choice for no parent (a select's value cannot be None and labelled)

# Each at least 4.5:1 on white (slate-400 "default" was 2.6:1).
SOURCE_COLOURS = {"here": "text-emerald-700", "inherited": "text-primary", "default": "text-slate-500"}


class HierarchyState:
    def __init__(self, selected: int | None, nodes: dict[int, TreeNode]) -> None:
        self.selected = selected
        self.nodes = nodes  # the tree as last drawn, by group id


async def hierarchy_page(group: int | None = None) -> None:
    tree = await group_tree()
    nodes = {node.id: node for node, _ in walk(tree)}
    state = HierarchyState(group if group in nodes else next(iter(nodes), None), nodes)
    async with frame("Group Hierarchy", section="groups"):
        with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
            ui.link("Customer Groups", "/groups").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.label("Hierarchy")
        with ui.row().classes("w-full items-end justify-between"):
            page_heading(
                "Group Hierarchy",
                "Child groups inherit their parent's benefits and may override single settings; "
                "visibility adds up, and pricing takes the most favourable option.",
            )
            ui.button("Overlaps", icon="join_inner", on_click=lambda: ui.navigate.to("/groups/overlaps")).props(
                "outline"
            )
        if not nodes:
            with ui.card().classes("w-full"):
                empty_state("account_tree", "No customer groups yet", "Create groups first, then arrange them here.")
            return

        async def select(group_id: int) -> None:
            state.selected = group_id
            ui.navigate.history.replace(f"/groups/hierarchy?group={group_id}")
            tree_card.refresh()
            await details.refresh()

        async def changed() -> None:
            tree = await group_tree()
            state.nodes = {node.id: node for node, _ in walk(tree)}
            tree_card.refresh(tree)
            await details.refresh()

        @ui.refreshable
        def tree_card(nodes: list[TreeNode]) -> None:
            with ui.card().classes("w-full gap-0 p-3").mark("hierarchy-tree"):
                ui.label("Customer Group Hierarchy").classes("text-base font-medium px-2 pb-2")
                for node, depth in walk(nodes):
                    _tree_row(node, depth, selected=node.id == state.selected, on_click=select)

        @ui.refreshable
        async def details() -> None:
            if state.selected is None:
                return
            try:
                view = await inheritance_view(group_id=state.selected)
            except NotFoundError:
                empty_state("search_off", "This group no longer exists", "Pick another group from the tree.")
                return
            _rung_line(state.nodes, view.group_id)
            await _inheritance_card(view, on_change=changed)
            await ladder_panel(view.group_id, on_change=changed)
            _effective_card(view)

        with ui.row().classes("w-full gap-4 items-start no-wrap max-md:flex-col max-md:items-stretch"):
            with ui.column().classes("w-80 shrink-0 max-md:w-full"):
                tree_card(tree)
            with ui.column().classes("flex-1 min-w-0 gap-4 max-md:w-full"):
                await details()


def _tree_row(node: TreeNode, depth: int, *, selected: bool, on_click) -> None:
    row = ui.row().classes("w-full items-center gap-1 no-wrap rounded px-2 py-1 cursor-pointer hover:bg-slate-100")
    if selected:
        row.classes("bg-blue-50")
    row.on("click", lambda: on_click(node.id))
    with row.mark(f"tree-{node.id}"):
        ui.element("div").style(f"width: {depth * 18}px").classes("shrink-0")
        icon = "subdirectory_arrow_right" if depth else ("account_tree" if node.children else "group")
        ui.icon(icon, size="18px").classes("text-slate-400 shrink-0")
        name = ui.label(node.name).classes("truncate " + ("font-medium text-primary" if selected else "text-slate-800"))
        if node.status.value != "active":
            name.classes("line-through text-slate-500")
        if node.is_default:
            ui.badge("default", color="secondary").props("outline").classes("shrink-0")
        if node.is_ladder:  # its subgroups below are its rungs, top first
            ui.badge("ladder").props("outline").classes("shrink-0").mark(f"ladder-badge-{node.id}")
        ui.space()
        ui.label(f"{node.members:,}").classes("text-xs text-slate-500 shrink-0").tooltip("Customers in this group")


def _rung_line(nodes: dict[int, TreeNode], group_id: int) -> None:
    """ "Rung 1 of 3 of Tiered Customers" for a rung, its ladder a link to the ladder on this page."""
    node = nodes.get(group_id)
    ladder = nodes.get(node.parent_id) if node is not None and node.parent_id is not None else None
    if node is None or ladder is None or not ladder.is_ladder or node.rung is None:
        return
    with ui.row().classes("w-full items-center gap-1 text-sm text-slate-700").mark("rung-of-ladder"):
        ui.icon("stairs", size="18px").classes("text-primary").props("aria-hidden=true")
        ui.label(f"Rung {node.rung} of {len(ladder.children)} of")
        ui.link(ladder.name, f"/groups/hierarchy?group={ladder.id}").classes("text-primary").mark("rung-ladder-link")


async def _inheritance_card(view: InheritanceView, *, on_change) -> None:
    with ui.card().classes("w-full").mark("inheritance-card"):
        with ui.row().classes("w-full items-center justify-between"):
            ui.label(f"Inheritance Settings: {view.name}").classes("text-lg font-medium").mark("selected-group")
            ui.link("Open group", f"/groups/{view.group_id}").classes("text-sm text-primary")
        ui.label(" › ".join(view.chain)).classes("text-sm text-slate-500 -mt-2").mark("group-chain")

        choices = await group_choices(exclude_id=view.group_id)
        options = {TOP_LEVEL: "None (top level)", **{c.id: c.label for c in choices}}
        move = ui.select(options, value=view.parent_id or TOP_LEVEL, label="Parent group (move under…)")
        move.props("outlined dense options-dense").classes("w-80 max-w-full").mark("move-under")
        guard(move, Permission.MANAGE_GROUPS)

        def not_moved(text: str) -> None:
            move.props["error"] = True
            move.props["error-message"] = text
            move.update()

        async def moved(event) -> None:
            target = event.value or None
            move.props["error"] = False
            move.update()
            if target == view.parent_id:
                return  # back on the current parent: nothing to move
            if not await run_action(
                lambda: move_group(group_id=view.group_id, parent_id=target, actor=current_actor()),
                errors=lambda errors: not_moved(errors.get("parent_id") or joined(errors)),
                refused=not_moved,
            ):
                return
            ui.notify(f"Moved {view.name} under {options[event.value]}." if target else f"{view.name} is top level.")
            await on_change()

        move.on_value_change(moved)

        if view.parent_id is None:
            ui.label(
                "A top-level group has nothing to inherit: its settings are its own or the shop's defaults."
            ).classes("text-sm text-slate-500")
        else:
            ui.label("Inherited Settings").classes("text-sm font-medium text-slate-700 mt-2")
            with ui.column().classes("gap-0"):
                for section in INHERITANCE_ORDER:
                    _inherit_switch(view, section, on_change)

        # A top-level group overrides nothing: what it sets is simply its own.
        ui.label("Overrides" if view.parent_id else "Set here").classes("text-sm font-medium text-slate-700 mt-2")
        if view.overrides:
            with ui.column().classes("gap-1").mark("overrides"):
                for override in view.overrides:
                    with ui.row().classes("items-center gap-2"):
                        ui.icon("edit_note", size="18px").classes("text-amber-700")
                        ui.label(override.text).classes("text-slate-700")
        else:
            ui.label(
                "Nothing set here: every setting comes from "
                + (f"{view.parent_name} or the defaults." if view.parent_name else "the shop's defaults.")
            ).classes("text-sm text-slate-500")


def _inherit_switch(view: InheritanceView, section: str, on_change) -> None:
    async def flipped(event) -> None:
        if not await run_action(
            lambda: set_inheritance(group_id=view.group_id, section=section, inherit=event.value, actor=current_actor())
        ):
            return
        state = "inherits" if event.value else "no longer inherits"
        ui.notify(f"{view.name} {state} {SECTION_LABELS[section].lower()} from {view.parent_name}.")
        await on_change()

    with ui.row().classes("items-center gap-2"):
        switch = ui.switch(
            f"{SECTION_LABELS[section]}: inherit from {view.parent_name}",
            value=view.inherits.get(section, True),
            on_change=flipped,
        ).mark(f"inherit-{section}")
        guard(switch, Permission.MANAGE_BENEFITS)
        ui.label(f"({INHERITANCE_HINTS[section]})").classes("text-xs text-slate-500")


def _effective_card(view: InheritanceView) -> None:
    with ui.card().classes("w-full gap-2").mark("effective-settings"):
        ui.label(f"Effective settings: {view.name}").classes("text-base font-medium")
        ui.label("What members of this group get, and where each setting comes from.").classes(
            "text-sm text-slate-500 -mt-2"
        )
        by_section: dict[str, list[EffectiveRow]] = {}
        for row in view.rows:
            by_section.setdefault(row.section, []).append(row)
        # The label and source columns give way on a phone (390 px) rather than push the page sideways.
        columns = "minmax(min(10rem, 34%), auto) 1fr minmax(min(12rem, 30%), auto)"
        with ui.grid(columns=columns).classes("w-full gap-x-6 gap-y-1"):
            for section, rows in by_section.items():
                ui.label(SECTION_LABELS[section]).classes(
                    "col-span-3 text-xs uppercase tracking-wide text-slate-500 mt-3 border-b border-slate-200 pb-1"
                )
                for row in rows:
                    ui.label(row.label).classes("text-slate-600")
                    with ui.column().classes("gap-0"):
                        ui.label(row.value).classes("text-slate-800").mark(f"value-{section}-{row.setting}")
                        if row.note:
                            ui.label(row.note).classes("text-xs text-slate-500")
                    ui.label(row.source).classes(f"text-sm {_source_colour(row)}").mark(
                        f"source-{section}-{row.setting}"
                    )


def _source_colour(row: EffectiveRow) -> str:
    if row.source == "overridden here":
        return "text-amber-700 font-medium"
    return SOURCE_COLOURS.get(row.origin, "text-slate-500")
