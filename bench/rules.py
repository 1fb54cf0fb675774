"""How fast rule previews and rule-based membership are on big shops: `python -m bench.rules`.

Builds (or reuses, from bench/.data/) two demo shops with the `customer-groups demo` command:
100,000 customers with 1,000,000 orders, and 1,000,000 customers with 2,000,000 orders (fewer
orders per customer than the demo's default, so the shop builds in about three minutes on a
2-core machine; rules read the per-customer stats, whose size does not depend on the orders).

On SQLite by default, each shop on a throwaway copy of its file (the cached shop is never opened
for writing, not even by migrations). On PostgreSQL when DATABASE_URL names a server:

    bench/postgres .venv/bin/python -m bench.rules
    bench/postgres .venv/bin/python -m bench.rules --moves   # section 5 alone

`bench/postgres` starts a server with PostgreSQL's default settings (default work_mem) around the
command and keeps its data in bench/.data/postgres-MAJOR/; bench/pg_shops.py copies each cached
SQLite shop into a database there once (schema from our migrations, rows with COPY: the same rows,
so the figures compare the same shop) and each run works on a CREATE DATABASE ... TEMPLATE copy.
Copying beat building the shop on PostgreSQL with `customer-groups demo`: 8.3 s against 16.2 s for
the 10,000-customer shop (load average 6-7), and a new build would date its orders from the day it
runs. The hand-written SQL then runs through asyncpg instead of the sqlite3 module. The same
table is printed either way.

On each shop, in-process:

1. The server time of `preview_rule` (count, first matches, joins and leaves against the VIP group)
   for a 4-condition rule with a nested group, and for a rule most customers match. Each round
   times the preview, the same count through the ORM and the same count written by hand (plain
   sqlite3, or asyncpg) on the same database, interleaved, so a noisy machine affects all three
   alike.
2. The demo shop's VIP rule's preview count against a count computed from the orders table.

On the copy of the 1,000,000-customer shop, after the previews:

3. Saving a new automatic group whose rule matches about 100,000 customers (what the owner waits
   for, members included), and re-running its rule.
4. Whether another user's page still answers within 200 ms while a preview or a materialisation
   runs. No HTTP route starts either (the rule builder and "Run rule now" are NiceGUI events over
   the page's websocket), so this runs in one process as the server would: the heavy work as a
   task, and meanwhile the services behind the two busiest pages, timed on the default
   connection in the same event loop.
5. A rule run that moves about 500,000 members: a new automatic group whose rule matches the
   500,000 biggest spenders (500,000 join), then its rule changed to the other half (500,000
   leave and 500,000 join in one run). Before issue 21 the run's NOT IN (SELECT ...) statements
   made the second one hang on PostgreSQL; the target is under 10 s.

Prints figures and a verdict against the targets; over-target figures never fail the run, because
benchmarks are not part of the pass/fail test run and machines are noisy.
"""

import asyncio
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from bench.pg_shops import dsn, is_postgres_url, load_or_reuse, scratch_database
from bench.shops import ShopSize, build_or_reuse, p95, scratch_copy
from bench.summary import record
from models.customer import Customer
from models.group import CustomerGroup, Membership
from services.groups.group import create_group, get_group, list_groups, update_group
from services.membership.members import list_members
from services.rules.clock import months_before
from services.rules.compiler import to_q
from services.rules.explainer import now_for_rules
from services.rules.model import parse_rule
from services.rules.preview import preview_rule, rule_funnel
from services.rules.runs import apply_rule
from services.staff.actor import SystemActor
from services.storage.database import background_connection, close_database, open_database

MEDIUM = ShopSize(customers=100_000, orders=1_000_000)
LARGE = ShopSize(customers=1_000_000, orders=2_000_000)

WARM_UP = 3
TIMED = 20
MATERIALISE_MEMBERS = 100_000
MOVED_MEMBERS = 500_000
IDLE_CALLS = 20
PREVIEWS_MEANWHILE = 5
SAVES_MEANWHILE = 2
DIFF_GROUP = "VIP"  # the existing group previews are compared with (a hybrid group, as in the demo shop)

