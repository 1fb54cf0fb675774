"""The membership timeline card, on a group's page (who came and went) and on a customer's page
(which groups they joined and left)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from nicegui import ui

from models.group import MembershipAction, MembershipSource
from services.membership.history import ACTION_LABELS, HistoryRow, describe, list_history
from services.paging import Page
from services.wording import SOURCE_LABELS, count, date_time, day_range
from ui.format import relative_time, typed_day
from ui.paged_table import PagedTable
from ui.shell import empty_state, no_results

PER_PAGE = 10
# Icon and colour per kind of event; the arriving half of a move looks like the move, and a move
# along a ladder (one event, on both rungs' timelines) shows its direction.
STYLES = {
    "joined": ("login", "positive"),
    "moved_here": ("swap_horiz", "primary"),
    "moved": ("swap_horiz", "primary"),
    "moved_up": ("trending_up", "positive"),
    "moved_down": ("trending_down", "negative"),
    "left": ("logout", "negative"),
    "made_primary": ("star", "amber-8"),
}

WHEN_CELL = r"""
<q-td :props="props">
  <div class="whitespace-nowrap">{{ props.row.when }}</div>
  <div class="text-xs text-slate-500">{{ props.row.ago }}</div>
</q-td>
"""
CUSTOMER_CELL = r"""
<q-td :props="props">
  <a :href="'/customers/' + props.row.customer_id" class="text-primary no-underline hover:underline">{{ props.row.customer }}</a>
</q-td>
"""
GROUP_CELL = r"""
<q-td :props="props">
  <a v-if="props.row.group_exists" :href="'/groups/' + props.row.group_id"
     class="text-primary no-underline hover:underline">{{ props.row.group }}</a>
  <span v-else class="text-slate-600">{{ props.row.group }} <span class="text-slate-500">(deleted)</span></span>
</q-td>
"""
WHAT_CELL = r"""
<q-td :props="props">
  <div class="flex items-center no-wrap gap-2">
    <q-icon :name="props.row.icon" :color="props.row.color" size="xs" />
    <span>{{ props.row.what }}</span>
  </div>
</q-td>
"""
MUTED_CELL = r"""
<q-td :props="props"><span :class="props.value == '—' ? 'text-slate-400' : ''">{{ props.value }}</span></q-td>
"""


def _columns(*, group_timeline: bool) -> list[dict]:
    who = (
        {"name": "customer", "label": "Customer", "field": "customer", "align": "left"}
        if group_timeline
        else {"name": "group", "label": "Group", "field": "group", "align": "left"}
    )
    return [
        {"name": "when", "label": "When", "field": "when", "align": "left"},
        who,
        {"name": "what", "label": "What", "field": "what", "align": "left"},
        {"name": "source", "label": "Source", "field": "source", "align": "left"},
        {"name": "reason", "label": "Reason", "field": "reason", "align": "left", "style": "white-space: normal"},
        {"name": "by", "label": "By", "field": "by", "align": "left"},
    ]


def _row(event: HistoryRow) -> dict:
    style = event.action.value if event.is_ladder_move or not event.moved_here else "moved_here"
    icon, color = STYLES[style]
    return {
        "id": event.id,
        "when": date_time(event.at),
        "ago": relative_time(event.at),
        "customer_id": event.customer_id,
        "customer": event.customer_name,
        "group_id": event.group_id,
        "group": event.group_name,
        "group_exists": event.group_exists,
        "what": describe(event),
        "icon": icon,
        "color": color,
        "source": SOURCE_LABELS[event.source],
        "reason": event.reason or "—",
        "by": event.actor or "—",
    }


@dataclass
class HistoryFilters:
    actions: list[MembershipAction] = field(default_factory=list)
    source: MembershipSource | None = None
    search: str = ""
    dates: dict | str | None = None  # what Quasar's range date picker holds: {"from", "to"} or one day

    def period(self) -> tuple[datetime | None, datetime | None]:
        """The chosen days as [since, until): from the first day's start to the day after the last."""
        if not self.dates:
            return None, None
        if isinstance(self.dates, str):
            first = last = typed_day(self.dates)
        else:
            first, last = typed_day(self.dates["from"]), typed_day(self.dates["to"])
        if first is None or last is None:
            return None, None
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        return start, end

    def period_label(self) -> str:
        since, until = self.period()
        if since is None or until is None:
            return "Any time"
        return day_range(since, until - timedelta(days=1))


