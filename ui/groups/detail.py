"""One group: its information, its members (paged, searchable), and delete."""

from nicegui import app, ui

from models.group import GroupType
from services.csv_export import export_members_csv
from services.customers import CustomerFilter
from services.errors import NotFoundError
from services.groups.group import GroupDetail, delete_group, get_group, group_choices
from services.membership.members import MemberRow, list_members
from services.rules.words import Wording
from services.shop import get_shop
from services.staff.actor import Permission
from services.wording import GROUP_TYPE_LONG, SOURCE_LABELS, count, long_date, money, month_year
from ui.actions import joined, run_action
from ui.dialog_title import dialog_title
from ui.groups.benefits import benefits_card
from ui.groups.metadata import metadata_card
from ui.groups.promotions import promotions_card
from ui.groups.rule import rule_section, why_dialog
from ui.membership.dialogs import add_button_state, open_add_dialog, open_remove_dialog
from ui.membership.history import history_card
from ui.membership.selection import Selection
from ui.paged_table import PagedTable
from ui.shell import empty_state, frame, go_to_with_message, no_results
from ui.staff.permissions import guard
from ui.staff.session import current_actor
from ui.table_headers import hide_header

MEMBER_COLUMNS = [
    {"name": "name", "label": "Customer", "field": "name", "align": "left"},
    {"name": "since", "label": "Since", "field": "since", "align": "left"},
    {"name": "purchases", "label": "Purchases", "field": "purchases", "align": "right"},
    {"name": "source", "label": "Assignment", "field": "source", "align": "left"},
]
MEMBER_NAME_CELL = r"""
<q-td :props="props">
  <a :href="'/customers/' + props.row.customer_id" class="text-primary no-underline hover:underline">{{ props.row.name }}</a>
  <q-icon v-if="props.row.primary" name="star" color="amber-8" size="xs" class="ml-1" aria-hidden="true"><q-tooltip>Primary group: this customer's main group</q-tooltip></q-icon>
  <span v-if="props.row.primary" class="sr-only">(primary group)</span>
  <div v-if="props.row.company && props.row.company != props.row.name" class="text-xs text-slate-500">{{ props.row.company }}</div>
</q-td>
"""


WHY_CELL = r"""
<q-td :props="props" auto-width>
  <q-btn outline dense no-caps no-wrap icon="help_outline" label="Why?" color="primary" class="px-2"
         :aria-label="'Why is ' + props.row.name + ' in this group?'"
         @click="() => $parent.$emit('why', {customer_id: props.row.customer_id, name: props.row.name})" />
</q-td>
"""

# The page's tabs, in order; ?tab=<name> opens one (a link to a group's members, its rule ...).
TABS = {"overview": "Overview", "members": "Members", "rule": "Rule", "history": "History"}


def missing_group() -> None:
    with ui.card().classes("w-full"):
        empty_state("search_off", "This group does not exist", "It may have been deleted. Pick a group from the list.")
        with ui.row().classes("w-full justify-center pb-8"):
            ui.button("Back to all groups", on_click=lambda: ui.navigate.to("/groups"))


def _member_row(member: MemberRow, *, currency: str) -> dict:
    return {
        "customer_id": member.customer_id,
        "name": member.name,
        "company": member.company,
        "since": month_year(member.since),
        "purchases": money(member.lifetime_cents, currency=currency, cents_shown="never"),
        "source": SOURCE_LABELS[member.source],
        "primary": member.is_primary,
    }


def _info(label: str, value: str, mark: str) -> None:
    with ui.column().classes("gap-0"):
        ui.label(label).classes("text-xs uppercase tracking-wide text-slate-500")
        ui.label(value).classes("text-slate-800").mark(mark)


