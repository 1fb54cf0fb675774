"""One group's performance over a period ("Customer Group Report"): the metrics against
all customers, the top customers, revenue per month and members over time, and a CSV export."""

import json
from datetime import date, timedelta

from nicegui import ui

from services.errors import NotFoundError
from services.groups.group import GroupDetail, get_group
from services.reports import (
    DEFINITIONS,
    PERIOD_LABELS,
    GroupReport,
    MonthValue,
    Period,
    group_report,
    report_csv,
    versus,
)
from services.shop import get_shop
from services.wording import count, currency_symbol, day_range, money, month_year
from ui.groups.detail import missing_group
from ui.reports.period_picker import PeriodPicker
from ui.shell import empty_state, frame

METRIC_COLUMNS = [
    {"name": "metric", "label": "Metric", "field": "metric", "align": "left"},
    {"name": "value", "label": "Value", "field": "value", "align": "right"},
    {"name": "versus", "label": "vs All Customers", "field": "versus", "align": "left"},
    {"name": "all", "label": "All Customers", "field": "all", "align": "right"},
]
METRIC_CELL = r"""
<q-td :props="props">
  <div class="font-medium">{{ props.row.metric }}</div>
  <div class="text-xs text-slate-500 whitespace-normal">{{ props.row.definition }}</div>
</q-td>
"""
VERSUS_CELL = r"""
<q-td :props="props">
  <span :class="props.value.includes('higher') ? 'text-positive' : props.value.includes('lower') ? 'text-negative' : 'text-slate-600'">
    {{ props.value }}
  </span>
</q-td>
"""
NOTHING = "—"


def percent(share: float | None, *, digits: int = 0) -> str:
    """A fraction as a percentage ("35%"); "—" when there is nothing to divide by."""
    return "—" if share is None else f"{share * 100:.{digits}f}%"


def share_of_total(share: float) -> str:
    """ "35% of total"; a small share keeps a decimal ("0.4% of total") rather than reading as none."""
    if 0 < share < 0.001:
        return "under 0.1% of total"
    return f"{percent(share, digits=1 if 0 < share < 0.01 else 0)} of total"


def per_year(frequency: float) -> str:
    return f"{frequency:.1f}/year"


def month_label(month: str) -> str:
    """ "2026-03" -> "Mar 2026"."""
    return month_year(date.fromisoformat(f"{month}-01"))


def period_text(period: Period) -> str:
    """The period's name with its first and last day (the last one included)."""
    if period.label not in PERIOD_LABELS.values():
        return period.label  # a custom period is named by its days
    return f"{period.label}: {day_range(period.start, period.end - timedelta(days=1))}"


def metric_rows(report: GroupReport, *, currency: str) -> list[dict]:
    """The Performance Metrics table as the page shows it (and the tests read it). An average of
    nothing (no orders, no members) is shown as "—", not as 0 "100% lower"."""
    no_orders, no_members = not report.orders, not report.members

    def whole(cents: int) -> str:
        return money(cents, currency=currency, cents_shown="never")

    return [
        {
            "metric": "Total Revenue",
            "definition": DEFINITIONS["Revenue"],
            "value": whole(report.revenue_cents),
            "versus": share_of_total(report.revenue_share),
            "all": "",
        },
        {
            "metric": "Orders",
            "definition": "The number of those orders.",
            "value": f"{report.orders:,}",
            "versus": share_of_total(report.orders_share),
            "all": "",
        },
        {
            "metric": "Average Order Value",
            "definition": DEFINITIONS["Average Order Value"],
            "value": NOTHING if no_orders else whole(report.aov_cents),
            "versus": NOTHING if no_orders else versus(report.aov_cents, report.all_aov_cents),
            "all": whole(report.all_aov_cents),
        },
        {
            "metric": "Order Frequency",
            "definition": "Orders per customer of the group in the period, scaled to a year.",
            "value": NOTHING if no_members else per_year(report.frequency_per_year),
            "versus": NOTHING if no_members else versus(report.frequency_per_year, report.all_frequency_per_year),
            "all": per_year(report.all_frequency_per_year),
        },
        {
            "metric": "Customer Lifetime Value",
            "definition": "The group's customers' average lifetime purchases, all periods included.",
            "value": NOTHING if no_members else whole(report.clv_cents),
            "versus": NOTHING if no_members else versus(report.clv_cents, report.all_clv_cents),
            "all": whole(report.all_clv_cents),
        },
    ]


def _money_axis(quoted_symbol: str) -> dict:
    return {
        "type": "value",
        "axisLabel": {":formatter": f"v => {quoted_symbol} + v.toLocaleString('en-US')"},
        "splitLine": {"lineStyle": {"color": "#e2e8f0"}},
    }


def revenue_chart(months: list[MonthValue], *, currency: str) -> ui.echart:
    quoted_symbol = json.dumps(currency_symbol(currency))  # a JavaScript string: "€", "CA$"
    return ui.echart(
        {
            "grid": {"left": 8, "right": 16, "top": 16, "bottom": 8, "containLabel": True},
            "tooltip": {
                "trigger": "axis",
                ":valueFormatter": f"v => {quoted_symbol} + Math.round(v).toLocaleString('en-US')",
            },
            "xAxis": {"type": "category", "data": [month_label(m.month) for m in months]},
            "yAxis": _money_axis(quoted_symbol),
            "series": [
                {
                    "name": "Revenue",
                    "type": "bar",
                    "data": [round(m.value / 100) for m in months],
                    "itemStyle": {"color": "#1f4e79", "borderRadius": [3, 3, 0, 0]},
                    "barMaxWidth": 36,
                }
            ],
        }
    ).classes("w-full h-64")


