"""The figures group reports keep current (models.report), written in the same transaction as the
orders and membership changes they follow, and rebuilt from scratch when in doubt.

Why: a report for a big group over a year used to work out every member's membership spans from
the history (a window function over a million events) and match them against millions of orders
on every view: seconds per group at a million customers. Kept here:

- report_span: the spans themselves (what the window function gave), one row per "joined" event;
- report_day: per group and day (UTC), the completed orders counted for it, their revenue, and how
  many spans began and ended; group 0 is every customer. Any period of whole days sums a few
  hundred rows, and so do the monthly chart and the members at each month's end;
- report_customer: per group and customer, their orders' revenue for it over all time: an upper
  bound of their revenue in any period, so the top customers are found walking the group's best
  customers down, not summing all of them.
- report_month: the same per month (yyyymm): for a period of a few months a much tighter bound
  (the last 30 days walk a few hundred customers, not tens of thousands).

The counting rule is the reports' own (services.reports): an order counts for a group when its
customer was a member when it was placed, from a "joined" event up to the next joined, left or
moved event of that customer in that group. Everything here is derived from the history and the
orders; `rebuild` derives it all again and the agreement test compares it with the old queries.

How it keeps current:

- Orders (services.orders.recording): the orders about to change are taken out (`orders_changing`
  with -1, as saved) and put back after (+1, as now saved), so a new, edited, re-dated, moved or
  cancelled order moves exactly its own contribution, set-based.
- Membership (every writer of joined/left/moved events calls `membership_changed` with the groups
  and the moment it wrote them): a new "joined" event opens a span, a later event ends the open one.
  Only orders placed at or after that moment could count differently; there are normally none (the
  history is written as it happens), which one index probe checks.

Events are assumed to arrive in time order (written "now"). Anything written otherwise (the demo
shop's history, a test's hand-made one) is followed by `rebuild`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.customer import OrderStatus
from services.storage.sql import execute, fetch_rows, is_postgres, placeholders

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)  # the end of a span still open
SPAN_ACTIONS = ("joined", "left", "moved")
EVERYONE = 0  # report_day's group of every customer's orders
CHUNK = 5_000
COMPLETED = OrderStatus.COMPLETED.value

PAIRS = "report_touched_pairs"  # scratch tables, private to the connection's session
DELTA = "report_order_delta"
IDS = "report_order_ids"


def day_of(connection: BaseDBAsyncClient, column: str) -> str:
    """The UTC day of a moment as an integer yyyymmdd."""
    if is_postgres(connection):
        return f"CAST(to_char({column} AT TIME ZONE 'UTC', 'YYYYMMDD') AS INTEGER)"
    # Stored as "YYYY-MM-DD HH:MM:SS+00:00" (UTC).
    return f"CAST(substr({column}, 1, 4) || substr({column}, 6, 2) || substr({column}, 9, 2) AS INTEGER)"


def _moment_type(connection: BaseDBAsyncClient) -> str:
    return "TIMESTAMPTZ" if is_postgres(connection) else ""  # SQLite: the text as stored


def _upsert_days(connection: BaseDBAsyncClient, select: str) -> str:
    """Add (group_id, day, orders, revenue_cents, began, ended) rows of `select` to report_day."""
    return (
        "INSERT INTO report_day (group_id, day, orders, revenue_cents, began, ended) "
        f"SELECT group_id, day, SUM(orders), SUM(revenue), SUM(began), SUM(ended) FROM ({select}) t "
        "WHERE true GROUP BY group_id, day "
        "ON CONFLICT (group_id, day) DO UPDATE SET orders = report_day.orders + excluded.orders, "
        "revenue_cents = report_day.revenue_cents + excluded.revenue_cents, "
        "began = report_day.began + excluded.began, ended = report_day.ended + excluded.ended"
    )


def _upsert_customers(select: str) -> str:
    """Add (group_id, customer_id, orders, revenue) rows of `select` to report_customer."""
    return (
        "INSERT INTO report_customer (group_id, customer_id, orders, revenue_cents) "
        f"SELECT group_id, customer_id, SUM(orders), SUM(revenue) FROM ({select}) t "
        "WHERE true GROUP BY group_id, customer_id "
        "ON CONFLICT (group_id, customer_id) DO UPDATE SET orders = report_customer.orders + excluded.orders, "
        "revenue_cents = report_customer.revenue_cents + excluded.revenue_cents"
    )


def _upsert_months(connection: BaseDBAsyncClient, select: str) -> str:
    """Add (group_id, customer_id, placed_at, orders, revenue) rows of `select` to report_month, each
    in the month it was placed (the column is named placed_at in `select`)."""
    month = f"{day_of(connection, 'placed_at')} / 100"
    return (
        "INSERT INTO report_month (group_id, month, customer_id, orders, revenue_cents) "
        f"SELECT group_id, {month}, customer_id, SUM(orders), SUM(revenue) FROM ({select}) t "
        f"WHERE true GROUP BY group_id, {month}, customer_id "
        "ON CONFLICT (group_id, month, customer_id) DO UPDATE SET orders = report_month.orders + excluded.orders, "
        "revenue_cents = report_month.revenue_cents + excluded.revenue_cents"
    )


def _next_event(alias: str, event_id: str, start: str) -> str:
    """The moment of the customer's next joined/left/moved event in the group after the event
    `event_id` at `start` (ties in time go by id, as the history's order)."""
    return (
        f"(SELECT e2.at FROM membership_event e2 WHERE e2.customer_id = {alias}.customer_id "
        f"AND e2.group_id = {alias}.group_id AND e2.action IN ({', '.join(repr(a) for a in SPAN_ACTIONS)}) "
        f"AND (e2.at > {start} OR (e2.at = {start} AND e2.id > {event_id})) ORDER BY e2.at, e2.id LIMIT 1)"
    )


# --- Rebuilding -------------------------------------------------------------------------------


async def rebuild(connection: BaseDBAsyncClient, *, months: bool = True) -> None:
    """Derive every kept figure again from the history and the orders, in the caller's transaction
    (`months`: report_month too; migration 0017 ran before that table existed)."""
    for table in ("report_span", "report_day", "report_customer"):
        await execute(connection, f"DELETE FROM {table}")
    await execute(
        connection,
        "INSERT INTO report_span (group_id, customer_id, event_id, start_at, end_at) "
        "SELECT group_id, customer_id, id, at, COALESCE(next_at, ?) FROM ("
        "SELECT id, customer_id, group_id, action, at, "
        "LEAD(at) OVER (PARTITION BY customer_id, group_id ORDER BY at, id) AS next_at FROM membership_event "
        f"WHERE action IN ({', '.join(repr(a) for a in SPAN_ACTIONS)})) ev WHERE action = 'joined'",
        FAR_FUTURE,
    )
    placed, start, end = day_of(connection, "o.placed_at"), day_of(connection, "start_at"), day_of(connection, "end_at")
    # CROSS JOIN: SQLite walks the spans and finds each customer's orders through the covering
    # (customer_id, placed_at, status, total_cents) index, as the reports did.
    hits = (
        'FROM report_span s CROSS JOIN "order" o WHERE o.customer_id = s.customer_id '
        f"AND o.placed_at >= s.start_at AND o.placed_at < s.end_at AND o.status = '{COMPLETED}'"
    )
    await execute(
        connection,
        _upsert_days(
            connection,
            f"SELECT s.group_id, {placed} AS day, COUNT(*) AS orders, SUM(o.total_cents) AS revenue, "
            f"0 AS began, 0 AS ended {hits} GROUP BY s.group_id, {placed} "
            f'UNION ALL SELECT {EVERYONE}, {placed}, COUNT(*), SUM(o.total_cents), 0, 0 FROM "order" o '
            f"WHERE o.status = '{COMPLETED}' GROUP BY {placed} "
            f"UNION ALL SELECT group_id, {start}, 0, 0, COUNT(*), 0 FROM report_span GROUP BY group_id, {start} "
            f"UNION ALL SELECT group_id, {end}, 0, 0, 0, COUNT(*) FROM report_span WHERE end_at < ? "
            f"GROUP BY group_id, {end}",
        ),
        FAR_FUTURE,
    )
    await execute(
        connection,
        _upsert_customers(
            f"SELECT s.group_id, s.customer_id, COUNT(*) AS orders, SUM(o.total_cents) AS revenue {hits} "
            "GROUP BY s.group_id, s.customer_id"
        ),
    )
    if months:
        await rebuild_months(connection)


async def rebuild_months(connection: BaseDBAsyncClient) -> None:
    """report_month again from the spans and the orders (after `rebuild`'s spans, or on its own)."""
    await execute(connection, "DELETE FROM report_month")
    await execute(
        connection,
        _upsert_months(
            connection,
            "SELECT s.group_id, s.customer_id, o.placed_at, 1 AS orders, o.total_cents AS revenue "
            'FROM report_span s CROSS JOIN "order" o WHERE o.customer_id = s.customer_id '
            f"AND o.placed_at >= s.start_at AND o.placed_at < s.end_at AND o.status = '{COMPLETED}'",
        ),
    )


async def rebuild_all() -> None:
    """`rebuild` in a transaction of its own: after history or orders written directly (the demo
    shop, a test's hand-made shop)."""
    async with in_transaction("default") as connection:
        await rebuild(connection)


# --- Orders -----------------------------------------------------------------------------------


async def _scratch(connection: BaseDBAsyncClient) -> None:
    moment = _moment_type(connection)
    await execute(connection, f"CREATE TEMP TABLE IF NOT EXISTS {IDS} (order_id BIGINT PRIMARY KEY)")
    await execute(
        connection,
        f"CREATE TEMP TABLE IF NOT EXISTS {DELTA} (customer_id BIGINT, placed_at {moment}, total_cents BIGINT, "
        "sign INTEGER)",
    )
    # Keyed: joined to the spans both ways (a big change drives from here, a small one from there).
    await execute(
        connection,
        f"CREATE TEMP TABLE IF NOT EXISTS {PAIRS} (group_id BIGINT, customer_id BIGINT, "
        "PRIMARY KEY (group_id, customer_id))",
    )
    for table in (IDS, DELTA, PAIRS):
        await execute(connection, f"DELETE FROM {table}")


async def _apply_delta(connection: BaseDBAsyncClient, *, only_pairs: bool) -> None:
    """Add DELTA's orders (each times its sign) to the groups their customers were in when they
    were placed; to every customer's too, or (`only_pairs`) only to the groups of PAIRS."""
    placed = day_of(connection, "d.placed_at")
    pairs = f"JOIN {PAIRS} p ON p.group_id = s.group_id AND p.customer_id = s.customer_id " if only_pairs else ""
    hits = (
        f"FROM {DELTA} d JOIN report_span s ON s.customer_id = d.customer_id "
        f"AND s.start_at <= d.placed_at AND d.placed_at < s.end_at {pairs}"
    )
    everyone = (
        ""
        if only_pairs
        else f"UNION ALL SELECT {EVERYONE}, {placed}, d.sign, d.sign * d.total_cents, 0, 0 FROM {DELTA} d"
    )
    await execute(
        connection,
        _upsert_days(
            connection,
            f"SELECT s.group_id, {placed} AS day, d.sign AS orders, d.sign * d.total_cents AS revenue, "
            f"0 AS began, 0 AS ended {hits} {everyone}",
        ),
    )
    await execute(
        connection,
        _upsert_customers(
            f"SELECT s.group_id, s.customer_id, d.sign AS orders, d.sign * d.total_cents AS revenue {hits}"
        ),
    )
    await execute(
        connection,
        _upsert_months(
            connection,
            f"SELECT s.group_id, s.customer_id, d.placed_at, d.sign AS orders, d.sign * d.total_cents AS revenue {hits}",
        ),
    )
    # Nobody stays listed for a group their orders no longer count for.
    await execute(
        connection,
        f"DELETE FROM report_customer WHERE orders = 0 AND customer_id IN (SELECT customer_id FROM {DELTA})",
    )


async def orders_changing(connection: BaseDBAsyncClient, order_ids: Iterable[int], *, sign: int) -> None:
    """Take out (-1) or put back (+1) the contribution of these orders as they are saved now.

    An order write calls it with -1 for the orders it is about to change, before changing them, and
    with +1 for those and the new ones after; an order that is not completed contributes nothing."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    await _scratch(connection)
    insert = f"INSERT INTO {IDS} (order_id) VALUES ({'$1' if is_postgres(connection) else '?'})"
    for first in range(0, len(ids), CHUNK):
        await connection.execute_many(insert, [[i] for i in ids[first : first + CHUNK]])
    await execute(
        connection,
        f"INSERT INTO {DELTA} (customer_id, placed_at, total_cents, sign) "
        f'SELECT o.customer_id, o.placed_at, o.total_cents, CAST(? AS INTEGER) FROM {IDS} i JOIN "order" o ON o.id = i.order_id '
        "WHERE o.status = ?",
        sign,
        COMPLETED,
    )
    await _apply_delta(connection, only_pairs=False)


# --- Membership -------------------------------------------------------------------------------


async def membership_changed(connection: BaseDBAsyncClient, *, group_ids: Iterable[int], at: datetime) -> None:
    """Follow the joined, left and moved events just written for these groups at `at`: open a
    span for each new "joined", end the open span of each customer a later event ended, and move
    the orders placed since `at` (normally none) between the groups they now count for.

    Idempotent: events of an earlier transaction at the same moment are seen again and change
    nothing more."""
    ids = sorted(set(group_ids))
    if not ids:
        return
    await _scratch(connection)
    # Orders placed since `at` may now count for other groups: out under the spans as they were ...
    later = await fetch_rows(
        connection, 'SELECT 1 FROM "order" WHERE placed_at >= ? AND status = ? LIMIT 1', at, COMPLETED
    )
    if later:
        # The touched pairs are kept (and keyed) only for these orders: a rule run moving 500k
        # members spent 6 s writing them, for nothing when no order is that new.
        for chunk in _chunks(ids):
            await execute(
                connection,
                f"INSERT INTO {PAIRS} (group_id, customer_id) SELECT DISTINCT group_id, customer_id "
                f"FROM membership_event WHERE {_events_at(chunk)}",
                *chunk,
                at,
            )
        await execute(
            connection,
            f"INSERT INTO {DELTA} (customer_id, placed_at, total_cents, sign) "
            f'SELECT o.customer_id, o.placed_at, o.total_cents, -1 FROM "order" o '
            f"WHERE o.customer_id IN (SELECT customer_id FROM {PAIRS}) AND o.placed_at >= ? AND o.status = ?",
            at,
            COMPLETED,
        )
        await _apply_delta(connection, only_pairs=True)
    await _end_open_spans(connection, ids, at)
    await _open_new_spans(connection, ids, at)
    # ... and in under the spans as they are now.
    if later:
        await execute(connection, f"UPDATE {DELTA} SET sign = 1")
        await _apply_delta(connection, only_pairs=True)


MOMENT = "report_moment"  # PostgreSQL: the span events of one moment, while their spans are ended


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[first : first + 500] for first in range(0, len(ids), 500)]


def _events_at(chunk: list[int], alias: str = "") -> str:
    """The condition for the span events of the groups of `chunk` at one moment (parameters: the
    chunk's ids, then the moment)."""
    prefix = f"{alias}." if alias else ""
    actions = ", ".join(repr(a) for a in SPAN_ACTIONS)
    return f"{prefix}group_id IN ({placeholders(chunk)}) AND {prefix}at = ? AND {prefix}action IN ({actions})"


async def _end_open_spans(connection: BaseDBAsyncClient, group_ids: list[int], at: datetime) -> None:
    """End each open span of the customers and groups with an event at `at` that a later event ended.

    The open spans are found from the moment's events, and one of them after a span's start ends
    it at `at`: events arrive in time order, so an open span has no event between its start and
    `at` (that one's writer would have ended it). No lookup of each span's next event: that was
    an index probe per span, 3-20 s for a rule run ending 500,000 of them on PostgreSQL."""
    if not await _any_open_span(connection, group_ids):
        # A new group (or one everybody left): nothing to end, and nothing to list for it (its
        # first rule run of 500,000 joins listed them for 1.3-1.5 s on PostgreSQL).
        return
    if is_postgres(connection):
        # The moment's events first go to a table of their own keyed by (group, customer): whichever
        # side of the join the planner takes first, it finds the other by key. Joined straight to
        # membership_event, a planner whose statistics predated the run's own rows (500,000 spans
        # opened a minute before, not yet analyzed) took the open spans first and read every event
        # of the moment again for each one: the flip of bench.rules ran past 120 s (784 s once,
        # cancelled) where it takes about 5 s. Then one UPDATE in place, the days counted from the
        # rows it returns. Several events of one span at `at` give it the same end; it is updated
        # (and returned) once.
        await execute(
            connection,
            f"CREATE TEMP TABLE IF NOT EXISTS {MOMENT} (group_id BIGINT NOT NULL, customer_id BIGINT NOT NULL, "
            "id BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL, PRIMARY KEY (group_id, customer_id, id))",
        )
        await execute(connection, f"TRUNCATE {MOMENT}")
        for chunk in _chunks(group_ids):
            await execute(
                connection,
                f"INSERT INTO {MOMENT} (group_id, customer_id, id, at) SELECT e.group_id, e.customer_id, e.id, e.at "
                f"FROM membership_event e WHERE {_events_at(chunk, 'e')}",
                *chunk,
                at,
            )
        await execute(connection, f"ANALYZE {MOMENT}")
        ended = day_of(connection, "end_at")
        await execute(
            connection,
            f"WITH ended_spans AS (UPDATE report_span s SET end_at = e.at FROM {MOMENT} e "
            "WHERE s.group_id = e.group_id AND s.customer_id = e.customer_id AND s.end_at = ? "
            "AND (s.start_at < e.at OR s.event_id < e.id) RETURNING s.group_id, s.end_at) "
            + _upsert_days(
                connection,
                f"SELECT group_id, {ended} AS day, 0 AS orders, 0 AS revenue, 0 AS began, 1 AS ended FROM ended_spans",
            ),
            FAR_FUTURE,
        )
        return
    ended = day_of(connection, "t.end_at")
    await execute(
        connection,
        "CREATE TEMP TABLE IF NOT EXISTS report_ending (id BIGINT PRIMARY KEY, group_id BIGINT, "
        f"end_at {_moment_type(connection)})",
    )
    await execute(connection, "DELETE FROM report_ending")
    # SQLite has no UPDATE inside a WITH: the spans to end are listed first.
    for chunk in _chunks(group_ids):
        await execute(
            connection,
            "INSERT INTO report_ending (id, group_id, end_at) SELECT DISTINCT s.id, s.group_id, e.at "
            "FROM membership_event e JOIN report_span s ON s.group_id = e.group_id AND s.customer_id = e.customer_id "
            f"AND s.end_at = ? WHERE {_events_at(chunk, 'e')} AND (s.start_at < e.at OR s.event_id < e.id)",
            FAR_FUTURE,
            *chunk,
            at,
        )
    await execute(
        connection,
        "UPDATE report_span SET end_at = t.end_at FROM report_ending t WHERE t.id = report_span.id",
    )
    await execute(
        connection,
        _upsert_days(
            connection,
            f"SELECT t.group_id, {ended} AS day, 0 AS orders, 0 AS revenue, 0 AS began, 1 AS ended "
            "FROM report_ending t",
        ),
    )
    await execute(connection, "DELETE FROM report_ending")


async def _any_open_span(connection: BaseDBAsyncClient, group_ids: list[int]) -> bool:
    for chunk in _chunks(group_ids):
        if await fetch_rows(
            connection,
            f"SELECT 1 FROM report_span WHERE group_id IN ({placeholders(chunk)}) AND end_at = ? LIMIT 1",
            *chunk,
            FAR_FUTURE,
        ):
            return True
    return False


@dataclass(frozen=True)
class _Opening:
    """A SELECT of (group_id, customer_id, event_id, start_at, end_at) rows for new spans."""

    select: str
    params: list
    reads_spans: bool  # it reads report_span, so it cannot feed an INSERT INTO report_span itself


async def _opening(connection: BaseDBAsyncClient, chunk: list[int], at: datetime) -> _Opening | None:
    """The spans to open for the "joined" events of the groups of `chunk` at `at` that have none
    yet; None when there is none (PostgreSQL only says so).

    A span ends at the customer's next event in the group, looked up for each span. On PostgreSQL,
    when no event of these groups is later than `at` (events arrive in time order: always, but for
    history written by hand), that can only be an event at `at` with a higher id, read from the
    moment's own events with a window: the lookups were an index probe per span there (3.4 s for
    487,000 spans). SQLite's probes cost less than the window's sort (1.0 s against 1.7 s)."""
    joins = f"e.group_id IN ({placeholders(chunk)}) AND e.at = ? AND e.action = 'joined'"
    fresh = " AND NOT EXISTS (SELECT 1 FROM report_span s WHERE s.event_id = e.id)"
    by_lookup = not is_postgres(connection)
    if not by_lookup:
        # Whether some of the moment's joins have a span already (an earlier transaction's at the
        # same moment) is asked per join only when a span as new as the first of them exists.
        # PostgreSQL plans that question with a scan of report_span per join when its figures say
        # the table is empty (a shop's first big change): that never finished for 500,000 spans.
        first = (
            await fetch_rows(connection, f"SELECT MIN(e.id) AS id FROM membership_event e WHERE {joins}", *chunk, at)
        )[0]
        if first["id"] is None:
            return None
        if not await fetch_rows(connection, "SELECT 1 FROM report_span WHERE event_id >= ? LIMIT 1", first["id"]):
            fresh = ""
        by_lookup = bool(
            await fetch_rows(
                connection,
                f"SELECT 1 FROM membership_event WHERE group_id IN ({placeholders(chunk)}) AND at > ? "
                f"AND action IN ({', '.join(repr(a) for a in SPAN_ACTIONS)}) LIMIT 1",
                *chunk,
                at,
            )
        )
    if by_lookup:
        select = (
            f"SELECT e.group_id, e.customer_id, e.id, e.at, COALESCE({_next_event('e', 'e.id', 'e.at')}, ?) "
            f"FROM membership_event e WHERE {joins}{fresh}"
        )
        return _Opening(select, [FAR_FUTURE, *chunk, at], reads_spans=bool(fresh))
    select = (
        "SELECT e.group_id, e.customer_id, e.id, e.at, CASE WHEN e.next_id IS NULL THEN ? ELSE e.at END "
        "FROM (SELECT id, group_id, customer_id, action, at, "
        "LEAD(id) OVER (PARTITION BY group_id, customer_id ORDER BY id) AS next_id "
        f"FROM membership_event WHERE {_events_at(chunk)}) e WHERE e.action = 'joined'{fresh}"
    )
    return _Opening(select, [FAR_FUTURE, *chunk, at], reads_spans=bool(fresh))


_SPAN_COLUMNS = "group_id, customer_id, event_id, start_at, end_at"


async def _open_new_spans(connection: BaseDBAsyncClient, group_ids: list[int], at: datetime) -> None:
    """A span for each "joined" event of these groups at `at` that has none yet."""
    openings = [opening for chunk in _chunks(group_ids) if (opening := await _opening(connection, chunk, at))]
    if is_postgres(connection):
        # Straight into report_span, the days counted from the rows the INSERT returns (with the
        # window, 4.0-5.4 s for 487,000 spans against 5.1-6.5 s through a table and a probe each).
        began, ended = day_of(connection, "start_at"), day_of(connection, "end_at")
        for opening in [o for o in openings if not o.reads_spans]:
            await execute(
                connection,
                f"WITH opened AS (INSERT INTO report_span ({_SPAN_COLUMNS}) {opening.select} "
                f"RETURNING {_SPAN_COLUMNS}) "
                + _upsert_days(
                    connection,
                    f"SELECT group_id, {began} AS day, 0 AS orders, 0 AS revenue, 1 AS began, 0 AS ended "
                    f"FROM opened UNION ALL SELECT group_id, {ended}, 0, 0, 0, 1 FROM opened WHERE end_at < ?",
                ),
                *opening.params,
                FAR_FUTURE,
            )
        openings = [o for o in openings if o.reads_spans]
    if not openings:
        return
    moment = _moment_type(connection)
    await execute(
        connection,
        "CREATE TEMP TABLE IF NOT EXISTS report_opening (group_id BIGINT, customer_id BIGINT, event_id BIGINT, "
        f"start_at {moment}, end_at {moment})",
    )
    await execute(connection, "DELETE FROM report_opening")
    for opening in openings:
        await execute(connection, f"INSERT INTO report_opening ({_SPAN_COLUMNS}) {opening.select}", *opening.params)
    await execute(connection, f"INSERT INTO report_span ({_SPAN_COLUMNS}) SELECT {_SPAN_COLUMNS} FROM report_opening")
    began, ended = day_of(connection, "start_at"), day_of(connection, "end_at")
    await execute(
        connection,
        _upsert_days(
            connection,
            f"SELECT group_id, {began} AS day, 0 AS orders, 0 AS revenue, 1 AS began, 0 AS ended FROM report_opening "
            f"UNION ALL SELECT group_id, {ended}, 0, 0, 0, 1 FROM report_opening WHERE end_at < ?",
        ),
        FAR_FUTURE,
    )
    await execute(connection, "DELETE FROM report_opening")