def _delete_dialog(group: GroupDetail) -> ui.dialog:
    def refused(text: str, kind: str = "negative") -> None:
        dialog.close()
        ui.notify(text, type=kind, multi_line=True)

    async def confirm() -> None:
        deleted = await run_action(
            lambda: delete_group(group_id=group.id, actor=current_actor()),
            errors=lambda errors: refused(joined(errors), "warning"),
            refused=refused,
            missing=lambda text: go_to_with_message("/groups", text, type="warning"),
        )
        if deleted:
            result = deleted.value
            text = f"Deleted {result.name}: {count(result.released, 'member')} released."
            if result.drafted_promotions:
                names = ", ".join(result.drafted_promotions)
                text += f" {names} had no other target group and {'is' if len(result.drafted_promotions) == 1 else 'are'} now a draft."
            go_to_with_message("/groups", text, type="warning" if result.drafted_promotions else "positive")

    with ui.dialog() as dialog, ui.card().classes("max-w-lg"):
        dialog_title(dialog, f"Delete {group.name}?")
        lines = [
            f"{count(group.members, 'customer')} will be removed from this group. "
            "Their other groups, their details and their orders stay.",
        ]
        if group.children:
            lines.append(
                f"Its subgroups ({', '.join(group.children)}) move up to {group.parent_name or 'the top level'}."
            )
        if group.is_default:
            lines.append("This is the default group: after deleting it, the shop has no default group.")
        lines.append("This cannot be undone.")
        for line in lines:
            ui.label(line).classes("text-slate-600")
        with ui.row().classes("w-full justify-end"):
            ui.button("Cancel", on_click=dialog.close).props("flat")
            confirm_button = ui.button("Delete group", icon="delete", on_click=confirm).props("color=negative")
            confirm_button.mark("confirm-delete")
            guard(confirm_button, Permission.MANAGE_GROUPS)
    return dialog


async def group_detail_page(group_id: int, tab: str | None = None) -> None:
    try:
        group = await get_group(group_id=group_id)
    except NotFoundError:
        async with frame("Group not found", section="groups"):
            missing_group()
        return
    async with frame(group.name, section="groups"):
        with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
            ui.link("Customer Groups", "/groups").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.label(group.name)
        with ui.row().classes("w-full items-center justify-between"):
            with ui.row().classes("items-center gap-3"):
                ui.label(group.name).classes("text-2xl font-semibold text-slate-800").props(
                    "role=heading aria-level=1"
                ).mark("group-name")
                ui.badge(group.status.value.capitalize(), color="positive" if group.status == "active" else "grey-6")
            _actions(group)
        _facts(group)

        shop = await get_shop()
        wording = Wording(currency=shop.currency, group_names={c.id: c.name for c in await group_choices()})
        names = [name for name in TABS if name != "rule" or group.uses_rule]
        opened = _opened_tab(group, tab, names)
        _remember_tab(group.id, opened)
        # Narrower tabs on a phone: all four fit its width, without scroll arrows over their names.
        with ui.tabs(value=opened).classes(
            "w-full border-b border-slate-200 text-slate-700 max-md:[&_.q-tab]:px-2"
        ) as tabs:
            tabs.props("align=left no-caps inline-label active-color=primary indicator-color=primary dense")
            tabs.mark("group-tabs")
            for name in names:
                label = f"{TABS[name]} ({group.members:,})" if name == "members" else TABS[name]
                ui.tab(name, label).mark(f"tab-{name}")
        with ui.tab_panels(tabs, value=opened).classes("w-full bg-transparent").props("animated=false"):
            panels = {name: ui.tab_panel(name).classes("p-1").mark(f"panel-{name}") for name in names}
        panels["overview"].classes("gap-4")
        drawn: set[str] = set()

        async def draw(name: str) -> None:
            """A tab's content is built when it is first opened: the page is served with the one in
            view (NiceGUI's cost is per element, and each tab asks the database for its own)."""
            if name in drawn or name not in panels:
                return
            drawn.add(name)
            with panels[name]:
                await _panel(name, group, wording)

        tabs.on_value_change(lambda event: _tab_opened(group.id, event.value))
        tabs.on_value_change(lambda event: draw(event.value))
        await draw(opened)


async def _panel(name: str, group: GroupDetail, wording: Wording) -> None:
    if name == "overview":
        _information_card(group)
        await benefits_card(group)
        await promotions_card(group)
        metadata_card(group)
    elif name == "members":
        await _members_card(group, wording)
    elif name == "rule":
        await rule_section(group, wording)
    else:
        await history_card(group_id=group.id)


