"""Group reports and comparison, read from the figures services.report_totals keeps current.

How membership is counted: an order counts for a group when its customer was a member of the
group at the moment of the order, as the membership history records it (joined ... left or moved).
So a report for last year is not rewritten by today's changes, and a customer who moved from Gold
to VIP in June counts for Gold before June and for VIP after.

What is read where (issue 21: every group's report under a second at a million customers and ten
million orders): orders, revenue, the monthly chart and the members at each month's end are sums
of a few hundred per-day rows (report_day); the customers of the period, their lifetime value and
retention are one walk over the group's membership spans (report_span) in customer order; the top
customers walk the group's customers from the most they ever brought it down (report_customer)
and stop as soon as nobody further can make the list. Only the discounts of promotions (a minimum
purchase per order) and the margins of the orders' lines read the orders again, for the groups'
members and the promotions' days. tests/unit/test_report_agreement.py checks every figure against
the queries this replaced.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.catalog import Product
from models.customer import OrderLine
from models.group import CustomerGroup
from models.promotion import Promotion, PromotionStatus, PromotionTarget, PromotionType
from services.benefits.sections import GroupNode, PricingType, chain_of, effective, load_groups
from services.calendar import months, year_before
from services.csv_export import CsvWriter, Figure, money
from services.errors import FormError, NotFoundError
from services.promotions import FIRST_DAY, LAST_DAY, in_shop_years
from services.report_totals import COMPLETED, EVERYONE
from services.storage.database import READER
from services.storage.sql import execute, fetch_rows, is_postgres, placeholders, timestamp_placeholder
from services.wording import day_range

PERIOD_LABELS = {
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "12m": "Last 12 months",
    "ytd": "This year",
    "custom": "Custom",
}
TOP_CUSTOMERS = 5
# Up to this many months (a 90-day period touches four), the top customers walk each month's list
# of what customers brought the group; beyond, the all-time list bounds them more cheaply.
MONTH_LISTS = 4
# The shop's margin on list prices before any discount, for the revenue whose cost is not known:
# orders recorded without lines, and lines of products without a cost (the comparison says how much).
ASSUMED_GROSS_MARGIN = 0.40
FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
MEMBERSHIP_NOTE = (
    "An order counts for a group when its customer was a member at the time of the order, as the "
    "membership history records it; changes made today do not rewrite past periods."
)
DEFINITIONS = {
    "Customers": "Customers who were members of the group at any time in the period.",
    "Revenue": "Completed orders placed while the customer was a member, in the period.",
    "Average Order Value": "Revenue divided by the number of those orders.",
    "Orders per Customer": "Those orders divided by the group's customers in the period.",
    "Retention Rate": (
        "Of the group's customers who ordered in the previous period of the same length, the share who "
        "ordered again in this one."
    ),
    "Discount Given": (
        "What the group's pricing and its promotions took off list prices. Orders record what was paid, "
        "not list prices or discounts, so each order is worked back at the best rate it could have had on "
        "its day: the group's percentage discount, or an active additional-discount promotion that reaches "
        "the group, is valid that day and whose minimum purchase the order's total reaches (on top of the "
        "group's discount when both allow stacking, otherwise the better of the two). Discount = order "
        "total x rate / (1 - rate). Price lists and fixed adjustments are not counted; the group's and "
        "the promotions' current settings are used for every day."
    ),
    "Net Margin": (
        "What is left of the revenue after what the goods cost, as a share of the revenue. Where an order's "
        "lines name products with a cost, those lines' cost is their quantity x the product's cost. The rest "
        f"of the revenue (orders without lines, products without a cost) is estimated at a {ASSUMED_GROSS_MARGIN:.0%} "
        "margin on list prices after the discount: its list revenue x margin - its share of the discount."
    ),
}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start, "Previous period")


@dataclass(frozen=True)
class TopCustomer:
    customer_id: int
    name: str
    revenue_cents: int
    orders: int


@dataclass(frozen=True)
class MonthValue:
    month: str  # "2026-03"
    value: int


@dataclass(frozen=True)
class GroupReport:
    group_id: int
    group_name: str
    period: Period
    members: int
    revenue_cents: int
    revenue_share: float
    orders: int
    orders_share: float
    aov_cents: int
    all_aov_cents: int
    frequency_per_year: float
    all_frequency_per_year: float
    clv_cents: int
    all_clv_cents: int
    top_customers: list[TopCustomer]
    revenue_by_month: list[MonthValue]
    members_by_month: list[MonthValue]
    membership_note: str = MEMBERSHIP_NOTE


@dataclass(frozen=True)
class ComparisonRow:
    group_id: int
    name: str
    customers: int
    revenue_cents: int
    aov_cents: int
    orders_per_customer: float
    retention_rate: float | None  # None: nobody ordered in the previous period
    discount_given_cents: int
    net_margin: float | None  # None: no revenue
    costed_revenue_cents: int = 0  # the revenue whose cost the products' costs give; the rest is estimated


@dataclass(frozen=True)
class Comparison:
    period: Period
    rows: list[ComparisonRow]
    definitions: dict[str, str]
    membership_note: str = MEMBERSHIP_NOTE
    margin_note: str = ""  # which margin the net margin rests on: the products' costs, the estimate, or both


def margin_note(*, revenue_cents: int, costed_cents: int, any_costs: bool) -> str:
    """Says what the net margins rest on, for the owner (never silently the estimate)."""
    estimate = f"{ASSUMED_GROSS_MARGIN:.0%}"
    if costed_cents <= 0 or revenue_cents <= 0:
        if any_costs:
            return (
                f"Net margin is estimated at {estimate}: no order here has lines for products with a cost. "
                "Orders bring their lines when imported from your shop."
            )
        return f"Net margin is estimated at {estimate}: import your product costs (Customers › Import › Products) to use your own."
    share = costed_cents / revenue_cents
    if share >= 0.995:
        return "Net margin uses your product costs for all of the revenue."
    return (
        f"Net margin uses your product costs for {max(share, 0.01):.0%} of revenue; the rest is estimated at "
        f"{estimate}."
    )


def period_for(key: str, *, today: date | None = None, start: date | None = None, end: date | None = None) -> Period:
    """A named period ending today (included), or a custom one (both days included)."""
    today = today or datetime.now(UTC).date()
    tomorrow = today + timedelta(days=1)
    if key == "30d":
        return Period(tomorrow - timedelta(days=30), tomorrow, PERIOD_LABELS[key])
    if key == "90d":
        return Period(tomorrow - timedelta(days=90), tomorrow, PERIOD_LABELS[key])
    if key == "12m":
        return Period(year_before(tomorrow), tomorrow, PERIOD_LABELS[key])
    if key == "ytd":
        return Period(date(today.year, 1, 1), tomorrow, PERIOD_LABELS[key])
    if key == "custom":
        if start is None or end is None:
            raise FormError({"period": "Choose the first and the last day."})
        if not (in_shop_years(start) and in_shop_years(end)):
            raise FormError({"period": f"Choose days in the years {FIRST_DAY.year} to {LAST_DAY.year}."})
        if end < start:
            raise FormError({"period": "The last day must not be before the first day."})
        return Period(start, end + timedelta(days=1), day_range(start, end))
    raise FormError({"period": "Choose a period."})


def versus(value: float, baseline: float) -> str:
    """How `value` compares with the all-customers `baseline`: "+45% higher", "12% lower"."""
    if not baseline:
        return "no orders from all customers" if value else "same as all customers"
    change = value / baseline - 1
    if abs(change) < 0.005:
        return "same as all customers"
    return f"+{change:.0%} higher" if change > 0 else f"{-change:.0%} lower"


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _day(day: date) -> int:
    """A day as report_day keeps it: yyyymmdd."""
    return day.year * 10_000 + day.month * 100 + day.day


def _months(period: Period) -> list[tuple[str, date]]:
    """Each month the period touches, with the day its count is taken at the start of (the day after
    the month, or the period's end)."""
    return [(f"{month:%Y-%m}", min(following, period.end)) for month, following in months(period.start, period.end)]


async def _group_names(group_ids: list[int]) -> dict[int, str]:
    names = dict(await CustomerGroup.filter(id__in=group_ids).values_list("id", "name"))
    if missing := [gid for gid in group_ids if gid not in names]:
        raise NotFoundError(f"There is no group with id {missing[0]}.")
    return names


async def _totals(connection: BaseDBAsyncClient, group_ids: list[int], period: Period) -> dict[int, dict]:
    """Orders and revenue per group (EVERYONE: all customers) in the period, from the kept days."""
    found = {gid: {"orders": 0, "revenue": 0} for gid in group_ids}
    for row in await fetch_rows(
        connection,
        "SELECT group_id, COALESCE(SUM(orders), 0) AS n, COALESCE(SUM(revenue_cents), 0) AS revenue FROM report_day "
        f"WHERE group_id IN ({placeholders(group_ids)}) AND day >= ? AND day < ? GROUP BY group_id",
        *group_ids,
        _day(period.start),
        _day(period.end),
    ):
        # int(): PostgreSQL sums come back as Decimal.
        found[row["group_id"]].update(orders=int(row["n"]), revenue=int(row["revenue"]))
    return found


async def _all_customers(connection: BaseDBAsyncClient, period: Period) -> dict:
    orders = (await _totals(connection, [EVERYONE], period))[EVERYONE]
    customers = (
        await fetch_rows(
            connection,
            "SELECT COUNT(*) AS n, COALESCE(AVG(lifetime_cents), 0) AS clv FROM customer WHERE created_at < ?",
            _moment(period.end),
        )
    )[0]
    return {**orders, "customers": customers["n"], "clv": float(customers["clv"])}


def _ordered_between(start: datetime, end: datetime) -> tuple[str, list]:
    """1 when the customer `c` has a completed order placed in [start, end), else 0.

    Their first and last order (the stats every order write keeps) settle it for most customers;
    only one who ordered before and after the range needs a look at their orders."""
    seek = (
        'CASE WHEN EXISTS (SELECT 1 FROM "order" o WHERE o.customer_id = c.id AND o.status = ? '
        "AND o.placed_at >= ? AND o.placed_at < ?) THEN 1 ELSE 0 END"
    )
    looked = [COMPLETED, start, end]
    return (
        f"CASE WHEN c.first_order_at IS NULL OR c.last_order_at IS NULL THEN {seek} "
        "WHEN c.last_order_at < ? OR c.first_order_at >= ? THEN 0 "
        f"WHEN c.first_order_at >= ? OR c.last_order_at < ? THEN 1 ELSE {seek} END",
        [*looked, start, end, start, end, *looked],
    )


async def _cohorts(
    connection: BaseDBAsyncClient, group_ids: list[int], period: Period, *, retention: bool
) -> dict[int, dict]:
    """Per group: its customers in the period (members at any moment of it), their mean lifetime
    value, and (`retention`) how many ordered in the previous period and how many of those again
    in this one. One walk over the group's spans in customer order, from their index alone."""
    start, end = _moment(period.start), _moment(period.end)
    found = {gid: {"members": 0, "clv": 0.0, "before": 0, "again": 0} for gid in group_ids}
    flags, params = "0 AS before_n, 0 AS again_n", []
    if retention:
        before, before_params = _ordered_between(_moment(period.previous.start), _moment(period.previous.end))
        again, again_params = _ordered_between(start, end)
        flags, params = f"{before} AS before_n, {again} AS again_n", [*before_params, *again_params]
    # A narrow index holds all this reads of a customer; SQLite reads their row unless told.
    stats = "" if is_postgres(connection) else "INDEXED BY customer_report_stats"
    # MATERIALIZED: each customer's flags are worked out once; flattened into the sums, SQLite
    # looked up their orders once per sum that names the flag. Only then: it writes every row out.
    for row in await fetch_rows(
        connection,
        f"WITH t AS {'MATERIALIZED' if retention else ''} (SELECT k.group_id, c.lifetime_cents AS lifetime, {flags} FROM "
        "(SELECT group_id, customer_id FROM report_span "
        f"WHERE group_id IN ({placeholders(group_ids)}) AND start_at < ? AND end_at > ? GROUP BY group_id, customer_id) k "
        f"JOIN customer c {stats} ON c.id = k.customer_id) "
        "SELECT group_id, COUNT(*) AS n, COALESCE(AVG(lifetime), 0) AS clv, SUM(before_n) AS before_n, "
        "SUM(before_n * again_n) AS again_n FROM t GROUP BY group_id",
        *params,
        *group_ids,
        end,
        start,
    ):
        found[row["group_id"]].update(
            members=row["n"],
            clv=float(row["clv"]),
            before=int(row["before_n"] or 0),
            again=int(row["again_n"] or 0),
        )
    return found


async def _top_customers(connection: BaseDBAsyncClient, group_id: int, period: Period) -> list[TopCustomer]:
    """The group's customers whose orders brought it the most in the period.

    Walks the group's customers down lists of what they brought it, each read from the most, until
    nobody not yet read can reach the fifth found (the threshold algorithm: an unread customer
    brought at most the last figure read from each list). A period of a few months walks those
    months' lists (report_month); a longer one the all-time list (report_customer), one bound for
    every period. A customer read is summed over the period's orders only while their bound (their
    months added up) can still reach the fifth: at a million customers a few hundred are summed,
    not all of them."""
    start, end = _moment(period.start), _moment(period.end)
    touched = sorted({int(month.replace("-", "")) for month, _ in _months(period)})
    by_month = len(touched) <= MONTH_LISTS
    # The all-time list too: for a group of new customers it is the tighter of the two.
    lists = [("report_month", "AND month = ?", [month]) for month in touched] if by_month else []
    lists.append(("report_customer", "", []))
    all_time = len(lists) - 1
    found: dict[int, tuple[int, int]] = {}  # customer -> (revenue, orders) in the period
    bounds: dict[int, int] = {}  # customer read but not yet summed -> the most they can have brought
    after: list[tuple[int, int] | None] = [None] * len(lists)  # (bound, customer) last read from each list
    open_lists = set(range(len(lists)))
    summed: set[int] = set()
    size = TOP_CUSTOMERS  # then 4x: a few short reads where the first customers settle it
    while True:
        new: set[int] = set()
        for position in sorted(open_lists):
            table, where, params = lists[position]
            keyset = "" if after[position] is None else "AND (revenue_cents, customer_id) < (?, ?)"
            rows = await fetch_rows(
                connection,
                f"SELECT customer_id, revenue_cents FROM {table} WHERE group_id = ? {where} {keyset} "
                "ORDER BY revenue_cents DESC, customer_id DESC LIMIT ?",
                group_id,
                *params,
                *(after[position] or ()),
                size,
            )
            if rows:
                after[position] = (int(rows[-1]["revenue_cents"]), rows[-1]["customer_id"])
            if len(rows) < size:
                open_lists.discard(position)
            new |= {row["customer_id"] for row in rows}
        new -= found.keys() | bounds.keys() | summed
        bounds |= await _bounds(connection, group_id, sorted(new), touched if by_month else [])
        # Summing a customer's orders costs an index seek each; their bound, one kept row per month.
        # So only those whose bound can still reach the fifth are summed, the likeliest first.
        while True:
            best = sorted((revenue for revenue, _ in found.values()), reverse=True)
            fifth = best[TOP_CUSTOMERS - 1] if len(best) >= TOP_CUSTOMERS else -1
            due = sorted((cid for cid, bound in bounds.items() if bound >= fifth), key=lambda c: -bounds[c])[:500]
            if not due:
                break
            for cid in due:
                del bounds[cid]
            summed.update(due)
            found |= await _period_revenue(connection, group_id, due, start, end)
        # Nobody unread brought more than the all-time list's last figure, nor than the months' last
        # figures added up; an exhausted list holds nobody unread.
        months_left = sum(after[position][0] for position in open_lists if position != all_time)
        threshold = after[all_time][0] if all_time in open_lists else 0
        if by_month:
            threshold = min(threshold, months_left)
        # Once the months' lists are read to the end, everyone with an order in the period has been.
        if fifth > threshold or not open_lists or (by_month and open_lists == {all_time}):
            break
        size = min(size * 4, 16_384)
    if not found:
        return []
    # Ties in revenue go by name in the database's own order, as an ORDER BY name would.
    last = sorted((revenue for revenue, _ in found.values()), reverse=True)[:TOP_CUSTOMERS][-1]
    tied = [cid for cid, (revenue, _) in found.items() if revenue >= last]
    names = await fetch_rows(
        connection, f"SELECT id, name FROM customer WHERE id IN ({placeholders(tied)}) ORDER BY name, id", *tied
    )
    rank = {row["id"]: (position, row["name"]) for position, row in enumerate(names)}
    ranked = sorted(tied, key=lambda cid: (-found[cid][0], rank[cid][0]))[:TOP_CUSTOMERS]
    return [TopCustomer(cid, rank[cid][1], found[cid][0], found[cid][1]) for cid in ranked]


async def _bounds(
    connection: BaseDBAsyncClient, group_id: int, customer_ids: list[int], months: list[int]
) -> dict[int, int]:
    """The most each customer's orders can have brought the group in a period within these months
    (none: any period): all they ever brought it, or the months' added up if less."""
    found = dict.fromkeys(customer_ids, 0)
    ever = dict.fromkeys(customer_ids, 0)
    within: set[int] = set()
    # One month at a time, the customers first (CROSS JOIN), so each row is found by its whole key:
    # given a list of months, SQLite (no statistics) read the group's whole month for each customer.
    sources = [("report_month", "AND m.month = ?", [month]) for month in months] + [("report_customer", "", [])]
    for first in range(0, len(customer_ids), 5_000):
        chunk = customer_ids[first : first + 5_000]
        for table, where, params in sources:
            for row in await fetch_rows(
                connection,
                f"SELECT v.column1 AS customer_id, m.revenue_cents AS bound FROM "
                f"(VALUES {', '.join(['(CAST(? AS INTEGER))'] * len(chunk))}) v CROSS JOIN {table} m "
                f"WHERE m.group_id = ? {where} AND m.customer_id = v.column1",
                *chunk,
                group_id,
                *params,
            ):
                (ever if table == "report_customer" else found)[row["customer_id"]] += int(row["bound"])
                if table == "report_month":
                    within.add(row["customer_id"])
    # -2: no order in these months, so not among the period's customers at all.
    return {cid: (min(ever[cid], found[cid]) if cid in within else -2) if months else ever[cid] for cid in customer_ids}


async def _period_revenue(
    connection: BaseDBAsyncClient, group_id: int, customer_ids: list[int], start: datetime, end: datetime
) -> dict[int, tuple[int, int]]:
    """(revenue, orders) of these customers' completed orders in [start, end) counted for the group;
    only customers with such orders."""
    found = {}
    for first in range(0, len(customer_ids), 5_000):
        chunk = customer_ids[first : first + 5_000]
        for row in await fetch_rows(
            connection,
            "SELECT s.customer_id, SUM(o.total_cents) AS revenue, COUNT(*) AS n FROM report_span s "
            'CROSS JOIN "order" o WHERE s.group_id = ? '
            f"AND s.customer_id IN ({placeholders(chunk)}) AND s.start_at < ? AND s.end_at > ? "
            "AND o.customer_id = s.customer_id AND o.status = ? AND o.placed_at >= s.start_at "
            "AND o.placed_at < s.end_at AND o.placed_at >= ? AND o.placed_at < ? GROUP BY s.customer_id",
            group_id,
            *chunk,
            end,
            start,
            COMPLETED,
            start,
            end,
        ):
            found[row["customer_id"]] = (int(row["revenue"]), row["n"])
    return found


async def _by_month(connection: BaseDBAsyncClient, group_id: int, period: Period) -> tuple[dict, dict]:
    """The group's revenue per month of the period, and its members at each month's end (spans
    begun before that moment less spans ended before it), from the kept days."""
    revenue = {
        f"{int(row['month']) // 100:04d}-{int(row['month']) % 100:02d}": int(row["revenue"])
        for row in await fetch_rows(
            connection,
            "SELECT day / 100 AS month, SUM(revenue_cents) AS revenue FROM report_day WHERE group_id = ? "
            "AND day >= ? AND day < ? AND orders <> 0 GROUP BY day / 100",
            group_id,
            _day(period.start),
            _day(period.end),
        )
    }
    month_ends = _months(period)
    changes = await fetch_rows(
        connection,
        "SELECT day, began - ended AS change FROM report_day WHERE group_id = ? AND day < ? "
        "AND (began <> 0 OR ended <> 0) ORDER BY day",
        group_id,
        _day(period.end),
    )
    members, count, position = {}, 0, 0
    for month, moment in month_ends:
        while position < len(changes) and changes[position]["day"] < _day(moment):
            count += int(changes[position]["change"])
            position += 1
        members[month] = count
    return revenue, members


@asynccontextmanager
async def _hits(
    connection: BaseDBAsyncClient, group_ids: list[int], start: datetime, end: datetime, least: int = 0
) -> AsyncIterator[None]:
    """A scratch table report_hits of the groups' completed orders of at least `least` cents placed
    in [start, end) while their customers were members: for what the kept totals cannot answer
    (discounts of promotions with a minimum purchase, the lines' costs). It lives in the
    connection's temporary schema, in the caller's read transaction."""
    await execute(connection, "DROP TABLE IF EXISTS report_hits")
    await execute(
        connection,
        # CROSS JOIN: SQLite walks the spans and looks up each customer's orders in the covering
        # (customer_id, placed_at, ...) index; left to itself it scans the period's orders instead.
        "CREATE TEMP TABLE report_hits AS SELECT s.group_id, o.id AS order_id, o.customer_id, o.placed_at, "
        'o.total_cents FROM report_span s CROSS JOIN "order" o '
        f"WHERE s.group_id IN ({placeholders(group_ids)}) AND s.start_at < ? AND s.end_at > ? "
        "AND o.customer_id = s.customer_id AND o.placed_at >= s.start_at AND o.placed_at < s.end_at "
        "AND o.status = ? AND o.placed_at >= ? AND o.placed_at < ? AND o.total_cents >= ?",
        *group_ids,
        end,
        start,
        COMPLETED,
        start,
        end,
        least,
    )
    try:
        yield
    finally:
        await execute(connection, "DROP TABLE IF EXISTS report_hits")


async def group_report(*, group_id: int, period: Period) -> GroupReport:
    """The "Customer Group Report" for one group and period."""
    names = await _group_names([group_id])
    # One read transaction: every figure from the same moment of the shop.
    async with in_transaction(READER) as connection:
        everyone = await _all_customers(connection, period)
        mine = (await _totals(connection, [group_id], period))[group_id]
        mine |= (await _cohorts(connection, [group_id], period, retention=False))[group_id]
        top = await _top_customers(connection, group_id, period)
        by_month, counts = await _by_month(connection, group_id, period)
    month_ends = _months(period)
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
        top_customers=top,
        revenue_by_month=[MonthValue(m, by_month.get(m, 0)) for m, _ in month_ends],
        members_by_month=[MonthValue(m, counts.get(m, 0)) for m, _ in month_ends],
    )


