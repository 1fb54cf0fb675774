"""Rule previews at scale, each beside the best hand-written SQL for the same answer:
`python -m bench.previews` (issue 21, item 1).

On a throwaway copy of the 1,000,000-customer shop (`--customers 100000` for the smaller one;
`--path FILE` reuses a copy already made, which it then changes only by our migrations), four rule
shapes, each previewed against a group as the rule builder does (count, share, the first 10
matches by name, who would join and leave with 5 names each):

- seed 003's rule (3.7% of customers), against VIP;
- a rule with an ANY group (a quarter of customers) whose other condition is a date range most
  customers fall in, against VIP;
- half the customers by lifetime purchases, against Retail (the biggest group, 472,500 members);
- tags and country (16%), against VIP;

and the counts "after each condition" for the ANY rule. Each round times, interleaved so a busy
machine weighs on all alike: the exact preview (`preview_rule`), the estimate the page shows first
on a big shop (`estimate_rule`), and the same answer from hand-written statements run one after the
other on a plain sqlite3 connection to the same file. The hand statements' answer is checked
against the preview's first. With `--explain`, the plans (EXPLAIN QUERY PLAN) of every statement
the preview runs.

On PostgreSQL when DATABASE_URL names a server (`bench/postgres .venv/bin/python -m bench.previews`):
the shop copied there once by bench/pg_shops.py, a scratch copy of it per run, the hand statements
through asyncpg.

Targets: exact preview p95 at most 1.3x the hand SQL's p95; where that is over 250 ms, the estimate
within 250 ms. Figures over target never fail the run: benchmarks are not pass/fail tests.
"""

import argparse
import asyncio
import inspect
import logging
import os
import re
import sqlite3
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.pg_shops import dsn, is_postgres_url, load_or_reuse, scratch_database
from bench.shops import SCALES, build_or_reuse, p95, scratch_copy, shop_at_scale
from bench.summary import record
from models.group import CustomerGroup
from services.rules import preview as rule_preview
from services.rules.clock import days_before, months_before
from services.rules.explainer import now_for_rules
from services.rules.preview import preview_rule, rule_funnel
from services.storage.database import close_database, open_database

WARM_UP = 2
TIMED = 12
RATIO_TARGET = 1.3
WITHIN_MS = 250.0

SEED_003 = {
    "match": "all",
    "conditions": [
        {"field": "total_purchases", "op": "gt", "value": 5_000_000},
        {"field": "account_age_months", "op": "gt", "value": 12},
        {"field": "payment_rating", "op": "eq", "value": "excellent"},
    ],
}
WITH_ANY = {
    "match": "all",
    "conditions": [
        {"field": "days_since_last_order", "op": "lte", "value": 365},
        {
            "match": "any",
            "conditions": [
                {"field": "payment_rating", "op": "eq", "value": "excellent"},
                {"field": "tags", "op": "has_any", "value": ["key-account"]},
                {"field": "order_count", "op": "gte", "value": 5},
            ],
        },
    ],
}
HALF = {"match": "all", "conditions": [{"field": "total_purchases", "op": "gte", "value": 490_000}]}
TAGS_COUNTRY = {
    "match": "all",
    "conditions": [
        {"field": "tags", "op": "has_any", "value": ["newsletter", "referral"]},
        {"field": "country", "op": "in", "value": ["US", "GB"]},
    ],
}

# The same rules as WHERE clauses over `customer c`, written by hand. Dates are stored as Tortoise
# writes them on SQLite ("YYYY-MM-DD HH:MM:SS+00:00"): :created_before is 13 whole months ago
# (account age > 12 months), :ordered_after 366 days ago (last order at most 365 days ago). The
# unary + keeps SQLite off the last_order_at index for a range most customers fall in.
SEED_003_WHERE = "c.lifetime_cents > 5000000 AND +c.created_at <= :created_before AND c.payment_rating = 'excellent'"
WITH_ANY_WHERE = """+c.last_order_at > :ordered_after AND (c.payment_rating = 'excellent'
    OR EXISTS (SELECT 1 FROM customer_tag t WHERE t.customer_id = c.id AND t.tag = 'key-account')
    OR c.order_count >= 5)"""