PREVIEW_TARGET_MS = 250.0
RATIO_TARGET = 1.5
MATERIALISE_TARGET_S = 5.0
MOVE_TARGET_S = 10.0
PAGE_TARGET_MS = 200.0

FOUR_CONDITIONS = {
    "match": "all",
    "conditions": [
        {"field": "total_purchases", "op": "gt", "value": 5_000_000},
        {"field": "account_age_months", "op": "gt", "value": 12},
        {
            "match": "any",
            "conditions": [
                {"field": "payment_rating", "op": "eq", "value": "excellent"},
                {"field": "tags", "op": "has_any", "value": ["key-account"]},
            ],
        },
        {"field": "status", "op": "eq", "value": "active"},
    ],
}
# The same count written by hand for the plain sqlite3 module. Account Age > 12 months means at
# least 13 whole calendar months: created on or before the same moment 13 months ago.
FOUR_CONDITIONS_SQL = """
    SELECT COUNT(*) FROM customer
    WHERE lifetime_cents > 5000000
      AND created_at <= :created_before
      AND (payment_rating = 'excellent'
           OR id IN (SELECT customer_id FROM customer_tag WHERE tag = 'key-account'))
      AND status = 'active'
"""
MOST_CUSTOMERS = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 100_000}]}
MOST_CUSTOMERS_SQL = "SELECT COUNT(*) FROM customer WHERE lifetime_cents >= 100000"

SEED_003 = {
    "match": "all",
    "conditions": [
        {"field": "total_purchases", "op": "gt", "value": 5_000_000},
        {"field": "account_age_months", "op": "gt", "value": 12},
        {"field": "payment_rating", "op": "eq", "value": "excellent"},
    ],
}
# Lifetime purchases summed from the orders themselves, not the per-customer stats the rule reads.
SEED_003_FROM_ORDERS_SQL = """
    SELECT COUNT(*) FROM customer c
    JOIN (SELECT customer_id, SUM(total_cents) AS spent FROM "order"
          WHERE status = 'completed' GROUP BY customer_id) o ON o.customer_id = c.id
    WHERE o.spent > 5000000 AND c.created_at <= :created_before AND c.payment_rating = 'excellent'
"""


@dataclass(frozen=True)
class RuleCase:
    name: str
    rule: dict
    sql: str


CASES = [
    RuleCase("4 conditions, nested ANY", FOUR_CONDITIONS, FOUR_CONDITIONS_SQL),
    RuleCase("Total Purchases >= $1,000", MOST_CUSTOMERS, MOST_CUSTOMERS_SQL),
]


@dataclass
class PreviewFigures:
    shop: ShopSize
    case: RuleCase
    matching: int
    total_customers: int
    joining: int | None
    leaving: int | None
    plain_matching: int
    preview_ms: list[float] = field(default_factory=list)
    orm_count_ms: list[float] = field(default_factory=list)
    plain_count_ms: list[float] = field(default_factory=list)
    funnel_ms: list[float] = field(default_factory=list)  # rules with several top-level conditions


