"""Recording orders: one at a time (`record_order`), or many keyed by the shop's own order number
(`write_orders` inside a caller's transaction, as the CSV import does; `save_orders` as the API
does), and changing an order's status.

Why it is built this way:

- The shop's order number is the key. An order sent again with the same values is left as it is
  ("unchanged"), with other values it is updated ("updated"), so a retried API call or a file
  imported twice never counts an order twice. Lines sent with an order replace its saved lines;
  an order sent without lines keeps them.
- Set-based: saved orders are looked up by number in chunks, new ones inserted with executemany
  in batches, changed ones updated with one prepared statement; then the stats of every customer
  whose orders changed are recomputed in one statement (services.orders.stats), in the same
  transaction. The rules run once afterwards, outside it.
"""

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.customer import Customer, Order, OrderLine, OrderStatus
from services import report_totals
from services.bulk import without_cycle_collection
from services.errors import FormError, NotFoundError
from services.fields import MAX_CENTS, MAX_QUANTITY
from services.orders.stats import RuleChange, recompute_stats, rerun_rules
from services.paging import Page, page_bounds
from services.rules.runs import reevaluate_customer
from services.staff.actor import SYSTEM, Acting, Permission, require
from services.storage.conflicts import retried_on_conflict, retried_on_conflict_or_duplicate
from services.storage.database import BACKGROUND
from services.storage.sql import dialect_sql, execute, fetch_rows, is_postgres, placeholders, saved_moment
from services.text import EMAIL, HIDDEN

logger = logging.getLogger(__name__)

NUMBER_MAX, SKU_MAX, LINE_NAME_MAX = 64, 64, 200
FUTURE_SLACK = timedelta(days=1)  # an export's local times, read as UTC, may lie up to a day ahead
LOOKUP_CHUNK = 500
BATCH = 5_000
# From this many orders a write enlarges SQLite's page cache (_roomy_cache). A smaller write keeps
# the usual cache, and with it SQLite's spilling of a large transaction's pages to the WAL before
# the commit, which tests/unit/test_order_crash_safety.py kills a 30,000-order import in.
BULK_ORDERS = 50_000
Progress = Callable[[float], None]


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


# LineData and OrderData are named tuples, not dataclasses: an import makes a million of them,
# and a tuple is built in a fraction of a frozen dataclass's time and compared as one.
class LineData(NamedTuple):
    sku: str
    name: str
    quantity: int
    price_cents: int  # per unit, as charged


class OrderData(NamedTuple):
    """An order as the shop sends it. The customer is `customer_id`, or else found by `email`."""

    number: str
    placed_at: datetime
    total_cents: int
    status: OrderStatus = OrderStatus.COMPLETED
    currency: str = ""  # three letters as sent, or "" for the shop's own
    lines: tuple[LineData, ...] | None = None  # None: keep the lines saved with the order
    customer_id: int = 0
    email: str = ""


class SavedOrder(NamedTuple):  # a tuple, as OrderData: one per order of a large import
    id: int
    number: str
    outcome: Outcome


@dataclass(frozen=True)
class Written:
    """What write_orders did: each order in the order given, and whose stats it recomputed."""

    orders: list[SavedOrder]
    touched: set[int]

    def count(self, outcome: Outcome) -> int:
        return self._counts[outcome]

    @cached_property
    def _counts(self) -> Counter[Outcome]:  # counted once: a large import asks three times
        return Counter(order.outcome for order in self.orders)


@dataclass(frozen=True)
class SaveResult:
    orders: list[SavedOrder]
    created: int
    updated: int
    unchanged: int
    rule_changes: list[RuleChange] = field(default_factory=list)


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str | None
    customer_id: int
    placed_at: datetime
    total_cents: int
    currency: str
    status: OrderStatus
    lines: list[LineData]


