"""The NOT IN (SELECT ...) statements issue 21 replaced, beside their NOT EXISTS forms, at scale:
`bench/postgres .venv/bin/python -m bench.not_exists` (or without bench/postgres, on SQLite).

On the 1,000,000-customer shop (BENCH_SHOP=medium: the 100,000-customer one), read only: the rule
run's statements for Retail, the demo's default group (472,000 members at 1M), as if its rule now
matched every other customer (a temporary table of them), and the compiler's conditions that
read "no row in ..." (Tags has none of, Member of Group is none of, Purchases in the last 12
months below an amount). Each statement runs with EXPLAIN ANALYZE (SQLite: EXPLAIN QUERY PLAN,
then the statement timed) and a time limit; the plans and times are printed. Statements that run
longer than the limit are stopped and shown as such, with their plan without ANALYZE.
"""

import asyncio
import os
import sqlite3
import time

from bench.pg_shops import dsn, is_postgres_url, load_or_reuse
from bench.rules import LARGE, MEDIUM
from bench.shops import build_or_reuse

SHOP = MEDIUM if os.environ.get("BENCH_SHOP") == "medium" else LARGE
LIMIT_S = 60

# MATCHES stands for the rule run's scratch table of matches; G for the group's id.
SETUP = [
    "CREATE TEMP TABLE matches (customer_id INTEGER PRIMARY KEY)",
    # A rule that now matches the other half: the customers not in the group.
    "INSERT INTO matches (customer_id) SELECT id FROM customer c WHERE NOT EXISTS "
    "(SELECT 1 FROM membership m WHERE m.group_id = {G} AND m.customer_id = c.id)",
]
STATEMENTS = {
    "joiners (matches not yet members)": (
        "SELECT customer_id FROM matches WHERE customer_id NOT IN (SELECT customer_id FROM membership WHERE group_id = {G})",
        "SELECT x.customer_id FROM matches x "
        "WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.group_id = {G} AND m.customer_id = x.customer_id)",
    ),
    "leavers (members not matched)": (
        "SELECT customer_id FROM membership WHERE group_id = {G} AND customer_id NOT IN (SELECT customer_id FROM matches)",
        "SELECT customer_id FROM membership WHERE group_id = {G} "
        "AND NOT EXISTS (SELECT 1 FROM matches x WHERE x.customer_id = membership.customer_id)",
    ),
    "rule: Tags has none of 'wholesale'": (
        "SELECT COUNT(*) FROM customer WHERE id NOT IN (SELECT customer_id FROM customer_tag WHERE tag IN ('wholesale'))",
        'SELECT COUNT(*) FROM customer WHERE NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT "customer_id" "customer_id" FROM '
        'customer_tag WHERE tag IN (\'wholesale\')) "found" WHERE "found"."customer_id"="customer"."id")',
    ),
    "rule: Member of Group is none of the group": (
        "SELECT COUNT(*) FROM customer WHERE id NOT IN (SELECT customer_id FROM membership WHERE group_id IN ({G}))",
        'SELECT COUNT(*) FROM customer WHERE NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT "customer_id" "customer_id" FROM '
        'membership WHERE group_id IN ({G})) "found" WHERE "found"."customer_id"="customer"."id")',
    ),
    "rule: Purchases in the last 12 months < $100": (
        "SELECT COUNT(*) FROM customer WHERE id NOT IN (SELECT customer_id FROM \"order\" WHERE status = 'completed' "
        "AND placed_at >= {SINCE} GROUP BY customer_id HAVING SUM(total_cents) >= 10000)",
        'SELECT COUNT(*) FROM customer WHERE NOT EXISTS (SELECT 1 FROM (SELECT "customer_id" "customer_id" FROM '
        "\"order\" WHERE status = 'completed' AND placed_at >= {SINCE} GROUP BY customer_id "
        'HAVING SUM(total_cents) >= 10000) "found" WHERE "found"."customer_id"="customer"."id")',
    ),
}


async def on_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn(url))
    try:
        group = await connection.fetchval("SELECT id FROM customer_group WHERE code = 'RETAIL'")
        since = "(now() - interval '12 months')"
        for statement in SETUP:
            await connection.execute(statement.format(G=group))
        await connection.execute("ANALYZE matches")
        print(
            f"group {group}: {await connection.fetchval(f'SELECT COUNT(*) FROM membership WHERE group_id = {group}'):,} members"
        )
        print(f"matches: {await connection.fetchval('SELECT COUNT(*) FROM matches'):,}")
        await connection.execute(f"SET statement_timeout = '{LIMIT_S}s'")
        for name, (old, new) in STATEMENTS.items():
            for label, sql in (("NOT EXISTS", new), ("NOT IN (before)", old)):
                sql = sql.format(G=group, SINCE=since)
                print(f"\n--- {name}, {label}\n{sql}")
                started = time.perf_counter()
                try:
                    plan = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS OFF) {sql}")
                    print(f"{time.perf_counter() - started:.2f} s")
                except asyncpg.QueryCanceledError:
                    print(f"stopped after {LIMIT_S} s; its plan:")
                    plan = await connection.fetch(f"EXPLAIN {sql}")
                print("\n".join(row[0] for row in plan))
    finally:
        await connection.close()


def on_sqlite(path: str) -> None:
    connection = sqlite3.connect(path, uri=True)
    try:
        (group,) = connection.execute("SELECT id FROM customer_group WHERE code = 'RETAIL'").fetchone()
        since = "datetime('now', '-12 months')"
        for statement in SETUP:
            connection.execute(statement.format(G=group))
        members = connection.execute(f"SELECT COUNT(*) FROM membership WHERE group_id = {group}").fetchone()[0]
        print(f"group {group}: {members:,} members")
        print(f"matches: {connection.execute('SELECT COUNT(*) FROM matches').fetchone()[0]:,}")
        for name, (old, new) in STATEMENTS.items():
            for label, sql in (("NOT EXISTS", new), ("NOT IN (before)", old)):
                sql = sql.format(G=group, SINCE=since)
                print(f"\n--- {name}, {label}\n{sql}")
                for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}"):
                    print(f"  {row[3]}")
                started = time.perf_counter()
                rows = connection.execute(sql).fetchall()
                print(f"{time.perf_counter() - started:.2f} s, {len(rows):,} rows")
    finally:
        connection.close()


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f}")
    build_or_reuse(SHOP)
    server = os.environ.get("DATABASE_URL")
    if is_postgres_url(server):
        asyncio.run(on_postgres(load_or_reuse(SHOP, server)))  # a temporary table is all it writes
    else:
        on_sqlite(f"file:{SHOP.path}?mode=ro")
    print(f"\nload average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
