"""Pages that do not grow with the shop (issue 21): `python -m bench.pages`.

On a scratch copy of the cached 1,000,000-customer shop (bench/shops.py) it makes "Bench Half", a
manual group of every second customer (500,000 members), and two small manual groups, then:

- through HTTP, the app (`python app.py`) serving the copy and a signed-in client: GET /groups (the
  overview), GET /groups/<Bench Half> (its page with the first page of members) and GET /customers;
  and the API's page of Bench Half's members a tenth into the group (page 2,000 at 1M), asked for
  by its number and by the `next` cursor of the page before;
- in-process, the services behind what the pages do over their websocket: a page of Bench Half's
  members (page 1, the deep page reached from the page before as the table's next button does, the
  deep page asked for by its number, and the last page), the customer list's first page,
  and "Select all N matching" in the add dialog (its first page and count; the click itself reads
  nothing) followed by adding the matches to a small group, a bulk write timed on its own;
- the same answers by the code before issue 21 (a sort of the whole group, COUNT(*) per page, every
  id into Python for "Select all"), and by plain sqlite3 on the same file: the baseline.

Each figure is printed as median / p95 beside its baselines, with the machine's load. Over-target
figures never fail the run. BENCH_CUSTOMERS=100000 runs it on the 100,000-customer shop.
"""

import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.shops import (
    BENCH_EMAIL,
    SCALES,
    build_or_reuse,
    ensure_bench_owner,
    p95,
    scratch_copy,
    shop_at_scale,
    signed_in_cookies,
)
from bench.summary import record
from models.customer import Customer
from models.group import Membership
from models.staff import StaffUser
from services.customers import CustomerFilter, list_customers
from services.groups.group import create_group, list_groups
from services.membership.changes import AddMode, add_members
from services.membership.matching import add_matching
from services.membership.members import list_members
from services.paging import Seek
from services.staff.accounts import get_actor
from services.staff.actor import SYSTEM
from services.staff.tokens import create_token
from services.storage.database import close_database, open_database
from services.storage.sql import execute
from tests.app_process import running_app

SHOP = shop_at_scale(SCALES[1_000_000])
TARGET_MS = 100.0
WARM_UP = 3
TIMED = int(os.environ.get("TIMED", "20"))
PER_PAGE = 25
DEEP = SHOP.customers // 2 // PER_PAGE // 10  # a tenth into Bench Half: page 2,000 at 1M customers
SEARCH = "granite"  # names about 1 customer in 30: "Select all" of them, then add them
START_TIMEOUT = 600.0  # the first start on the copy builds the new (name, id) index over every customer

Samples = list[float]


async def _timed(call: Callable[[], Awaitable[object]], timed: int = TIMED) -> Samples:
    for _ in range(WARM_UP):
        await call()
    samples = []
    for _ in range(timed):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _timed_sql(connection: sqlite3.Connection, statements: list[tuple[str, tuple]], timed: int = TIMED) -> Samples:
    def once() -> None:
        for text, params in statements:
            connection.execute(text, params).fetchall()

    for _ in range(WARM_UP):
        once()
    samples = []
    for _ in range(timed):
        started = time.perf_counter()
        once()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


# --- The code before issue 21, for the "before" column ------------------------------------------


async def _old_members_page(group_id: int, page: int) -> None:
    query = Membership.filter(group_id=group_id)
    await query.count()
    await (
        query.order_by("customer__name", "customer_id")
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
        .values("customer_id", "customer__name", "customer__company", "since", "customer__lifetime_cents", "source")
    )


async def _old_customers_page(not_in_group_id: int | None = None, search: str = "") -> None:
    from tortoise.expressions import Subquery

    from services.customers import search_filter

    query = Customer.all()
    if search:
        query = query.filter(search_filter(search))
    if not_in_group_id is not None:
        query = query.exclude(id__in=Subquery(Membership.filter(group_id=not_in_group_id).values("customer_id")))
    await query.count()
    await query.order_by("name", "id").limit(PER_PAGE)