# --- Checking ---------------------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """A time without an offset is taken as UTC (as the shop platforms' exports mostly are)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def number_problem(number: str) -> str | None:
    if not number:
        return "The order number is missing."
    if HIDDEN.search(number):
        return "The order number contains hidden characters (such as tabs or line breaks): remove them."
    if len(number) > NUMBER_MAX:
        return f"The order number is longer than {NUMBER_MAX} characters."
    return None


def placed_at_problem(placed_at: datetime, now: datetime) -> str | None:
    if placed_at > now + FUTURE_SLACK:
        return f"The order is dated {placed_at:%Y-%m-%d %H:%M}, in the future."
    return None


def cents_problem(cents: int, what: str) -> str | None:
    if cents < 0:
        return f"{what} cannot be negative."
    if cents > MAX_CENTS:
        return f"{what} is larger than any order could be."
    return None


def currency_problem(currency: str) -> str | None:
    if currency and not (len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()):
        return f"Currency “{currency[:10]}” is not a three-letter code such as USD or EUR."
    return None


def line_problems(line: LineData) -> list[tuple[str, str]]:
    problems = []
    if HIDDEN.search(line.sku) or len(line.sku) > SKU_MAX:
        problems.append(("sku", f"The SKU is longer than {SKU_MAX} characters or contains hidden characters."))
    if HIDDEN.search(line.name) or len(line.name) > LINE_NAME_MAX:
        problems.append(("name", f"The item name is longer than {LINE_NAME_MAX} characters or has hidden characters."))
    if not 1 <= line.quantity <= MAX_QUANTITY:
        problems.append(("quantity", f"The quantity must be a whole number from 1 to {MAX_QUANTITY:,}."))
    if problem := cents_problem(line.price_cents, "The item price"):
        problems.append(("price_cents", problem))
    return problems


def order_problems(orders: Sequence[OrderData], now: datetime) -> dict[str, str]:
    """What is wrong with a batch of orders, by field ("orders.2.total_cents"); empty when nothing is."""
    problems: dict[str, str] = {}
    first: dict[str, int] = {}
    for i, order in enumerate(orders):
        at = f"orders.{i}"
        if problem := number_problem(order.number):
            problems[f"{at}.number"] = problem
        elif order.number in first:
            problems[f"{at}.number"] = f"Order {order.number} is already in this batch, as order {first[order.number]}."
        first.setdefault(order.number, i)
        if not order.customer_id and not EMAIL.match(order.email.lower()):
            problems[f"{at}.customer_email"] = "Give the customer's id or email."
        if problem := placed_at_problem(order.placed_at, now):
            problems[f"{at}.placed_at"] = problem
        if problem := cents_problem(order.total_cents, "The total"):
            problems[f"{at}.total_cents"] = problem
        if problem := currency_problem(order.currency):
            problems[f"{at}.currency"] = problem
        for j, line in enumerate(order.lines or ()):
            for key, message in line_problems(line):
                problems[f"{at}.lines.{j}.{key}"] = message
    return problems


# --- Writing many -----------------------------------------------------------------------------


class _Saved(NamedTuple):
    id: int
    customer_id: int
    placed_at: datetime
    total_cents: int
    currency: str
    status: OrderStatus


ORDER_TABLE = f'"{Order._meta.db_table}"'  # "order" is a keyword in SQL
ORDER_COLUMNS = ("number", "customer_id", "placed_at", "total_cents", "currency", "status")
LINE_COLUMNS = ("order_id", "sku", "name", "quantity", "price_cents")


def _to_db(name: str, value: Any) -> Any:
    return Order._meta.fields_map[name].to_db_value(value, Order)


def _moment(placed_at: datetime) -> Any:
    """placed_at for the database. An aware datetime goes as it is (all the field's conversion
    would do to it, at 5 µs an order); a naive one gets the field's warning and zone."""
    return placed_at if placed_at.tzinfo is not None else _to_db("placed_at", placed_at)