def _actions(group: GroupDetail) -> None:
    with ui.row().classes("gap-2"):
        edit = ui.button("Edit Group", icon="edit", on_click=lambda: ui.navigate.to(f"/groups/{group.id}/edit"))
        guard(edit.mark("edit-group"), Permission.MANAGE_GROUPS)
        if group.uses_rule:
            # Beside Edit Group, so the rule is one click away from any tab (the Rule tab has it too).
            rule = ui.button(
                "Edit rule", icon="rule", on_click=lambda: ui.navigate.to(f"/groups/{group.id}/edit?step=rules")
            )
            guard(rule.props("outline").mark("edit-rule-header"), Permission.MANAGE_RULES)
        add = ui.button("Add Customers", icon="person_add", on_click=lambda: open_add_dialog(group))
        add.props("outline").mark("add-customers")
        if guard(add, Permission.MANAGE_MEMBERS) and (why_not := add_button_state(group)):
            add.props("disable")
            with add:
                ui.tooltip(why_not)
        ui.button("View Report", icon="insights", on_click=lambda: ui.navigate.to(f"/groups/{group.id}/report")).props(
            "outline"
        ).mark("view-report")

        def confirm_delete() -> None:
            # Built when asked for: most visits never delete.
            dialog = _delete_dialog(group)
            dialog.on("hide", dialog.delete)
            dialog.open()

        delete = ui.button("Delete", icon="delete", on_click=confirm_delete).props("flat color=negative")
        delete.mark("delete-group")
        guard(delete, Permission.MANAGE_GROUPS)


def _facts(group: GroupDetail) -> None:
    """The group in one line above the tabs, so the members tab needs no scrolling past its card."""
    facts = [
        GROUP_TYPE_LONG[group.type],
        f"{group.members:,} of {group.capacity:,} customers" if group.capacity else count(group.members, "customer"),
        f"in {group.parent_name}" if group.parent_name else "top level",
    ]
    if group.is_default:
        facts.append("the default group")
    ui.label(" · ".join(facts)).classes("text-sm text-slate-600 -mt-2").mark("group-facts")


def _opened_tab(group: GroupDetail, asked: str | None, names: list[str]) -> str:
    """The tab the address asks for; else the rule right after the wizard saved it (its Undo is
    there); else the tab last opened on this group's page (an action reloads the page); else members."""
    if asked in names:
        return asked
    if group.uses_rule and (app.storage.user.get("rule_undo") or {}).get("group_id") == group.id:
        return "rule"
    last = app.storage.user.get("group_tab") or {}
    if last.get("group_id") == group.id and last.get("tab") in names:
        return last["tab"]
    return "members"


def _remember_tab(group_id: int, name: str) -> None:
    """An action that reloads the page (Run rule now, a member added ...) comes back to the tab in
    view, also one opened by its address: the other tabs are only drawn once opened."""
    if app.storage.user.get("group_tab") != (tab := {"group_id": group_id, "tab": name}):
        app.storage.user["group_tab"] = tab


def _tab_opened(group_id: int, name: str) -> None:
    if name not in TABS:
        return
    _remember_tab(group_id, name)
    # The address follows the tab, so it can be copied and shared (`name` is one of TABS' own keys).
    ui.run_javascript(f"history.replaceState(history.state, '', '?tab={name}')")


def _information_card(group: GroupDetail) -> None:
    with ui.card().classes("w-full"):
        ui.label("Group Information").classes("text-base font-medium")
        with ui.grid(columns=4).classes("w-full gap-4 max-md:grid-cols-2!"):  # two a row on a phone
            _info("Name", group.name, "info-name")
            _info("Code", group.code, "info-code")
            _info("Type", GROUP_TYPE_LONG[group.type], "info-type")
            _info("Status", group.status.value.capitalize(), "info-status")
            _info("Parent group", group.parent_name or "None (top level)", "info-parent")
            _info("Created", long_date(group.created_at), "info-created")
            _info(
                "Customers",
                f"{group.members:,} of {group.capacity:,}" if group.capacity else f"{group.members:,}",
                "info-customers",
            )
            _info("Default group", "Yes" if group.is_default else "No", "info-default")
        if group.description:
            ui.label(group.description).classes("text-slate-600 mt-2").mark("info-description")


