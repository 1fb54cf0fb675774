"""The groups overview: every group at a glance, searchable and filterable."""

from nicegui import ui

from models.group import GroupStatus, GroupType
from services.counted import count_customers
from services.groups.group import GroupOverview, list_groups
from services.staff.actor import Permission
from services.wording import GROUP_TYPE_LABELS, count
from ui.shell import empty_state, frame, no_results, page_heading
from ui.staff.permissions import guard

COLUMNS = [
    {"name": "name", "label": "Group Name", "field": "name", "align": "left", "sortable": True},
    {"name": "code", "label": "Code", "field": "code", "align": "left", "sortable": True},
    {"name": "type", "label": "Type", "field": "type", "align": "left", "sortable": True},
    {"name": "members", "label": "Customers", "field": "members", "align": "right", "sortable": True},
    {"name": "pricing", "label": "Pricing", "field": "pricing", "align": "left"},
    {"name": "visibility", "label": "Visibility", "field": "visibility", "align": "left"},
    {"name": "status", "label": "Status", "field": "status", "align": "left", "sortable": True},
]

# Vue templates interpolate with {{ }}, which escapes text: group names stay text, never markup.
NAME_CELL = r"""
<q-td :props="props">
  <a :href="'/groups/' + props.row.id" class="text-primary font-medium no-underline hover:underline">{{ props.row.name }}</a>
  <q-badge v-if="props.row.is_default" outline color="secondary" class="ml-2">default</q-badge>
  <div v-if="props.row.parent" class="text-xs text-slate-500">in {{ props.row.parent }}</div>
</q-td>
"""
MEMBERS_CELL = r"""<q-td :props="props">{{ props.row.members.toLocaleString('en-US') }}</q-td>"""
STATUS_CELL = r"""
<q-td :props="props">
  <q-badge :color="props.row.status == 'Active' ? 'positive' : 'grey-6'">{{ props.row.status }}</q-badge>
</q-td>
"""


class OverviewFilters:
    def __init__(self) -> None:
        self.search = ""
        self.status: str | None = None
        self.type: str | None = None


async def groups_overview_page() -> None:
    filters = OverviewFilters()
    async with frame("Customer Groups", section="groups"):
        with ui.row().classes("w-full items-end justify-between"):
            page_heading("Customer Groups", "Segment customers for pricing, visibility, marketing and reports.")
            with ui.row().classes("items-center gap-2"):
                ui.button("Hierarchy", icon="account_tree", on_click=lambda: ui.navigate.to("/groups/hierarchy")).props(
                    "flat"
                ).mark("open-hierarchy")
                ui.button("Overlaps", icon="join_inner", on_click=lambda: ui.navigate.to("/groups/overlaps")).props(
                    "flat"
                ).mark("open-overlaps")
                new = ui.button("New Group", icon="add", on_click=lambda: ui.navigate.to("/groups/new")).mark(
                    "new-group"
                )
                guard(new, Permission.MANAGE_GROUPS)

        @ui.refreshable
        async def overview() -> None:
            result = await list_groups(
                search=filters.search,
                status=GroupStatus(filters.status) if filters.status else None,
                type=GroupType(filters.type) if filters.type else None,
            )
            filtered = bool(filters.search or filters.status or filters.type)
            if not result.rows and not filtered:
                with ui.card().classes("w-full"):
                    empty_state(
                        "group_add",
                        "No customer groups yet",
                        "Groups let you give customers their own prices, products and payment terms. "
                        "Create the first one to get started.",
                    )
                    with ui.row().classes("w-full justify-center pb-8"):
                        first = ui.button("Create your first group", on_click=lambda: ui.navigate.to("/groups/new"))
                        guard(first, Permission.MANAGE_GROUPS)
                return
            if not result.rows:
                no_results("No groups match these filters.", on_clear=clear_filters, mark="groups")
                return
            rows = [
                {
                    "id": row.id,
                    "name": row.name,
                    "code": row.code,
                    "type": GROUP_TYPE_LABELS[row.type],
                    "members": row.members,
                    "pricing": row.pricing,
                    "visibility": row.visibility,
                    "status": row.status.value.capitalize(),
                    "is_default": row.is_default,
                    "parent": row.parent_name,
                }
                for row in result.rows
            ]
            table = ui.table(columns=COLUMNS, rows=rows, row_key="id", pagination=0).classes("w-full")
            table.props("flat bordered hide-pagination")
            table.props["no-data-label"] = "No groups match these filters."
            table.add_slot("body-cell-name", NAME_CELL)
            table.add_slot("body-cell-members", MEMBERS_CELL)
            table.add_slot("body-cell-status", STATUS_CELL)
            table.on("rowClick", lambda e: ui.navigate.to(f"/groups/{e.args[1]['id']}"))
            table.classes("cursor-pointer").mark("groups-table")
            with ui.row().classes("gap-6 text-slate-600"):
                ui.label(f"Total Groups: {result.total_groups:,}").mark("total-groups")
                ui.label(f"Total Customers: {result.total_customers:,}").mark("total-customers")
            ui.label(await _totals_explained(result, filtered=filtered)).classes("text-sm text-slate-500").mark(
                "totals-explained"
            )

        with ui.card().classes("w-full"), ui.row().classes("w-full items-center gap-4"):
            search = ui.input(placeholder="Search by name or code").props("clearable outlined dense debounce=250")
            search.classes("w-72").mark("group-search")
            search.props("autofocus")
            with search.add_slot("prepend"):
                ui.icon("search")
            status = (
                ui.select(
                    {None: "All statuses", "active": "Active", "inactive": "Inactive"}, value=None, label="Status"
                )
                .props("outlined dense")
                .classes("w-40")
                .mark("status-filter")
            )
            kind = (
                ui.select(
                    {None: "All types", **{t.value: GROUP_TYPE_LABELS[t] for t in GroupType}}, value=None, label="Type"
                )
                .props("outlined dense")
                .classes("w-40")
                .mark("type-filter")
            )

        def clear_filters() -> None:
            # Each reset fires apply(); the last one shows every group.
            search.value, status.value, kind.value = "", None, None

        async def apply() -> None:
            filters.search = search.value or ""
            filters.status = status.value
            filters.type = kind.value
            await overview.refresh()

        search.on_value_change(apply)
        status.on_value_change(apply)
        kind.on_value_change(apply)
        with ui.card().classes("w-full p-0"), ui.column().classes("w-full p-4 gap-3"):
            await overview()


async def _totals_explained(result: GroupOverview, *, filtered: bool) -> str:
    """Why Total Customers is neither the Customers column's sum nor the shop's customer count: a
    customer may sit in several groups, and some in none."""
    memberships = sum(row.members for row in result.rows)
    text = (
        f"{count(memberships, 'membership')} of {count(result.total_customers, 'customer')}: "
        "a customer may be in several groups and is counted once."
    )
    if not filtered:
        shop = await count_customers()
        outside = shop - result.total_customers
        text += f" The shop has {count(shop, 'customer')}"
        text += f"; {count(outside, 'is', 'are')} in no group." if outside else ", all in a group."
    return text
