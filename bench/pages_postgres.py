"""The services behind the pages of bench/pages.py, on PostgreSQL at 1,000,000 customers:
`make bench-postgres` (bench/postgres's server) or `bash .ci/postgres --run .venv/bin/python -m
bench.pages_postgres` (a throwaway one).

The throwaway server of .ci/postgres gets a database of its own, migrated by the app, filled by
generate_series: BENCH_CUSTOMERS customers (1,000,000 unless set) with about 2,000 distinct names (as the demo shop draws them),
"Bench Half" (every second customer) and a 4-member group. Times in-process (median / p95) each
service beside the same answer by hand-written SQL in the same run, and prints the EXPLAIN of the
group page's statements. Over-target figures never fail the run.
"""

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg

from bench.shops import SCALES, p95, shop_at_scale
from bench.summary import record
from services.customers import list_customers
from services.groups.group import create_group, list_groups
from services.membership.members import list_members
from services.paging import Seek
from services.staff.actor import SYSTEM
from services.storage.database import close_database, open_database

CUSTOMERS = shop_at_scale(SCALES[1_000_000]).customers
TIMED = int(os.environ.get("TIMED", "20"))
WARM_UP = 3
PER_PAGE = 25
DEEP = 2_000
TARGET_MS = 100.0

FILL = [
    "INSERT INTO customer (name, company, email, country, status, payment_rating, metadata, created_at, "
    "lifetime_cents, order_count) SELECT 'Name ' || (i::bigint * 7919 % 2000), '', 'c' || i || '@example.com', 'DE', "
    "'active', 'good', '{}', now(), i % 100000, i % 20 FROM generate_series(1, $1) AS i",
    "INSERT INTO membership (customer_id, group_id, source, is_primary, since) SELECT c.id, g.id, 'manual', true, "
    "now() FROM customer c, customer_group g WHERE g.name = 'Bench Half' AND c.id % 2 = 0",
    "INSERT INTO membership (customer_id, group_id, source, is_primary, since) SELECT c.id, g.id, 'manual', false, "
    "now() FROM customer c, customer_group g WHERE g.name = 'Bench Four' AND c.id IN (10, 20, 30, 40)",
    "UPDATE customer_group g SET member_count = (SELECT COUNT(*) FROM membership m WHERE m.group_id = g.id)",
    "ANALYZE",
]
# The group written in, as the app does: with it as a parameter, asyncpg's prepared statement gets a
# generic plan after five runs, and the 4-member group's page walked every customer (8 s).
PAGE = (
    "SELECT c.id, c.name, c.company, c.lifetime_cents, m.since, m.source, m.is_primary FROM customer c "
    "JOIN membership m ON m.customer_id = c.id AND m.group_id = {group} {where} ORDER BY c.name, c.id LIMIT 25"
)


