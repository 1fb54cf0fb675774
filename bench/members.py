"""How fast members are added and removed by hand in bulk, and how fast the groups overview reads
its member counts: `python -m bench.members`.

Reuses (or builds, from bench/.data/) the 100,000-customer demo shop. Every demo customer is in
at most one group; Retail is the shop's default group, manual like Wholesale. On fresh copies of
a migrated scratch copy of the shop (the cached shop is never written), in-process, it times the
service call the group page's dialogs make, for 10,000 selected customers who are not blocked:

1. add_members(ADD) into Wholesale: customers in no group yet, then customers of Retail (another
   manual group), so they join Wholesale and keep Retail;
2. add_members(MOVE) into Wholesale: members of Retail, who leave it (a "moved" event and a
   "joined" event each);
3. remove_members(DEFAULT_GROUP) from Wholesale: members of Wholesale, moved to Retail.

Each round checks that one event per change was written (MembershipEvent rows before and after)
and that the groups' kept member counts equal their memberships. The baseline, in the same round
on another fresh copy: the plain sqlite3 module writing the same rows (the memberships deleted and
inserted and the events, as the service wrote them) with executemany in one transaction, i.e. the
floor for the writes alone.

Then the overview: list_groups() (which reads CustomerGroup.member_count) on the 100,000-customer
shop, and on the 1,000,000-customer shop if it is already cached (it is not built here), beside
the per-group membership count it replaces and the distinct-customer count it still makes.

Prints figures and a verdict against the target (10,000 added in one action in under 2 s of server
time); an over-target figure never fails the run, because benchmarks are not part of the pass/fail
test run and machines are noisy.
"""

import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tortoise.functions import Count

from bench.shops import SCALES, SEED, ShopSize, build_or_reuse, p95, scratch_copy, shop_at_scale
from bench.summary import record
from models.group import CustomerGroup, Membership, MembershipEvent
from services.groups.group import list_groups
from services.membership.changes import AddMode, RemoveMode, add_members, remove_members
from services.staff.actor import SystemActor
from services.storage.database import close_database, open_database

SHOP = shop_at_scale(SCALES[100_000])
LARGE = ShopSize(customers=1_000_000, orders=2_000_000)  # measured only if already cached
SELECTED = 10_000
ROUNDS = 3  # fresh copies per case; the median is reported
TARGET_S = 2.0
OVERVIEW_WARM_UP = 3
OVERVIEW_TIMED = 20
ACTOR = SystemActor("bench")
TARGET_GROUP = "WHOLESALE"
OTHER_GROUP = "RETAIL"  # the demo's default group

EVENT_COLUMNS = (
    "customer_id",
    "group_id",
    "group_name",
    "action",
    "source",
    "reason",
    "actor",
    "at",
    "other_group_name",
)
MEMBERSHIP_COLUMNS = ("customer_id", "group_id", "source", "is_primary", "since")


@dataclass(frozen=True)
class Case:
    name: str
    source: str | None  # code of the group the customers leave, if any
    target: str  # code of the group they join
    events_per_customer: int
    selection_note: str


@dataclass
class CaseFigures:
    case: Case
    customers: list[int]
    service_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)  # MembershipEvent rows written per round
    summaries: list[str] = field(default_factory=list)
    counts_ok: list[bool] = field(default_factory=list)  # kept member counts equal memberships


ADD = Case(
    "add_members, AddMode.ADD into Wholesale",
    None,
    TARGET_GROUP,
    1,
    "",
)
MOVE = Case(
    "add_members, AddMode.MOVE Retail -> Wholesale",
    OTHER_GROUP,
    TARGET_GROUP,
    2,
    "members of Retail",
)
REMOVE = Case(
    "remove_members, DEFAULT_GROUP Wholesale -> Retail",
    TARGET_GROUP,
    OTHER_GROUP,
    2,
    "members of Wholesale",
)


def _seconds(started: float) -> float:
    return time.perf_counter() - started


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# --- Choosing the customers -------------------------------------------------------------------