async def customer_ids_by_email(connection: BaseDBAsyncClient, emails: Sequence[str]) -> dict[str, int]:
    """email (lower-case) -> customer id, for the emails the shop knows."""
    wanted = sorted({email.lower() for email in emails})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = await fetch_rows(
            connection,
            f"SELECT email, id FROM {Customer._meta.db_table} WHERE email IN ({placeholders(chunk)})",
            *chunk,
        )
        found.update((row[0], row[1]) for row in rows)
    return found


async def _saved_orders(connection: BaseDBAsyncClient, numbers: Sequence[str]) -> dict[str, _Saved]:
    saved: dict[str, _Saved] = {}
    for start in range(0, len(numbers), LOOKUP_CHUNK):
        chunk = numbers[start : start + LOOKUP_CHUNK]
        rows = await fetch_rows(
            connection,
            f"SELECT number, id, customer_id, placed_at, total_cents, currency, status FROM {ORDER_TABLE} "
            f"WHERE number IN ({placeholders(chunk)})",
            *chunk,
        )
        for number, order_id, customer_id, placed_at, total, currency, status in rows:
            saved[number] = _Saved(
                order_id,
                customer_id,
                saved_moment(placed_at, Order._meta.fields_map["placed_at"]),
                total,
                currency,
                OrderStatus(status),
            )
    return saved


def _one_of(connection: BaseDBAsyncClient, column: str, ids: Sequence[int]) -> tuple[str, Any]:
    """A condition that `column` is one of `ids`, and its one parameter, however many ids there are.

    order_line has no index on order_id: a query per chunk of ids would read the whole table each
    time (200 times for 100,000 orders), where one query reads it once."""
    if is_postgres(connection):
        return f"{column} = ANY(?::bigint[])", list(ids)
    return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(ids))


async def _saved_lines(connection: BaseDBAsyncClient, order_ids: Sequence[int]) -> dict[int, tuple[LineData, ...]]:
    lines: dict[int, list[LineData]] = {order_id: [] for order_id in order_ids}
    if order_ids:
        condition, ids = _one_of(connection, "order_id", order_ids)
        rows = await fetch_rows(
            connection,
            f"SELECT order_id, sku, name, quantity, price_cents FROM {OrderLine._meta.db_table} "
            f"WHERE {condition} ORDER BY order_id, id",
            ids,
        )
        with without_cycle_collection():
            for order_id, sku, name, quantity, price in rows:
                lines[order_id].append(LineData(sku, name, quantity, price))
    return {order_id: tuple(found) for order_id, found in lines.items()}


def _same(order: OrderData, saved: _Saved) -> bool:
    return (order.customer_id, order.placed_at, order.total_cents, order.currency, order.status) == (
        saved.customer_id,
        saved.placed_at,
        saved.total_cents,
        saved.currency,
        saved.status,
    )


async def _insert_new(connection: BaseDBAsyncClient, new: list[OrderData], say: Callable[[float], None]) -> dict:
    """Insert the new orders; their number -> id."""
    last_id = await Order.all().using_db(connection).order_by("-id").first().values_list("id", flat=True)
    # Values converted here, once per row: insert_rows' conversion of every value through its field
    # costs more than the INSERT itself at 500,000 orders.
    with without_cycle_collection():
        rows = [(o.number, o.customer_id, _moment(o.placed_at), o.total_cents, o.currency, o.status.value) for o in new]
    insert = dialect_sql(
        connection, f"INSERT INTO {ORDER_TABLE} ({', '.join(ORDER_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"
    )
    for first in range(0, len(rows), BATCH):
        await connection.execute_many(insert, rows[first : first + BATCH])
        say(min(first + BATCH, len(rows)) / len(rows))
    if not rows:
        return {}
    # Numbered above every id given so far: read back in one query, not one per number.
    wanted = {o.number for o in new}
    found = await fetch_rows(connection, f"SELECT number, id FROM {ORDER_TABLE} WHERE id > ?", last_id or 0)
    return {number: order_id for number, order_id in found if number in wanted}