async def _members_card(group: GroupDetail, wording: Wording) -> None:
    with ui.card().classes("w-full"):
        with ui.row().classes("w-full items-center justify-between"):
            with ui.row().classes("items-baseline gap-3"):
                ui.label("Group Members").classes("text-base font-medium")
                shown = ui.label().classes("text-sm text-slate-500").mark("member-total")
                if group.members:
                    with ui.row().classes("items-center gap-1 text-xs text-slate-600").mark("primary-legend"):
                        ui.icon("star", size="16px", color="amber-8").props('aria-hidden="true"')
                        ui.label("marks members whose primary group this is")
            with ui.row().classes("items-center gap-2"):
                if group.members:
                    search = ui.input(placeholder="Search members").props("outlined dense clearable debounce=250")
                    search.classes("w-64").mark("member-search")
                    with search.add_slot("prepend"):
                        ui.icon("search")
                    ui.button("Export CSV", icon="download", on_click=lambda: _export(group)).props(
                        "outline no-caps"
                    ).mark("export-members")
        if group.members == 0:
            empty_state("person_off", "No customers in this group yet", "Customers you add will be listed here.")
            return
        if group.type == GroupType.AUTOMATIC:
            ui.label(
                "Members follow the group's rule. Adding or removing customers by hand offers to turn it hybrid."
            ).classes("text-sm text-slate-500")
        bar = ui.row().classes("w-full items-center gap-2")
        members = PagedTable(
            columns=MEMBER_COLUMNS,
            fetch=lambda page, per_page, seek: list_members(
                group_id=group.id, search=search.value or "", page=page, per_page=per_page, seek=seek
            ),
            seeks=True,
            to_row=lambda member: _member_row(member, currency=wording.currency),
            row_key="customer_id",
            no_data="No members match this search.",
            # In an automatic group too: "Remove from Group" then explains its rule, offers to turn it
            # hybrid, and goes on with the ticked members.
            selection="multiple",
        )
        members.table.add_slot("body-cell-name", MEMBER_NAME_CELL)
        members.table.mark("members-table")

        def clear_search() -> None:
            search.value = ""

        none = no_results("No members match this search.", on_clear=clear_search, mark="members", clear="Clear search")
        if group.uses_rule:
            members.table.columns = [*MEMBER_COLUMNS, {"name": "why", "label": "", "field": "why"}]
            members.table.add_slot("body-cell-why", WHY_CELL)
            hide_header(members.table, "why", "Why in this group")
            members.table.on("why", lambda e: why_dialog(group, e.args["customer_id"], e.args["name"], wording))
        selection = Selection(
            members,
            noun=("member", "members"),
            marker="members",
            matching=lambda: CustomerFilter(search=search.value or "", group_id=group.id),
            on_change=lambda: remove.set_enabled(may_remove and bool(selection.count)),
        )
        with bar:
            selection.bar()
            remove = ui.button(
                "Remove from Group", icon="person_remove", on_click=lambda: open_remove_dialog(group, selection)
            )
            remove.props("outline no-caps color=negative").classes("ml-auto").mark("remove-members")
            may_remove = guard(remove, Permission.MANAGE_MEMBERS)
            remove.set_enabled(False)

        async def reload() -> None:
            await members.load(page=1)
            shown.text = count(members.total, "match", "matches") if search.value else count(members.total, "member")
            none.set_visibility(members.total == 0)
            members.table.set_visibility(members.total > 0)
            selection.search_changed()

        search.on_value_change(reload)
        await reload()


async def _export(group: GroupDetail) -> None:
    data = await export_members_csv(group_id=group.id)
    ui.download.content(data, f"{group.code.lower()}-members.csv", "text/csv")