async def compare_groups(*, group_ids: list[int], period: Period) -> Comparison:
    """The "Customer Group Comparison": the groups side by side for one period."""
    group_ids = list(dict.fromkeys(group_ids))
    if not group_ids:
        raise FormError({"groups": "Choose at least one group to compare."})
    names = await _group_names(group_ids)
    own, promotions = await _discount_rates(group_ids, await load_groups())
    any_costs = await Product.filter(cost_cents__not_isnull=True).exists()
    start, end = _moment(period.start), _moment(period.end)
    async with in_transaction(READER) as connection:
        now = await _totals(connection, group_ids, period)
        for gid, figures in (await _cohorts(connection, group_ids, period, retention=True)).items():
            now[gid] |= figures
        costs = any_costs and await OrderLine.exists(using_db=connection)
        rates = [r for r in promotions if r.start < end and r.end > start and r.rate > own[r.group_id]]
        discounts = {gid: round(now[gid]["revenue"] * _off(rate)) for gid, rate in own.items()}
        costed: dict[int, tuple[int, int]] = {}
        if rates or costs:
            # Only the promotions' days are read again for the discounts; the lines need the whole period.
            first = start if costs else max(start, min(r.start for r in rates))
            last = end if costs else min(end, max(r.end for r in rates))
            # Without lines, only the promotions' groups and orders that reach a minimum are read.
            hit_groups = group_ids if costs else sorted({r.group_id for r in rates})
            least = 0 if costs else min(r.minimum_cents for r in rates)
            async with _hits(connection, hit_groups, first, last, least):
                discounts = await _discounts(connection, now, own, rates, period)
                if costs:
                    costed = await _costed(connection, group_ids)
    rows = []
    for gid in group_ids:
        figures = now[gid]
        discount = discounts[gid]
        # Lines may add up to more than an order's total (an order-wide discount code): never more than all.
        known_revenue, known_cost = costed.get(gid, (0, 0))
        known_revenue = min(known_revenue, figures["revenue"])
        margin = _net_margin(figures["revenue"], discount, known_revenue, known_cost)
        rows.append(
            ComparisonRow(
                group_id=gid,
                name=names[gid],
                customers=figures["members"],
                revenue_cents=figures["revenue"],
                aov_cents=figures["revenue"] // figures["orders"] if figures["orders"] else 0,
                orders_per_customer=figures["orders"] / figures["members"] if figures["members"] else 0.0,
                retention_rate=figures["again"] / figures["before"] if figures["before"] else None,
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


def _net_margin(revenue: int, discount: int, known_revenue: int, known_cost: int) -> float | None:
    """(revenue - cost) / revenue: the known lines at their products' cost, the rest at the assumed
    margin on its list price (its revenue and its share of the discount)."""
    if not revenue:
        return None
    rest = revenue - known_revenue
    rest_list_price = rest + discount * rest / revenue
    estimated_cost = rest_list_price * (1 - ASSUMED_GROSS_MARGIN)
    return (revenue - known_cost - estimated_cost) / revenue


async def _costed(connection: BaseDBAsyncClient, group_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per group, what its orders' lines of products with a cost brought in and cost: (revenue, cost).

    One pass over the lines (they have no index by order): each line finds its order among the
    report's orders and its product by SKU, in capitals as the catalog keeps it, both through an
    index. CROSS JOIN keeps SQLite to that order; left to itself it walks every costed product's
    lines through the SKU index, several times slower at a million lines. A line's SKU matches in
    any letter case."""
    # Covering (order, group): a line's groups come from the index alone, half the time of a row lookup.
    await execute(connection, "CREATE INDEX IF NOT EXISTS report_hits_order_id ON report_hits (order_id, group_id)")
    found = dict.fromkeys(group_ids, (0, 0))
    for row in await fetch_rows(
        connection,
        "SELECT h.group_id, SUM(l.quantity * l.price_cents) AS revenue, SUM(l.quantity * p.cost_cents) AS cost "
        "FROM order_line l CROSS JOIN report_hits h CROSS JOIN product p "
        "WHERE h.order_id = l.order_id AND p.sku = UPPER(l.sku) AND p.cost_cents IS NOT NULL GROUP BY h.group_id",
    ):
        found[row["group_id"]] = (int(row["revenue"] or 0), int(row["cost"] or 0))
    return found


PROMOTION_COLUMNS = (
    "id",
    "percent",
    "minimum_purchase_cents",
    "valid_from",
    "valid_to",
    "stack_with_group_discount",
    "include_subgroups",
)


@dataclass(frozen=True)
class _Rate:
    """The share of the list price a group's order got with a promotion that reaches the group,
    on its own or stacked on the group's discount: for orders within the promotion's dates whose
    total reaches its minimum."""

    group_id: int
    start: datetime
    end: datetime  # exclusive
    minimum_cents: int
    rate: float  # 0.25: a quarter of the list price taken off; never below the group's own rate


async def _discount_rates(group_ids: list[int], groups: dict[int, GroupNode]) -> tuple[dict[int, float], list[_Rate]]:
    """Each group's own discount rate (its percentage discount, on every order), and the rates its
    orders get with promotions (see DEFINITIONS["Discount Given"])."""
    promotions = await Promotion.filter(
        status=PromotionStatus.ACTIVE, type=PromotionType.ADDITIONAL_DISCOUNT, percent__gt=0
    ).values(*PROMOTION_COLUMNS)
    targets: dict[int, set[int]] = {}
    if promotions:
        for pid, gid in await PromotionTarget.filter(promotion_id__in=[p["id"] for p in promotions]).values_list(
            "promotion_id", "group_id"
        ):
            targets.setdefault(pid, set()).add(gid)
    owns, rates = {}, []
    for gid in group_ids:
        pricing = effective(gid, groups).pricing
        percent = pricing["percent"].value if pricing["type"].value == PricingType.PERCENTAGE else None
        own = min(percent or 0, 100) / 100
        owns[gid] = own if own < 1 else 0.0  # a free order records no total to work the list price back from
        ancestors = {node.id for node in chain_of(gid, groups)} - {gid}
        for p in promotions:
            targeted = targets.get(p["id"], set())
            if gid not in targeted and not (p["include_subgroups"] and targeted & ancestors):
                continue
            extra = min(p["percent"], 100) / 100
            stacked = bool(own) and p["stack_with_group_discount"] and pricing["stack_with_promotions"].value
            rate = 1 - (1 - own) * (1 - extra) if stacked else max(own, extra)
            if rate < 1:
                start = _moment(p["valid_from"]) if p["valid_from"] else FAR_PAST
                end = _moment(p["valid_to"] + timedelta(days=1)) if p["valid_to"] else FAR_FUTURE
                rates.append(_Rate(gid, start, end, p["minimum_purchase_cents"], rate))
    return owns, rates


def _off(rate: float) -> float:
    """What a discount of `rate` took off, per unit paid: the list price was paid / (1 - rate)."""
    return rate / (1 - rate)


async def _discounts(
    connection: BaseDBAsyncClient, figures: dict[int, dict], own: dict[int, float], rates: list[_Rate], period: Period
) -> dict[int, int]:
    """Per group, the discount its orders in the period got: each order at the best rate that
    applied to it, total x rate / (1 - rate). The group's own rate applies to every order, so it
    comes from the revenue; only the orders within promotions' dates are read again, summed per
    group and best rate."""
    found = {gid: figures[gid]["revenue"] * _off(rate) for gid, rate in own.items()}
    start, end = _moment(period.start), _moment(period.end)
    rates = [r for r in rates if r.start < end and r.end > start and r.rate > own[r.group_id]]
    if rates:
        at = timestamp_placeholder(connection)
        values = ", ".join(
            f"(CAST(? AS INTEGER), {at}, {at}, CAST(? AS BIGINT), CAST(? AS DOUBLE PRECISION))" for _ in rates
        )
        for row in await fetch_rows(
            connection,
            f"WITH rates(group_id, start_at, end_at, minimum, rate) AS (VALUES {values}) "
            "SELECT group_id, rate, SUM(total_cents) AS revenue FROM ("
            "SELECT h.group_id, h.total_cents, (SELECT MAX(r.rate) FROM rates r WHERE r.group_id = h.group_id "
            "AND r.start_at <= h.placed_at AND h.placed_at < r.end_at AND r.minimum <= h.total_cents) AS rate "
            "FROM report_hits h WHERE h.placed_at >= ? AND h.placed_at < ?) best "
            "WHERE rate IS NOT NULL GROUP BY group_id, rate",
            *[value for r in rates for value in (r.group_id, r.start, r.end, r.minimum_cents, r.rate)],
            max(start, min(r.start for r in rates)),
            min(end, max(r.end for r in rates)),
        ):
            gid = row["group_id"]
            found[gid] += int(row["revenue"]) * (_off(float(row["rate"])) - _off(own[gid]))
    return {gid: round(value) for gid, value in found.items()}


def _percent(share: float | None, decimals: int = 1) -> Figure | str:
    return "" if share is None else Figure(f"{share:.{decimals}%}")


def report_csv(report: GroupReport) -> bytes:
    """The report as a spreadsheet: the metrics, the top customers, and the months."""
    writer = CsvWriter()
    writer.row(["Customer Group Report", report.group_name])
    writer.row(
        [
            "Period",
            report.period.label,
            report.period.start.isoformat(),
            (report.period.end - timedelta(days=1)).isoformat(),
        ]
    )
    writer.row([])
    writer.row(["Metric", "Value", "All customers", "Versus all customers"])
    writer.row(["Total Revenue", money(report.revenue_cents), "", f"{report.revenue_share:.1%} of total"])
    writer.row(["Orders", report.orders, "", f"{report.orders_share:.1%} of total"])
    writer.row(
        [
            "Average Order Value",
            money(report.aov_cents),
            money(report.all_aov_cents),
            versus(report.aov_cents, report.all_aov_cents),
        ]
    )
    writer.row(
        [
            "Order Frequency (per year)",
            Figure(f"{report.frequency_per_year:.1f}"),
            Figure(f"{report.all_frequency_per_year:.1f}"),
            versus(report.frequency_per_year, report.all_frequency_per_year),
        ]
    )
    writer.row(
        [
            "Customer Lifetime Value",
            money(report.clv_cents),
            money(report.all_clv_cents),
            versus(report.clv_cents, report.all_clv_cents),
        ]
    )
    writer.row(["Customers in the period", report.members, "", ""])
    writer.row([])
    writer.row(["Top Customers", "Revenue", "Orders"])
    for customer in report.top_customers:
        writer.row([customer.name, money(customer.revenue_cents), customer.orders])
    writer.row([])
    writer.row(["Month", "Revenue", "Members"])
    for revenue, members in zip(report.revenue_by_month, report.members_by_month, strict=True):
        writer.row([revenue.month, money(revenue.value), members.value])
    return writer.data()


def comparison_csv(comparison: Comparison) -> bytes:
    """The comparison as a spreadsheet: metrics as rows, groups as columns, as on the page."""
    writer = CsvWriter()
    rows = comparison.rows
    writer.row(["Metric", *(row.name for row in rows)])
    writer.row(["Customers", *(row.customers for row in rows)])
    writer.row(["Revenue", *(money(row.revenue_cents) for row in rows)])
    writer.row(["Average Order Value", *(money(row.aov_cents) for row in rows)])
    writer.row(["Orders per Customer", *(Figure(f"{row.orders_per_customer:.2f}") for row in rows)])
    writer.row(["Retention Rate", *(_percent(row.retention_rate) for row in rows)])
    writer.row(["Discount Given", *(money(row.discount_given_cents) for row in rows)])
    writer.row(["Net Margin", *(_percent(row.net_margin) for row in rows)])
    writer.row([])
    writer.row(["Period", comparison.period.label, comparison.period.start.isoformat()])
    writer.row(["How membership is counted", comparison.membership_note])
    writer.row(["Net margin rests on", comparison.margin_note])
    for name, text in comparison.definitions.items():
        writer.row([f"Definition: {name}", text])
    return writer.data()