async def _old_all_ids(not_in_group_id: int, search: str = "") -> list[int]:
    from tortoise.expressions import Subquery

    from services.customers import search_filter

    query = Customer.all()
    if search:
        query = query.filter(search_filter(search))
    query = query.exclude(id__in=Subquery(Membership.filter(group_id=not_in_group_id).values("customer_id")))
    return list(await query.order_by("id").values_list("id", flat=True))


# --- The shop ------------------------------------------------------------------------------------


async def _group(name: str, code: str) -> int:
    group = await create_group(data={"name": name, "code": code, "type": "manual"}, actor=SYSTEM)
    return group.id


async def prepare(path: Path) -> tuple[dict[str, int], str]:
    """The bench groups on the copy: Bench Half (every second customer) and two small ones; and an
    API token of the bench's owner."""
    await open_database(database_url=f"sqlite://{path}")
    try:
        await ensure_bench_owner()
        owner = await StaffUser.get(email=BENCH_EMAIL)
        _, token = await create_token(actor=await get_actor(user_id=owner.id), name="Bench sync")
        groups = {"half": await _group("Bench Half", "BENCH-HALF")}
        groups["small"] = await _group("Bench Small", "BENCH-SMALL")
        groups["small_old"] = await _group("Bench Small Before", "BENCH-SMALL-OLD")
        from tortoise import connections

        connection = connections.get("default")
        now = datetime.now(UTC)
        await execute(
            connection,
            "INSERT INTO membership (customer_id, group_id, source, is_primary, since) "
            "SELECT id, ?, 'manual', 0, ? FROM customer WHERE id % 2 = 0",
            groups["half"],
            now,
        )
        await execute(
            connection,
            "UPDATE customer_group SET member_count = (SELECT COUNT(*) FROM membership WHERE group_id = ?) "
            "WHERE id = ?",
            groups["half"],
            groups["half"],
        )
        return groups, token
    finally:
        await close_database()


# --- Measuring -----------------------------------------------------------------------------------