def members_chart(months: list[MonthValue]) -> ui.echart:
    return ui.echart(
        {
            "grid": {"left": 8, "right": 16, "top": 16, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "data": [month_label(m.month) for m in months]},
            "yAxis": {"type": "value", "minInterval": 1, "splitLine": {"lineStyle": {"color": "#e2e8f0"}}},
            "series": [
                {
                    "name": "Members",
                    "type": "line",
                    "data": [m.value for m in months],
                    "itemStyle": {"color": "#c8891b"},
                    "areaStyle": {"color": "rgba(200, 137, 27, 0.12)"},
                    "symbolSize": 6,
                }
            ],
        }
    ).classes("w-full h-64")


class GroupReportView:
    """The report for one group; the period picker re-renders the figures below it."""

    def __init__(self, group: GroupDetail, *, currency: str) -> None:
        self.group = group
        self.currency = currency
        self.report: GroupReport | None = None

    async def show(self, period: Period) -> None:
        self.report = await group_report(group_id=self.group.id, period=period)
        self.figures.refresh()

    def export(self) -> None:
        if self.report:
            name = f"{self.group.code.lower()}-report-{self.report.period.start}-to-{self.report.period.end}.csv"
            ui.download.content(report_csv(self.report), name, "text/csv")

    @ui.refreshable_method
    def figures(self) -> None:
        report = self.report
        if report is None:
            return
        ui.label(period_text(report.period)).classes("text-slate-600").mark("report-period")
        with ui.row().classes("w-full items-start gap-2 no-wrap text-sm text-slate-500"):
            ui.icon("info_outline", size="xs").classes("mt-0.5")
            members = (
                f"{count(report.members, 'customer')} in this group during the period."
                if report.members
                else "No customers were in this group during the period."
            )
            ui.label(f"{members} {report.membership_note}").mark("membership-note")

        with ui.card().classes("w-full"):
            ui.label("Performance Metrics").classes("text-base font-medium")
            table = ui.table(columns=METRIC_COLUMNS, rows=metric_rows(report, currency=self.currency), row_key="metric")
            table.props("flat bordered hide-pagination wrap-cells").classes("w-full sticky-first-column")
            table.mark("report-metrics")
            table.add_slot("body-cell-metric", METRIC_CELL)
            table.add_slot("body-cell-versus", VERSUS_CELL)
            if not report.orders:
                ui.label("No completed orders from this group's members in this period.").classes(
                    "text-sm text-slate-500"
                ).mark("no-orders")

        with ui.grid(columns=2).classes("w-full gap-4 max-md:grid-cols-1!"):  # on a phone, one chart a row
            with ui.card().classes("w-full"):
                ui.label("Revenue per month").classes("text-base font-medium")
                if report.revenue_cents:
                    revenue_chart(report.revenue_by_month, currency=self.currency).mark("revenue-chart")
                else:
                    empty_state(
                        "bar_chart", "No revenue in this period", "Orders the members place will show here."
                    ).classes(remove="py-16", add="py-8")
            with ui.card().classes("w-full"):
                ui.label("Members over time").classes("text-base font-medium")
                if any(m.value for m in report.members_by_month):
                    members_chart(report.members_by_month).mark("members-chart")
                else:
                    empty_state("group_off", "No members in this period", "Customers who join will show here.").classes(
                        remove="py-16", add="py-8"
                    )

        with ui.card().classes("w-full"):
            ui.label("Top Customers").classes("text-base font-medium")
            if not report.top_customers:
                empty_state(
                    "person_off", "No orders in this period", "The members who buy most will be listed here."
                ).classes(remove="py-16", add="py-8")
            else:
                with ui.column().classes("w-full gap-0").mark("top-customers"):
                    for rank, customer in enumerate(report.top_customers, start=1):
                        with ui.row().classes("w-full items-center py-1 border-b border-slate-100 last:border-0"):
                            ui.label(f"{rank}.").classes("w-6 text-slate-500 text-right")
                            ui.link(customer.name, f"/customers/{customer.customer_id}").classes(
                                "text-primary no-underline hover:underline"
                            ).mark("top-customer")
                            ui.label(count(customer.orders, "order")).classes("ml-auto text-sm text-slate-500")
                            revenue = money(customer.revenue_cents, currency=self.currency, cents_shown="never")
                            ui.label(revenue).classes("w-28 text-right font-medium")


async def group_report_page(group_id: int) -> None:
    try:
        group = await get_group(group_id=group_id)
    except NotFoundError:
        async with frame("Group not found", section="groups"):
            missing_group()
        return
    view = GroupReportView(group, currency=(await get_shop()).currency)
    async with frame(f"Report: {group.name}", section="groups"):
        with ui.row().classes("items-center gap-1 text-sm text-slate-500"):
            ui.link("Customer Groups", "/groups").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.link(group.name, f"/groups/{group.id}").classes("text-slate-500")
            ui.icon("chevron_right")
            ui.label("Report")
        with ui.row().classes("w-full items-center justify-between"):
            ui.label(f"Customer Group Report: {group.name}").classes("text-2xl font-semibold text-slate-800").mark(
                "report-heading"
            )
            with ui.row().classes("gap-2"):
                ui.button("Compare groups", icon="compare_arrows", on_click=lambda: ui.navigate.to("/reports")).props(
                    "flat"
                )
                ui.button("Export Report", icon="download", on_click=view.export).props("outline").mark("export-report")
        picker = PeriodPicker(on_change=view.show)
        view.report = await group_report(group_id=group.id, period=picker.period)
        view.figures()