@dataclass
class Plan:
    """What writing a batch of orders would do, read from the database without changing it."""

    new: list[OrderData]
    changed: list[tuple[OrderData, int]]  # (order, its id) whose own values change
    relined: list[tuple[OrderData, int]]  # (order, its id) whose lines are replaced
    outcomes: dict[str, Outcome]
    ids: dict[str, int]  # number -> id of the saved orders
    touched: set[int]  # customers whose stats change

    def count(self, outcome: Outcome) -> int:
        return Counter(self.outcomes.values())[outcome]


async def plan_orders(connection: BaseDBAsyncClient, orders: Sequence[OrderData]) -> Plan:
    """Which orders (by number; numbers unique, customer_id resolved) are new, changed or as saved."""
    saved = await _saved_orders(connection, [o.number for o in orders])
    with_lines = [saved[o.number].id for o in orders if o.lines is not None and o.number in saved]
    saved_lines = await _saved_lines(connection, with_lines)
    plan = Plan([], [], [], {}, {number: s.id for number, s in saved.items()}, set())
    for order in orders:
        before = saved.get(order.number)
        if before is None:
            plan.new.append(order)
            plan.outcomes[order.number] = Outcome.CREATED
            if order.status == OrderStatus.COMPLETED:
                plan.touched.add(order.customer_id)
            continue
        lines_changed = order.lines is not None and order.lines != saved_lines[before.id]
        if lines_changed:
            plan.relined.append((order, before.id))
        if not _same(order, before):
            plan.changed.append((order, before.id))
            plan.touched |= {order.customer_id, before.customer_id}
        plan.outcomes[order.number] = (
            Outcome.UPDATED if lines_changed or not _same(order, before) else Outcome.UNCHANGED
        )
    return plan


async def write_orders(
    connection: BaseDBAsyncClient,
    orders: Sequence[OrderData],
    *,
    progress: Progress | None = None,
    start: float = 0.0,
    end: float = 1.0,
) -> Written:
    """Create, update or leave each order (by number; numbers unique, customer_id resolved), replace
    the lines of those sent with lines, and recompute the stats of the customers concerned, all in
    the caller's transaction. `progress` goes from `start` to `end`."""
    with without_cycle_collection():
        async with _roomy_cache(connection, len(orders)):
            return await _write(connection, orders, progress=progress, start=start, end=end)