async def _timed(call: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(WARM_UP):
        await call()
    samples = []
    for _ in range(TIMED):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def main() -> None:
    # .ci/postgres --run names its throwaway server so; bench/postgres (make bench-postgres) as DATABASE_URL.
    server = os.environ.get("CUSTOMER_GROUPS_TEST_POSTGRES") or os.environ["DATABASE_URL"]
    admin = await asyncpg.connect(server)
    await admin.execute("DROP DATABASE IF EXISTS bench_pages")
    await admin.execute("CREATE DATABASE bench_pages")
    await admin.close()
    url = server.rsplit("/", 1)[0] + "/bench_pages"
    await open_database(database_url=url)
    plain = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        for name, code in (("Bench Half", "BENCH-HALF"), ("Bench Four", "BENCH-FOUR")):
            await create_group(data={"name": name, "code": code, "type": "manual"}, actor=SYSTEM)
        for statement in FILL:
            await (plain.execute(statement, CUSTOMERS) if "$1" in statement else plain.execute(statement))
        print(f"Filled {CUSTOMERS:,} customers in {time.perf_counter() - started:.0f} s")
        half, four = [
            r["id"] for r in await plain.fetch("SELECT id FROM customer_group WHERE code LIKE 'BENCH-%' ORDER BY id")
        ]
        key = await plain.fetchrow(
            PAGE.format(group=half, where="").replace("LIMIT 25", f"LIMIT 1 OFFSET {(DEEP - 1) * PER_PAGE - 1}")
        )
        total = (await list_members(group_id=half)).total
        last = -(-total // PER_PAGE)
        after = Seek(after=(key["name"], key["id"]))
        figures = {
            "overview: list_groups()": (
                lambda: list_groups(),
                lambda: plain.fetch("SELECT COUNT(DISTINCT customer_id) FROM membership"),
            ),
            "group page 1": (
                lambda: list_members(group_id=half),
                lambda: plain.fetch(PAGE.format(group=half, where="")),
            ),
            f"group page {DEEP:,} from page {DEEP - 1:,}": (
                lambda: list_members(group_id=half, page=DEEP, seek=after),
                lambda: plain.fetch(
                    PAGE.format(group=half, where="WHERE (c.name, c.id) > ($1, $2)"), key["name"], key["id"]
                ),
            ),
            f"group last page ({last:,})": (lambda: list_members(group_id=half, page=last), None),
            "4-member group page 1": (
                lambda: list_members(group_id=four),
                lambda: plain.fetch(PAGE.format(group=four, where="")),
            ),
            "customer list page 1": (
                lambda: list_customers(),
                lambda: plain.fetch("SELECT * FROM customer ORDER BY name, id LIMIT 25"),
            ),
            "COUNT(*) of customers (what the list paid per page)": (
                lambda: plain.fetch("SELECT COUNT(*) FROM customer"),
                None,
            ),
            "add dialog page 1 + count": (
                lambda: list_customers(not_in_group_id=half, per_page=6),
                lambda: plain.fetch(
                    "SELECT * FROM customer c WHERE NOT EXISTS (SELECT 1 FROM membership m WHERE m.group_id = $1 "
                    "AND m.customer_id = c.id) ORDER BY name, id LIMIT 6",
                    half,
                ),
            ),
        }
        print(f"\nPostgreSQL, {CUSTOMERS:,} customers, Bench Half {total:,} members. ms, median / p95, {TIMED} calls.")
        print(f"Load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores, shared)\n")
        print(f"{'figure':<52}{'app':>18}{'hand SQL':>18}  verdict")
        for name, (app, hand) in figures.items():
            mine = await _timed(app)
            theirs = await _timed(hand) if hand else None
            cell = f"{statistics.median(mine):.1f} / {p95(mine):.1f}"
            base = f"{statistics.median(theirs):.1f} / {p95(theirs):.1f}" if theirs else ""
            print(f"{name:<52}{cell:>18}{base:>18}  {'PASS' if p95(mine) < TARGET_MS else 'over target'}")
            record(
                "pages",
                f"{name} p95 (in-process)",
                p95(mine),
                "ms",
                scale=f"{CUSTOMERS:,} customers (generated)",
                database="PostgreSQL",
                baseline=p95(theirs) if theirs else None,
                baseline_is="hand SQL (asyncpg)" if theirs else "",
                target=f"< {TARGET_MS:.0f} ms",
                passed=p95(mine) < TARGET_MS,
            )
        for label, text, args in (
            ("group page 1", PAGE.format(group=half, where=""), ()),
            (
                "deep page by seek",
                PAGE.format(group=half, where="WHERE (c.name, c.id) > ($1, $2)"),
                (key["name"], key["id"]),
            ),
            ("4-member group", PAGE.format(group=four, where=""), ()),
        ):
            print(f"\nEXPLAIN ANALYZE, {label}:")
            for row in await plain.fetch("EXPLAIN (ANALYZE, COSTS OFF) " + text, *args):
                print("   ", row[0])
    finally:
        await plain.close()
        await close_database()


if __name__ == "__main__":
    asyncio.run(main())