HALF_WHERE = "c.lifetime_cents >= 490000"
TAGS_COUNTRY_WHERE = """c.country IN ('US', 'GB')
    AND EXISTS (SELECT 1 FROM customer_tag t WHERE t.customer_id = c.id AND t.tag IN ('newsletter', 'referral'))"""
# Counting the whole shop, the tagged customers' ids read once from the tag index beat a lookup per
# customer (254 against 471 ms).
TAGS_COUNTRY_COUNT = """c.country IN ('US', 'GB')
    AND c.id IN (SELECT customer_id FROM customer_tag WHERE tag IN ('newsletter', 'referral'))"""


@dataclass(frozen=True)
class Shape:
    name: str
    rule: dict
    where: str
    group: str  # the code of the group previewed against
    funnel: tuple[str, ...] = ()  # hand WHERE clauses of the funnel's steps, when timed
    count_where: str = ""  # the rule as the shop-wide count is best written, when not `where`


SHAPES = [
    Shape("seed 003 (VIP rule)", SEED_003, SEED_003_WHERE, "VIP"),
    Shape(
        "ANY group, wide date range",
        WITH_ANY,
        WITH_ANY_WHERE,
        "VIP",
        funnel=("+c.last_order_at > :ordered_after", WITH_ANY_WHERE),
    ),
    Shape("half the shop vs Retail", HALF, HALF_WHERE, "RETAIL"),
    Shape("tags + country", TAGS_COUNTRY, TAGS_COUNTRY_WHERE, "VIP", count_where=TAGS_COUNTRY_COUNT),
]


@dataclass(frozen=True)
class Answer:
    matching: int
    total: int
    first: tuple[int, ...]
    joining: int
    leaving: int
    joining_first: tuple[int, ...]
    leaving_first: tuple[int, ...]


class Plain:
    """The hand-written statements on a connection of their own to the same database: the sqlite3
    module on the SQLite file, asyncpg on PostgreSQL. Statements are written for SQLite with :name
    parameters; on PostgreSQL the SQLite-only planner hints (unary +, INDEXED BY) are left out (its
    planner keeps statistics) and parameters become $n."""

    def __init__(self, url: str) -> None:
        self.url, self.sqlite, self.postgres = url, None, None

    async def __aenter__(self) -> "Plain":
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

    def name_index(self) -> str:
        """INDEXED BY the customers' (name, id) index, on SQLite."""
        if self.sqlite is None:
            return ""
        (name,) = self.sqlite.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customer' "
            'AND sql LIKE \'%("name", "id")%\''
        ).fetchone()
        return f"INDEXED BY {name}"

    async def rows(self, sql: str, params: dict) -> list[tuple]:
        if self.sqlite is not None:
            return self.sqlite.execute(
                sql, {k: str(v) if isinstance(v, datetime) else v for k, v in params.items()}
            ).fetchall()
        names: list[str] = []

        def number(match: re.Match) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        sql = re.sub(r"(?<![\w.])\+(?=c\.)", "", sql)
        sql = re.sub(r"(?<!:):(\w+)", number, sql)
        return [tuple(r) for r in await self.postgres.fetch(sql, *[params[n] for n in names])]

    async def explain(self, sql: str, values: list) -> list[str]:
        if self.sqlite is not None:
            values = [str(v) if isinstance(v, datetime) else v for v in values]
            return [row[3] for row in self.sqlite.execute(f"EXPLAIN QUERY PLAN {sql}", values)]
        return [row[0] for row in await self.postgres.fetch(f"EXPLAIN {sql}", *values)]