@asynccontextmanager
async def _roomy_cache(connection: BaseDBAsyncClient, orders: int) -> AsyncIterator[None]:
    """SQLite's page cache enlarged for a large write, and put back after it.

    New orders go into three indexes of a table of millions at scattered places (by customer, by
    date), and the stats into five of the customers'. With the default 2 MB cache those index pages
    are evicted and read again and again: 100,000 orders took 1.5-3.0 s to insert and their
    customers' stats 0.9-1.2 s to update, with 64 MB 0.6-1.0 s and 0.5-0.6 s. The pages are only
    taken as the write touches them."""
    if is_postgres(connection) or orders < BULK_ORDERS:
        yield
        return
    before = (await fetch_rows(connection, "PRAGMA cache_size"))[0][0]
    mib = max(64, min(256, orders // 2_000))
    await execute(connection, f"PRAGMA cache_size = {-mib * 1024}")  # negative: in KiB
    try:
        yield
    finally:
        await execute(connection, f"PRAGMA cache_size = {int(before)}")


async def _write(
    connection: BaseDBAsyncClient,
    orders: Sequence[OrderData],
    *,
    progress: Progress | None = None,
    start: float = 0.0,
    end: float = 1.0,
) -> Written:
    def say(share: float, low: float, high: float) -> None:
        if progress:
            progress(start + (end - start) * (low + (high - low) * share))

    plan = await plan_orders(connection, orders)
    say(1, 0, 0.15)
    # The reports' kept totals: the changed orders out as saved, back in (with the new ones) as written.
    await report_totals.orders_changing(connection, [order_id for _, order_id in plan.changed], sign=-1)
    ids = plan.ids | await _insert_new(connection, plan.new, lambda share: say(share, 0.15, 0.5))
    update = dialect_sql(
        connection,
        f"UPDATE {ORDER_TABLE} SET customer_id = ?, placed_at = ?, total_cents = ?, currency = ?, status = ? "
        "WHERE id = ?",
    )
    values = [
        [o.customer_id, _moment(o.placed_at), o.total_cents, o.currency, o.status.value, order_id]
        for o, order_id in plan.changed
    ]
    for first in range(0, len(values), BATCH):
        await connection.execute_many(update, values[first : first + BATCH])
    await report_totals.orders_changing(
        connection, [*(order_id for _, order_id in plan.changed), *(ids[o.number] for o in plan.new)], sign=1
    )
    if plan.relined:
        condition, relined = _one_of(connection, "order_id", [order_id for _, order_id in plan.relined])
        await execute(connection, f"DELETE FROM {OrderLine._meta.db_table} WHERE {condition}", relined)
    with without_cycle_collection():
        line_rows = [
            (ids[o.number], *line)  # a LineData is (sku, name, quantity, price_cents): LINE_COLUMNS after the id
            for o in [*plan.new, *(order for order, _ in plan.relined)]
            for line in o.lines or ()
        ]
    insert = dialect_sql(
        connection, f"INSERT INTO {OrderLine._meta.db_table} ({', '.join(LINE_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"
    )
    for first in range(0, len(line_rows), BATCH):
        await connection.execute_many(insert, line_rows[first : first + BATCH])
        say(min(first + BATCH, len(line_rows)) / len(line_rows), 0.5, 0.9)
    await recompute_stats(connection, plan.touched)
    say(1, 0.9, 1)
    return Written(
        orders=[SavedOrder(ids[o.number], o.number, plan.outcomes[o.number]) for o in orders], touched=plan.touched
    )


async def _with_customers(connection: BaseDBAsyncClient, orders: Sequence[OrderData]) -> list[OrderData]:
    """Each order with its customer's id; NotFoundError names the first customer the shop does not have."""
    by_email = await customer_ids_by_email(connection, [o.email for o in orders if not o.customer_id])
    given = sorted({o.customer_id for o in orders if o.customer_id})
    known: set[int] = set()
    for start in range(0, len(given), LOOKUP_CHUNK):
        chunk = given[start : start + LOOKUP_CHUNK]
        known.update(await Customer.filter(id__in=chunk).using_db(connection).values_list("id", flat=True))
    resolved = []
    for order in orders:
        if order.customer_id:
            if order.customer_id not in known:
                raise NotFoundError(f"There is no customer with id {order.customer_id}.")
            resolved.append(order)
        elif (customer_id := by_email.get(order.email.lower())) is not None:
            resolved.append(order._replace(customer_id=customer_id))
        else:
            raise NotFoundError(f"There is no customer with the email {order.email[:254]}.")
    return resolved


@retried_on_conflict_or_duplicate
async def save_orders(*, orders: Sequence[OrderData], actor: Acting, now: datetime | None = None) -> SaveResult:
    """Create or update orders by number in one transaction, then re-run the rules once for the
    customers whose stats changed. FormError (by field) for input that cannot be saved; NotFoundError
    for a customer the shop does not have."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    if not orders:
        raise FormError({"orders": "Send at least one order."})
    try:
        orders = [o._replace(placed_at=as_utc(o.placed_at)) for o in orders]
    except OverflowError:  # year 1 ahead of UTC: before any date a calendar can hold
        raise FormError({"orders": "An order's date is out of range."}) from None
    if problems := order_problems(orders, now or datetime.now(UTC)):
        raise FormError(problems)
    async with in_transaction(BACKGROUND) as connection:
        written = await write_orders(connection, await _with_customers(connection, orders))
    changes = await rerun_rules(customer_ids=written.touched, actor=actor)
    return SaveResult(
        orders=written.orders,
        created=written.count(Outcome.CREATED),
        updated=written.count(Outcome.UPDATED),
        unchanged=written.count(Outcome.UNCHANGED),
        rule_changes=changes,
    )


@retried_on_conflict
async def change_order_status(*, order_id: int, status: OrderStatus, actor: Acting) -> OrderRow:
    """Set an order's status (refunded, cancelled ... take it out of the customer's purchases)."""
    await require(actor, Permission.MANAGE_CUSTOMERS)
    async with in_transaction(BACKGROUND) as connection:
        order = await Order.filter(id=order_id).using_db(connection).first()
        if order is None:
            raise NotFoundError(f"There is no order with id {order_id}.")
        changed = order.status != status
        if changed:
            await report_totals.orders_changing(connection, [order_id], sign=-1)
            await Order.filter(id=order_id).using_db(connection).update(status=status)
            await report_totals.orders_changing(connection, [order_id], sign=1)
            await recompute_stats(connection, [order.customer_id])
    if changed:
        await rerun_rules(customer_ids=[order.customer_id], actor=actor)
    return (await _rows([order_id]))[0]


# --- Reading ----------------------------------------------------------------------------------


async def _rows(order_ids: list[int]) -> list[OrderRow]:
    orders = {o.id: o for o in await Order.filter(id__in=order_ids)}
    lines: dict[int, list[LineData]] = {order_id: [] for order_id in order_ids}
    for order_id, sku, name, quantity, price in (
        await OrderLine.filter(order_id__in=order_ids)
        .order_by("order_id", "id")
        .values_list("order_id", "sku", "name", "quantity", "price_cents")
    ):
        lines[order_id].append(LineData(sku, name, quantity, price))
    return [
        OrderRow(
            id=o.id,
            number=o.number,
            customer_id=o.customer_id,
            placed_at=o.placed_at,
            total_cents=o.total_cents,
            currency=o.currency,
            status=o.status,
            lines=lines[o.id],
        )
        for order_id in order_ids
        if (o := orders.get(order_id))
    ]


async def list_customer_orders(*, customer_id: int, page: int = 1, per_page: int = 25) -> Page[OrderRow]:
    """A page of one customer's orders, the newest first, with their lines."""
    if not await Customer.exists(id=customer_id):
        raise NotFoundError(f"There is no customer with id {customer_id}.")
    offset, limit = page_bounds(page, per_page)
    query = Order.filter(customer_id=customer_id)
    total = await query.count()
    ids = await query.order_by("-placed_at", "-id").offset(offset).limit(limit).values_list("id", flat=True)
    return Page(rows=await _rows(list(ids)), total=total, page=page, per_page=limit)


# --- One order --------------------------------------------------------------------------------


async def record_order(
    *, customer_id: int, total_cents: int, placed_at: datetime, status: OrderStatus = OrderStatus.COMPLETED
) -> int:
    """Store an order (without a number) and update the customer's stats in the same transaction,
    then re-check the customer's rule-based groups. Returns the order id."""
    if total_cents < 0:
        raise FormError({"total_cents": "An order total cannot be negative."})
    async with in_transaction("default") as connection:
        if not await Customer.filter(id=customer_id).using_db(connection).exists():
            raise NotFoundError(f"There is no customer with id {customer_id}.")
        order = await Order.create(
            customer_id=customer_id, total_cents=total_cents, placed_at=placed_at, status=status, using_db=connection
        )
        if status == OrderStatus.COMPLETED:
            await report_totals.orders_changing(connection, [order.id], sign=1)
            await recompute_stats(connection, [customer_id])
    if status == OrderStatus.COMPLETED:
        # After the commit: the order stands even if this fails; the periodic rule run catches up.
        try:
            await reevaluate_customer(customer_id=customer_id, actor=SYSTEM)
        except Exception:
            logger.exception("Recorded order %s, but could not re-check customer %s's groups", order.id, customer_id)
    return order.id
