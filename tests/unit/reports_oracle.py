"""The group reports as they were computed before issue 21 kept their totals: every figure from
the membership history (a window function over the events gives each membership span) joined to
the orders on each view. Slow at scale, plainly right: the oracle test_report_agreement.py holds
the kept totals to. Shared pieces (periods, results, discount rates, margins) are the service's own."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.catalog import Product
from models.customer import OrderLine
from services.benefits.sections import load_groups
from services.calendar import months
from services.errors import FormError
from services.reports import (
    DEFINITIONS,
    TOP_CUSTOMERS,
    Comparison,
    ComparisonRow,
    GroupReport,
    MonthValue,
    Period,
    TopCustomer,
    _costed,
    _discount_rates,
    _discounts,
    _group_names,
    _moment,
    _net_margin,
    margin_note,
)
from services.storage.database import READER, reader_connection
from services.storage.sql import execute, fetch_rows, placeholders, timestamp_placeholder

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


def _spans(group_ids: list[int]) -> tuple[str, list]:
    """The WITH clause of membership spans (customer, group, start, end) for these groups."""
    return (
        "WITH ev AS (SELECT customer_id, group_id, action, at, "
        "LEAD(at) OVER (PARTITION BY customer_id, group_id ORDER BY at, id) AS next_at "
        f"FROM membership_event WHERE group_id IN ({placeholders(group_ids)}) "
        "AND action IN ('joined', 'left', 'moved')), "
        "spans AS (SELECT customer_id, group_id, at AS start_at, COALESCE(next_at, ?) AS end_at "
        "FROM ev WHERE action = 'joined') ",
        [*group_ids, FAR_FUTURE],
    )


def _month(connection: BaseDBAsyncClient, column: str) -> str:
    if connection.capabilities.dialect == "postgres":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM')"
    return f"substr({column}, 1, 7)"  # stored as "YYYY-MM-DD HH:MM:SS+00:00"


def _months(period: Period) -> list[tuple[str, datetime]]:
    """Each month the period touches, with the moment its count is taken (its end, or the period's)."""
    return [
        (f"{month:%Y-%m}", _moment(min(following, period.end))) for month, following in months(period.start, period.end)
    ]


async def _all_customers(connection: BaseDBAsyncClient, period: Period) -> dict:
    start, end = _moment(period.start), _moment(period.end)
    orders = (
        await fetch_rows(
            connection,
            'SELECT COUNT(*) AS n, COALESCE(SUM(total_cents), 0) AS revenue FROM "order" '
            "WHERE status = 'completed' AND placed_at >= ? AND placed_at < ?",
            start,
            end,
        )
    )[0]
    customers = (
        await fetch_rows(
            connection,
            "SELECT COUNT(*) AS n, COALESCE(AVG(lifetime_cents), 0) AS clv FROM customer WHERE created_at < ?",
            end,
        )
    )[0]
    # int() and float(): PostgreSQL sums and averages come back as Decimal.
    return {
        "orders": orders["n"],
        "revenue": int(orders["revenue"]),
        "customers": customers["n"],
        "clv": float(customers["clv"]),
    }


@asynccontextmanager
async def _membership_orders(group_ids: list[int], period: Period) -> AsyncIterator[BaseDBAsyncClient]:
    """A read transaction on the reader connection holding two scratch tables for the report's
    queries: the groups' membership spans, and the period's completed orders placed within them.

    Built once, they serve every figure: the spans' window function and the join to a million
    orders run once instead of once per figure. They live in the connection's own temporary schema
    and the transaction keeps other work on that connection from meeting them."""
    spans, params = _spans(group_ids)
    async with in_transaction(READER) as connection:
        for table in ("report_hits", "report_spans"):
            await execute(connection, f"DROP TABLE IF EXISTS {table}")
        await execute(
            connection,
            "CREATE TEMP TABLE report_spans AS " + spans + "SELECT customer_id, group_id, start_at, end_at FROM spans",
            *params,
        )
        for column in ("customer_id", "start_at", "end_at"):
            await execute(connection, f"CREATE INDEX report_spans_{column} ON report_spans ({column})")
        await execute(
            connection,
            # CROSS JOIN: SQLite then walks the spans and looks up each customer's orders in the
            # covering (customer_id, placed_at, ...) index. Left to itself it scans the period's
            # orders instead (the scratch table has no statistics), ten times slower.
            "CREATE TEMP TABLE report_hits AS SELECT s.group_id, o.id AS order_id, o.customer_id, o.placed_at, "
            "o.total_cents "
            'FROM report_spans s CROSS JOIN "order" o WHERE o.customer_id = s.customer_id '
            "AND o.placed_at >= s.start_at AND o.placed_at < s.end_at "
            "AND o.status = 'completed' AND o.placed_at >= ? AND o.placed_at < ?",
            _moment(period.start),
            _moment(period.end),
        )
        try:
            yield connection
        finally:
            for table in ("report_hits", "report_spans"):
                await execute(connection, f"DROP TABLE IF EXISTS {table}")


async def _per_group(connection: BaseDBAsyncClient, group_ids: list[int], period: Period) -> dict[int, dict]:
    """Orders, revenue, members and their mean lifetime value per group, from the scratch tables."""
    found = {gid: {"orders": 0, "revenue": 0, "members": 0, "clv": 0} for gid in group_ids}
    for row in await fetch_rows(
        connection,
        "SELECT group_id, COUNT(*) AS n, COALESCE(SUM(total_cents), 0) AS revenue FROM report_hits GROUP BY group_id",
    ):
        found[row["group_id"]].update(orders=row["n"], revenue=int(row["revenue"]))
    for row in await fetch_rows(
        connection,
        "SELECT k.group_id, COUNT(*) AS n, COALESCE(AVG(c.lifetime_cents), 0) AS clv FROM "
        "(SELECT DISTINCT group_id, customer_id FROM report_spans WHERE start_at < ? AND end_at > ?) k "
        "JOIN customer c ON c.id = k.customer_id GROUP BY k.group_id",
        _moment(period.end),
        _moment(period.start),
    ):
        found[row["group_id"]].update(members=row["n"], clv=float(row["clv"]))
    return found


async def old_group_report(*, group_id: int, period: Period) -> GroupReport:
    """The "Customer Group Report" for one group and period."""
    names = await _group_names([group_id])
    everyone = await _all_customers(reader_connection(), period)
    async with _membership_orders([group_id], period) as connection:
        mine = (await _per_group(connection, [group_id], period))[group_id]
        top = await fetch_rows(
            connection,
            "SELECT h.customer_id, c.name, SUM(h.total_cents) AS revenue, COUNT(*) AS n FROM report_hits h "
            "JOIN customer c ON c.id = h.customer_id GROUP BY h.customer_id, c.name "
            "ORDER BY revenue DESC, c.name LIMIT ?",
            TOP_CUSTOMERS,
        )
        month = _month(connection, "placed_at")
        by_month = {
            row["month"]: int(row["revenue"])
            for row in await fetch_rows(
                connection, f"SELECT {month} AS month, SUM(total_cents) AS revenue FROM report_hits GROUP BY {month}"
            )
        }
        month_ends = _months(period)
        counts = {}
        if month_ends:
            values = ", ".join(f"(?, {timestamp_placeholder(connection)})" for _ in month_ends)
            counts = {
                row["month"]: row["n"]
                for row in await fetch_rows(
                    connection,
                    # Members at a moment: spans begun before it less spans ended before it (a
                    # span ends no earlier than it begins), two index range counts per month
                    # instead of comparing every span with every month.
                    f"WITH months(month, at) AS (VALUES {values}) "
                    "SELECT m.month, (SELECT COUNT(*) FROM report_spans WHERE start_at < m.at) "
                    "- (SELECT COUNT(*) FROM report_spans WHERE end_at < m.at) AS n FROM months m",
                    *[value for pair in month_ends for value in pair],
                )
            }
    years = period.days / 365.25
    return GroupReport(
        group_id=group_id,
        group_name=names[group_id],
        period=period,
        members=mine["members"],
        revenue_cents=mine["revenue"],
        revenue_share=mine["revenue"] / everyone["revenue"] if everyone["revenue"] else 0.0,
        orders=mine["orders"],
        orders_share=mine["orders"] / everyone["orders"] if everyone["orders"] else 0.0,
        aov_cents=mine["revenue"] // mine["orders"] if mine["orders"] else 0,
        all_aov_cents=everyone["revenue"] // everyone["orders"] if everyone["orders"] else 0,
        frequency_per_year=mine["orders"] / mine["members"] / years if mine["members"] else 0.0,
        all_frequency_per_year=everyone["orders"] / everyone["customers"] / years if everyone["customers"] else 0.0,
        clv_cents=round(mine["clv"]),
        all_clv_cents=round(everyone["clv"]),
        top_customers=[TopCustomer(r["customer_id"], r["name"], int(r["revenue"]), r["n"]) for r in top],
        revenue_by_month=[MonthValue(m, by_month.get(m, 0)) for m, _ in month_ends],
        members_by_month=[MonthValue(m, counts.get(m, 0)) for m, _ in month_ends],
    )


async def old_compare_groups(*, group_ids: list[int], period: Period) -> Comparison:
    """The "Customer Group Comparison": the groups side by side for one period."""
    group_ids = list(dict.fromkeys(group_ids))
    if not group_ids:
        raise FormError({"groups": "Choose at least one group to compare."})
    names = await _group_names(group_ids)
    own, promotions = await _discount_rates(group_ids, await load_groups())
    any_costs = await Product.filter(cost_cents__not_isnull=True).exists()
    async with _membership_orders(group_ids, period) as connection:
        now = await _per_group(connection, group_ids, period)
        before = await _retention(connection, group_ids, period)
        discounts = await _discounts(connection, now, own, promotions, period)
        costed = await _costed(connection, group_ids) if any_costs and await OrderLine.exists() else {}
    rows = []
    for gid in group_ids:
        figures = now[gid]
        discount = discounts[gid]
        # Lines may add up to more than an order's total (an order-wide discount code): never more than all.
        known_revenue, known_cost = costed.get(gid, (0, 0))
        known_revenue = min(known_revenue, figures["revenue"])
        margin = _net_margin(figures["revenue"], discount, known_revenue, known_cost)
        ordered_before, again = before[gid]
        rows.append(
            ComparisonRow(
                group_id=gid,
                name=names[gid],
                customers=figures["members"],
                revenue_cents=figures["revenue"],
                aov_cents=figures["revenue"] // figures["orders"] if figures["orders"] else 0,
                orders_per_customer=figures["orders"] / figures["members"] if figures["members"] else 0.0,
                retention_rate=again / ordered_before if ordered_before else None,
                discount_given_cents=discount,
                net_margin=margin,
                costed_revenue_cents=known_revenue,
            )
        )
    note = margin_note(
        revenue_cents=sum(r.revenue_cents for r in rows),
        costed_cents=sum(r.costed_revenue_cents for r in rows),
        any_costs=any_costs,
    )
    return Comparison(period=period, rows=rows, definitions=dict(DEFINITIONS), margin_note=note)


async def _retention(connection: BaseDBAsyncClient, group_ids: list[int], period: Period) -> dict[int, tuple[int, int]]:
    """Per group: of its customers in the period, how many ordered in the previous period, and how
    many of those ordered again in this one."""
    previous = period.previous
    found = dict.fromkeys(group_ids, (0, 0))
    for row in await fetch_rows(
        connection,
        "WITH cohort AS (SELECT DISTINCT group_id, customer_id FROM report_spans WHERE start_at < ? AND end_at > ?) "
        'SELECT k.group_id, COUNT(*) AS before_n, SUM(CASE WHEN EXISTS (SELECT 1 FROM "order" o2 '
        "WHERE o2.customer_id = k.customer_id AND o2.status = 'completed' AND o2.placed_at >= ? "
        "AND o2.placed_at < ?) THEN 1 ELSE 0 END) AS again_n FROM cohort k "
        'WHERE EXISTS (SELECT 1 FROM "order" o1 WHERE o1.customer_id = k.customer_id '
        "AND o1.status = 'completed' AND o1.placed_at >= ? AND o1.placed_at < ?) GROUP BY k.group_id",
        _moment(period.end),
        _moment(period.start),
        _moment(period.start),
        _moment(period.end),
        _moment(previous.start),
        _moment(previous.end),
    ):
        found[row["group_id"]] = (row["before_n"], int(row["again_n"] or 0))
    return found