def _group_ids(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return dict(connection.execute("SELECT code, id FROM customer_group"))


def _sample(ids: list[int]) -> list[int]:
    """SELECTED of them, spread over the table as a filtered selection would be."""
    return sorted(random.Random(SEED).sample(ids, SELECTED)) if len(ids) > SELECTED else ids


def choose_customers(path: Path, groups: dict[str, int]) -> dict[Case, tuple[list[int], str]]:
    with sqlite3.connect(path) as connection:
        no_group = [
            r[0]
            for r in connection.execute(
                "SELECT id FROM customer c WHERE status != 'blocked' "
                "AND NOT EXISTS (SELECT 1 FROM membership m WHERE m.customer_id = c.id) ORDER BY id"
            )
        ]

        def members_only_of(code: str) -> list[int]:
            # Customers whose one group is `code` (every demo customer has at most one).
            return [
                r[0]
                for r in connection.execute(
                    "SELECT c.id FROM customer c JOIN membership m ON m.customer_id = c.id AND m.group_id = ? "
                    "WHERE c.status != 'blocked' AND (SELECT COUNT(*) FROM membership o WHERE o.customer_id = c.id) = 1 "
                    "ORDER BY c.id",
                    (groups[code],),
                )
            ]

        retail, wholesale = members_only_of(OTHER_GROUP), members_only_of(TARGET_GROUP)
    add = no_group[:SELECTED] + _sample(retail)[: max(0, SELECTED - len(no_group))]
    add_note = f"{min(len(no_group), SELECTED):,} in no group, {len(add) - min(len(no_group), SELECTED):,} in Retail"
    return {
        ADD: (sorted(add), add_note),
        MOVE: (_sample(retail), MOVE.selection_note),
        REMOVE: (_sample(wholesale), REMOVE.selection_note),
    }


# --- Copies -----------------------------------------------------------------------------------


def _remove_database(path: Path) -> None:
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        file.unlink(missing_ok=True)


@contextmanager
def fresh_copy(master: Path, name: str) -> Iterator[Path]:
    """A copy of the migrated master beside it, removed afterwards."""
    copy = master.with_name(name)
    _remove_database(copy)
    shutil.copyfile(master, copy)
    try:
        yield copy
    finally:
        _remove_database(copy)


async def _migrate(path: Path) -> float:
    started = time.perf_counter()
    await open_database(database_url=f"sqlite://{path}")
    await close_database()  # checkpoints the write-ahead log into the one file
    return _seconds(started)


# --- One round --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """What the service wrote, to be written again by the baseline."""

    deleted: list[int]  # membership ids
    inserted: list[tuple]
    events: list[tuple]
    count_changes: dict[int, int]  # group id -> members gained (negative: lost)


def _memberships(connection: sqlite3.Connection, customers: set[int]) -> dict[int, tuple]:
    rows = connection.execute(f"SELECT id, {', '.join(MEMBERSHIP_COLUMNS)} FROM membership")
    return {r[0]: r[1:] for r in rows if r[1] in customers}


def _counts_match(connection: sqlite3.Connection) -> bool:
    (wrong,) = connection.execute(
        "SELECT COUNT(*) FROM customer_group g WHERE member_count != "
        "(SELECT COUNT(*) FROM membership m WHERE m.group_id = g.id)"
    ).fetchone()
    return wrong == 0


async def run_service(case: Case, copy: Path, groups: dict[str, int], customers: list[int]) -> tuple[float, int, str]:
    """Seconds of the service call, events written, the result's summary."""
    await open_database(database_url=f"sqlite://{copy}")
    try:
        # Warm the connection the service writes on, and count the events before.
        before = await MembershipEvent.all().count()
        await Membership.filter(group_id=groups[case.target]).count()
        started = time.perf_counter()
        if case is REMOVE:
            result = await remove_members(
                group_id=groups[TARGET_GROUP],
                customer_ids=customers,
                mode=RemoveMode.DEFAULT_GROUP,
                actor=ACTOR,
                reason="bench",
            )
        else:
            result = await add_members(
                group_id=groups[case.target],
                customer_ids=customers,
                mode=AddMode.MOVE if case is MOVE else AddMode.ADD,
                actor=ACTOR,
                reason="bench",
            )
        seconds = _seconds(started)
        return seconds, await MembershipEvent.all().count() - before, result.summary()
    finally:
        await close_database()


def what_was_written(master: Path, copy: Path, customers: list[int], max_event_id: int) -> Written:
    chosen = set(customers)
    with sqlite3.connect(master) as before, sqlite3.connect(copy) as after:
        old, new = _memberships(before, chosen), _memberships(after, chosen)
        counts_before = dict(before.execute("SELECT id, member_count FROM customer_group"))
        counts_after = dict(after.execute("SELECT id, member_count FROM customer_group"))
        events = list(
            after.execute(
                f"SELECT {', '.join(EVENT_COLUMNS)} FROM membership_event WHERE id > ? ORDER BY id", (max_event_id,)
            )
        )
    return Written(
        deleted=[mid for mid in old if mid not in new],
        inserted=[row for mid, row in new.items() if mid not in old],
        events=events,
        count_changes={g: counts_after[g] - counts_before.get(g, 0) for g in counts_after},
    )


def sqlite_baseline(path: Path, written: Written) -> float:
    """The same writes with the plain sqlite3 module: executemany, one transaction."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("DELETE FROM membership WHERE id = ?", [(mid,) for mid in written.deleted])
        connection.executemany(
            f"INSERT INTO membership ({', '.join(MEMBERSHIP_COLUMNS)}) VALUES (?, ?, ?, ?, ?)", written.inserted
        )
        connection.executemany(
            f"INSERT INTO membership_event ({', '.join(EVENT_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            written.events,
        )
        connection.executemany(
            "UPDATE customer_group SET member_count = member_count + ? WHERE id = ?",
            [(change, gid) for gid, change in written.count_changes.items() if change],
        )
        connection.execute("COMMIT")
        return _seconds(started)
    finally:
        connection.close()


def measure_case(master: Path, figures: CaseFigures, groups: dict[str, int]) -> None:
    with sqlite3.connect(master) as connection:
        (max_event_id,) = connection.execute("SELECT COALESCE(MAX(id), 0) FROM membership_event").fetchone()
    for _ in range(ROUNDS):
        with fresh_copy(master, "service.sqlite3") as copy:
            seconds, events, summary = asyncio.run(run_service(figures.case, copy, groups, figures.customers))
            written = what_was_written(master, copy, figures.customers, max_event_id)
            with sqlite3.connect(copy) as connection:
                figures.counts_ok.append(_counts_match(connection))
        with fresh_copy(master, "baseline.sqlite3") as copy:
            figures.baseline_s.append(sqlite_baseline(copy, written))
        figures.service_s.append(seconds)
        figures.events.append(events)
        figures.summaries.append(summary)
    print(f"  {figures.case.name}: median {statistics.median(figures.service_s):.2f} s")


# --- The overview -----------------------------------------------------------------------------


async def _timed(call: Callable[[], Awaitable[object]]) -> list[float]:
    for _ in range(OVERVIEW_WARM_UP):
        await call()
    samples = []
    for _ in range(OVERVIEW_TIMED):
        started = time.perf_counter()
        await call()
        samples.append(_ms(started))
    return samples


async def _counted_per_group() -> object:
    """What the overview did before member_count: count every group's memberships."""
    return await Membership.all().group_by("group_id").annotate(n=Count("id")).values("group_id", "n")


async def _distinct_customers() -> object:
    """The "Total Customers" figure list_groups still counts from the memberships."""
    ids = await CustomerGroup.all().values_list("id", flat=True)
    return await Membership.filter(group_id__in=ids).annotate(n=Count("customer_id", distinct=True)).first().values("n")


async def measure_overview(path: Path) -> dict[str, list[float]]:
    await open_database(database_url=f"sqlite://{path}")
    try:
        return {
            "list_groups()": await _timed(list_groups),
            "  of which: read of the groups": await _timed(
                lambda: CustomerGroup.all().values(
                    "id", "name", "code", "type", "status", "is_default", "parent_id", "member_count"
                )
            ),
            "  of which: COUNT(DISTINCT customer) for Total Customers": await _timed(_distinct_customers),
            "before: COUNT(*) of memberships per group": await _timed(_counted_per_group),
        }
    finally:
        await close_database()


# --- Report -----------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "OK" if ok else "NOT MET"


def report(
    cases: list[CaseFigures],
    notes: dict[Case, str],
    overview: dict[str, dict[str, list[float]]],
    migrate_s: dict[str, float],
    load: tuple[float, float],
) -> None:
    print()
    print(f"Bulk membership on fresh copies of the {SHOP.label} (migrated scratch copy; cached shop untouched).")
    print(f"Machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start, {load[1]:.1f} at the end.")
    for label, seconds in migrate_s.items():
        print(f"Migrating the scratch copy of the {label}: {seconds:.1f} s (not in any figure).")
    print(f"{SELECTED:,} selected customers (none blocked) per action; {ROUNDS} rounds, each on a fresh copy.")
    print("Service time = wall time of the awaited call, in-process (plan, one transaction, rule readers).")
    print("Baseline = plain sqlite3 on another fresh copy: the same memberships deleted/inserted and the same")
    print("event rows, executemany in one transaction (WAL, synchronous=FULL), member counts incremented.")
    print()
    print(
        f"   {'action':<52}{'median s':>9}{'min':>7}{'max':>7}{'sqlite3 s':>11}{'x':>7}"
        f"{'events':>9}{'expected':>10}  counts"
    )
    for f in cases:
        base = statistics.median(f.baseline_s)
        service = statistics.median(f.service_s)
        expected = SELECTED * f.case.events_per_customer
        events = "/".join(sorted({f"{e:,}" for e in f.events}))
        print(
            f"   {f.case.name:<52}{service:>9.2f}{min(f.service_s):>7.2f}{max(f.service_s):>7.2f}"
            f"{base:>11.3f}{service / base:>6.1f}x{events:>9}{expected:>10,}  "
            f"{'match' if all(f.counts_ok) else 'WRONG'}"
        )
    print()
    for f in cases:
        print(f"   {f.case.name}: {notes[f.case]}")
        print(f"      {f.summaries[0]}")
    print()
    print(f"Groups overview, ms ({OVERVIEW_WARM_UP} warm-up + {OVERVIEW_TIMED} timed calls, in-process)")
    shops = list(overview)
    print(f"   {'figure':<58}" + "".join(f"{s + ' median':>22}{'p95':>8}" for s in shops))
    for name in next(iter(overview.values())):
        cells = "".join(f"{statistics.median(overview[s][name]):>22.1f}{p95(overview[s][name]):>8.1f}" for s in shops)
        print(f"   {name:<58}{cells}")
    print("   list_groups() reads the kept member counts, but still counts the distinct customers of the")
    print("   listed groups for its Total Customers figure; 'before' is the per-group count it no longer makes.")
    print()
    print("Targets (verdicts never fail the run)")
    print(f"   {'figure':<72}{'value':>9}{'target':>9}  verdict")
    for f in cases:
        service = statistics.median(f.service_s)
        print(
            f"   {f.case.name + ', median server time':<72}{service:>7.2f} s{'< 2 s':>9}  {_verdict(service < TARGET_S)}"
        )
        record(
            "members",
            f"{f.case.name} (median)",
            service,
            "s",
            scale=f"{SELECTED:,} of {SHOP.label}",
            baseline=statistics.median(f.baseline_s),
            baseline_is="sqlite3 executemany",
            target=f"< {TARGET_S:g} s",
            passed=service < TARGET_S,
        )
        expected = SELECTED * f.case.events_per_customer
        ok = all(e == expected for e in f.events)
        print(f"   {f.case.name + ', events written':<72}{min(f.events):>9,}{expected:>9,}  {_verdict(ok)}")


def main() -> None:
    started, load = time.perf_counter(), os.getloadavg()[0]
    build_or_reuse(SHOP)
    migrate_s: dict[str, float] = {}
    overview: dict[str, dict[str, list[float]]] = {}
    with scratch_copy(SHOP) as master:
        migrate_s[SHOP.label] = asyncio.run(_migrate(master))
        groups = _group_ids(master)
        chosen = choose_customers(master, groups)
        cases = [CaseFigures(case, customers) for case, (customers, _) in chosen.items()]
        notes = {case: note for case, (_, note) in chosen.items()}
        for figures in cases:
            print(f"Timing {figures.case.name} ...")
            measure_case(master, figures, groups)
        print(f"Timing list_groups() on the {SHOP.label} ...")
        overview[f"{SHOP.customers // 1000:,}k"] = asyncio.run(measure_overview(master))
    if LARGE.path.exists():
        print(f"Timing list_groups() on a scratch copy of the cached {LARGE.label} ...")
        with scratch_copy(LARGE) as copy:
            migrate_s[LARGE.label] = asyncio.run(_migrate(copy))
            overview[f"{LARGE.customers // 1_000_000:,}M"] = asyncio.run(measure_overview(copy))
    else:
        print(f"The {LARGE.label} is not cached in bench/.data: list_groups() measured at 100k only.")
    report(cases, notes, overview, migrate_s, (load, os.getloadavg()[0]))
    print(f"\nWhole run: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
