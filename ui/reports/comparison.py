"""Reports: groups side by side for one period ("Customer Group Comparison"), with a chart
of one metric across them, each metric's definition, and a CSV export."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from nicegui import ui

from services.groups.group import list_groups
from services.reports import Comparison, ComparisonRow, Period, compare_groups, comparison_csv
from services.shop import get_shop
from services.wording import currency_symbol, money
from ui.actions import run_action
from ui.reports.group_report import NOTHING, percent, period_text
from ui.reports.period_picker import PeriodPicker
from ui.shell import empty_state, frame, page_heading
from ui.table_headers import hide_header

DEFAULT_GROUPS = 6
SUBTITLE = "Compare how your groups perform side by side, and open a group's own report."
MONEY = "money"  # a metric's unit: the shop's currency, its symbol in front


@dataclass(frozen=True)
class Metric:
    name: str  # as in the service's definitions
    text: Callable[[ComparisonRow, str], str]  # the row's figure in words, in the shop's currency
    number: Callable[[ComparisonRow], float | None]  # for the chart, in the unit `unit` names
    unit: str = ""  # MONEY or "%"


METRICS = [
    Metric("Customers", lambda r, _: f"{r.customers:,}", lambda r: r.customers),
    Metric(
        "Revenue",
        lambda r, c: money(r.revenue_cents, currency=c, cents_shown="never"),
        lambda r: round(r.revenue_cents / 100),
        MONEY,
    ),
    # An average of nothing (no orders, no customers) is "—", not 0.
    Metric(
        "Average Order Value",
        lambda r, c: money(r.aov_cents, currency=c, cents_shown="never") if r.revenue_cents else NOTHING,
        lambda r: round(r.aov_cents / 100) if r.revenue_cents else None,
        MONEY,
    ),
    Metric(
        "Orders per Customer",
        lambda r, _: f"{r.orders_per_customer:.1f}" if r.customers else NOTHING,
        lambda r: round(r.orders_per_customer, 1) if r.customers else None,
    ),
    Metric(
        "Retention Rate",
        lambda r, _: percent(r.retention_rate),
        lambda r: None if r.retention_rate is None else round(r.retention_rate * 100),
        "%",
    ),
    # As seed 003 shows it (VIP 15%, Gold 10%): a rate, with the amount beside it.
    Metric(
        "Discount Given",
        lambda r, c: (
            f"{percent(discount_rate(r), digits=1)} ({money(r.discount_given_cents, currency=c, cents_shown='never')})"
            if r.revenue_cents or r.discount_given_cents
            else NOTHING
        ),
        lambda r: None if discount_rate(r) is None else round(discount_rate(r) * 100, 1),
        "%",
    ),
    Metric(
        "Net Margin",
        lambda r, _: percent(r.net_margin),
        lambda r: None if r.net_margin is None else round(r.net_margin * 100),
        "%",
    ),
]
METRIC_BY_NAME = {m.name: m for m in METRICS}


def discount_rate(row: ComparisonRow) -> float | None:
    """The discount as a share of what the orders would have cost at list prices (revenue plus the
    discount): a group with 15% off on every order reads 15%, as in seed 003."""
    list_price = row.revenue_cents + row.discount_given_cents
    return row.discount_given_cents / list_price if list_price else None


def comparison_columns(comparison: Comparison) -> list[dict]:
    return [
        {"name": "metric", "label": "", "field": "metric", "align": "left"},
        *(
            {"name": f"g{row.group_id}", "label": row.name, "field": f"g{row.group_id}", "align": "right"}
            for row in comparison.rows
        ),
    ]


def comparison_rows(comparison: Comparison, *, currency: str) -> list[dict]:
    """Metrics as rows, groups as columns, as the page shows them (and the tests read them)."""
    return [
        {"metric": metric.name, **{f"g{row.group_id}": metric.text(row, currency) for row in comparison.rows}}
        for metric in METRICS
    ]


def metric_chart(comparison: Comparison, metric: Metric, *, currency: str) -> ui.echart:
    prefix, suffix = (currency_symbol(currency), "") if metric.unit == MONEY else ("", metric.unit)
    # JSON quotes the symbol as a JavaScript string ("€", "CA$").
    label = f"v => {json.dumps(prefix)} + v.toLocaleString('en-US') + {json.dumps(suffix)}"
    return ui.echart(
        {
            "grid": {"left": 8, "right": 16, "top": 24, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis", ":valueFormatter": f"v => v == null ? '—' : ({label})(v)"},
            "xAxis": {"type": "category", "data": [row.name for row in comparison.rows]},
            "yAxis": {
                "type": "value",
                "axisLabel": {":formatter": label},
                "splitLine": {"lineStyle": {"color": "#e2e8f0"}},
            },
            "series": [
                {
                    "name": metric.name,
                    "type": "bar",
                    "data": [metric.number(row) for row in comparison.rows],
                    "itemStyle": {"color": "#1f4e79", "borderRadius": [3, 3, 0, 0]},
                    "barMaxWidth": 56,
                    "label": {"show": True, "position": "top", ":formatter": f"p => ({label})(p.value)"},
                }
            ],
        }
    ).classes("w-full h-72")


class ComparisonView:
    def __init__(self, *, group_ids: list[int], period: Period, currency: str) -> None:
        self.group_ids = group_ids
        self.period = period
        self.currency = currency
        self.comparison: Comparison | None = None
        self.metric = "Revenue"

    async def load(self) -> None:
        # No groups picked: no comparison, and the page says so.
        compared = await run_action(
            lambda: compare_groups(group_ids=self.group_ids, period=self.period), errors=lambda _: None
        )
        self.comparison = compared.value

    async def period_changed(self, period: Period) -> None:
        self.period = period
        await self.load()
        self.figures.refresh()

    async def groups_changed(self, group_ids: list[int]) -> None:
        self.group_ids = list(group_ids or [])
        await self.load()
        self.figures.refresh()

    def metric_changed(self, name: str) -> None:
        self.metric = name
        self.chart.refresh()

    def export(self) -> None:
        if self.comparison:
            name = f"group-comparison-{self.period.start}-to-{self.period.end}.csv"
            ui.download.content(comparison_csv(self.comparison), name, "text/csv")

    @ui.refreshable_method
    def figures(self) -> None:
        comparison = self.comparison
        if comparison is None:
            with ui.card().classes("w-full"):
                empty_state("compare_arrows", "Pick groups to compare", "Choose one or more groups above.").mark(
                    "no-groups"
                )
            return
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-baseline justify-between"):
                ui.label("Customer Group Comparison").classes("text-base font-medium")
                ui.label(period_text(comparison.period)).classes("text-sm text-slate-500").mark("comparison-period")
            table = ui.table(
                columns=comparison_columns(comparison),
                rows=comparison_rows(comparison, currency=self.currency),
                row_key="metric",
            )
            table.props("flat bordered hide-pagination").classes("w-full sticky-first-column").mark("comparison-table")
            table.add_slot(
                "body-cell-metric",
                '<q-td :props="props"><span class="font-medium">{{ props.value }}</span></q-td>',
            )
            hide_header(table, "metric", "Measure")
            if comparison.margin_note:
                with ui.row().classes("items-start gap-2 no-wrap text-sm text-slate-600"):
                    ui.icon("info_outline", size="xs").classes("mt-0.5")
                    ui.label(comparison.margin_note).mark("margin-note")
            with ui.row().classes("items-center gap-x-4 gap-y-1 text-sm"):
                ui.label("Group reports:").classes("text-slate-500")
                for row in comparison.rows:
                    ui.link(row.name, f"/groups/{row.group_id}/report").classes(
                        "text-primary no-underline hover:underline"
                    ).mark("group-report-link")

        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-center justify-between"):
                ui.label("Chart").classes("text-base font-medium")
                ui.select(
                    [m.name for m in METRICS],
                    value=self.metric,
                    on_change=lambda e: self.metric_changed(e.value),
                ).props("outlined dense options-dense").classes("w-60").mark("chart-metric")
            self.chart()

        with ui.card().classes("w-full").mark("definitions"):
            ui.label("What the figures mean").classes("text-base font-medium")
            with ui.row().classes("w-full items-start gap-2 no-wrap text-sm text-slate-600"):
                ui.icon("info_outline", size="xs").classes("mt-0.5")
                ui.label(f"{comparison.definitions['Customers']} {comparison.membership_note}").mark("membership-note")
            # On a phone each name goes above its meaning, which then has the card's whole width.
            with ui.grid(columns="auto 1fr").classes(
                "w-full gap-x-6 gap-y-2 text-sm max-md:grid-cols-1! max-md:gap-y-0"
            ):
                for name, text in comparison.definitions.items():
                    ui.label(name).classes("font-medium text-slate-800")
                    ui.label(text).classes("text-slate-600 max-md:mb-2")

    @ui.refreshable_method
    def chart(self) -> None:
        comparison = self.comparison
        metric = METRIC_BY_NAME[self.metric]
        if comparison is None:
            return
        if all(not metric.number(row) for row in comparison.rows):
            empty_state("bar_chart", f"No {metric.name.lower()} in this period", "Try a longer period.").classes(
                remove="py-16", add="py-8"
            )
            return
        metric_chart(comparison, metric, currency=self.currency).mark("comparison-chart")


async def comparison_page() -> None:
    groups = (await list_groups(sort="members", descending=True)).rows
    # The largest top-level groups with members, shown smallest first: VIP, Gold, Silver ... Retail
    # in the demo shop.
    top_level = [g.id for g in groups if g.parent_name is None and g.members][:DEFAULT_GROUPS][::-1]
    currency = (await get_shop()).currency
    async with frame("Reports", section="reports"):
        with ui.row().classes("w-full items-center justify-between"):
            page_heading("Reports", SUBTITLE)
            export = ui.button("Export CSV", icon="download").props("outline").mark("export-comparison")
        with ui.card().classes("w-full"):
            with ui.row().classes("w-full items-center gap-4"):
                picker = PeriodPicker(on_change=lambda period: view.period_changed(period))
            view = ComparisonView(group_ids=top_level, period=picker.period, currency=currency)
            choose = ui.select(
                {g.id: g.name for g in sorted(groups, key=lambda g: g.name.casefold())},
                value=top_level,
                multiple=True,
                label="Groups to compare",
                on_change=lambda e: view.groups_changed(e.value),
            )
            choose.props("outlined dense use-chips").classes("w-full").mark("compare-groups")
        export.on_click(view.export)
        await view.load()
        view.figures()
