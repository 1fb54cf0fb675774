"""Customers' purchase stats recomputed from their orders, and their rule-based groups brought up
to date afterwards.

Why it is built this way:

- Set-based: the ids of the customers whose orders changed go into a temporary table, one
  GROUP BY over their completed orders computes every stat of all of them into another, and
  UPDATE ... FROM that sets the stats that differ (on SQLite a statement per group of columns:
  see _updates). The covering index (customer_id, placed_at, status, total_cents) answers the
  GROUP BY without visiting the order rows. 100,000 customers cost a few statements, not 100,000
  round trips.
- Recomputed, not incremented: an order that changed status, total or customer is counted as it
  now is, and a second import of the same file finds the stats already right.
- Rules run once per write, after the commit. For a handful of customers each is re-checked by the
  explainer (services.rules.runs.reevaluate_customer: a few indexed reads per rule-based group, and
  a short write only where membership changes); past FEW_CUSTOMERS every rule runs once over the
  whole shop (run_all_rules: one compiled scan and a set difference per group), which costs the
  same for 20 customers as for 100,000. On the 100,000-customer demo shop a full run costs about as
  much as re-checking 25 customers one by one (5 ms each; bench/orders.py prints both).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from models.customer import Customer, Order, OrderStatus
from services.errors import NotFoundError
from services.rules.runs import reevaluate_customer, run_all_rules
from services.staff.actor import SYSTEM, Acting, Permission, allowed
from services.storage.sql import execute, is_postgres

logger = logging.getLogger(__name__)

FEW_CUSTOMERS = 20
TOUCHED = "order_stats_touched"  # scratch table of customer ids, private to the connection's session
FRESH = "order_stats_fresh"  # scratch table of their recomputed stats, likewise
INSERT_CHUNK = 5_000


@dataclass(frozen=True)
class RuleChange:
    """What re-running the rules after an order write changed in one group."""

    group_name: str
    joined: int
    left: int


AVERAGE = "CASE WHEN s.orders > 0 THEN s.lifetime / s.orders END"
# The stats' columns in the groups one UPDATE sets together (the average follows the lifetime).
STAT_COLUMNS = (
    (("lifetime_cents", "s.lifetime"), ("average_order_cents", AVERAGE)),
    (("order_count", "s.orders"),),
    (("first_order_at", "s.first_at"),),
    (("last_order_at", "s.last_at"),),
)


def _fresh(postgres: bool) -> str:
    """The stats of the touched customers as their completed orders now say, into FRESH."""
    orders = Order._meta.db_table
    # PostgreSQL sums BIGINT as NUMERIC, whose division would not round down: cast it back.
    lifetime = "CAST(COALESCE(SUM(o.total_cents), 0) AS BIGINT)" if postgres else "COALESCE(SUM(o.total_cents), 0)"
    return f"""
        INSERT INTO {FRESH} (customer_id, lifetime, orders, first_at, last_at)
        SELECT t.customer_id, {lifetime}, COUNT(o.id), MIN(o.placed_at), MAX(o.placed_at)
        FROM {TOUCHED} t
        LEFT JOIN "{orders}" o ON o.customer_id = t.customer_id AND o.status = '{OrderStatus.COMPLETED.value}'
        GROUP BY t.customer_id
    """


def _updates(postgres: bool) -> list[str]:
    """UPDATE ... FROM FRESH for the customers whose stats differ from it.

    SQLite rewrites an index whenever an UPDATE sets one of its columns, changed or not, and five of
    the stats are indexed: a statement per group of columns, each only where that group differs,
    leaves alone the indexes of what stayed (a customer's first and last order mostly do). That
    halves the recompute of 100,000 customers. PostgreSQL writes a new row version per UPDATE, so
    there one statement sets them all."""
    table = Customer._meta.db_table
    groups = [tuple(column for group in STAT_COLUMNS for column in group)] if postgres else list(STAT_COLUMNS)
    differs = "IS DISTINCT FROM" if postgres else "IS NOT"
    return [
        f"UPDATE {table} SET {', '.join(f'{column} = {value}' for column, value in group)} "
        f"FROM {FRESH} AS s WHERE {table}.id = s.customer_id AND "
        f"({' OR '.join(f'{table}.{column} {differs} {value}' for column, value in group)})"
        for group in groups
    ]


async def recompute_stats(connection: BaseDBAsyncClient, customer_ids: Iterable[int]) -> None:
    """Set the purchase stats of `customer_ids` from their completed orders, in the caller's transaction."""
    ids = sorted(set(customer_ids))
    if not ids:
        return
    postgres = is_postgres(connection)
    moment = "TIMESTAMPTZ" if postgres else ""  # SQLite: no affinity, the orders' text as it is
    await execute(connection, f"CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (customer_id INTEGER PRIMARY KEY)")
    await execute(
        connection,
        f"CREATE TEMP TABLE IF NOT EXISTS {FRESH} (customer_id INTEGER PRIMARY KEY, lifetime BIGINT, "
        f"orders BIGINT, first_at {moment}, last_at {moment})",
    )
    await execute(connection, f"DELETE FROM {TOUCHED}")
    await execute(connection, f"DELETE FROM {FRESH}")
    insert = f"INSERT INTO {TOUCHED} (customer_id) VALUES ({'$1' if postgres else '?'})"
    for first in range(0, len(ids), INSERT_CHUNK):
        await connection.execute_many(insert, [[i] for i in ids[first : first + INSERT_CHUNK]])
    await execute(connection, _fresh(postgres))
    for update in _updates(postgres):
        await execute(connection, update)
    await execute(connection, f"DELETE FROM {TOUCHED}")
    await execute(connection, f"DELETE FROM {FRESH}")


async def rerun_rules(*, customer_ids: Iterable[int], actor: Acting) -> list[RuleChange]:
    """Bring rule-based groups up to date for customers whose stats changed (after the commit).

    A failure is logged, not raised: the orders stand, and the periodic rule run catches up."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    # The rule run is the app's consequence of the orders; a role that may record orders has it.
    runner = actor if allowed(actor, Permission.MANAGE_RULES) else SYSTEM
    try:
        if len(ids) > FEW_CUSTOMERS:
            runs = await run_all_rules(actor=runner)
            return [RuleChange(r.group_name, r.joined, r.left) for r in runs if r.changed]
        counts: dict[str, list[int]] = {}
        for customer_id in ids:
            try:
                changes = await reevaluate_customer(customer_id=customer_id, actor=runner)
            except NotFoundError:
                continue  # deleted since
            for name in changes.joined:
                counts.setdefault(name, [0, 0])[0] += 1
            for name in changes.left:
                counts.setdefault(name, [0, 0])[1] += 1
        return [RuleChange(name, joined, left) for name, (joined, left) in sorted(counts.items())]
    except Exception:
        logger.exception("Orders were saved, but the rules of %s customers could not be re-run", len(ids))
        return []