@dataclass
class Results:
    database: str = "SQLite"
    baseline: str = "sqlite3"  # what runs the hand-written SQL
    previews: list[PreviewFigures] = field(default_factory=list)
    seed_003: list[tuple[ShopSize, int, int]] = field(default_factory=list)  # shop, preview, from orders
    opened_s: dict[str, float] = field(default_factory=dict)  # shop label -> open_database seconds
    materialise: dict[str, float | int | str] = field(default_factory=dict)
    pages: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # situation -> call -> ms
    moves: list[dict[str, float | int | str]] = field(default_factory=list)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class PlainSql:
    """The hand-written SQL on a connection of its own to the same database: the sqlite3 module on
    the SQLite file, asyncpg on PostgreSQL (the statements name their one parameter :created_before)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: sqlite3.Connection | None = None
        self.postgres = None

    async def __aenter__(self) -> "PlainSql":
        if is_postgres_url(self.url):
            import asyncpg

            self.postgres = await asyncpg.connect(dsn(self.url))
        else:
            self.sqlite = sqlite3.connect(self.url.removeprefix("sqlite://"))
        return self

    async def __aexit__(self, *_) -> None:
        if self.postgres is not None:
            await self.postgres.close()
        if self.sqlite is not None:
            self.sqlite.close()

    async def count(self, sql: str, now: datetime) -> int:
        created_before = months_before(now, 13)
        if self.postgres is not None:
            if ":created_before" in sql:
                return await self.postgres.fetchval(sql.replace(":created_before", "$1"), created_before)
            return await self.postgres.fetchval(sql)
        # Stored the way Tortoise writes datetimes on SQLite: "YYYY-MM-DD HH:MM:SS+00:00".
        (count,) = self.sqlite.execute(sql, {"created_before": str(created_before)}).fetchone()
        return count


async def _orm_count(rule: dict, now: datetime) -> int:
    return await Customer.filter(to_q(parse_rule(rule), now=now)).using_db(background_connection()).count()


async def _open(shop: ShopSize, results: Results, url: str) -> None:
    started = time.perf_counter()
    await open_database(database_url=url)
    results.opened_s.setdefault(shop.label, time.perf_counter() - started)


async def measure_previews(shop: ShopSize, url: str, results: Results) -> None:
    await _open(shop, results, url)
    try:
        async with PlainSql(url) as plain_sql:
            group = await CustomerGroup.get(code=DIFF_GROUP)
            now = now_for_rules()  # one moment for every count, so they can be compared
            for case in CASES:
                first = await preview_rule(rule=case.rule, group_id=group.id, now=now)
                figures = PreviewFigures(
                    shop=shop,
                    case=case,
                    matching=first.matching,
                    total_customers=first.total_customers,
                    joining=first.change.joining if first.change else None,
                    leaving=first.change.leaving if first.change else None,
                    plain_matching=await plain_sql.count(case.sql, now),
                )
                for round_ in range(WARM_UP + TIMED):
                    started = time.perf_counter()
                    await preview_rule(rule=case.rule, group_id=group.id, now=now)
                    preview = _ms(started)
                    started = time.perf_counter()
                    await _orm_count(case.rule, now)
                    orm = _ms(started)
                    started = time.perf_counter()
                    await plain_sql.count(case.sql, now)
                    plain = _ms(started)
                    if round_ >= WARM_UP:
                        figures.preview_ms.append(preview)
                        figures.orm_count_ms.append(orm)
                        figures.plain_count_ms.append(plain)
                if len(case.rule["conditions"]) > 1:  # the builder shows a funnel only then, after the preview
                    for round_ in range(WARM_UP + TIMED):
                        started = time.perf_counter()
                        await rule_funnel(rule=case.rule, now=now)
                        if round_ >= WARM_UP:
                            figures.funnel_ms.append(_ms(started))
                results.previews.append(figures)
                print(f"  {shop.label}, {case.name}: preview median {statistics.median(figures.preview_ms):,.0f} ms")
            seed_preview = await preview_rule(rule=SEED_003, now=now)
            results.seed_003.append((shop, seed_preview.matching, await plain_sql.count(SEED_003_FROM_ORDERS_SQL, now)))
    finally:
        await close_database()


async def _count_members(group_id: int) -> int:
    return await Membership.filter(group_id=group_id).count()


async def _threshold_for(members: int) -> int:
    """Whole dollars (in cents) such that about `members` customers have at least that lifetime spend."""
    cents = (
        await Customer.all().order_by("-lifetime_cents").offset(members - 1).limit(1).values_list("lifetime_cents")
    )[0][0]
    return cents - cents % 100


def _bench_group(letter: str, threshold: int) -> dict:
    return {
        "name": f"Bench 100k {letter}",
        "code": f"BENCH-100K-{letter}",
        "type": "automatic",
        "rule": {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": threshold}]},
    }


async def _save_group(data: dict) -> tuple[int, float, float | None]:
    """Create the group as the wizard does and apply its rule if saving did not: (id, save s, apply s)."""
    started = time.perf_counter()
    detail = await create_group(data=data, actor=SystemActor("bench"))
    saved = time.perf_counter() - started
    if detail.rule_applied_version >= detail.rule_version and detail.rule_version:
        return detail.id, saved, None
    started = time.perf_counter()
    await apply_rule(group_id=detail.id, actor=SystemActor("bench"))
    return detail.id, saved, time.perf_counter() - started


async def _page_during(
    heavy: Callable[[], Awaitable[object]] | None, call: Callable[[], Awaitable[object]]
) -> list[float]:
    """Time `call` over and over while `heavy` runs as another task, or IDLE_CALLS times without it.

    One page call at a time: the pages share the default connection, so timing two at once would
    measure one page waiting for the other."""
    samples: list[float] = []
    task = asyncio.create_task(heavy()) if heavy else None
    await asyncio.sleep(0.05)  # let the heavy work start before the first page call
    while (task and not task.done()) or (task is None and len(samples) < IDLE_CALLS):
        started = time.perf_counter()
        await call()
        samples.append(_ms(started))
        await asyncio.sleep(0.01)  # requests arrive one after another, not as one busy loop
    if task:
        await task
    return samples


async def measure_materialise_and_pages(shop: ShopSize, url: str, results: Results) -> None:
    await _open(shop, results, url)
    try:
        threshold = await _threshold_for(MATERIALISE_MEMBERS)
        expected = await Customer.filter(lifetime_cents__gte=threshold).count()
        letters = iter("ABCDEFGHIJ")
        group_id, saved, applied = await _save_group(_bench_group(next(letters), threshold))
        members = await _count_members(group_id)
        started = time.perf_counter()
        await apply_rule(group_id=group_id, actor=SystemActor("bench"))
        rerun = time.perf_counter() - started
        results.materialise = {
            "threshold": threshold,
            "expected": expected,
            "members": members,
            "saved_s": saved,
            "applied_s": applied if applied is not None else 0.0,
            "how": "create_group applied the rule itself" if applied is None else "create_group, then apply_rule",
            "rerun_s": rerun,
        }
        print(f"  materialised {members:,} members in {saved + (applied or 0):.1f} s")

        vip = await CustomerGroup.get(code=DIFF_GROUP)
        calls = {
            "list_groups()": list_groups,
            f"get_group + list_members({DIFF_GROUP}, page=1)": lambda: _group_page(vip.id),
        }

        async def previews() -> None:
            for _ in range(PREVIEWS_MEANWHILE):
                await preview_rule(rule=FOUR_CONDITIONS, group_id=vip.id)

        async def materialise() -> None:
            for _ in range(SAVES_MEANWHILE):
                await _save_group(_bench_group(next(letters), threshold))

        situations = {
            "idle": None,
            f"during {PREVIEWS_MEANWHILE} previews (4-condition rule)": previews,
            f"during {SAVES_MEANWHILE} saves of {expected:,}-member groups": materialise,
        }
        for situation, heavy in situations.items():
            results.pages[situation] = {name: await _page_during(heavy, call) for name, call in calls.items()}
    finally:
        await close_database()


async def _timed_save(save: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await save()
    return time.perf_counter() - started


async def measure_moves(shop: ShopSize, url: str, results: Results) -> None:
    """A group of the MOVED_MEMBERS biggest spenders, saved; then its rule turned to the others."""
    await _open(shop, results, url)
    try:
        threshold = await _threshold_for(MOVED_MEMBERS)
        top = {"field": "total_purchases", "op": "gte", "value": threshold}
        data = {"name": "Bench half", "code": "BENCH-HALF", "type": "automatic", "rule": {"conditions": [top]}}
        actor = SystemActor("bench")
        detail = None

        async def create() -> None:
            nonlocal detail
            detail = await create_group(data=data, actor=actor)

        seconds = await _timed_save(create)
        group = await CustomerGroup.get(id=detail.id)
        results.moves.append(
            {
                "what": f"new group, Total Purchases >= ${threshold / 100:,.0f}",
                "joined": group.rule_joined,
                "left": group.rule_left,
                "members": await _count_members(group.id),
                "seconds": seconds,
            }
        )
        print(f"  {group.rule_joined:,} joined in {seconds:.1f} s")
        bottom = {"field": "total_purchases", "op": "lt", "value": threshold}
        changed = detail.as_input().model_dump() | {"rule": {"conditions": [bottom]}}
        seconds = await _timed_save(
            lambda: update_group(group_id=detail.id, version=detail.version, data=changed, actor=actor)
        )
        group = await CustomerGroup.get(id=detail.id)
        results.moves.append(
            {
                "what": f"its rule changed to Total Purchases < ${threshold / 100:,.0f}",
                "joined": group.rule_joined,
                "left": group.rule_left,
                "members": await _count_members(group.id),
                "seconds": seconds,
            }
        )
        print(f"  {group.rule_joined:,} joined and {group.rule_left:,} left in {seconds:.1f} s")
    finally:
        await close_database()


async def _group_page(group_id: int) -> None:
    await get_group(group_id=group_id)
    await list_members(group_id=group_id, page=1)


# --- Report -----------------------------------------------------------------------------------


def _p95(samples: list[float]) -> float:
    return p95(samples) if len(samples) > 1 else samples[0]


def _verdict(ok: bool) -> str:
    return "OK" if ok else "over target"


def _report_previews(results: Results) -> None:
    print(f"1. Rule preview, server time in ms (in-process; {WARM_UP} warm-up + {TIMED} timed rounds, each")
    print(f"   round: preview_rule, the same count through the ORM, the same count by hand with {results.baseline}).")
    print(f"   Preview = count + total + first 10 matches + joins/leaves against {DIFF_GROUP} (hybrid) with samples.")
    print(
        f"   {'shop':<12}{'rule':<28}{'matching':>10}{'join/leave':>18}"
        f"{'preview med':>13}{'p95':>8}{'ORM count':>11}{results.baseline:>9}{'count x':>9}{'total x':>9}{'funnel':>9}"
    )
    for f in results.previews:
        change = f"+{f.joining:,}/-{f.leaving:,}" if f.joining is not None else "-"
        orm, plain = statistics.median(f.orm_count_ms), statistics.median(f.plain_count_ms)
        funnel = f"{statistics.median(f.funnel_ms):.1f}" if f.funnel_ms else "-"
        print(
            f"   {f.shop.customers:<12,}{f.case.name:<28}{f.matching:>10,}{change:>18}"
            f"{statistics.median(f.preview_ms):>13.1f}{_p95(f.preview_ms):>8.1f}{orm:>11.1f}{plain:>9.1f}"
            f"{orm / plain:>8.2f}x{statistics.median(f.preview_ms) / plain:>8.2f}x{funnel:>9}"
        )
    plain = results.baseline
    print(f"   ORM count, {plain} and funnel are medians; 'count x' = ORM count / {plain} count, 'total x' =")
    print(f"   whole preview / {plain} count. The funnel (rule_funnel: a count per top-level condition) is shown")
    print("   by the rule builder after the preview, so the builder's full answer takes preview + funnel.")
    for f in results.previews:
        if f.matching != f.plain_matching:
            print(f"   MISMATCH: {f.shop.label}, {f.case.name}: preview {f.matching:,}, {plain} {f.plain_matching:,}")
        else:
            print(f"   {f.shop.label}, {f.case.name}: preview and {plain} both count {f.matching:,}.")


def _report_materialise(m: dict) -> None:
    print(f"3. Materialising on a copy of the {LARGE.label}: a new automatic group,")
    print(f"   Total Purchases >= ${m['threshold'] / 100:,.0f} ({m['expected']:,} matching customers), saved with")
    print(f"   create_group ({m['how']}): {m['saved_s'] + m['applied_s']:.2f} s, {m['members']:,} members.")
    print(f"   Running the same rule again (nothing changes): {m['rerun_s']:.2f} s.")


def _report_moves(moves: list[dict]) -> None:
    print(f"5. Moving about {MOVED_MEMBERS:,} members on the copy of the {LARGE.label}: saving the group")
    print("   (create_group / update_group, which run its rule), each run one transaction with its events.")
    print(f"   {'save':<56}{'joined':>10}{'left':>10}{'members':>10}{'seconds':>9}")
    for m in moves:
        print(f"   {m['what']:<56}{m['joined']:>10,}{m['left']:>10,}{m['members']:>10,}{m['seconds']:>9.1f}")


def _report_pages(pages: dict[str, dict[str, list[float]]]) -> None:
    print("4. Another user's page while heavy work runs. Measured IN-PROCESS, not over HTTP: no HTTP route")
    print("   starts a preview or a rule run (the builder and 'Run rule now' are NiceGUI websocket events).")
    print("   As in the server: the heavy work runs as a task (on the background connection) and meanwhile")
    print("   one page's services are called again and again in the same event loop (on the default")
    print("   connection), one page at a time. Page rendering is not included.")
    print(f"   {'situation':<44}{'page services':<44}{'n':>4}{'median':>9}{'p95':>9}{'max':>9}")
    for situation, calls in pages.items():
        for name, samples in calls.items():
            print(
                f"   {situation:<44}{name:<44}{len(samples):>4}{statistics.median(samples):>9.1f}"
                f"{_p95(samples):>9.1f}{max(samples):>9.1f}"
            )
    for name, samples in pages.get("idle", {}).items():
        if _p95(samples) >= PAGE_TARGET_MS:
            print(f"   {name} is over {PAGE_TARGET_MS:.0f} ms when idle too: its own queries, not the heavy work.")


def _target_rows(results: Results) -> list[tuple[str, str, str, bool]]:
    rows: list[tuple[str, str, str, bool]] = []
    for f in results.previews:
        if f.shop != LARGE:
            continue
        plain = statistics.median(f.plain_count_ms)
        value = _p95(f.preview_ms)
        rows.append((f"preview p95, {f.case.name}", f"{value:,.0f} ms", "< 250 ms", value < PREVIEW_TARGET_MS))
        for name, ratio in (
            (f"ORM count / {results.baseline} count", statistics.median(f.orm_count_ms) / plain),
            (f"preview / {results.baseline} count", statistics.median(f.preview_ms) / plain),
        ):
            rows.append((f"{name}, {f.case.name}", f"{ratio:.2f}x", "<= 1.5x", ratio <= RATIO_TARGET))
    for shop, preview, from_orders in results.seed_003:
        name = f"seed 003 preview count = count from orders ({shop.customers:,})"
        rows.append((name, f"{preview:,}", f"{from_orders:,}", preview == from_orders))
    if m := results.materialise:
        total = m["saved_s"] + m["applied_s"]
        rows.append((f"save + materialise {m['members']:,} members", f"{total:.2f} s", "< 5 s", total < 5))
    idle = results.pages.get("idle", {})
    for situation, calls in results.pages.items():
        if situation == "idle":
            continue
        for name, samples in calls.items():
            value = _p95(samples)
            label = f"{name.split('(')[0]} p95 {situation.split(' (')[0]}"
            if name in idle:
                label += f" (idle {_p95(idle[name]):,.0f})"
            rows.append((label, f"{value:,.0f} ms", "< 200 ms", value < PAGE_TARGET_MS))
    for m in results.moves:
        name = f"rule run moving {m['joined'] + m['left']:,} members ({m['joined']:,} in, {m['left']:,} out)"
        rows.append((name, f"{m['seconds']:.1f} s", "< 10 s", m["seconds"] < MOVE_TARGET_S))
    return rows


def report(results: Results, load: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    print()
    print(f"Shops: {MEDIUM.customers:,} customers / {MEDIUM.orders:,} orders and")
    print(f"       {LARGE.customers:,} customers / {LARGE.orders:,} orders (fewer orders per customer than the")
    print("       demo's default, so it builds in minutes; rules read per-customer stats, not orders).")
    print(f"Database: {results.database}, each shop on a throwaway copy of the cached one.")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0][0]:.1f} at the start, {load[1][0]:.1f} at the end.")
    for label, seconds in results.opened_s.items():
        if seconds > 1:
            print(f"Opening the {label} took {seconds:.1f} s (migrations the cached shop lacked, applied to its copy).")
    if results.previews:
        print()
        _report_previews(results)
    if results.seed_003:
        print()
        print("2. Seed 003 rule (Total Purchases > $50,000, Account Age > 12 months, Payment History = Excellent):")
        for shop, preview, from_orders in results.seed_003:
            same = "equal" if preview == from_orders else "DIFFERENT"
            print(f"   {shop.label}: preview {preview:,}, counted from the orders table {from_orders:,}: {same}")
    if results.materialise:
        print()
        _report_materialise(results.materialise)
    if results.pages:
        print()
        _report_pages(results.pages)
    if results.moves:
        print()
        _report_moves(results.moves)
    print()
    print("Targets (verdicts never fail the run)")
    print(
        f"   {'figure (1,000,000-customer shop unless noted; ' + results.database + ')':<82}{'value':>10}{'target':>10}  verdict"
    )
    for name, value, target, ok in _target_rows(results):
        print(f"   {name:<82}{value:>10}{target:>10}  {_verdict(ok)}")
    _record(results)


def _record(results: Results) -> None:
    """The headline figures for make bench's table (bench/summary.py)."""
    database = "PostgreSQL" if results.database.startswith("PostgreSQL") else "SQLite"
    for f in results.previews:
        record(
            "rules",
            f"preview p95, {f.case.name}",
            _p95(f.preview_ms),
            "ms",
            scale=f.shop.label,
            database=database,
            baseline=_p95(f.plain_count_ms),
            baseline_is=f"{results.baseline} count alone",
            target=f"< {PREVIEW_TARGET_MS:.0f} ms",
            passed=_p95(f.preview_ms) < PREVIEW_TARGET_MS,
        )
    if m := results.materialise:
        total = m["saved_s"] + m["applied_s"]
        record(
            "rules",
            f"save + materialise {m['members']:,} members",
            total,
            "s",
            scale=LARGE.label,
            database=database,
            target=f"< {MATERIALISE_TARGET_S:g} s",
            passed=total < MATERIALISE_TARGET_S,
        )
    for m in results.moves:
        record(
            "rules",
            f"rule run moving {m['joined'] + m['left']:,} members",
            m["seconds"],
            "s",
            scale=LARGE.label,
            database=database,
            target=f"< {MOVE_TARGET_S:g} s",
            passed=m["seconds"] < MOVE_TARGET_S,
        )