async def hand_answer(plain: Plain, shape: Shape, group: CustomerGroup, params: dict) -> Answer:
    """The preview's answer from statements a person would write, one after the other."""
    w, p = shape.where, {**params, "group": group.id}
    hybrid = group.type == "hybrid"

    async def one(sql: str):
        return (await plain.rows(sql, p))[0][0]

    async def ids(sql: str) -> tuple[int, ...]:
        return tuple(r[0] for r in await plain.rows(sql, p))

    matching = await one(f"SELECT COUNT(*) FROM customer c WHERE {shape.count_where or w}")
    total = await one("SELECT COUNT(*) FROM customer")
    # By name: a set of more than 1% of the shop is best read walking the name index until enough
    # rows pass; a smaller one read whole and sorted (the writer knows the sizes from the counts).
    by_name = lambda n: plain.name_index() if n * 100 >= total else ""  # noqa: E731
    first = await ids(f"SELECT c.id FROM customer c {by_name(matching)} WHERE {w} ORDER BY c.name, c.id LIMIT 10")
    member = "SELECT 1 FROM membership m WHERE m.group_id = :group AND m.customer_id = c.id"
    excluded = "SELECT 1 FROM membership_exclusion x WHERE x.group_id = :group AND x.customer_id = c.id"
    may_leave = "m.source = 'rule'" if hybrid else "TRUE"
    matched = f"COALESCE(({w}), FALSE)"  # a comparison with an empty value is no match
    # One pass over the group's members: how many the rule keeps, and how many of those may leave.
    kept, leavers_all = (
        await plain.rows(
            f"""SELECT SUM(CASE WHEN {matched} THEN 1 ELSE 0 END),
                       SUM(CASE WHEN {may_leave} AND NOT {matched} THEN 1 ELSE 0 END)
                FROM membership m JOIN customer c ON c.id = m.customer_id WHERE m.group_id = :group""",
            p,
        )
    )[0]
    excluded_matching = (
        await one(
            f"SELECT COUNT(*) FROM membership_exclusion x JOIN customer c ON c.id = x.customer_id "
            f"WHERE x.group_id = :group AND {w} AND NOT EXISTS ({member})"
        )
        if hybrid
        else 0
    )
    joining = matching - (kept or 0) - excluded_matching
    # Names only where the counts say there are some.
    joining_first = leaving_first = ()
    if joining:
        joining_first = await ids(
            f"SELECT c.id FROM customer c {by_name(joining)} WHERE {w} AND NOT EXISTS ({member}) "
            f"AND NOT EXISTS ({excluded}) ORDER BY c.name, c.id LIMIT 5"
        )
    leaving = leavers_all or 0
    if not leaving:
        pass
    elif by_name(leaving) or plain.postgres is not None:
        leaving_first = await ids(
            f"SELECT c.id FROM customer c {by_name(leaving)} WHERE EXISTS ({member} AND {may_leave}) "
            f"AND NOT {matched} ORDER BY c.name, c.id LIMIT 5"
        )
    else:
        leaving_first = await ids(
            f"SELECT c.id FROM membership m JOIN customer c ON c.id = m.customer_id WHERE m.group_id = :group "
            f"AND {may_leave} AND NOT {matched} ORDER BY c.name, c.id LIMIT 5"
        )
    return Answer(matching, total, first, joining, leaving, joining_first, leaving_first)


async def hand_funnel(plain: Plain, shape: Shape, params: dict) -> list[int]:
    # One pass: customers left after the first condition, and how many of those pass the rest.
    first, *_ = shape.funnel
    sql = f"SELECT COUNT(*), SUM(CASE WHEN {shape.where} THEN 1 ELSE 0 END) FROM customer c WHERE {first}"
    return list((await plain.rows(sql, params))[0])


def app_answer(preview) -> Answer:
    change = preview.change
    return Answer(
        preview.matching,
        preview.total_customers,
        tuple(s.customer_id for s in preview.samples),
        change.joining,
        change.leaving,
        tuple(s.customer_id for s in change.joining_samples),
        tuple(s.customer_id for s in change.leaving_samples),
    )


@dataclass
class Figures:
    shape: Shape
    exact_ms: list[float] = field(default_factory=list)
    estimate_ms: list[float] = field(default_factory=list)
    hand_ms: list[float] = field(default_factory=list)
    funnel_ms: list[float] = field(default_factory=list)
    hand_funnel_ms: list[float] = field(default_factory=list)
    answer: Answer | None = None
    estimate: int | None = None
    agrees: bool = False