async def in_process(path: Path, groups: dict[str, int]) -> tuple[dict[str, tuple[Samples, Samples | None]], dict]:
    """name -> (now, before) samples, and the add's one-off figures."""
    await open_database(database_url=f"sqlite://{path}")
    try:
        half, small = groups["half"], groups["small"]
        members = (await list_members(group_id=half, page=1)).total
        pages = -(-members // PER_PAGE)
        before_deep = await list_members(group_id=half, page=DEEP - 1)
        figures: dict[str, tuple[Samples, Samples | None]] = {
            "overview: list_groups()": (await _timed(list_groups), None),
            "group page 1: list_members": (
                await _timed(lambda: list_members(group_id=half, page=1)),
                await _timed(lambda: _old_members_page(half, 1), timed=5),
            ),
            f"group page {DEEP:,} from page {DEEP - 1:,} (next)": (
                await _timed(lambda: list_members(group_id=half, page=DEEP, seek=Seek(after=before_deep.last))),
                await _timed(lambda: _old_members_page(half, DEEP), timed=5),
            ),
            f"group page {DEEP:,} by its number (API)": (
                await _timed(lambda: list_members(group_id=half, page=DEEP)),
                None,
            ),
            f"group last page ({pages:,})": (
                await _timed(lambda: list_members(group_id=half, page=pages)),
                await _timed(lambda: _old_members_page(half, pages), timed=5),
            ),
            "customer list page 1": (
                await _timed(lambda: list_customers(page=1)),
                await _timed(_old_customers_page, timed=5),
            ),
            "add dialog page 1 + count (select all)": (
                await _timed(lambda: list_customers(not_in_group_id=small, page=1, per_page=6)),
                await _timed(lambda: _old_customers_page(not_in_group_id=small), timed=5),
            ),
            f"search '{SEARCH}' page 1 + count": (
                await _timed(lambda: list_customers(search=SEARCH, not_in_group_id=small, per_page=6), timed=5),
                await _timed(lambda: _old_customers_page(not_in_group_id=small, search=SEARCH), timed=3),
            ),
            "select all: every id into Python (before)": (
                [0.0],
                await _timed(lambda: _old_all_ids(small), timed=3),
            ),
        }
        matching = (await list_customers(search=SEARCH, not_in_group_id=small, per_page=6)).total
        started = time.perf_counter()
        added = await add_matching(
            group_id=small,
            matching=CustomerFilter(search=SEARCH, not_in_group_id=small),
            mode=AddMode.ADD,
            actor=SYSTEM,
        )
        add_now = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        ids = await _old_all_ids(groups["small_old"], SEARCH)
        old = await add_members(group_id=groups["small_old"], customer_ids=ids, mode=AddMode.ADD, actor=SYSTEM)
        add_before = (time.perf_counter() - started) * 1000
        adds = {"matching": matching, "added": added.added, "now": add_now, "before": add_before, "old": old.added}
        return figures, adds
    finally:
        await close_database()


def plain_sqlite(path: Path, groups: dict[str, int]) -> dict[str, Samples]:
    """The same answers by hand-written SQL on the same file."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    half, small = groups["half"], groups["small"]
    page = (
        "SELECT c.id, c.name, c.company, c.lifetime_cents, m.since, m.source, m.is_primary "
        "FROM customer c CROSS JOIN membership m WHERE m.customer_id = c.id AND m.group_id = ? {} "
        "ORDER BY c.name, c.id LIMIT 25"
    )
    key = connection.execute(
        page.format("").replace("LIMIT 25", f"LIMIT 1 OFFSET {(DEEP - 1) * PER_PAGE - 1}"), (half,)
    ).fetchone()
    count = ("SELECT member_count FROM customer_group WHERE id = ?", (half,))
    not_in = "NOT EXISTS (SELECT 1 FROM membership m WHERE m.group_id = ? AND m.customer_id = c.id)"
    try:
        return {
            "overview: list_groups()": _timed_sql(
                connection,
                [("SELECT * FROM customer_group", ()), ("SELECT COUNT(DISTINCT customer_id) FROM membership", ())],
            ),
            "group page 1: list_members": _timed_sql(connection, [count, (page.format(""), (half,))]),
            f"group page {DEEP:,} from page {DEEP - 1:,} (next)": _timed_sql(
                connection, [count, (page.format("AND (c.name, c.id) > (?, ?)"), (half, key[1], key[0]))]
            ),
            "customer list page 1": _timed_sql(
                connection,
                [("SELECT COUNT(*) FROM customer", ()), ("SELECT * FROM customer ORDER BY name, id LIMIT 25", ())],
            ),
            "add dialog page 1 + count (select all)": _timed_sql(
                connection,
                [
                    ("SELECT COUNT(*) FROM customer", ()),
                    (f"SELECT * FROM customer c WHERE {not_in} ORDER BY name, id LIMIT 6", (small,)),
                ],
            ),
        }
    finally:
        connection.close()


def through_http(path: Path, groups: dict[str, int], token: str) -> dict[str, Samples]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = {"DATABASE_URL": f"sqlite://{path}", "DEMO_CUSTOMERS": "0", "API_RATE_LIMIT": "100000"}
        with (
            running_app(data_dir=Path(data_dir), settings=settings, start_timeout=START_TIMEOUT) as url,
            httpx.Client(base_url=url, timeout=60, cookies=signed_in_cookies(url)) as client,
        ):
            figures = {}
            for name, address, expect in (
                ("GET /groups (overview)", "/groups", "Total Customers"),
                ("GET /groups/<Bench Half> (page 1)", f"/groups/{groups['half']}", "Bench Half"),
                ("GET /customers (page 1)", "/customers", "Customers"),
            ):
                for _ in range(WARM_UP):
                    response = client.get(address)
                    response.raise_for_status()
                if expect not in response.text:
                    raise RuntimeError(f"GET {address} did not show {expect!r}")
                samples = []
                for _ in range(TIMED):
                    started = time.perf_counter()
                    client.get(address).raise_for_status()
                    samples.append((time.perf_counter() - started) * 1000)
                figures[name] = samples
            # The API's deep page, by its number and by the cursor of the page before (`next`).
            members = f"/api/v1/groups/{groups['half']}/members"
            api = {"Authorization": f"Bearer {token}"}
            before = client.get(members, params={"page": DEEP - 1, "per_page": PER_PAGE}, headers=api).json()
            for name, params in (
                (f"GET members?page={DEEP:,} (API, by number)", {"page": DEEP, "per_page": PER_PAGE}),
                (f"GET members?after=<next of {DEEP - 1:,}> (API)", {"after": before["next"], "per_page": PER_PAGE}),
            ):
                samples = []
                for i in range(WARM_UP + TIMED):
                    started = time.perf_counter()
                    client.get(members, params=params, headers=api).raise_for_status()
                    if i >= WARM_UP:
                        samples.append((time.perf_counter() - started) * 1000)
                figures[name] = samples
            return figures


def _cell(samples: Samples | None) -> str:
    if not samples:
        return ""
    if len(samples) == 1:
        return f"{samples[0]:.1f}"
    return f"{statistics.median(samples):.1f} / {p95(samples):.1f}"


def main() -> None:
    build_or_reuse(SHOP)
    load_before = os.getloadavg()
    with scratch_copy(SHOP) as path:
        groups, token = asyncio.run(prepare(path))
        http = through_http(path, groups, token)
        services, adds = asyncio.run(in_process(path, groups))
        plain = plain_sqlite(path, groups)
    load_after = os.getloadavg()
    print()
    print(f"Pages at scale on the {SHOP.label} (Bench Half: every second customer). Milliseconds, median / p95;")
    print(
        f"{WARM_UP} warm-up + {TIMED} timed calls (the 'before' column: fewer). Target: p95 under {TARGET_MS:.0f} ms."
    )
    print(f"Load average (1, 5, 15 min) before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; ")
    print(f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} (2 cores, shared).")
    print()
    print(f"{'figure':<48}{'now':>18}{'before issue 21':>20}{'plain sqlite3':>18}  verdict")
    for name, samples in http.items():
        verdict = "PASS" if p95(samples) < TARGET_MS else "over target"
        print(f"{name:<48}{_cell(samples):>18}{'':>20}{'':>18}  {verdict}")
        record(
            "pages",
            f"{name} p95",
            p95(samples),
            "ms",
            scale=SHOP.label,
            target=f"< {TARGET_MS:.0f} ms",
            passed=p95(samples) < TARGET_MS,
        )
    for name, (now, before) in services.items():
        verdict = "" if len(now) == 1 else ("PASS" if p95(now) < TARGET_MS else "over target")
        print(f"{name:<48}{_cell(now):>18}{_cell(before):>20}{_cell(plain.get(name)):>18}  {verdict}")
        if len(now) > 1:
            baseline = plain.get(name)
            record(
                "pages",
                f"{name} p95",
                p95(now),
                "ms",
                scale=SHOP.label,
                baseline=p95(baseline) if baseline else None,
                baseline_is="plain sqlite3" if baseline else "",
                target=f"< {TARGET_MS:.0f} ms",
                passed=p95(now) < TARGET_MS,
            )
    print()
    print(
        f"Select all {adds['matching']:,} customers matching '{SEARCH}', then add them to a small group (bulk write, "
        f"once each): {adds['now']:,.0f} ms now (added {adds['added']:,}), {adds['before']:,.0f} ms before "
        f"(ids into Python, then each planned; added {adds['old']:,})."
    )


if __name__ == "__main__":
    main()