# What bench/postgres --tuned changes, and work_mem (the previews' sorts and hashes).
SETTINGS_SHOWN = ("work_mem", "shared_buffers", "max_wal_size")


@contextmanager
def _copy_of(shop: ShopSize, server: str | None) -> Iterator[str]:
    """The URL of a throwaway copy of the shop: a SQLite file, or a PostgreSQL database on `server`."""
    if server:
        with scratch_database(shop, server) as url:
            yield url
    else:
        with scratch_copy(shop) as path:
            yield f"sqlite://{path}"


async def _server_version(server: str) -> str:
    import asyncpg

    connection = await asyncpg.connect(dsn(server))
    try:
        version = await connection.fetchval("SHOW server_version")
        settings = [f"{name} {await connection.fetchval(f'SHOW {name}')}" for name in SETTINGS_SHOWN]
    finally:
        await connection.close()
    return f"PostgreSQL {version.split()[0]} ({', '.join(settings)})"


def main() -> None:
    """`--moves`: section 5 alone (on a copy of the 1M shop), the rest's previews and pages left out."""
    started, load = time.perf_counter(), os.getloadavg()
    only_moves = "--moves" in sys.argv[1:]
    server = os.environ.get("DATABASE_URL")
    server = server if is_postgres_url(server) else None
    shops = (LARGE,) if only_moves else (MEDIUM, LARGE)
    for shop in shops:
        build_or_reuse(shop)
        if server:
            load_or_reuse(shop, server)
    results = Results()
    if server:
        results.database, results.baseline = asyncio.run(_server_version(server)), "asyncpg"
    for shop in shops:
        with _copy_of(shop, server) as url:
            if not only_moves:
                print(f"Previews on the {shop.label} ({results.database}) ...")
                asyncio.run(measure_previews(shop, url, results))
            if shop == LARGE:
                if not only_moves:
                    print(f"Materialising and concurrent pages on the {shop.label} ...")
                    asyncio.run(measure_materialise_and_pages(shop, url, results))
                print(f"Moving {MOVED_MEMBERS:,} members on the {shop.label} ...")
                asyncio.run(measure_moves(shop, url, results))
    report(results, (load, os.getloadavg()))
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
