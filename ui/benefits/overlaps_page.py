"""Where groups overlap: a matrix of the customers each pair of groups shares, and the customers
whose groups give them conflicting benefits, with what each of them actually gets."""

from nicegui import ui

from services.benefits.overlaps import ConflictRow, OverlapMatrix, conflicts, overlap_matrix
from services.wording import count
from ui.paged_table import PagedTable
from ui.shell import empty_state, frame, page_heading

CONFLICT_COLUMNS = [
    {"name": "name", "label": "Customer", "field": "name", "align": "left"},
    {"name": "groups", "label": "Groups", "field": "groups", "align": "left"},
    {"name": "conflicts", "label": "What conflicts", "field": "conflicts", "align": "left"},
    {"name": "gets", "label": "What the customer gets", "field": "conflicts", "align": "left"},
]
# Vue templates interpolate with {{ }}, which escapes text: names stay text, never markup.
NAME_CELL = r"""
<q-td :props="props" class="align-top">
  <a :href="'/customers/' + props.row.id" class="text-primary font-medium no-underline hover:underline">{{ props.row.name }}</a>
  <div v-if="props.row.company && props.row.company != props.row.name" class="text-xs text-slate-500">{{ props.row.company }}</div>
</q-td>
"""
GROUPS_CELL = r"""
<q-td :props="props" class="align-top">
  <div v-for="g in props.row.groups" :key="g.id" class="whitespace-nowrap">
    <a :href="'/groups/' + g.id" class="text-primary no-underline hover:underline">{{ g.name }}</a>
    <q-icon v-if="g.primary" name="star" color="amber-8" size="xs" class="ml-1"><q-tooltip>Primary group</q-tooltip></q-icon>
  </div>
</q-td>
"""
CONFLICTS_CELL = r"""
<q-td :props="props" class="align-top" style="white-space: normal; min-width: 18rem">
  <div v-for="c in props.row.conflicts" :key="c.kind" class="py-0.5">{{ c.what }}</div>
</q-td>
"""
GETS_CELL = r"""
<q-td :props="props" class="align-top" style="white-space: normal; min-width: 14rem">
  <div v-for="c in props.row.conflicts" :key="c.kind" class="py-0.5 text-emerald-800">{{ c.gets }}</div>
</q-td>
"""


def _conflict_row(row: ConflictRow) -> dict:
    return {
        "id": row.customer_id,
        "name": row.name,
        "company": row.company,
        "groups": [{"id": g.id, "name": g.name, "primary": g.is_primary} for g in row.groups],
        "conflicts": [{"kind": c.kind, "what": c.what, "gets": c.gets} for c in row.conflicts],
    }


async def overlaps_page() -> None:
    async with frame("Group Overlaps", section="groups"):
        with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
            ui.link("Customer Groups", "/groups").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.label("Overlaps")
        with ui.row().classes("w-full items-end justify-between"):
            page_heading(
                "Group Overlaps",
                "Customers in several groups: how many each pair of groups shares, and whose benefits conflict.",
            )
            ui.button("Hierarchy", icon="account_tree", on_click=lambda: ui.navigate.to("/groups/hierarchy")).props(
                "outline"
            )
        matrix = await overlap_matrix()
        with ui.card().classes("w-full gap-2").mark("overlap-matrix"):
            ui.label("Shared members").classes("text-base font-medium")
            if not matrix.groups:
                empty_state("join_inner", "No customer groups yet", "Create groups first; overlaps show here.")
            else:
                ui.label(
                    "Each cell: customers in both groups. The diagonal: each group's members."
                    + ("" if matrix.overlapping_pairs else " No two groups share a customer.")
                ).classes("text-sm text-slate-500 -mt-2")
                _matrix_table(matrix)
        with ui.card().classes("w-full gap-2"):
            with ui.row().classes("items-baseline gap-3"):
                ui.label("Conflicting benefits").classes("text-base font-medium")
                total = ui.label().classes("text-sm text-slate-500").mark("conflict-total")
            ui.label(
                "Payment terms come from the customer's primary group; each line gets the most favourable "
                "price; visibility adds up across groups."
            ).classes("text-sm text-slate-500 -mt-2")
            holder = ui.column().classes("w-full")
            with holder:
                listing = PagedTable(
                    columns=CONFLICT_COLUMNS,
                    fetch=lambda page, per_page: conflicts(page=page, per_page=per_page),
                    to_row=_conflict_row,
                    row_key="id",
                    per_page=10,
                    no_data="No customers with conflicting benefits.",
                )
                listing.table.add_slot("body-cell-name", NAME_CELL)
                listing.table.add_slot("body-cell-groups", GROUPS_CELL)
                listing.table.add_slot("body-cell-conflicts", CONFLICTS_CELL)
                listing.table.add_slot("body-cell-gets", GETS_CELL)
                listing.table.mark("conflicts-table")
            await listing.load(page=1)
            if listing.total:
                total.text = count(listing.total, "customer")
            else:
                holder.clear()
                with holder:
                    empty_state(
                        "handshake",
                        "No conflicting benefits",
                        "No customer is in two active groups whose payment terms, prices or visibility differ.",
                    ).mark("no-conflicts")


def _matrix_table(matrix: OverlapMatrix) -> None:
    cell = "px-3 py-1 text-right tabular-nums border-b border-slate-100"
    with ui.element("div").classes("w-full overflow-x-auto"):
        with ui.element("table").classes("text-sm border-collapse").mark("matrix-table"):
            with ui.element("thead"), ui.element("tr"):
                ui.element("th").classes("px-3 py-1")
                for group in matrix.groups:
                    with ui.element("th").classes("px-3 py-1 text-right font-medium text-slate-600 align-bottom"):
                        ui.link(group.name, f"/groups/{group.id}").classes("text-slate-700 no-underline")
            with ui.element("tbody"):
                for i, group in enumerate(matrix.groups):
                    with ui.element("tr").classes("hover:bg-slate-50"):
                        with ui.element("th").classes("px-3 py-1 text-left font-medium whitespace-nowrap"):
                            ui.link(group.name, f"/groups/{group.id}").classes("text-slate-700 no-underline")
                        for j, n in enumerate(matrix.counts[i]):
                            with ui.element("td").classes(cell):
                                label = ui.label(f"{n:,}").mark(f"cell-{group.id}-{matrix.groups[j].id}")
                                if i == j:
                                    label.classes("font-semibold text-slate-800")
                                elif n:
                                    label.classes("text-amber-800 font-medium")
                                else:
                                    label.classes("text-slate-300")