async def history_card(*, group_id: int | None = None, customer_id: int | None = None) -> None:
    """The timeline of one group (group_id) or one customer (customer_id), newest first."""
    group_timeline = group_id is not None
    with ui.card().classes("w-full gap-3").mark("history"):
        with ui.row().classes("w-full items-center"):
            with ui.column().classes("gap-0"):
                ui.label("Membership history").classes("text-base font-medium")
                ui.label(
                    "Who joined, left or moved, and why."
                    if group_timeline
                    else "Every group this customer joined, left or moved between, and why."
                ).classes("text-sm text-slate-500")
            total = ui.label().classes("ml-auto text-slate-600").mark("history-total")

        # The first page, unfiltered: whether there is any history, and the rows shown first.
        first = await list_history(group_id=group_id, customer_id=customer_id, per_page=PER_PAGE)
        if not first.total:
            empty_state(
                "history",
                "No membership changes yet",
                "Joins, departures and moves appear here as they happen, with who made them and why.",
            ).classes("py-6")
            return

        filters = HistoryFilters()
        with ui.row().classes("w-full items-center gap-3"):
            actions = (
                ui.select(
                    {a.value: label for a, label in ACTION_LABELS.items()},
                    multiple=True,
                    value=[],
                    label="Kind of change",
                )
                .props("outlined dense use-chips clearable")
                .classes("w-64")
                .mark("history-action")
            )
            source = (
                ui.select(
                    {None: "Any", **{s.value: label for s, label in SOURCE_LABELS.items()}}, value=None, label="Source"
                )
                .props("outlined dense")
                .classes("w-40")
                .mark("history-source")
            )
            search = ui.input(
                placeholder="Search customer or reason" if group_timeline else "Search group or reason"
            ).props("outlined dense clearable debounce=300")
            search.classes("w-64").mark("history-search")
            with search.add_slot("prepend"):
                ui.icon("search")
            with (
                ui.button(filters.period_label(), icon="event")
                .props("outline no-caps")
                .classes("h-10")
                .mark("history-period") as period
            ):
                with ui.menu():
                    dates = ui.date(value=None).props("range today-btn minimal").mark("history-dates")
                    with ui.row().classes("w-full justify-end px-2 pb-2"):
                        ui.button("Any time", on_click=lambda: dates.set_value(None)).props("flat dense no-caps")

        async def fetch(page: int, per_page: int) -> Page[HistoryRow]:
            since, until = filters.period()
            return await list_history(
                group_id=group_id,
                customer_id=customer_id,
                actions=filters.actions,
                source=filters.source,
                search=filters.search,
                since=since,
                until=until,
                page=page,
                per_page=per_page,
            )

        history = PagedTable(
            columns=_columns(group_timeline=group_timeline),
            fetch=fetch,
            to_row=_row,
            row_key="id",
            per_page=PER_PAGE,
            no_data="No membership changes match these filters.",
        )
        history.table.add_slot("body-cell-when", WHEN_CELL)
        history.table.add_slot("body-cell-customer", CUSTOMER_CELL)
        history.table.add_slot("body-cell-group", GROUP_CELL)
        history.table.add_slot("body-cell-what", WHAT_CELL)
        history.table.add_slot("body-cell-reason", MUTED_CELL)
        history.table.mark("history-table")

        def clear_filters() -> None:
            actions.value, source.value, search.value, dates.value = [], None, "", None

        none = no_results("No membership changes match these filters.", on_clear=clear_filters, mark="history")

        async def reload() -> None:
            await history.load(page=1)
            total.text = count(history.total, "change")
            # The timeline has changes (else the empty state above): none here means the filters hide them.
            none.set_visibility(history.total == 0)
            history.table.set_visibility(history.total > 0)

        async def actions_changed(event) -> None:
            filters.actions = [MembershipAction(a) for a in event.value or []]
            await reload()

        async def source_changed(event) -> None:
            filters.source = MembershipSource(event.value) if event.value else None
            await reload()

        async def search_changed(event) -> None:
            filters.search = event.value or ""
            await reload()

        async def dates_changed(event) -> None:
            filters.dates = event.value or None
            period.text = filters.period_label()
            await reload()

        actions.on_value_change(actions_changed)
        source.on_value_change(source_changed)
        search.on_value_change(search_changed)
        dates.on_value_change(dates_changed)
        history.show(first)
        total.text = count(history.total, "change")
        none.set_visibility(False)