class _Statements(logging.Handler):
    """The statements Tortoise sends, with their values, while switched on."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args or ()
        if len(args) == 2 and isinstance(args[0], str) and args[0].lstrip().upper().startswith("SELECT"):
            self.seen.append((args[0], list(args[1] or [])))


@contextmanager
def statements() -> Iterator[_Statements]:
    log = logging.getLogger("tortoise.db_client")
    handler, level = _Statements(), log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


async def explain(plain: Plain, seen: list[tuple[str, list]]) -> None:
    for sql, values in seen:
        print(f"\n    {' '.join(sql.split())[:600]}")
        for line in await plain.explain(sql, values):
            print(f"      {line}")


# The code before issue 21 had no estimate, and its funnel counted every step: this bench runs on a
# checkout of it too (git archive), for the before figures.
estimate_rule = getattr(rule_preview, "estimate_rule", None)
FUNNEL_TAKES_MATCHING = "matching" in inspect.signature(rule_funnel).parameters


async def _funnel(rule: dict, now: datetime, matching: int):
    if FUNNEL_TAKES_MATCHING:
        return await rule_funnel(rule=rule, now=now, matching=matching)
    return await rule_funnel(rule=rule, now=now)


async def _estimate(rule: dict, group_id: int, now: datetime):
    return await estimate_rule(rule=rule, group_id=group_id, now=now) if estimate_rule else None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _stats(samples: list[float]) -> str:
    return f"{statistics.median(samples):7,.0f} / {p95(samples):7,.0f}" if samples else " " * 17


async def measure(url: str, *, explain_plans: bool, shapes: list[Shape], rounds: int = TIMED) -> list[Figures]:
    await open_database(database_url=url)
    plain = await Plain(url).__aenter__()
    results = []
    try:
        now = now_for_rules()  # one moment for every count, so they can be compared
        params = {"created_before": months_before(now, 13), "ordered_after": days_before(now, 366)}
        for shape in shapes:
            group = await CustomerGroup.get(code=shape.group)
            figures = Figures(shape)
            with statements() as seen:
                exact = await preview_rule(rule=shape.rule, group_id=group.id, now=now)
            figures.answer = await hand_answer(plain, shape, group, params)
            figures.agrees = figures.answer == app_answer(exact)
            estimate = await _estimate(shape.rule, group.id, now)
            figures.estimate = estimate.matching if estimate else None
            if explain_plans:
                print(f"\n  {shape.name}: the preview's statements and their plans")
                await explain(plain, seen.seen)
            for round_ in range(WARM_UP + rounds):
                started = time.perf_counter()
                await preview_rule(rule=shape.rule, group_id=group.id, now=now)
                exact_ms = _ms(started)
                started = time.perf_counter()
                await _estimate(shape.rule, group.id, now)
                estimate_ms = _ms(started)
                started = time.perf_counter()
                await hand_answer(plain, shape, group, params)
                hand_ms = _ms(started)
                if shape.funnel:
                    started = time.perf_counter()
                    await _funnel(shape.rule, now, exact.matching)
                    funnel_ms = _ms(started)
                    started = time.perf_counter()
                    await hand_funnel(plain, shape, params)
                    hand_funnel_ms = _ms(started)
                if round_ >= WARM_UP:
                    figures.exact_ms.append(exact_ms)
                    if estimate_rule:
                        figures.estimate_ms.append(estimate_ms)
                    figures.hand_ms.append(hand_ms)
                    if shape.funnel:
                        figures.funnel_ms.append(funnel_ms)
                        figures.hand_funnel_ms.append(hand_funnel_ms)
            if shape.funnel:
                funnel = [s.customers for s in await _funnel(shape.rule, now, exact.matching)]
                print(f"  funnel: app {funnel}, hand {await hand_funnel(plain, shape, params)}")
            print(
                f"  {shape.name}: {exact.matching:,} ({exact.share:.1%}), estimate {figures.estimate}; "
                f"+{exact.change.joining:,} / -{exact.change.leaving:,}; hand SQL agrees: {figures.agrees}",
                flush=True,
            )
            results.append(figures)
    finally:
        await plain.__aexit__()
        await close_database()
    return results


def report(results: list[Figures], label: str, *, scale: str, database: str) -> None:
    print(f"\nRule previews, {label} (median / p95 ms; load average {os.getloadavg()[0]:.1f})")
    print(f"  {'shape':34} {'exact preview':>17} {'estimate':>17} {'hand SQL':>17} {'ratio p95':>9}  verdict")
    for f in results:
        ratio = p95(f.exact_ms) / p95(f.hand_ms)
        fast = ratio <= RATIO_TARGET
        slow_but_estimated = p95(f.exact_ms) > WITHIN_MS and f.estimate_ms and p95(f.estimate_ms) <= WITHIN_MS
        verdict = "ok" if fast else "over"
        if p95(f.exact_ms) > WITHIN_MS:
            verdict += ", estimate within 250 ms" if slow_but_estimated else ", estimate over 250 ms"
        print(
            f"  {f.shape.name:34} {_stats(f.exact_ms)} {_stats(f.estimate_ms)} {_stats(f.hand_ms)} {ratio:9.2f}  {verdict}"
        )
        target = f"<= {RATIO_TARGET:g}x, or an estimate within {WITHIN_MS:.0f} ms"
        record(
            "previews",
            f"preview p95, {f.shape.name}",
            p95(f.exact_ms),
            "ms",
            scale=scale,
            database=database,
            baseline=p95(f.hand_ms),
            baseline_is="hand SQL, same answer",
            target=target,
            passed=fast or bool(slow_but_estimated),
        )
        if f.estimate_ms:
            record(
                "previews",
                f"  its estimate p95, {f.shape.name}",
                p95(f.estimate_ms),
                "ms",
                scale=scale,
                database=database,
                target=f"< {WITHIN_MS:.0f} ms",
                passed=p95(f.estimate_ms) <= WITHIN_MS,
            )
        if f.funnel_ms:
            ratio = p95(f.funnel_ms) / p95(f.hand_funnel_ms)
            print(
                f"  {'  counts after each condition':34} {_stats(f.funnel_ms)} {'':17} {_stats(f.hand_funnel_ms)} "
                f"{ratio:9.2f}  {'ok' if ratio <= RATIO_TARGET else 'over'}"
            )
            record(
                "previews",
                f"condition counts p95, {f.shape.name}",
                p95(f.funnel_ms),
                "ms",
                scale=scale,
                database=database,
                baseline=p95(f.hand_funnel_ms),
                baseline_is="hand SQL, same answer",
                target=f"<= {RATIO_TARGET:g}x",
                passed=ratio <= RATIO_TARGET,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = shop_at_scale(SCALES[1_000_000]).customers
    parser.add_argument("--customers", type=int, choices=sorted(SCALES), default=default)
    parser.add_argument("--path", type=Path, help="a copy of the shop to use as it is (migrated in place)")
    parser.add_argument("--explain", action="store_true", help="print the plans of the preview's statements")
    parser.add_argument("--only", help="shapes whose name contains this")
    parser.add_argument("--rounds", type=int, default=TIMED, help="timed rounds per shape")
    args = parser.parse_args()
    shop = SCALES[args.customers]
    shapes = [s for s in SHAPES if not args.only or args.only in s.name]
    server = os.environ.get("DATABASE_URL")
    run = lambda url: asyncio.run(measure(url, explain_plans=args.explain, shapes=shapes, rounds=args.rounds))  # noqa: E731
    if args.path:
        results = run(f"sqlite://{args.path}")
    elif is_postgres_url(server):
        build_or_reuse(shop)
        load_or_reuse(shop, server)
        with scratch_database(shop, server) as url:
            results = run(url)
    else:
        build_or_reuse(shop)
        with scratch_copy(shop) as path:
            results = run(f"sqlite://{path}")
    database = "PostgreSQL" if is_postgres_url(server) and not args.path else "SQLite"
    report(results, f"{shop.label} on {database}", scale=shop.label, database=database)


if __name__ == "__main__":
    main()
